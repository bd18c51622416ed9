"""The pods of the day-2 Jobs (backup, restore): the PostgreSQL client image, non-root as
its postgres user, with the stack's scheduling and the shared security contexts; and
`OperationsArgs`, what the day-2 operations take from the settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from heimdall.database.contract import Placement
from heimdall.kube import placement, pods, security
from heimdall.kube.database_client import DatabaseClientArgs
from heimdall.settings.operations import Backup, Restore
from heimdall.settings.types import Image

core = k8s.core.v1


@dataclass(frozen=True)
class OperationsArgs:
    """The `backup` and `restore` sections, whether backups run (`backup.enabled`, or the
    provider's default), whether the data is protected (not `database.allowDestroy`),
    the stack's namespace, the database's name, how the Jobs' pods reach it and where
    they run."""

    backup: Backup
    backup_enabled: bool
    restore: Restore
    protect: bool
    namespace: str
    database_name: str
    database_client: DatabaseClientArgs
    placement: Placement


def postgres_container(
    name: str,
    script: str,
    image: Image,
    env: list[core.EnvVarArgs],
    mounts: list[core.VolumeMountArgs],
    resources: core.ResourceRequirementsArgs,
) -> core.ContainerArgs:
    """A container of the PostgreSQL client image running pg-env.sh then `script`."""
    return core.ContainerArgs(
        name=name,
        image=image.reference,
        image_pull_policy=image.pull_policy,
        command=["/bin/sh", "-c", pods.script("pg-env.sh") + "\n" + pods.script(script)],
        env=env,
        resources=resources,
        security_context=security.container_security_context(security.POSTGRES_UID),
        termination_message_policy=pods.LOGS_ON_ERROR,
        volume_mounts=[*mounts, core.VolumeMountArgs(name="tmp", mount_path="/tmp")],
    )


def postgres_pod_spec(
    where: Placement,
    service_account_name: pulumi.Input[str],
    init_containers: Sequence[core.ContainerArgs],
    containers: Sequence[core.ContainerArgs],
    volumes: Sequence[core.VolumeArgs],
) -> core.PodSpecArgs:
    """A Job's pod: runs once, the stack's service account without an API token, the
    PostgreSQL image's uid, the stack's scheduling; `volumes` plus a writable /tmp."""
    return core.PodSpecArgs(
        restart_policy="Never",
        service_account_name=service_account_name,
        automount_service_account_token=False,
        security_context=security.pod_security_context(security.POSTGRES_UID),
        **placement.node_placement(where),
        init_containers=list(init_containers),
        containers=list(containers),
        volumes=[*volumes, pods.tmp_volume()],
    )
