"""heimdall/kube/database_client.py: what a pod needs to reach the database."""

from __future__ import annotations

from typing import Optional

import pulumi_kubernetes as k8s

from heimdall.database.contract import (
    ConfigMapKeyRef,
    DatabaseConnection,
    DatabaseTls,
    SecretKeyRef,
)
from heimdall.kube.database_client import (
    TLS_CA_MOUNT,
    DatabaseClientArgs,
    database_client,
    wait_for_database,
)
from heimdall.settings.guardrails import ContainerSecurityContext
from heimdall.settings.types import Image

ARGS = DatabaseClientArgs(image=Image(repository="postgres", tag="16"), wait_timeout_seconds=90)
SIDECAR = k8s.core.v1.ContainerArgs(name="proxy", image="proxy:1")


def connection(tls: Optional[DatabaseTls] = None) -> DatabaseConnection:
    return DatabaseConnection(
        provider="external",
        host="db.example.com",
        port=5432,
        database="heimdall",
        username="heimdall",
        password=SecretKeyRef("db", "password"),
        tls=tls or DatabaseTls(),
        init_containers=(SIDECAR,),
    )


def test_the_password_is_a_secret_reference_and_the_rest_comes_from_the_config_map() -> None:
    client = database_client(connection(), ARGS, env_from_config_map="heimdall-env")
    (password,) = client.env
    assert password.name == "DATABASE_PASSWORD" and password.value_from is not None
    wait = client.init_containers[-1]
    assert [e.name for e in wait.env] == ["WAIT_TIMEOUT_SECONDS"]
    assert wait.env_from is not None


def test_the_providers_sidecars_run_before_the_wait() -> None:
    client = database_client(connection(), ARGS, env_from_config_map="heimdall-env")
    assert [c.name for c in client.init_containers] == ["proxy", "wait-for-database"]


def test_the_wait_runs_the_client_image_with_its_deadline_non_root() -> None:
    overrides = ContainerSecurityContext.model_validate({"runAsGroup": 4000})
    wait = wait_for_database(
        connection(), DatabaseClientArgs(ARGS.image, 90, overrides), env_from_config_map="env"
    )
    assert wait.image == "postgres:16"
    assert wait.env[0].value == "90"
    assert wait.security_context is not None
    assert wait.security_context.run_as_user == 999
    assert wait.security_context.run_as_group == 4000  # the user's overrides reach it
    assert wait.termination_message_policy == "FallbackToLogsOnError"


def test_a_ca_in_a_secret_or_config_map_is_mounted_whole() -> None:
    for ca, source in ((SecretKeyRef("ca", "ca.crt"), "secret"), (ConfigMapKeyRef("ca", "ca.pem"), "config_map")):
        client = database_client(connection(DatabaseTls(mode="verify", ca=ca)), ARGS, env_from_config_map="env")
        (volume,) = client.volumes
        assert getattr(volume, source) is not None
        (mount,) = client.volume_mounts
        assert (mount.mount_path, mount.read_only, mount.sub_path) == (TLS_CA_MOUNT, True, None)


def test_without_tls_nothing_is_mounted() -> None:
    client = database_client(connection(), ARGS, env_from_config_map="env")
    assert client.volumes == [] and client.volume_mounts == []
