"""`HeimdallPod`: what the Heimdall server's pods and the migration Job's pod share.

Both run the Heimdall image in /app with the same plain environment (the ConfigMap), the
same database client (env, CA mount, init containers: the provider's sidecars and the
wait for the database), the same secrets by reference, service account, hardened security
contexts, scheduling and pod additions (volumes and env other components contribute).
The two components build their containers and pod specs from one `HeimdallPod`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s

from heimdall import kube
from heimdall.database.contract import DatabaseConnection
from heimdall.secrets import HeimdallSecrets
from heimdall.settings.root import Settings
from heimdall.settings.types import Resources

core = k8s.core.v1
# Heimdall's /tmp (Node, yarn): generous, still bounded (kube.TMP_SIZE_LIMIT for the rest).
HEIMDALL_TMP_SIZE_LIMIT = "1Gi"


@dataclass(frozen=True)
class HeimdallPod:
    settings: Settings
    namespace: pulumi.Input[str]
    connection: DatabaseConnection
    secrets: HeimdallSecrets
    config_map_name: pulumi.Input[str]
    service_account_name: pulumi.Input[str]
    additions: Sequence[kube.PodAdditions] = ()

    # Computed once per pod: the container and the pod spec both read them.
    @cached_property
    def client(self) -> kube.DatabaseClient:
        """The database client side of the pod; the plain DATABASE_* come from the ConfigMap."""
        return kube.database_client(
            self.connection, self.settings, env_from_config_map=self.config_map_name
        )

    @cached_property
    def extra(self) -> kube.PodAdditions:
        return kube.merge_additions(self.additions)

    def metadata(self, component: str, annotations: Optional[dict[str, str]] = None) -> k8s.meta.v1.ObjectMetaArgs:
        return kube.pod_metadata(component, self.settings, annotations)

    def container(
        self,
        name: str,
        command: Sequence[str],
        env: Sequence[core.EnvVarArgs],
        resources: Resources,
        **more: Any,
    ) -> core.ContainerArgs:
        """A container in the Heimdall image, in /app, with the plain environment from the
        ConfigMap, `env` after the database client's, the hardened security context, and
        the database client's and additions' mounts plus a writable /tmp."""
        settings = self.settings
        client = self.client
        return core.ContainerArgs(
            name=name,
            image=settings.image.reference,
            image_pull_policy=settings.image.pull_policy,
            working_dir="/app",
            command=list(command),
            env_from=kube.env_from(self.config_map_name),
            env=[*client.env, *env],
            resources=kube.resource_requirements(resources),
            security_context=kube.heimdall_container_security_context(settings),
            volume_mounts=[
                *client.volume_mounts,
                *self.extra.volume_mounts,
                core.VolumeMountArgs(name="tmp", mount_path="/tmp"),
            ],
            **more,
        )

    def spec(
        self,
        container: core.ContainerArgs,
        spread: bool = False,
        restart_policy: Optional[str] = None,
    ) -> core.PodSpecArgs:
        """The pod around a `container`: the stack's service account without an API token,
        the hardened pod security context, scheduling, the database client's init
        containers, and the volumes the container mounts."""
        settings = self.settings
        client = self.client
        return core.PodSpecArgs(
            restart_policy=restart_policy,
            service_account_name=self.service_account_name,
            automount_service_account_token=False,
            security_context=kube.pod_security_context(
                kube.HEIMDALL_UID, settings.pod_security_context
            ),
            **kube.heimdall_scheduling(settings, spread=spread),
            init_containers=client.init_containers,
            containers=[container],
            volumes=[
                *client.volumes,
                *self.extra.volumes,
                kube.tmp_volume(size_limit=HEIMDALL_TMP_SIZE_LIMIT),
            ],
        )
