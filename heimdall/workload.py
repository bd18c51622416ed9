"""`HeimdallWorkload`: the Heimdall server, its Service and the optional Ingress.

The StatefulSet runs `yarn backend start` only (migrations are the Job's work) after the
database client's init containers, reads DATABASE_PASSWORD, JWT_SECRET and API_KEY_SECRET
from Secrets by reference, and is probed on `probes.path` (`/server` by default: a real,
cheap route; Heimdall has no health endpoint, and unknown paths return the SPA with 200).
It depends on the migration Job, so nothing serves before the schema is current.

Pod-level guardrails come from the settings: the security contexts (with the user's
overrides), nodeSelector, tolerations, affinity, topology spread (soft spread over nodes
by default when more than one pod runs), pod labels and annotations; `additions` bring
other components' env and volumes (login secrets, the CA bundle). With autoscaling on,
`replicas` is left to the HorizontalPodAutoscaler.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from heimdall.kube import meta, pods
from heimdall.pod import HeimdallPod
from heimdall.settings.app import Ingress, Probes, ProbeTiming, Rollout
from heimdall.settings.guardrails import Autoscaling
from heimdall.settings.types import Resources

core = k8s.core.v1
COMPONENT = "heimdall"
HTTP_PORT = 3000
SERVICE_NAME = "heimdall"
# Controllers that select Ingresses by the kubernetes.io/ingress.class annotation only.
LEGACY_INGRESS_CLASSES = frozenset({"gce", "gce-internal"})
STATEFUL_SET_NAME = "heimdall"
# What a rollout of one pod may take beyond its probes: Kubernetes' default termination
# grace period (the pod spec leaves it unset), and scheduling, pulling the image and the
# init containers (the database is up during a rollout).
TERMINATION_GRACE_SECONDS = 30
POD_START_SECONDS = 120
PULUMI_DEFAULT_AWAIT_SECONDS = 600  # pulumi-kubernetes' own StatefulSet timeout
# Sticky sessions (settings.sticky_sessions): a cookie names the pod that started a login.
STICKY_COOKIE = "heimdall-route"
# ingress-nginx: annotations on the Ingress (kubernetes.github.io/ingress-nginx, "Sticky
# sessions"); persistent: scaling does not move existing sessions to new pods.
NGINX_STICKY_ANNOTATIONS = {
    "nginx.ingress.kubernetes.io/affinity": "cookie",
    "nginx.ingress.kubernetes.io/affinity-mode": "persistent",
    "nginx.ingress.kubernetes.io/session-cookie-name": STICKY_COOKIE,
}
# Traefik's Kubernetes Ingress provider: annotations on the Service (doc.traefik.io,
# "Kubernetes Service Annotations").
TRAEFIK_STICKY_ANNOTATIONS = {
    "traefik.ingress.kubernetes.io/service.sticky.cookie": "true",
    "traefik.ingress.kubernetes.io/service.sticky.cookie.name": STICKY_COOKIE,
    "traefik.ingress.kubernetes.io/service.sticky.cookie.httponly": "true",
}


@dataclass(frozen=True)
class WorkloadArgs:
    """What the server takes from the settings besides its pod (`HeimdallPodArgs`):
    `sticky_sessions` is the stack's choice (a login feature that needs them, or the user)."""

    start_command: Sequence[str]
    resources: Resources
    replicas: int
    probes: Probes
    rollout: Rollout
    autoscaling: Autoscaling
    ingress: Ingress
    sticky_sessions: bool = False


def sticky_annotations(args: WorkloadArgs) -> tuple[dict[str, str], dict[str, str]]:
    """(Service, Ingress) annotations that keep a browser on one pod, for the ingress
    classes the program knows; the user's own annotations win (an nginx affinity of
    their own replaces the program's). Traefik reads its sticky cookie on the Service
    only, so an Ingress annotation of that name (as the chart's 3.3.3 values example
    shows) does nothing and the Service gets it anyway."""
    if not (args.sticky_sessions and args.ingress.enabled):
        return {}, {}
    class_name, annotations = args.ingress.class_name, args.ingress.annotations
    if class_name == "nginx" and "nginx.ingress.kubernetes.io/affinity" not in annotations:
        return {}, dict(NGINX_STICKY_ANNOTATIONS)
    if class_name == "traefik":
        return dict(TRAEFIK_STICKY_ANNOTATIONS), {}
    return {}, {}


def rollout_timeout_seconds(args: WorkloadArgs) -> int:
    """How long Pulumi waits for the StatefulSet: a rolling update replaces the pods one
    at a time, and each may use its whole startup probe budget, its first readiness probe
    and minReadySeconds after the old pod's preStop pause and grace period; so the budget
    of one pod times the replicas (the autoscaler's maximum under an autoscaler), never
    less than Pulumi's default 10 minutes."""
    startup, readiness = args.probes.startup, args.probes.readiness
    per_pod = (
        args.rollout.pre_stop_seconds
        + TERMINATION_GRACE_SECONDS
        + POD_START_SECONDS
        + startup.initial_delay_seconds
        + startup.period_seconds * startup.failure_threshold
        + startup.timeout_seconds
        + readiness.initial_delay_seconds
        + readiness.period_seconds
        + readiness.timeout_seconds
        + args.rollout.min_ready_seconds
    )
    pods = args.autoscaling.max_replicas if args.autoscaling.enabled else args.replicas
    return max(PULUMI_DEFAULT_AWAIT_SECONDS, pods * per_pod)


class HeimdallWorkload(pulumi.ComponentResource):
    # The SDK evaluates a component's class annotations when it registers (looking for
    # output types): `ingress` is annotated in __init__ so that a stack without an Ingress
    # never imports pulumi_kubernetes.networking (about 40 ms).
    stateful_set: k8s.apps.v1.StatefulSet
    service: k8s.core.v1.Service

    def __init__(
        self,
        name: str,
        args: WorkloadArgs,
        pod: HeimdallPod,
        after: Sequence[pulumi.Resource],
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("heimdall:app:HeimdallWorkload", name, None, opts)
        namespace = pod.namespace
        secrets = pod.secrets
        probes = args.probes

        def http_probe(timing: ProbeTiming) -> core.ProbeArgs:
            return core.ProbeArgs(
                http_get=core.HTTPGetActionArgs(path=probes.path, port="http"),
                initial_delay_seconds=timing.initial_delay_seconds or None,
                period_seconds=timing.period_seconds,
                timeout_seconds=timing.timeout_seconds,
                failure_threshold=timing.failure_threshold,
            )

        # Endpoints removal and SIGTERM happen together: keep serving for a few seconds
        # so that requests already routed here are not refused during a rollout.
        pre_stop = (
            core.LifecycleArgs(
                pre_stop=core.LifecycleHandlerArgs(
                    exec_=core.ExecActionArgs(
                        command=["sleep", str(args.rollout.pre_stop_seconds)]
                    )
                )
            )
            if args.rollout.pre_stop_seconds
            else None
        )

        container = pod.container(
            "heimdall",
            args.start_command,
            env=[
                pods.secret_env("JWT_SECRET", secrets.jwt_secret),
                pods.secret_env("API_KEY_SECRET", secrets.api_key_secret),
                *pod.extra.env,
            ],
            resources=args.resources,
            ports=[core.ContainerPortArgs(name="http", container_port=HTTP_PORT)],
            lifecycle=pre_stop,
            startup_probe=http_probe(probes.startup),
            readiness_probe=http_probe(probes.readiness),
            liveness_probe=http_probe(probes.liveness),
        )

        selector = meta.selector_labels(COMPONENT)
        service_sticky, ingress_sticky = sticky_annotations(args)
        self.service = core.Service(
            f"{name}-service",
            # No await: pulumi-kubernetes would wait until the Service has ready endpoints,
            # i.e. until the StatefulSet's pods are ready (which the StatefulSet's own await
            # proves, and its selector is this one), then 10 s more for stragglers: the last
            # 10 s of every first deploy, with nothing learned. Nothing depends on it.
            metadata=meta.metadata(
                namespace, COMPONENT, SERVICE_NAME, annotations={**service_sticky, **meta.SKIP_AWAIT}
            ),
            spec=core.ServiceSpecArgs(
                type="ClusterIP",
                # Traffic that reaches the Service itself (kube-proxy: port-forward, a
                # LoadBalancer in front of it) stays on one pod per client address;
                # ingress controllers route to the pods directly and need their own.
                session_affinity="ClientIP" if args.sticky_sessions else None,
                selector=selector,
                ports=[core.ServicePortArgs(name="http", port=HTTP_PORT, target_port="http")],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.stateful_set = k8s.apps.v1.StatefulSet(
            f"{name}-statefulset",
            metadata=meta.metadata(namespace, COMPONENT, STATEFUL_SET_NAME),
            spec=k8s.apps.v1.StatefulSetSpecArgs(
                # Under an autoscaler the field is left unset, so Pulumi does not fight it.
                replicas=None if args.autoscaling.enabled else args.replicas,
                # A plain name: depending on the Service's output would make the StatefulSet
                # wait for the Service's endpoints, which only its own pods provide.
                service_name=SERVICE_NAME,
                pod_management_policy="Parallel",  # scaling only; updates go one pod at a time
                # A rolling update replaces one pod at a time (maxUnavailable is alpha before
                # Kubernetes 1.35 and 1 by default) and moves on once the new pod has been
                # ready for minReadySeconds, so with 2+ replicas the others keep serving.
                update_strategy=k8s.apps.v1.StatefulSetUpdateStrategyArgs(type="RollingUpdate"),
                min_ready_seconds=args.rollout.min_ready_seconds,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
                template=core.PodTemplateSpecArgs(
                    metadata=pod.metadata(COMPONENT),
                    spec=pod.spec(container, spread=True),
                ),
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=list(after),
                # Pulumi's 10 minutes are less than a healthy rollout of a few replicas
                # can take (startup probe budget x replicas): it would fail the update
                # while the rollout is still going well.
                custom_timeouts=pulumi.CustomTimeouts(
                    create=f"{rollout_timeout_seconds(args)}s",
                    update=f"{rollout_timeout_seconds(args)}s",
                ),
            ),
        )

        self.ingress: Optional[k8s.networking.v1.Ingress] = None
        ingress = args.ingress
        if ingress.enabled and ingress.host:
            annotations = {**ingress_sticky, **ingress.annotations}
            class_name = ingress.class_name
            if class_name in LEGACY_INGRESS_CLASSES:
                # GKE's controller ignores an Ingress with spec.ingressClassName set: it
                # reads only this annotation (and Pulumi would wait for an address forever).
                annotations.setdefault("kubernetes.io/ingress.class", class_name)
                class_name = None
            self.ingress = k8s.networking.v1.Ingress(
                f"{name}-ingress",
                metadata=meta.metadata(namespace, COMPONENT, "heimdall", annotations=annotations),
                spec=k8s.networking.v1.IngressSpecArgs(
                    ingress_class_name=class_name,
                    tls=[
                        k8s.networking.v1.IngressTLSArgs(
                            hosts=[ingress.host], secret_name=ingress.tls_secret_name
                        )
                    ]
                    if ingress.tls_secret_name
                    else None,
                    rules=[
                        k8s.networking.v1.IngressRuleArgs(
                            host=ingress.host,
                            http=k8s.networking.v1.HTTPIngressRuleValueArgs(
                                paths=[
                                    k8s.networking.v1.HTTPIngressPathArgs(
                                        path="/",
                                        path_type="Prefix",
                                        backend=k8s.networking.v1.IngressBackendArgs(
                                            service=k8s.networking.v1.IngressServiceBackendArgs(
                                                name=SERVICE_NAME,
                                                port=k8s.networking.v1.ServiceBackendPortArgs(
                                                    name="http"
                                                ),
                                            )
                                        ),
                                    )
                                ]
                            ),
                        )
                    ],
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"serviceName": self.service.metadata.name})
