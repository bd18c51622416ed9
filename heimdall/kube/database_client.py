"""The database client side of a pod, from a `DatabaseConnection`: the DATABASE_*
variables (the password by Secret reference), the CA certificate's volume, and the init
containers (the provider's sidecars, then a wait until the database accepts connections)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from heimdall.database.contract import DatabaseConnection, SecretKeyRef
from heimdall.kube.pods import LOGS_ON_ERROR, env_from, flag, plain_env, script, secret_env
from heimdall.kube.security import POSTGRES_UID, container_security_context
from heimdall.settings.guardrails import ContainerSecurityContext
from heimdall.settings.types import Image

core = k8s.core.v1

TLS_CA_MOUNT = "/etc/heimdall/database-ca"


@dataclass(frozen=True)
class DatabaseClientArgs:
    """How the wait-for-database container runs: the PostgreSQL client image
    (`database.clientImage`), its deadline (`database.waitTimeoutSeconds`) and the user's
    container security context overrides (`securityContext`)."""

    image: Image
    wait_timeout_seconds: int
    security_context: Optional[ContainerSecurityContext] = None


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
    args: DatabaseClientArgs,
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
        init_containers=[
            *connection.init_containers,
            wait_for_database(connection, args, env_from_config_map),
        ],
    )


def wait_for_database(
    connection: DatabaseConnection,
    args: DatabaseClientArgs,
    env_from_config_map: Optional[pulumi.Input[str]] = None,
) -> core.ContainerArgs:
    """An init container that waits, with a deadline, until the database accepts
    connections (`pg_isready`), then exits so the pod's main container starts."""
    env: dict[str, pulumi.Input[str]] = {"WAIT_TIMEOUT_SECONDS": str(args.wait_timeout_seconds)}
    if env_from_config_map is None:
        env.update(database_env(connection))
    return core.ContainerArgs(
        name="wait-for-database",
        image=args.image.reference,
        image_pull_policy=args.image.pull_policy,
        command=["/bin/sh", "-c", script("wait-for-database.sh")],
        env=plain_env(env),
        env_from=env_from(env_from_config_map),
        resources=core.ResourceRequirementsArgs(
            requests={"cpu": "10m", "memory": "16Mi"},
            limits={"cpu": "100m", "memory": "64Mi"},
        ),
        security_context=container_security_context(
            POSTGRES_UID, overrides=args.security_context
        ),
        termination_message_policy=LOGS_ON_ERROR,
    )
