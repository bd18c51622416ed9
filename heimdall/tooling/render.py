"""The offline render: run the program under Pulumi mocks, like `helm template`.

`run_stack` runs the real program with a stack's config under `HeimdallMocks` and returns a
`Rendering`: every registration the engine would see, and the stack outputs. `write`
turns it into Kubernetes manifests (YAML), `resources.json` (every resource with its
inputs, secrets masked) and a summary; `validate_manifests` checks the manifests against
the Kubernetes JSON schemas.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pulumi
import yaml

from heimdall import sdk_private
from heimdall.engine_values import unwrap_secret
from heimdall.settings.loader import SettingsError, load_settings
from heimdall.settings.secrecy import plain_secret_leaf
from heimdall.settings.types import NAMESPACE, PROJECT_ROOT
from heimdall.tooling import prerun
from heimdall.tooling.mocks import (
    UNKNOWN,
    HeimdallMocks,
    HookFailed,
    RecordingCallbacks,
    RecordingMonitor,
    Registration,
    call_hook,
)
from heimdall.tooling.prerun import (
    SECRET_PLACEHOLDER,
    StackFile,
    config_value,
    load_stack_file,
    resolve_stack_file,
)

PROJECT = "heimdall"
MASK = "********"
KUBERNETES_VERSIONS = ("1.30.0", "1.34.0")
HELM_PREFIX = "kubernetes:helm.sh/"


# --- stack files: read, checked and handed over as `pulumi preview` does (prerun.py) ---------


def prerun_stack_file(stack: str) -> StackFile:
    """The stack file with its project's config applied and checked, as the CLI does before
    the program runs. Raises OSError, StackFileError or PreRunError (one line each)."""
    path = resolve_stack_file(stack)
    project = prerun.load_project(prerun.find_project(path, PROJECT_ROOT))
    stack_file = load_stack_file(str(path), project.name)
    values = prerun.apply_project_config(project, stack_file.name, stack_file.values)
    return StackFile(name=stack_file.name, values=values, secure_leaves=stack_file.secure_leaves)


@contextmanager
def _language_host_env(config: Mapping[str, str], secret_keys: Iterable[str]) -> Iterator[None]:
    """The program's environment as the Python language host sets it (prerun.py)."""
    values = {k: prerun.StackValue(v, secure=k in set(secret_keys)) for k, v in config.items()}
    env = prerun.language_host_env(values)
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# --- running under mocks --------------------------------------------------------------------


@dataclass
class Rendering:
    provider: str  # the stack's database provider (settings database.provider)
    namespace: str  # the stack's namespace, as configured
    registrations: list[Registration]
    outputs: dict[str, Any]  # resolved values; secrets unwrapped
    secret_outputs: frozenset[str]
    hooks: dict[str, Any] = field(default_factory=dict)  # resource hooks by name

    def run_hooks(
        self,
        registration: Registration,
        kind: str,
        old: Optional[Registration],
        new_inputs: Optional[dict[str, Any]] = None,
    ) -> None:
        """Call `registration`'s `kind` hooks (before_update, ...) as the engine would on
        an update from `old` (the same resource in an earlier rendering), with
        `new_inputs` (default: the registration's). Raises HookFailed."""
        for hook_name in registration.hooks.get(kind, []):
            call_hook(
                self.hooks[hook_name],
                hook_name,
                registration,
                registration.inputs if new_inputs is None else new_inputs,
                old,
            )

    def resources(self, type_prefix: str = "") -> list[Registration]:
        return [r for r in self.registrations if r.type.startswith(type_prefix)]

    def by_urn(self) -> dict[str, Registration]:
        return {r.urn: r for r in self.registrations}

    def manifests(self, show_secrets: bool = True) -> list[dict[str, Any]]:
        """The Kubernetes objects, as `kubectl apply` would take them, in Helm's install
        order (the Namespace first), then by name: the same stack renders the same files."""
        # A Patch resource (e.g. PersistentVolumeClaimPatch) changes an object the stack does
        # not create itself: it is no manifest of its own.
        objects = [
            manifest(r, show_secrets)
            for r in self.registrations
            if r.type.startswith("kubernetes:")
            and not r.type.startswith(HELM_PREFIX)
            and not r.type.endswith("Patch")
        ]
        return sorted(objects, key=_install_order)

    def charts(self) -> list[Registration]:
        """The Helm charts and releases: not Kubernetes objects but what installs them (a
        chart's objects exist only once the provider renders it, which needs the chart)."""
        return [r for r in self.registrations if r.type.startswith(HELM_PREFIX)]

    def manifest(self, kind: str, name: Optional[str] = None) -> dict[str, Any]:
        """The one object of `kind` (and `name`, when given); fails if not exactly one."""
        found = [
            m
            for m in self.manifests()
            if m["kind"] == kind and (name is None or m["metadata"]["name"] == name)
        ]
        if len(found) != 1:
            raise LookupError(f"{len(found)} {kind} objects named {name!r}")
        return found[0]


# Helm's install order (pkg/releaseutil/kind_sorter.go), for the kinds this program makes.
INSTALL_ORDER = [
    "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodDisruptionBudget",
    "ServiceAccount", "Secret", "ConfigMap", "StorageClass", "PersistentVolume",
    "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding",
    "Role", "RoleBinding", "Service", "DaemonSet", "Pod", "ReplicationController",
    "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob",
    "IngressClass", "Ingress", "APIService", "HTTPRoute",
]


def _install_order(obj: dict[str, Any]) -> tuple[int, str, str, str]:
    kind = obj.get("kind", "")
    rank = INSTALL_ORDER.index(kind) if kind in INSTALL_ORDER else len(INSTALL_ORDER)
    meta = obj.get("metadata") or {}
    return rank, kind, str(meta.get("namespace") or ""), str(meta.get("name") or "")


def _plain(value: Any, show_secrets: bool) -> Any:
    """Engine values -> plain JSON: secrets unwrapped or masked, integral floats as ints."""
    value, secret = unwrap_secret(value)
    if secret and not show_secrets:
        return _mask_leaves(value)
    if isinstance(value, dict):
        return {k: _plain(v, show_secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, show_secrets) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value == UNKNOWN:
        return "<unknown until created>"
    return value


def _mask_leaves(value: Any) -> Any:
    """Mask every scalar but keep the shape, so a masked object still fits its schema."""
    value, _ = unwrap_secret(value)
    if isinstance(value, dict):
        return {k: _mask_leaves(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_leaves(v) for v in value]
    return MASK


def manifest(registration: Registration, show_secrets: bool) -> dict[str, Any]:
    body = _plain(registration.inputs, show_secrets)
    body.setdefault("metadata", {})
    if not body["metadata"].get("name"):
        # Auto-named objects: the name the (mock) provider chose.
        body["metadata"]["name"] = (registration.state.get("metadata") or {}).get("name")
    if body.get("kind") == "Secret" and not show_secrets:
        for field in ("data", "stringData"):
            if isinstance(body.get(field), dict):
                body[field] = {k: MASK for k in body[field]}
    ordered = {k: body[k] for k in ("apiVersion", "kind", "metadata") if k in body}
    ordered.update({k: v for k, v in body.items() if k not in ordered})
    return ordered


def run_stack(
    config: Mapping[str, str],
    stack: str = "test",
    secret_keys: Iterable[str] = (),
    preview: bool = False,
    secure_leaves: Optional[frozenset[str]] = None,
) -> Rendering:
    """Run the program under mocks with `config` (namespaced keys, string values).

    Raises SettingsError, before any resource is declared, when the settings are bad.
    With `secure_leaves` (the stack file's encrypted leaves), a secret value held in
    plain text beside them is refused by its own key.
    """
    from heimdall.stack import deploy

    secret_keys = list(secret_keys)
    with _language_host_env(config, secret_keys):
        # Settings first: a bad value must stop everything before Pulumi starts.
        settings = load_settings()
        plain = plain_secret_leaf(settings, secure_leaves) if secure_leaves is not None else None
        if plain is not None:
            raise SettingsError(plain)
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        mocks = HeimdallMocks(preview=preview, provider_outputs=settings.database.mocks())
        monitor = RecordingMonitor(mocks)
        sdk_private.reset_root_resource()  # a fresh root Stack per run
        pulumi.runtime.set_mocks(
            mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor
        )
        callbacks = RecordingCallbacks()
        sdk_private.install_callbacks(callbacks)
        try:
            outputs = deploy(settings)
            loop.run_until_complete(pulumi.runtime.stack.wait_for_rpcs())
            resolved, secret = loop.run_until_complete(_resolve(outputs))
        finally:
            callbacks.close()
    return Rendering(
        provider=settings.database.provider,
        namespace=settings.namespace,
        registrations=monitor.registrations,
        outputs=resolved,
        secret_outputs=frozenset(secret),
        hooks=dict(callbacks.hooks),
    )


async def _resolve(outputs: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
    resolved: dict[str, Any] = {}
    secret: set[str] = set()
    for key, value in outputs.items():
        output = pulumi.Output.from_input(value)
        resolved[key] = await output.future(with_unknowns=True)
        if await output.is_secret():
            secret.add(key)
    return resolved, secret


def run_stack_file(stack: str, preview: bool = False) -> Rendering:
    stack_file = prerun_stack_file(stack)
    return run_stack(
        stack_file.config,
        stack_file.name,
        secret_keys=stack_file.secret_keys,
        preview=preview,
        secure_leaves=stack_file.secure_leaves,
    )


# --- validation and writing ---------------------------------------------------------------


def validate_manifests(
    manifests: Iterable[dict[str, Any]], versions: Iterable[str] = KUBERNETES_VERSIONS
) -> list[str]:
    """Strict schema validation; returns one line per error (empty when all pass)."""
    import kubernetes_validate

    errors = []
    for version in versions:
        for obj in manifests:
            where = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')} (Kubernetes {version})"
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                path = ".".join(str(p) for p in error.path)
                errors.append(f"{where}: {path}: {error.message}")
            except kubernetes_validate.SchemaNotFoundError:
                schema = custom_resource_schema(obj)
                if schema is None:
                    errors.append(f"{where}: no schema for {obj.get('apiVersion')} {obj.get('kind')}")
                else:
                    errors.extend(f"{where}: {line}" for line in _validate_custom(obj, schema))
    return errors


def custom_resource_schema(obj: dict[str, Any]) -> Optional[dict[str, Any]]:
    """The schema of a custom resource kind from heimdall/schemas/, if the program ships one."""
    from importlib import resources as package_files

    group_version = str(obj.get("apiVersion", "")).replace("/", "_")
    name = f"{str(obj.get('kind', '')).lower()}.{group_version}.json"
    path = package_files.files("heimdall") / "schemas" / name
    if not path.is_file():
        return None
    schema: dict[str, Any] = json.loads(path.read_text())
    return schema


def _validate_custom(obj: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    import jsonschema

    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'.'.join(str(p) for p in error.path)}: {error.message}"
        for error in sorted(validator.iter_errors(obj), key=lambda e: list(e.path))
    ]


def _file_name(obj: dict[str, Any], index: int) -> str:
    return f"{index:02d}-{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"


MANIFESTS = "manifests"


def write(rendering: Rendering, out: Path, show_secrets: bool = False) -> list[Path]:
    """Write one YAML file per Kubernetes object into out/manifests/, and out/resources.json;
    return the files.

    The manifests have a folder of their own so that `kubectl apply -f out/manifests/` reads
    only them (kubectl reads every .json, .yaml and .yml file of a folder, and stops at
    resources.json, a list that is not a Kubernetes object).
    """
    manifests = out / MANIFESTS
    manifests.mkdir(parents=True, exist_ok=True)
    # Also the manifests an older version wrote beside resources.json.
    for old in [*out.glob("*.yaml"), *manifests.glob("*.yaml")]:
        old.unlink()
    written = []
    for index, obj in enumerate(rendering.manifests(show_secrets), start=1):
        path = manifests / _file_name(obj, index)
        path.write_text(yaml.safe_dump(obj, sort_keys=True))
        written.append(path)
    resources = [
        {
            "type": r.type,
            "name": r.name,
            "parent": _logical(rendering, r.parent),
            "protect": r.protect,
            "dependsOn": sorted(filter(None, (_logical(rendering, d) for d in r.dependencies))),
            "inputs": _plain(r.inputs, show_secrets),
        }
        for r in sorted(rendering.registrations, key=lambda r: (r.type, r.name))
    ]
    if not show_secrets:
        resources = [_mask_secret_resource(r) for r in resources]
    (out / "resources.json").write_text(json.dumps(resources, indent=2, sort_keys=True) + "\n")
    written.append(out / "resources.json")
    return written


def _mask_secret_resource(resource: dict[str, Any]) -> dict[str, Any]:
    if resource["type"] == "kubernetes:core/v1:Secret":
        for field in ("data", "stringData"):
            values = resource["inputs"].get(field)
            if isinstance(values, dict):
                resource["inputs"][field] = {k: MASK for k in values}
    return resource


def _logical(rendering: Rendering, urn: Optional[str]) -> Optional[str]:
    if not urn:
        return None
    registration = rendering.by_urn().get(urn)
    if registration is None:
        return None  # the root stack
    return f"{registration.type}::{registration.name}"


def summary(rendering: Rendering, out: Optional[Path] = None) -> str:
    counts = Counter(r.type for r in rendering.registrations if r.custom)
    lines = [
        f"stack settings: database provider {rendering.provider}, "
        f"namespace {rendering.namespace}",
        f"url: {rendering.outputs.get('url')}",
        "resources:",
        *(f"  {count:3d}  {token}" for token, count in sorted(counts.items())),
    ]
    for chart in rendering.charts():
        inputs = _plain(chart.inputs, False)
        source = (inputs.get("repositoryOpts") or {}).get("repo") or "a local path"
        lines.append(
            f"  chart {chart.name}: {inputs.get('chart')} {inputs.get('version')} from {source} "
            f"into namespace {inputs.get('namespace')} (its objects are rendered by "
            "`pulumi up`, not offline; values in resources.json)"
        )
    protected = [r.name for r in rendering.registrations if r.protect]
    if protected:
        lines.append("protected: " + ", ".join(sorted(protected)))
    if out is not None:
        lines.append(f"written to {out}/ (kubectl apply -f {out / MANIFESTS}/)")
    return "\n".join(lines)


__all__ = [
    "MANIFESTS",
    "NAMESPACE",
    "HookFailed",
    "SECRET_PLACEHOLDER",
    "StackFile",
    "config_value",
    "prerun_stack_file",
    "resolve_stack_file",
    "Rendering",
    "load_stack_file",
    "run_stack",
    "run_stack_file",
    "summary",
    "validate_manifests",
    "write",
]
