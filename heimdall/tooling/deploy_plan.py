"""The deploy plan: what `pulumi up` waits for, in which order, and the critical path.

The engine creates resources in parallel; a resource starts once every resource it depends
on has been created. Creating some kinds takes long because Pulumi *awaits* them:
pulumi-kubernetes waits until a Job is complete, a StatefulSet's or Deployment's pods are
ready, a Service with a selector has ready endpoints (then 10 s for stragglers), an Ingress
has an address, a PersistentVolumeClaim is bound; cloud providers wait until a managed
database instance is available. Everything else is created in about a second.

`deploy_plan(rendering)` rebuilds the engine's graph from the registrations recorded under
mocks and estimates, with rough typical durations for a first deploy, when each awaited
resource starts and finishes. The edges are the ones the engine sees:

- `Registration.dependencies`: the SDK puts there both `depends_on` and every resource whose
  output feeds an input (pulumi/runtime/resource.py, `prepare_resource`), with a component
  expanded into the custom resources under it;
- the parent: a child is registered only once its parent is, so a child of a component
  waits for the component's own dependencies, and a child of a custom resource waits for it;
- the awaits themselves: a Service's await watches the pods its selector picks, and an
  Ingress's await watches the Endpoints of its backend Services, although neither depends
  on them in the graph.

The critical path is the chain of awaited resources that ends last. The durations are
estimates for reading the plan, not measurements: the order and the chain are exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Optional

from heimdall.database import registry
from heimdall.engine_values import get_path, unwrap_secret
from heimdall.kube.meta import SKIP_AWAIT_KEY as SKIP_AWAIT
from heimdall.tooling.mocks import Registration
from heimdall.tooling.render import Rendering

WAIT_FOR = "pulumi.com/waitFor"

# Rough typical seconds for a first deploy on a healthy cluster.
POD_READY = 45  # schedule, pull the image, start, pass the readiness probe
JOB_COMPLETE = 60  # a pod that starts, waits for the database and runs to completion
ENDPOINTS_SETTLE = 10  # pulumi-kubernetes waits 10 s after the last Endpoints change
INGRESS_ADDRESS = 30  # the ingress controller publishes status.loadBalancer
LOAD_BALANCER = 60  # a cloud load balancer for a Service of type LoadBalancer
CLAIM_BOUND = 10
CUSTOM_RESOURCE = 60  # a custom resource annotated pulumi.com/waitFor
MANAGED_DATABASE = 600  # a managed database instance: typically 5 to 15 minutes
CHART_READY = 90  # a Helm chart's objects: CRDs first, then its Deployments' pods ready

WORKLOADS = ("StatefulSet", "Deployment", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod")


def managed_databases() -> dict[str, str]:
    """Cloud resources whose create waits until the instance is available, by type token
    (each database provider's plan.py AWAITED); `pkg:module:Kind` also matches versioned
    tokens such as `pkg:module/v2:Kind`."""
    found: dict[str, str] = {}
    for provider in registry.PROVIDERS:
        found.update(provider.plan())
    return found


def awaited_unit(registration: Registration) -> bool:
    """A resource the plan treats as one step: a custom resource, or a component the
    providers' AWAITED names (a Helm chart, whose objects the provider registers and
    awaits itself, so that waiting for it means waiting for all of them)."""
    return registration.custom or registration.type in managed_databases()


@dataclass(frozen=True)
class Wait:
    """What the engine waits for after creating a resource, and for how long, roughly."""

    until: str
    seconds: int
    rollout_seconds: Optional[int] = None  # a rolling update of all pods, when it differs


@dataclass(frozen=True)
class Step:
    """One awaited resource of the plan."""

    label: str  # Kind/logical-name
    registration: Registration
    wait: Wait
    start: int
    finish: int
    after: tuple[str, ...]  # the awaited resources it starts after (or whose pods it watches)
    timeout: Optional[str]  # custom_timeouts.create, when set


@dataclass(frozen=True)
class DeployPlan:
    steps: tuple[Step, ...]  # awaited resources by start, then finish
    critical_path: tuple[Step, ...]
    skipped: tuple[str, ...]  # awaitable kinds annotated pulumi.com/skipAwait

    @property
    def seconds(self) -> int:
        return self.critical_path[-1].finish if self.critical_path else 0

    def path_labels(self) -> list[str]:
        return [step.label for step in self.critical_path]


def label(registration: Registration) -> str:
    return f"{registration.type.rsplit(':', 1)[-1]}/{registration.name}"


def _plain(value: Any) -> Any:
    value, _ = unwrap_secret(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _annotations(registration: Registration) -> dict[str, Any]:
    return get_path(_plain(registration.inputs), "metadata", "annotations") or {}


def _object_name(registration: Registration) -> Optional[str]:
    return get_path(registration.inputs, "metadata", "name") or get_path(
        registration.state, "metadata", "name"
    )


def _kind(registration: Registration) -> str:
    return registration.type.rsplit(":", 1)[-1]


def skips_await(registration: Registration) -> bool:
    return str(_annotations(registration).get(SKIP_AWAIT, "")).lower() == "true"


def _kubernetes_wait(registration: Registration) -> Optional[Wait]:
    inputs = _plain(registration.inputs)
    kind = _kind(registration)
    if kind == "Job":
        return Wait("complete", JOB_COMPLETE)
    if kind == "StatefulSet":
        replicas = get_path(inputs, "spec", "replicas")
        replicas = 1 if replicas is None else int(replicas)  # the API's default is 1
        parallel = get_path(inputs, "spec", "podManagementPolicy") == "Parallel"
        min_ready = int(get_path(inputs, "spec", "minReadySeconds") or 0)
        # Creation: all pods at once (Parallel) or one after another (OrderedReady). A
        # rolling update replaces one pod at a time either way.
        return Wait(
            f"{replicas} replica{'' if replicas == 1 else 's'} ready",
            POD_READY * (min(replicas, 1) if parallel else replicas),
            rollout_seconds=replicas * (POD_READY + min_ready),
        )
    if kind in ("Deployment", "DaemonSet", "Pod"):
        return Wait("pods ready" if kind != "Pod" else "ready", POD_READY)
    if kind == "Service":
        spec = get_path(inputs, "spec") or {}
        if spec.get("type") == "ExternalName" or spec.get("clusterIP") == "None":
            return None
        if not spec.get("selector"):
            return None
        if spec.get("type") == "LoadBalancer":
            return Wait("ready endpoints and a load balancer address", LOAD_BALANCER)
        return Wait("ready endpoints (+10 s settle)", ENDPOINTS_SETTLE)
    if kind == "Ingress":
        return Wait("an address from the ingress controller", INGRESS_ADDRESS)
    if kind == "PersistentVolumeClaim":
        return Wait("bound", CLAIM_BOUND)
    if _annotations(registration).get(WAIT_FOR):
        return Wait(f"waitFor {_annotations(registration)[WAIT_FOR]}", CUSTOM_RESOURCE)
    return None


def _managed_database_wait(token: str) -> Optional[Wait]:
    for known, until in managed_databases().items():
        package, _, kind = known.rpartition(":")
        if token == known or (token.startswith(package + "/") and token.endswith(":" + kind)):
            return Wait(until, MANAGED_DATABASE)
    return None


def wait_of(registration: Registration) -> Optional[Wait]:
    """What the engine awaits after creating this resource; None when (about) instant."""
    if not registration.custom:
        if awaited_unit(registration):
            return Wait(managed_databases()[registration.type], CHART_READY)
        return None
    if registration.type.startswith("kubernetes:"):
        if skips_await(registration):
            return None
        return _kubernetes_wait(registration)
    return _managed_database_wait(registration.type)


def _awaitable(registration: Registration) -> bool:
    """Would be awaited without pulumi.com/skipAwait."""
    return registration.type.startswith("kubernetes:") and _kubernetes_wait(registration) is not None


# --- the graph ------------------------------------------------------------------------------


class Graph:
    """Start edges (dependencies and parents) and watch edges (what an await observes)."""

    def __init__(self, registrations: Iterable[Registration]) -> None:
        self.registrations = list(registrations)
        self.by_urn = {r.urn: r for r in self.registrations}
        self.order = {r.urn: i for i, r in enumerate(self.registrations)}
        self._start_after: dict[str, frozenset[str]] = {}

    def start_after(self, urn: str) -> frozenset[str]:
        """URNs of the custom resources that must be created before this one starts."""
        if urn not in self._start_after:
            self._start_after[urn] = self._compute_start_after(urn)
        return self._start_after[urn]

    def _compute_start_after(self, urn: str) -> frozenset[str]:
        registration = self.by_urn[urn]
        found = {d for d in registration.dependencies if d in self.by_urn}
        parent = self.by_urn.get(registration.parent or "")
        if parent is not None:
            found |= {parent.urn} if awaited_unit(parent) else self.start_after(parent.urn)
        # A component in the set stands for its own start edges (the SDK expands it).
        expanded: set[str] = set()
        for dep in found:
            if awaited_unit(self.by_urn[dep]):
                expanded.add(dep)
            else:
                expanded |= self.start_after(dep)
        return frozenset(expanded)

    def watches(self, urn: str) -> dict[str, str]:
        """Resources an await observes without depending on them: URN -> "ready" (it waits
        until they are ready) or "exists" (until they exist)."""
        registration = self.by_urn[urn]
        inputs = _plain(registration.inputs)
        namespace = get_path(inputs, "metadata", "namespace")
        kind = _kind(registration)
        if kind == "Service" and wait_of(registration) is not None:
            # Ready endpoints: the pods the selector picks are ready.
            selector = get_path(inputs, "spec", "selector") or {}
            return {
                r.urn: "ready"
                for r in self.registrations
                if r.custom
                and _kind(r) in WORKLOADS
                and _same_namespace(namespace, get_path(_plain(r.inputs), "metadata", "namespace"))
                and _selects(selector, _pod_labels(r))
            }
        if kind == "Ingress" and wait_of(registration) is not None:
            # An Endpoints object per backend Service: it exists once the Service does.
            backends = set(_ingress_backends(inputs))
            return {
                r.urn: "exists"
                for r in self.registrations
                if r.custom
                and _kind(r) == "Service"
                and r.type.startswith("kubernetes:")
                and _object_name(r) in backends
                and _same_namespace(namespace, get_path(_plain(r.inputs), "metadata", "namespace"))
            }
        return {}

    def depends_on(self, urn: str, target: str) -> bool:
        """Does `urn` wait, directly or not, for `target` before it starts?"""
        seen: set[str] = set()
        stack = list(self.start_after(urn))
        while stack:
            current = stack.pop()
            if current == target:
                return True
            if current not in seen:
                seen.add(current)
                stack.extend(self.start_after(current))
        return False


def _same_namespace(a: Any, b: Any) -> bool:
    return not isinstance(a, str) or not isinstance(b, str) or a == b


def _pod_labels(registration: Registration) -> dict[str, Any]:
    inputs = _plain(registration.inputs)
    if _kind(registration) == "Pod":
        return get_path(inputs, "metadata", "labels") or {}
    if _kind(registration) == "CronJob":
        return get_path(inputs, "spec", "jobTemplate", "spec", "template", "metadata", "labels") or {}
    return get_path(inputs, "spec", "template", "metadata", "labels") or {}


def _selects(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _ingress_backends(inputs: Mapping[str, Any]) -> list[str]:
    names = []
    default = get_path(inputs, "spec", "defaultBackend", "service", "name")
    if default:
        names.append(default)
    for rule in get_path(inputs, "spec", "rules") or []:
        for path in get_path(rule, "http", "paths") or []:
            name = get_path(path, "backend", "service", "name")
            if name:
                names.append(name)
    return names


# --- the plan -------------------------------------------------------------------------------


def deploy_plan(rendering: Rendering) -> DeployPlan:
    graph = Graph(rendering.registrations)
    customs = [r for r in graph.registrations if awaited_unit(r)]
    finish: dict[str, int] = {}  # created and, when awaited, ready
    cause: dict[str, Optional[str]] = {}  # the predecessor that ends last

    def resolve(urn: str, visiting: frozenset[str] = frozenset()) -> int:
        if urn in finish:
            return finish[urn]
        if urn in visiting:
            raise ValueError(f"dependency cycle through {label(graph.by_urn[urn])}")
        inner = visiting | {urn}
        candidates: list[tuple[int, str]] = []
        for dep in graph.start_after(urn):
            candidates.append((resolve(dep, inner), dep))
        for watched, mode in graph.watches(urn).items():
            resolve(watched, inner)
            if mode == "ready":
                candidates.append((finish[watched], watched))
            else:  # it only has to exist: what it starts after
                candidates.extend((finish[d], d) for d in graph.start_after(watched))
        latest, latest_urn = 0, None
        for time, dep in sorted(candidates, key=lambda c: graph.order[c[1]]):
            if time > latest:
                latest, latest_urn = time, dep
        wait = wait_of(graph.by_urn[urn])
        cause[urn] = latest_urn
        finish[urn] = latest + (wait.seconds if wait else 0)
        return finish[urn]

    for registration in customs:
        resolve(registration.urn)

    def before(urn: str) -> set[str]:
        """What must be done before this resource is ready: what it starts after, the
        resources whose readiness its await watches, and what those it only needs to
        exist start after."""
        found = set(graph.start_after(urn))
        for watched, mode in graph.watches(urn).items():
            found |= {watched} if mode == "ready" else graph.start_after(watched)
        return found

    def awaited_before(urn: str) -> set[str]:
        """The nearest awaited resources this one waits for."""
        found: set[str] = set()
        seen: set[str] = set()
        stack = list(before(urn))
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            if wait_of(graph.by_urn[current]) is not None:
                found.add(current)
            else:
                stack.extend(before(current))
        # Keep the nearest: drop those another member already waits for.
        return {u for u in found if not any(graph.depends_on(o, u) for o in found if o != u)}

    steps: dict[str, Step] = {}
    for registration in customs:
        wait = wait_of(registration)
        if wait is None:
            continue
        urn = registration.urn
        steps[urn] = Step(
            label=label(registration),
            registration=registration,
            wait=wait,
            start=finish[urn] - wait.seconds,
            finish=finish[urn],
            after=tuple(
                sorted(label(graph.by_urn[u]) for u in awaited_before(urn))
            ),
            timeout=registration.custom_timeouts.get("create"),
        )

    path: list[Step] = []
    if steps:
        last = max(steps, key=lambda u: (finish[u], -graph.order[u]))
        current: Optional[str] = last
        while current is not None:
            if current in steps:
                path.append(steps[current])
            current = cause[current]
        path.reverse()

    ordered = sorted(steps.values(), key=lambda s: (s.start, s.finish, graph.order[s.registration.urn]))
    # Sorted: resources registered concurrently arrive in any order.
    skipped = tuple(sorted(label(r) for r in customs if skips_await(r) and _awaitable(r)))
    return DeployPlan(steps=tuple(ordered), critical_path=tuple(path), skipped=skipped)


def dependents(rendering: Rendering, registration: Registration) -> list[Registration]:
    """Every custom resource that cannot start before `registration` is created."""
    graph = Graph(rendering.registrations)
    return [
        r
        for r in graph.registrations
        if r.custom and r.urn != registration.urn and graph.depends_on(r.urn, registration.urn)
    ]


def format_plan(plan: DeployPlan) -> str:
    lines = ["deploy plan (what pulumi up waits for; rough times for a first deploy):"]
    if not plan.steps:
        lines.append("  nothing is awaited")
    else:
        width = max(len(step.label) for step in plan.steps)
        until_width = max(len(step.wait.until) for step in plan.steps)
        lines.append(
            f"  {'start':>6} {'ready':>6}  {'awaited resource':<{width}}  "
            f"{'until':<{until_width}}  after"
        )
        for step in plan.steps:
            notes = []
            if step.wait.rollout_seconds is not None:
                notes.append(f"rolling update ~{step.wait.rollout_seconds}s")
            if step.timeout:
                notes.append(f"timeout {step.timeout}")
            extra = f"  ({', '.join(notes)})" if notes else ""
            lines.append(
                f"  {step.start:>5}s {step.finish:>5}s  {step.label:<{width}}  "
                f"{step.wait.until:<{until_width}}  {', '.join(step.after) or '-'}{extra}"
            )
        lines.append(
            f"  critical path (~{plan.seconds}s): " + " -> ".join(plan.path_labels())
        )
    if plan.skipped:
        lines.append(f"  not awaited ({SKIP_AWAIT}): " + ", ".join(plan.skipped))
    return "\n".join(lines)
