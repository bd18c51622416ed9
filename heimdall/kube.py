"""Shapes every Kubernetes object of the stack repeats: labels, security contexts,
resource amounts, secret references, scheduling, and the database client a pod needs."""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources as package_files
from typing import Any, Optional, cast

import pulumi
import pulumi_kubernetes as k8s

from heimdall.database.contract import DatabaseConnection, Placement, SecretKeyRef, Toleration
from heimdall.settings.guardrails import ContainerSecurityContext, PodSecurityContext
from heimdall.settings.root import Settings
from heimdall.settings.types import Resources

core = k8s.core.v1
meta = k8s.meta.v1

PART_OF = "heimdall"
HEIMDALL_UID = 1001  # the mitre/heimdall2 image runs as this user
POSTGRES_UID = 999  # the official postgres image's postgres user


@dataclass(frozen=True)
class CommonMetadata:
    """The user's extra labels and annotations for every object (settings `labels`,
    `annotations`)."""

    labels: Mapping[str, str]
    annotations: Mapping[str, str]


_NO_COMMON = CommonMetadata({}, {})
_COMMON: contextvars.ContextVar[Optional[CommonMetadata]] = contextvars.ContextVar(
    "heimdall_common_metadata", default=None
)


def _common() -> CommonMetadata:
    return _COMMON.get() or _NO_COMMON


@contextlib.contextmanager
def common_metadata(labels: Mapping[str, str], annotations: Mapping[str, str]) -> Iterator[None]:
    """Within the block, `labels()` and `metadata()` add these to every object, so that no
    component needs the settings to honour them."""
    token = _COMMON.set(CommonMetadata(dict(labels), dict(annotations)))
    try:
        yield
    finally:
        _COMMON.reset(token)


def labels(component: str, instance: str = "heimdall") -> dict[str, str]:
    """Recommended labels; `selector_labels` is the stable subset used in selectors."""
    return {
        **_common().labels,
        **selector_labels(component, instance),
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
    }


def common_annotations() -> Optional[dict[str, str]]:
    """The user's extra annotations, for objects built without `metadata()`."""
    return dict(_common().annotations) or None


def stack_selector_labels(instance: str = "heimdall") -> dict[str, str]:
    """Labels every pod of the stack carries, whatever its component."""
    return {"app.kubernetes.io/part-of": PART_OF, "app.kubernetes.io/instance": instance}


def selector_labels(component: str, instance: str = "heimdall") -> dict[str, str]:
    return {
        "app.kubernetes.io/name": component,
        "app.kubernetes.io/instance": instance,
    }


def metadata(
    namespace: pulumi.Input[str],
    component: str,
    name: Optional[str] = None,
    annotations: Optional[dict[str, str]] = None,
) -> meta.ObjectMetaArgs:
    """Object metadata. Without `name` the provider auto-names the object, so a change
    of content becomes a replacement with a new name (and a rollout of its consumers)."""
    return meta.ObjectMetaArgs(
        name=name,
        namespace=namespace,
        labels=labels(component),
        annotations={**_common().annotations, **(annotations or {})} or None,
    )


def pod_metadata(
    component: str, settings: Settings, annotations: Optional[dict[str, str]] = None
) -> meta.ObjectMetaArgs:
    """Metadata of a pod template of Heimdall's pods: the component's labels plus the
    user's `podLabels` and `podAnnotations`."""
    return meta.ObjectMetaArgs(
        labels={**settings.pod_labels, **labels(component)},
        annotations={
            **_common().annotations,
            **settings.pod_annotations,
            **(annotations or {}),
        }
        or None,
    )


def resource_requirements(resources: Resources) -> core.ResourceRequirementsArgs:
    def amounts(cpu: Optional[str], memory: Optional[str]) -> Optional[dict[str, str]]:
        found = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
        return found or None

    return core.ResourceRequirementsArgs(
        requests=amounts(resources.requests.cpu, resources.requests.memory),
        limits=amounts(resources.limits.cpu, resources.limits.memory),
    )


def _overridden(defaults: dict[str, Any], overrides: Optional[Any]) -> dict[str, Any]:
    """`defaults` with the keys the user set: a value replaces, null removes."""
    values = dict(defaults)
    if overrides is None:
        return values
    for field in overrides.model_fields_set:
        value = getattr(overrides, field)
        if value is None:
            values.pop(field, None)
        else:
            values[field] = value
    return values


def _seccomp(values: dict[str, Any]) -> None:
    profile = values.get("seccomp_profile")
    if profile is not None and not isinstance(profile, core.SeccompProfileArgs):
        values["seccomp_profile"] = core.SeccompProfileArgs(
            type=profile.type, localhost_profile=profile.localhost_profile
        )


def pod_security_context(
    uid: int, overrides: Optional[PodSecurityContext] = None
) -> core.PodSecurityContextArgs:
    """runAsNonRoot as the image's uid, volumes group-owned by it, seccomp RuntimeDefault;
    `overrides` (settings `podSecurityContext`) replace or remove keys."""
    values = _overridden(
        {
            "run_as_non_root": True,
            "run_as_user": uid,
            "run_as_group": uid,
            "fs_group": uid,
            "seccomp_profile": core.SeccompProfileArgs(type="RuntimeDefault"),
        },
        overrides,
    )
    _seccomp(values)
    return core.PodSecurityContextArgs(**values)


def container_security_context(
    uid: int,
    read_only_root: bool = True,
    overrides: Optional[ContainerSecurityContext] = None,
) -> core.SecurityContextArgs:
    """Non-root, no privilege escalation, no capabilities, read-only root filesystem,
    seccomp RuntimeDefault; `overrides` (settings `securityContext`) replace or remove keys."""
    values = _overridden(
        {
            "run_as_non_root": True,
            "run_as_user": uid,
            "run_as_group": uid,
            "allow_privilege_escalation": False,
            "privileged": False,
            "read_only_root_filesystem": read_only_root,
            "capabilities": core.CapabilitiesArgs(drop=["ALL"]),
            "seccomp_profile": core.SeccompProfileArgs(type="RuntimeDefault"),
        },
        overrides,
    )
    capabilities = values.get("capabilities")
    if capabilities is not None and not isinstance(capabilities, core.CapabilitiesArgs):
        values["capabilities"] = core.CapabilitiesArgs(
            add=capabilities.add or None, drop=capabilities.drop or None
        )
    _seccomp(values)
    return core.SecurityContextArgs(**values)


def heimdall_container_security_context(
    settings: Settings, uid: int = HEIMDALL_UID
) -> core.SecurityContextArgs:
    """The securityContext of a container in one of Heimdall's pods."""
    return container_security_context(uid, overrides=settings.security_context)


# --- scheduling -----------------------------------------------------------------------------


def stack_placement(settings: Settings) -> Placement:
    """Where every pod of the stack runs, from the settings."""
    return Placement(
        node_selector=dict(settings.node_selector),
        tolerations=tuple(Toleration(**t.model_dump()) for t in settings.tolerations),
        image_pull_secrets=tuple(settings.image_pull_secrets),
    )


def node_placement(where: Placement) -> dict[str, Any]:
    """nodeSelector, tolerations and imagePullSecrets, for every pod of the stack
    (PodSpecArgs keywords)."""
    tolerations = [
        core.TolerationArgs(
            key=t.key,
            operator=t.operator,
            value=t.value,
            effect=t.effect,
            toleration_seconds=t.toleration_seconds,
        )
        for t in where.tolerations
    ]
    pull_secrets = [core.LocalObjectReferenceArgs(name=s) for s in where.image_pull_secrets]
    return {
        "node_selector": dict(where.node_selector) or None,
        "tolerations": tolerations or None,
        "image_pull_secrets": pull_secrets or None,
    }


def heimdall_scheduling(settings: Settings, spread: bool = False) -> dict[str, Any]:
    """nodeSelector, tolerations and affinity of Heimdall's pods (PodSpecArgs keywords);
    with `spread`, also topologySpreadConstraints (the server's pods only).

    `affinity` and `topologySpreadConstraints` are Kubernetes objects from the settings,
    passed on as they are (camelCase, as `kubectl` takes them).
    """
    placement = node_placement(stack_placement(settings))
    affinity = settings.affinity.as_input() if settings.affinity is not None else None
    placement["affinity"] = cast(Any, affinity) or None
    if spread:
        given = settings.topology_spread_constraints
        constraints = None if given is None else [constraint.as_input() for constraint in given]
        if constraints is None and settings.min_replicas > 1:
            # Soft: spread the pods over nodes when the scheduler can, never block them.
            constraints = [
                {
                    "maxSkew": 1,
                    "topologyKey": "kubernetes.io/hostname",
                    "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": {"matchLabels": selector_labels("heimdall")},
                }
            ]
        placement["topology_spread_constraints"] = cast(Any, constraints) or None
    return placement


@dataclass(frozen=True)
class PodAdditions:
    """What a component adds to Heimdall's pods without the workloads knowing it: env
    (e.g. Secret references), volumes and their mounts in the main container."""

    env: Sequence[core.EnvVarArgs] = ()
    volumes: Sequence[core.VolumeArgs] = ()
    volume_mounts: Sequence[core.VolumeMountArgs] = ()


def merge_additions(additions: Sequence[PodAdditions]) -> PodAdditions:
    return PodAdditions(
        env=[e for a in additions for e in a.env],
        volumes=[v for a in additions for v in a.volumes],
        volume_mounts=[m for a in additions for m in a.volume_mounts],
    )


def secret_env(name: str, ref: SecretKeyRef, optional: bool = False) -> core.EnvVarArgs:
    """An environment variable read from a Secret at run time: the value never appears
    in the pod spec. `optional`: a missing Secret or key leaves it unset instead of
    keeping the container from starting (for a script that checks it and fails clearly)."""
    return core.EnvVarArgs(
        name=name,
        value_from=core.EnvVarSourceArgs(
            secret_key_ref=core.SecretKeySelectorArgs(
                name=ref.name, key=ref.key, optional=optional or None
            )
        ),
    )


# A container that fails says why in its status (kubectl describe, and pulumi-kubernetes'
# await messages for a Job's main container): the end of its log, when it left no
# termination message of its own.
LOGS_ON_ERROR = "FallbackToLogsOnError"


def plain_env(values: dict[str, pulumi.Input[str]]) -> list[core.EnvVarArgs]:
    return [core.EnvVarArgs(name=key, value=value) for key, value in values.items()]


def flag(value: bool) -> str:
    """A boolean as Heimdall's and Kubernetes' string settings take it."""
    return "true" if value else "false"


# pulumi-kubernetes creates the object and does not wait for it to become ready. Only for
# objects whose readiness another await already proves; never on a Job whose completion
# something depends on (the migration Job).
SKIP_AWAIT_KEY = "pulumi.com/skipAwait"
SKIP_AWAIT = {SKIP_AWAIT_KEY: "true"}


# Scratch space of a container (/tmp, sockets): bounded, so that a runaway writer gets its
# own pod evicted instead of filling the node's disk under every other pod on it.
TMP_SIZE_LIMIT = "256Mi"


def tmp_volume(name: str = "tmp", size_limit: str = TMP_SIZE_LIMIT) -> core.VolumeArgs:
    return core.VolumeArgs(
        name=name, empty_dir=core.EmptyDirVolumeSourceArgs(size_limit=size_limit)
    )


@functools.cache
def script(name: str) -> str:
    """A script shipped in heimdall/scripts/ (read once: every pod embeds some)."""
    return (package_files.files("heimdall") / "scripts" / name).read_text()


def redacted(command: Sequence[str], secret_env: Sequence[str]) -> list[str]:
    """`command` run by node through `redact-output.js`, which keeps the values of the
    `secret_env` variables out of its stdout and stderr and keeps its exit status. The
    values stay in the environment: only their names are on the command line."""
    return ["node", "-e", script("redact-output.js"), "--", ",".join(secret_env), *command]


# --- the database client side of a pod -----------------------------------------------------

TLS_CA_MOUNT = "/etc/heimdall/database-ca"


@dataclass(frozen=True)
class DatabaseClient:
    """Everything a pod needs to reach the database, from a `DatabaseConnection`.

    `env` holds the DATABASE_* variables (the password by Secret reference), `volumes`
    and `volume_mounts` the CA certificate, `init_containers` the provider's sidecars
    followed by the wait-for-database container.
    """

    env: list[core.EnvVarArgs]
    volumes: list[core.VolumeArgs]
    volume_mounts: list[core.VolumeMountArgs]
    init_containers: list[core.ContainerArgs]


def database_env(connection: DatabaseConnection) -> dict[str, pulumi.Input[str]]:
    """The non-secret DATABASE_* variables Heimdall reads."""
    env: dict[str, pulumi.Input[str]] = {
        "DATABASE_HOST": connection.host,
        "DATABASE_PORT": pulumi.Output.from_input(connection.port).apply(str),
        "DATABASE_NAME": connection.database,
        "DATABASE_USERNAME": connection.username,
    }
    tls = connection.tls
    if tls.mode != "disable":
        env["DATABASE_SSL"] = "true"
        env["DATABASE_SSL_INSECURE"] = flag(tls.mode == "require")
        if tls.ca is not None:
            env["DATABASE_SSL_CA"] = f"{TLS_CA_MOUNT}/{tls.ca.key}"
    return env


def database_client(
    connection: DatabaseConnection,
    settings: Settings,
    env_from_config_map: Optional[pulumi.Input[str]] = None,
) -> DatabaseClient:
    """The env, volumes and init containers a database client pod needs.

    With `env_from_config_map`, the plain DATABASE_* variables come from that ConfigMap
    (which must hold `database_env`); otherwise they are set literally.
    """
    volumes: list[core.VolumeArgs] = list(connection.volumes)
    mounts: list[core.VolumeMountArgs] = []
    ca = connection.tls.ca
    if ca is not None:
        # The whole volume, no subPath: a CA renewed in its ConfigMap or Secret reaches the
        # file (Heimdall reads it at start; the Jobs' tools at each run).
        items = [core.KeyToPathArgs(key=ca.key, path=ca.key)]
        volumes.append(
            core.VolumeArgs(
                name="database-ca",
                secret=core.SecretVolumeSourceArgs(secret_name=ca.name, items=items),
            )
            if isinstance(ca, SecretKeyRef)
            else core.VolumeArgs(
                name="database-ca",
                config_map=core.ConfigMapVolumeSourceArgs(name=ca.name, items=items),
            )
        )
        mounts.append(
            core.VolumeMountArgs(name="database-ca", mount_path=TLS_CA_MOUNT, read_only=True)
        )
    plain = [] if env_from_config_map is not None else plain_env(database_env(connection))
    env = [*plain, secret_env("DATABASE_PASSWORD", connection.password)]
    return DatabaseClient(
        env=env,
        volumes=volumes,
        volume_mounts=mounts,
        init_containers=[*connection.init_containers, wait_for_database(connection, settings, env_from_config_map)],
    )


def wait_for_database(
    connection: DatabaseConnection,
    settings: Settings,
    env_from_config_map: Optional[pulumi.Input[str]] = None,
) -> core.ContainerArgs:
    """An init container that waits, with a deadline, until the database accepts
    connections (`pg_isready`), then exits so the pod's main container starts."""
    env: dict[str, pulumi.Input[str]] = {
        "WAIT_TIMEOUT_SECONDS": str(settings.database.wait_timeout_seconds)
    }
    if env_from_config_map is None:
        env.update(database_env(connection))
    return core.ContainerArgs(
        name="wait-for-database",
        image=settings.database.client_image.reference,
        image_pull_policy=settings.database.client_image.pull_policy,
        command=["/bin/sh", "-c", script("wait-for-database.sh")],
        env=plain_env(env),
        env_from=env_from(env_from_config_map),
        resources=core.ResourceRequirementsArgs(
            requests={"cpu": "10m", "memory": "16Mi"},
            limits={"cpu": "100m", "memory": "64Mi"},
        ),
        security_context=container_security_context(
            POSTGRES_UID, overrides=settings.security_context
        ),
        termination_message_policy=LOGS_ON_ERROR,
    )


def env_from(config_map: Optional[pulumi.Input[str]]) -> Optional[Sequence[core.EnvFromSourceArgs]]:
    if config_map is None:
        return None
    return [core.EnvFromSourceArgs(config_map_ref=core.ConfigMapEnvSourceArgs(name=config_map))]
