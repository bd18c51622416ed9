"""database.tls for every provider: the default mode per provider, the three CA sources,
and the combinations the settings refuse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from heimdall.settings.loader import SettingsError, parse_settings
from heimdall.settings.types import PROJECT_ROOT
from tests.conftest import containers
from tests.databases import (
    AWS_RDS,
    AZURE,
    CLOUD_SQL,
    app_env,
    app_pod,
    ca_volume,
    config_map,
    job_pod,
    render,
    with_settings,
)

EXTERNAL: dict[str, Any] = {
    "database": {
        "provider": "external",
        "external": {"host": "postgres.db.example.com", "existingSecret": "heimdall-db"},
    }
}


@pytest.mark.parametrize(
    ("values", "mode"),
    [
        ({}, "disable"),
        (EXTERNAL, "disable"),
        (AWS_RDS, "verify"),
        (CLOUD_SQL, "verify"),
        (AZURE, "verify"),
        (with_settings(CLOUD_SQL, {"database": {"cloudSql": {"useAuthProxy": True}}}), "disable"),
    ],
)
def test_default_mode_follows_the_provider(values: dict[str, Any], mode: str) -> None:
    assert parse_settings(values).database.tls.mode == mode


def test_an_explicit_mode_wins_over_the_default() -> None:
    assert parse_settings(with_settings(AZURE, {"database": {"tls": {"mode": "require"}}})).database.tls.mode == "require"


def test_external_verify_with_a_repository_pem_file() -> None:
    rendering = render(
        with_settings(EXTERNAL, {"database": {"tls": {"mode": "verify", "ca": "certs/rds-global-bundle.pem"}}})
    )
    env = app_env(rendering)
    assert (env["DATABASE_SSL"], env["DATABASE_SSL_INSECURE"]) == ("true", "false")
    assert env["DATABASE_SSL_CA"] == "/etc/heimdall/database-ca/ca.pem"
    volume = ca_volume(app_pod(rendering))
    assert volume is not None
    bundle = config_map(rendering, volume["configMap"]["name"])
    assert bundle["data"]["ca.pem"] == (PROJECT_ROOT / "certs" / "rds-global-bundle.pem").read_text()
    assert ca_volume(job_pod(rendering)) == volume


def test_a_ca_in_a_config_map_you_manage_is_mounted_as_it_is() -> None:
    rendering = render(
        with_settings(
            EXTERNAL,
            {"database": {"tls": {"mode": "verify", "ca": {"name": "corporate-ca", "key": "root.pem"}}}},
        )
    )
    assert app_env(rendering)["DATABASE_SSL_CA"] == "/etc/heimdall/database-ca/root.pem"
    for pod in (app_pod(rendering), job_pod(rendering)):
        assert ca_volume(pod) == {
            "name": "database-ca",
            "configMap": {"name": "corporate-ca", "items": [{"key": "root.pem", "path": "root.pem"}]},
        }
    created = [m for m in rendering.manifests() if m["kind"] == "ConfigMap" and "root.pem" in (m.get("data") or {})]
    assert created == []


def test_external_require_is_encrypted_and_unverified() -> None:
    rendering = render(with_settings(EXTERNAL, {"database": {"tls": {"mode": "require"}}}))
    env = app_env(rendering)
    assert (env["DATABASE_SSL"], env["DATABASE_SSL_INSECURE"]) == ("true", "true")
    assert "DATABASE_SSL_CA" not in env
    wait = containers(job_pod(rendering), "wait-for-database")
    assert wait["envFrom"]  # the wait container reads the same DATABASE_* ConfigMap


def test_an_absolute_ca_path_outside_the_repository_works(tmp_path: Path) -> None:
    pem = tmp_path / "ca.pem"
    pem.write_text((PROJECT_ROOT / "certs" / "rds-global-bundle.pem").read_text()[:2000] + "\n")
    settings = parse_settings(with_settings(EXTERNAL, {"database": {"tls": {"mode": "verify", "ca": str(pem)}}}))
    assert settings.database.tls.ca_pem() == pem.read_text()


@pytest.mark.parametrize(
    ("tls", "message"),
    [
        ({"ca": "certs/rds-global-bundle.pem"}, "tls.ca is only used with tls.mode verify (mode is disable)"),
        ({"mode": "verify", "ca": "auto"}, "only for gcp-cloudsql"),
        ({"mode": "verify", "ca": "certs/none.pem"}, "does not exist"),
        ({"mode": "verify", "ca": {"name": "Not_A_Name"}}, "DNS-1123 subdomain"),
        ({"mode": "strict"}, "Input should be 'disable', 'require' or 'verify'"),
    ],
)
def test_bad_tls_settings_are_refused(tls: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError) as error:
        parse_settings(with_settings(EXTERNAL, {"database": {"tls": tls}}))
    assert message in str(error.value)


def test_the_embedded_database_serves_no_tls() -> None:
    with pytest.raises(SettingsError, match="embedded PostgreSQL serves no TLS"):
        parse_settings({"database": {"tls": {"mode": "require"}}})
