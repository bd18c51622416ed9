"""`HeimdallPod`: what the Heimdall server's pods and the migration Job's pod share.

Both run the Heimdall image in /app with the same plain environment (the ConfigMap), the
same database client (env, CA mount, init containers: the provider's sidecars and the
wait for the database), the same secrets by reference, service account, hardened security
contexts, scheduling and pod additions (volumes and env other components contribute).
The two components build their containers and pod specs from one `HeimdallPod`, whose
`HeimdallPodArgs` (built in heimdall/stack.py) hold what the pods take from the settings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s

from heimdall.database.contract import DatabaseConnection
from heimdall.kube import meta, placement, pods, security
from heimdall.kube.database_client import DatabaseClient, DatabaseClientArgs, database_client
from heimdall.kube.placement import Scheduling
from heimdall.secrets import HeimdallSecrets
from heimdall.settings.guardrails import ContainerSecurityContext, PodSecurityContext
from heimdall.settings.types import Image, Resources

core = k8s.core.v1
# Heimdall's /tmp (Node, yarn): generous, still bounded (pods.TMP_SIZE_LIMIT for the rest).
HEIMDALL_TMP_SIZE_LIMIT = "1Gi"


@dataclass(frozen=True)
class HeimdallPodArgs:
    """What Heimdall's pods take from the settings: the image, the security context
    overrides, the scheduling, the pods' own labels and annotations (`podLabels`; the
    stack's `annotations` under `podAnnotations`), and how the pods wait for the database."""

    image: Image
    scheduling: Scheduling
    database_client: DatabaseClientArgs
    security_context: Optional[ContainerSecurityContext] = None
    pod_security_context: Optional[PodSecurityContext] = None
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HeimdallPod:
    args: HeimdallPodArgs
    namespace: pulumi.Input[str]
    connection: DatabaseConnection
    secrets: HeimdallSecrets
    config_map_name: pulumi.Input[str]
    service_account_name: pulumi.Input[str]
    additions: Sequence[pods.PodAdditions] = ()

    # Computed once per pod: the container and the pod spec both read them.
    @cached_property
    def client(self) -> DatabaseClient:
        """The database client side of the pod; the plain DATABASE_* come from the ConfigMap."""
        return database_client(
            self.connection, self.args.database_client, env_from_config_map=self.config_map_name
        )

    @cached_property
    def extra(self) -> pods.PodAdditions:
        return pods.merge_additions(self.additions)

    def metadata(self, component: str, annotations: Optional[dict[str, str]] = None) -> k8s.meta.v1.ObjectMetaArgs:
        return meta.pod_metadata(component, self.args.labels, self.args.annotations, annotations)

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
        args = self.args
        client = self.client
        return core.ContainerArgs(
            name=name,
            image=args.image.reference,
            image_pull_policy=args.image.pull_policy,
            working_dir="/app",
            command=list(command),
            env_from=pods.env_from(self.config_map_name),
            env=[*client.env, *env],
            resources=pods.resource_requirements(resources),
            security_context=security.container_security_context(
                security.HEIMDALL_UID, overrides=args.security_context
            ),
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
        args = self.args
        client = self.client
        return core.PodSpecArgs(
            restart_policy=restart_policy,
            service_account_name=self.service_account_name,
            automount_service_account_token=False,
            security_context=security.pod_security_context(
                security.HEIMDALL_UID, args.pod_security_context
            ),
            **placement.heimdall_scheduling(args.scheduling, spread=spread),
            init_containers=client.init_containers,
            containers=[container],
            volumes=[
                *client.volumes,
                *self.extra.volumes,
                pods.tmp_volume(size_limit=HEIMDALL_TMP_SIZE_LIMIT),
            ],
        )
