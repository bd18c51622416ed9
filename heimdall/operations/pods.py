"""The pods of the day-2 Jobs (backup, restore): the PostgreSQL client image, non-root as
its postgres user, with the stack's scheduling and the shared security contexts."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_kubernetes as k8s

from heimdall import kube
from heimdall.settings.root import Settings

core = k8s.core.v1


def postgres_container(
    name: str,
    script: str,
    settings: Settings,
    env: list[core.EnvVarArgs],
    mounts: list[core.VolumeMountArgs],
    resources: core.ResourceRequirementsArgs,
) -> core.ContainerArgs:
    """A container of the PostgreSQL client image running pg-env.sh then `script`."""
    image = settings.database.client_image
    return core.ContainerArgs(
        name=name,
        image=image.reference,
        image_pull_policy=image.pull_policy,
        command=["/bin/sh", "-c", kube.script("pg-env.sh") + "\n" + kube.script(script)],
        env=env,
        resources=resources,
        security_context=kube.container_security_context(kube.POSTGRES_UID),
        termination_message_policy=kube.LOGS_ON_ERROR,
        volume_mounts=[*mounts, core.VolumeMountArgs(name="tmp", mount_path="/tmp")],
    )


def postgres_pod_spec(
    settings: Settings,
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
        security_context=kube.pod_security_context(kube.POSTGRES_UID),
        **kube.node_placement(kube.stack_placement(settings)),
        init_containers=list(init_containers),
        containers=list(containers),
        volumes=[*volumes, kube.tmp_volume()],
    )
