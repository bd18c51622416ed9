"""heimdall/pod.py: what the server's pods and the migration Job's pod share, from
`HeimdallPodArgs` (no Pulumi program needed: the container and pod spec are Args)."""

from __future__ import annotations

from typing import cast

import pulumi_kubernetes as k8s

from heimdall.database.contract import DatabaseConnection, Placement, SecretKeyRef
from heimdall.kube import meta
from heimdall.kube.database_client import DatabaseClientArgs
from heimdall.kube.placement import Scheduling
from heimdall.kube.pods import PodAdditions
from heimdall.pod import HEIMDALL_TMP_SIZE_LIMIT, HeimdallPod, HeimdallPodArgs
from heimdall.secrets import HeimdallSecrets
from heimdall.settings.guardrails import ContainerSecurityContext, PodSecurityContext
from heimdall.settings.types import Image, Resources

core = k8s.core.v1
OVERRIDES = ContainerSecurityContext.model_validate({"runAsGroup": 3000})
ARGS = HeimdallPodArgs(
    image=Image(repository="mitre/heimdall2", tag="2.13.1"),
    scheduling=Scheduling(placement=Placement(node_selector={"pool": "apps"}), several_pods=True),
    # stack.py gives the wait container the same overrides as Heimdall's containers.
    database_client=DatabaseClientArgs(Image(repository="postgres", tag="17"), 300, OVERRIDES),
    security_context=OVERRIDES,
    pod_security_context=PodSecurityContext.model_validate({"fsGroup": 3000}),
    labels={"team": "a"},
    annotations={"example.com/note": "n"},
)
CONNECTION = DatabaseConnection(
    provider="external",
    host="db",
    port=5432,
    database="heimdall",
    username="heimdall",
    password=SecretKeyRef("db", "password"),
)
EXTRA = PodAdditions(
    env=[core.EnvVarArgs(name="EXTRA", value="1")],
    volumes=[core.VolumeArgs(name="ca", empty_dir=core.EmptyDirVolumeSourceArgs())],
    volume_mounts=[core.VolumeMountArgs(name="ca", mount_path="/ca")],
)


def pod() -> HeimdallPod:
    return HeimdallPod(
        args=ARGS,
        namespace="ns",
        connection=CONNECTION,
        secrets=cast(HeimdallSecrets, None),  # only the workloads read it
        config_map_name="heimdall-env",
        service_account_name="heimdall",
        additions=[EXTRA],
    )


def container() -> core.ContainerArgs:
    return pod().container("heimdall", ["yarn", "start"], [core.EnvVarArgs(name="OWN", value="x")], Resources())


def test_the_container_runs_the_image_in_app_with_the_config_map_env() -> None:
    found = container()
    assert found.image == "mitre/heimdall2:2.13.1"
    assert found.working_dir == "/app"
    assert found.command == ["yarn", "start"]
    (source,) = found.env_from or []
    assert source.config_map_ref is not None and source.config_map_ref.name == "heimdall-env"
    # The database password by reference first, then the container's own.
    assert [e.name for e in found.env] == ["DATABASE_PASSWORD", "OWN"]


def test_the_container_is_hardened_with_the_users_overrides() -> None:
    context = container().security_context
    assert context is not None
    assert (context.run_as_user, context.run_as_group) == (1001, 3000)
    assert context.read_only_root_filesystem is True


def test_the_container_mounts_the_additions_and_a_writable_tmp() -> None:
    mounts = [(m.name, m.mount_path) for m in container().volume_mounts]
    assert mounts == [("ca", "/ca"), ("tmp", "/tmp")]


def test_the_pod_spec_brings_scheduling_init_containers_and_volumes() -> None:
    spec = pod().spec(container(), spread=True)
    assert spec.service_account_name == "heimdall"
    assert spec.automount_service_account_token is False
    assert spec.security_context is not None and spec.security_context.fs_group == 3000
    assert spec.node_selector == {"pool": "apps"}
    assert spec.topology_spread_constraints  # several pods: spread by default
    assert [c.name for c in spec.init_containers] == ["wait-for-database"]
    volumes = {v.name: v for v in spec.volumes}
    assert list(volumes) == ["ca", "tmp"]
    assert volumes["tmp"].empty_dir.size_limit == HEIMDALL_TMP_SIZE_LIMIT
    assert spec.restart_policy is None
    assert pod().spec(container(), restart_policy="Never").restart_policy == "Never"


def test_the_wait_uses_the_pods_overrides_and_reads_the_config_map() -> None:
    (wait,) = pod().spec(container()).init_containers
    assert wait.image == "postgres:17"
    assert wait.security_context is not None
    assert (wait.security_context.run_as_user, wait.security_context.run_as_group) == (999, 3000)
    assert wait.env_from is not None


def test_pod_metadata_carries_the_pod_labels_and_annotations() -> None:
    metadata = pod().metadata("heimdall", {"heimdall.mitre.org/run-id": "1"})
    assert metadata.labels == {"team": "a", **meta.labels("heimdall")}
    assert metadata.annotations == {"example.com/note": "n", "heimdall.mitre.org/run-id": "1"}
