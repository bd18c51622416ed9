"""EmbeddedPostgres: the official image in a StatefulSet that keeps its data."""

from __future__ import annotations

import pytest

from heimdall.settings.loader import SettingsError, parse_settings
from tests.conftest import containers, database_password_secret, env_of


def test_statefulset_runs_the_official_image_as_postgres_with_pgdata_below_the_mount(build) -> None:
    rendering = build()
    sts = rendering.manifest("StatefulSet", "heimdall-postgres")
    pod = sts["spec"]["template"]["spec"]
    postgres = containers(pod, "postgres")
    assert postgres["image"] == "postgres:17"
    assert pod["securityContext"]["runAsUser"] == 999
    assert pod["securityContext"]["fsGroup"] == 999
    assert postgres["securityContext"]["allowPrivilegeEscalation"] is False
    env = env_of(postgres)
    assert env["PGDATA"] == "/var/lib/postgresql/data/pgdata"
    assert env["POSTGRES_USER"] == "postgres"
    assert env["POSTGRES_DB"] == "heimdall"
    assert env["POSTGRES_PASSWORD"] == {"secret": (database_password_secret(rendering)["metadata"]["name"], "password")}
    mounts = {m["name"]: m["mountPath"] for m in postgres["volumeMounts"]}
    assert mounts["data"] == "/var/lib/postgresql/data"
    assert mounts["run"] == "/var/run/postgresql"


def test_data_volume_per_persistence_settings_and_kept_when_the_statefulset_goes(build) -> None:
    rendering = build(
        {"database": {"embedded": {"persistence": {"size": "25Gi", "storageClass": "gp3"}}}}
    )
    spec = rendering.manifest("StatefulSet", "heimdall-postgres")["spec"]
    (claim,) = spec["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"]["resources"]["requests"]["storage"] == "25Gi"
    assert claim["spec"]["storageClassName"] == "gp3"
    assert spec["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain",
        "whenScaled": "Retain",
    }


def test_empty_storage_class_means_cluster_default(build) -> None:
    spec = build().manifest("StatefulSet", "heimdall-postgres")["spec"]
    assert "storageClassName" not in spec["volumeClaimTemplates"][0]["spec"]
    assert spec["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "10Gi"


def test_persistence_disabled_uses_an_empty_dir(build) -> None:
    # Only on a throwaway stack (database/embedded/settings.py refuses it otherwise).
    rendering = build({"database": {"allowDestroy": True, "embedded": {"persistence": {"enabled": False}}}})
    spec = rendering.manifest("StatefulSet", "heimdall-postgres")["spec"]
    assert "volumeClaimTemplates" not in spec
    volumes = {v["name"]: v for v in spec["template"]["spec"]["volumes"]}
    assert "emptyDir" in volumes["data"]


@pytest.mark.parametrize("tag", ["16-alpine", "17", "17.6", "18", "18.1-bookworm", "19beta1"])
def test_every_major_keeps_its_data_in_one_place_behind_the_data_guard(build, tag) -> None:
    # A tag change is an in-place update of the StatefulSet (protect does not stop it): the
    # new major must meet the old cluster where it is, never a fresh directory of its own.
    from heimdall.database.embedded.datadir import data_layout

    # The dump client follows the server (pg_dump refuses a newer server: settings/rules.py).
    database = {"clientImage": {"tag": tag}, "embedded": {"image": {"repository": "postgres", "tag": tag}}}
    sts = build({"database": database}).manifest(
        "StatefulSet", "heimdall-postgres"
    )
    pod = sts["spec"]["template"]["spec"]
    postgres = containers(pod, "postgres")
    assert env_of(postgres)["PGDATA"] == "/var/lib/postgresql/data/pgdata"
    assert {m["name"]: m["mountPath"] for m in postgres["volumeMounts"]}["data"] == "/var/lib/postgresql/data"
    assert data_layout() == ("/var/lib/postgresql/data", "/var/lib/postgresql/data/pgdata")
    [guard] = pod["initContainers"]
    assert guard["name"] == "data-guard" and guard["image"] == f"postgres:{tag}"
    assert guard["volumeMounts"] == [{"name": "data", "mountPath": "/var/lib/postgresql/data"}]
    assert env_of(guard)["PGDATA"] == env_of(postgres)["PGDATA"]
    assert guard["securityContext"] == postgres["securityContext"]
    assert guard["terminationMessagePolicy"] == "FallbackToLogsOnError"


def test_data_directory_names_a_new_cluster_beside_the_old(build) -> None:
    sts = build({"database": {"embedded": {"dataDirectory": "pgdata-18"}}}).manifest(
        "StatefulSet", "heimdall-postgres"
    )
    pod = sts["spec"]["template"]["spec"]
    assert env_of(containers(pod, "postgres"))["PGDATA"] == "/var/lib/postgresql/data/pgdata-18"
    assert env_of(containers(pod, "data-guard"))["DEFAULT_DATA_DIRECTORY"] == "pgdata"
    for bad in ("../pgdata", "lost+found", "a/b", ""):
        with pytest.raises(SettingsError, match="heimdall:database.embedded.dataDirectory"):
            parse_settings({"database": {"embedded": {"dataDirectory": bad}}})


def test_pg_isready_probes_and_chart_resources(build) -> None:
    sts = build().manifest("StatefulSet", "heimdall-postgres")
    postgres = containers(sts["spec"]["template"]["spec"], "postgres")
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        command = postgres[probe]["exec"]["command"]
        assert command[0] == "pg_isready"
        assert command[command.index("-U") + 1] == "postgres"
        assert command[command.index("-d") + 1] == "heimdall"
    assert postgres["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "200m", "memory": "256Mi"},
    }


def test_services_and_host(build) -> None:
    rendering = build({"namespace": "scans", "database": {"port": 6543}})
    service = rendering.manifest("Service", "heimdall-postgres")
    assert service["spec"]["ports"][0]["port"] == 6543
    assert service["spec"]["ports"][0]["targetPort"] == "postgres"
    headless = rendering.manifest("Service", "heimdall-postgres-headless")
    assert headless["spec"]["clusterIP"] == "None"
    sts = rendering.manifest("StatefulSet", "heimdall-postgres")
    assert sts["spec"]["serviceName"] == "heimdall-postgres-headless"
    assert service["spec"]["selector"] == sts["spec"]["selector"]["matchLabels"]
    assert rendering.outputs["databaseHost"] == "heimdall-postgres.scans.svc"


def test_generated_password_lives_in_a_secret_and_is_stable(build) -> None:
    rendering = build()
    passwords = [r for r in rendering.resources("random:") if r.name.endswith("database-password")]
    assert len(passwords) == 1
    # Stable across updates: RandomPassword keeps its value in state as long as its
    # logical name and inputs stay; no keepers that would rotate it.
    assert passwords[0].name == "heimdall-database-password"
    assert "keepers" not in passwords[0].inputs
    assert passwords[0].inputs["length"] == 32
    value = passwords[0].state["result"]
    secret = database_password_secret(rendering)
    assert secret["stringData"] == {"password": value}
    assert f":{value}@" in rendering.outputs["connectionString"]
    masked = [m for m in rendering.manifests(show_secrets=False) if m["kind"] == "Secret"]
    assert all(v == "********" for m in masked for v in m["stringData"].values())


def test_supplied_database_password_is_used_instead_of_generating(build) -> None:
    rendering = build(secrets={"secrets": {"databasePassword": "Supplied-Db-Pass-0123456789"}})
    assert not [r for r in rendering.resources("random:") if "database-password" in r.name]
    assert ":Supplied-Db-Pass-0123456789@" in rendering.outputs["connectionString"]


def test_statefulset_and_namespace_are_protected_unless_allow_destroy(build) -> None:
    protected = {r.name for r in build().registrations if r.protect}
    assert {"heimdall-database-statefulset", "heimdall-namespace"} <= protected
    relaxed = build({"database": {"allowDestroy": True}})
    assert not [r.name for r in relaxed.registrations if r.protect]
