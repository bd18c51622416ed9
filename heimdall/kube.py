"""Shapes every Kubernetes object of the stack repeats: labels, security contexts,
resource amounts, secret references, and the database client a pod needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources as package_files
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from heimdall.database.contract import DatabaseConnection, SecretKeyRef
from heimdall.settings import Resources, Settings

core = k8s.core.v1
meta = k8s.meta.v1

PART_OF = "heimdall"
HEIMDALL_UID = 1001  # the mitre/heimdall2 image runs as this user
POSTGRES_UID = 999  # the official postgres image's postgres user


def labels(component: str, instance: str = "heimdall") -> dict[str, str]:
    """Recommended labels; `selector_labels` is the stable subset used in selectors."""
    return {
        **selector_labels(component, instance),
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
    }


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
        annotations=annotations or None,
    )


def resource_requirements(resources: Resources) -> core.ResourceRequirementsArgs:
    def amounts(cpu: Optional[str], memory: Optional[str]) -> Optional[dict[str, str]]:
        found = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
        return found or None

    return core.ResourceRequirementsArgs(
        requests=amounts(resources.requests.cpu, resources.requests.memory),
        limits=amounts(resources.limits.cpu, resources.limits.memory),
    )


def pod_security_context(uid: int) -> core.PodSecurityContextArgs:
    return core.PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=uid,
        run_as_group=uid,
        fs_group=uid,
        seccomp_profile=core.SeccompProfileArgs(type="RuntimeDefault"),
    )


def container_security_context(
    uid: int, read_only_root: bool = True
) -> core.SecurityContextArgs:
    return core.SecurityContextArgs(
        run_as_non_root=True,
        run_as_user=uid,
        run_as_group=uid,
        allow_privilege_escalation=False,
        privileged=False,
        read_only_root_filesystem=read_only_root,
        capabilities=core.CapabilitiesArgs(drop=["ALL"]),
        seccomp_profile=core.SeccompProfileArgs(type="RuntimeDefault"),
    )


def secret_env(name: str, ref: SecretKeyRef) -> core.EnvVarArgs:
    """An environment variable read from a Secret at run time: the value never appears
    in the pod spec."""
    return core.EnvVarArgs(
        name=name,
        value_from=core.EnvVarSourceArgs(
            secret_key_ref=core.SecretKeySelectorArgs(name=ref.name, key=ref.key)
        ),
    )


def plain_env(values: dict[str, pulumi.Input[str]]) -> list[core.EnvVarArgs]:
    return [core.EnvVarArgs(name=key, value=value) for key, value in values.items()]


def image_pull_secrets(settings: Settings) -> Optional[list[core.LocalObjectReferenceArgs]]:
    return [core.LocalObjectReferenceArgs(name=s) for s in settings.image_pull_secrets] or None


# pulumi-kubernetes creates the object and does not wait for it to become ready. Only for
# objects whose readiness another await already proves; never on a Job whose completion
# something depends on (the migration Job).
SKIP_AWAIT = {"pulumi.com/skipAwait": "true"}


def tmp_volume(name: str = "tmp") -> core.VolumeArgs:
    return core.VolumeArgs(name=name, empty_dir=core.EmptyDirVolumeSourceArgs())


def script(name: str) -> str:
    """A shell script shipped in heimdall/scripts/."""
    return (package_files.files("heimdall") / "scripts" / name).read_text()


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
        env["DATABASE_SSL_INSECURE"] = "true" if tls.mode == "require" else "false"
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
    if connection.tls.ca is not None:
        volumes.append(
            core.VolumeArgs(
                name="database-ca",
                config_map=core.ConfigMapVolumeSourceArgs(
                    name=connection.tls.ca.name,
                    items=[
                        core.KeyToPathArgs(key=connection.tls.ca.key, path=connection.tls.ca.key)
                    ],
                ),
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
        security_context=container_security_context(POSTGRES_UID),
    )


def env_from(config_map: Optional[pulumi.Input[str]]) -> Optional[Sequence[core.EnvFromSourceArgs]]:
    if config_map is None:
        return None
    return [core.EnvFromSourceArgs(config_map_ref=core.ConfigMapEnvSourceArgs(name=config_map))]
