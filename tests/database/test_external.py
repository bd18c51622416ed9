"""ExternalDatabase: an existing server, described by settings alone."""

from __future__ import annotations

from tests.conftest import containers, database_password_secret, env_config_map, env_of

EXTERNAL = {
    "provider": "external",
    "name": "heimdall_production",
    "username": "heimdall_app",
    "external": {"host": "db.example.com", "existingSecret": "db-credentials"},
}


def test_connection_from_settings_and_no_database_objects(build) -> None:
    rendering = build({"database": EXTERNAL})
    kinds = {(m["kind"], m["metadata"]["name"]) for m in rendering.manifests()}
    assert ("StatefulSet", "heimdall-postgres") not in kinds
    assert not [r for r in rendering.resources("random:") if "database" in r.name]
    config = env_config_map(rendering)["data"]
    assert config["DATABASE_HOST"] == "db.example.com"
    assert config["DATABASE_NAME"] == "heimdall_production"
    assert config["DATABASE_USERNAME"] == "heimdall_app"
    assert config["DATABASE_PORT"] == "5432"
    pod = rendering.manifest("StatefulSet", "heimdall")["spec"]["template"]["spec"]
    assert env_of(containers(pod, "heimdall"))["DATABASE_PASSWORD"] == {
        "secret": ("db-credentials", "password")
    }
    assert rendering.outputs["databaseProvider"] == "external"
    assert rendering.outputs["databaseHost"] == "db.example.com"


def test_password_as_pulumi_secret_is_written_to_a_secret(build) -> None:
    database = {**EXTERNAL, "external": {"host": "db.example.com"}}
    rendering = build(
        {"database": database},
        secrets={"database": {"external": {"password": "p@ss:w/rd?#%"}}},
    )
    secret = database_password_secret(rendering)
    assert secret["stringData"] == {"password": "p@ss:w/rd?#%"}
    assert rendering.outputs["connectionString"] == (
        "postgres://heimdall_app:p%40ss%3Aw%2Frd%3F%23%25@db.example.com:5432/heimdall_production"
    )


def test_tls_settings_reach_the_environment(build) -> None:
    rendering = build({"database": {**EXTERNAL, "tls": {"mode": "require"}}})
    config = env_config_map(rendering)["data"]
    assert config["DATABASE_SSL"] == "true"
    assert config["DATABASE_SSL_INSECURE"] == "true"
    assert rendering.outputs["connectionString"].endswith("?sslmode=require")
    plain = env_config_map(build({"database": EXTERNAL}))["data"]
    assert "DATABASE_SSL" not in plain
