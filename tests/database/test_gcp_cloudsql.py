"""Provider gcp-cloudsql: Cloud SQL for PostgreSQL, the three ways clients connect
(verified TLS by DNS name, TLS to the private IP, the Auth Proxy sidecar), and what
Heimdall's pods receive."""

from __future__ import annotations

from typing import Any

import pytest

from heimdall.database.gcp_cloudsql.mocks import FAKE_CA_PEM
from heimdall.settings.loader import parse_settings
from heimdall.tooling.render import Rendering
from tests.conftest import containers, env_of
from tests.databases import (
    CLOUD_SQL,
    GCP_NETWORK,
    app_env,
    app_pod,
    ca_volume,
    config_map,
    depends_on,
    inputs,
    is_secret,
    job_pod,
    one,
    render,
    with_settings,
)

INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
GSA = "heimdall-sql@example-project.iam.gserviceaccount.com"
PROXY: dict[str, Any] = with_settings(
    CLOUD_SQL, {"database": {"cloudSql": {"useAuthProxy": True, "authProxy": {"serviceAccount": GSA}}}}
)


@pytest.fixture(scope="module")
def rendering() -> Rendering:
    return render(CLOUD_SQL)


@pytest.fixture(scope="module")
def proxied() -> Rendering:
    return render(PROXY)


def test_instance_is_private_tls_only_backed_up_and_deletion_protected(rendering: Rendering) -> None:
    instance = one(rendering, INSTANCE)
    args = inputs(instance)
    assert args["databaseVersion"] == "POSTGRES_17"
    assert args["deletionProtection"] is True
    settings = args["settings"]
    assert settings["deletionProtectionEnabled"] is True
    assert settings["retainBackupsOnDelete"] is True
    assert settings["edition"] == "ENTERPRISE"
    assert settings["availabilityType"] == "ZONAL"
    assert settings["diskAutoresize"] is True
    assert settings["connectorEnforcement"] == "NOT_REQUIRED"
    ip = settings["ipConfiguration"]
    assert ip["ipv4Enabled"] is False
    assert ip["privateNetwork"] == GCP_NETWORK
    assert ip["sslMode"] == "ENCRYPTED_ONLY"
    assert ip["serverCaMode"] == "GOOGLE_MANAGED_CAS_CA"
    assert "authorizedNetworks" not in ip
    backups = settings["backupConfiguration"]
    assert backups["enabled"] is True
    assert backups["pointInTimeRecoveryEnabled"] is True
    assert backups["backupRetentionSettings"] == {"retainedBackups": 7, "retentionUnit": "COUNT"}
    assert instance.protect is True


def test_database_and_user_belong_to_the_instance(rendering: Rendering) -> None:
    instance_name = one(rendering, INSTANCE).state["name"]
    database = one(rendering, "gcp:sql/database:Database")
    user = one(rendering, "gcp:sql/user:User")
    assert inputs(database) == {"instance": instance_name, "name": "heimdall", "deletionPolicy": "ABANDON"}
    assert database.protect is True
    assert inputs(user)["name"] == "heimdall_app"
    assert inputs(user)["deletionPolicy"] == "ABANDON"
    assert is_secret(user.inputs["password"])


def test_verify_connects_by_dns_name_with_the_instance_ca(rendering: Rendering) -> None:
    instance = one(rendering, INSTANCE)
    env = app_env(rendering)
    assert env["DATABASE_HOST"] == instance.state["dnsName"].rstrip(".")
    assert env["DATABASE_SSL"] == "true"
    assert env["DATABASE_SSL_INSECURE"] == "false"
    assert env["DATABASE_SSL_CA"] == "/etc/heimdall/database-ca/ca.pem"
    for pod in (app_pod(rendering), job_pod(rendering)):
        volume = ca_volume(pod)
        assert volume is not None
        assert config_map(rendering, volume["configMap"]["name"])["data"]["ca.pem"] == FAKE_CA_PEM


def test_private_dns_zone_resolves_the_instance_name_on_the_network(rendering: Rendering) -> None:
    instance = one(rendering, INSTANCE)
    zone = one(rendering, "gcp:dns/managedZone:ManagedZone")
    record = one(rendering, "gcp:dns/recordSet:RecordSet")
    assert inputs(zone)["dnsName"] == instance.state["dnsName"]
    assert inputs(zone)["visibility"] == "private"
    assert inputs(zone)["privateVisibilityConfig"] == {"networks": [{"networkUrl": GCP_NETWORK}]}
    assert inputs(record) == {
        "managedZone": zone.state["name"],
        "name": instance.state["dnsName"],
        "type": "A",
        "ttl": 300,
        "rrdatas": [instance.state["privateIpAddress"]],
    }
    assert depends_on(rendering, one(rendering, "kubernetes:batch/v1:Job"), record)


def test_private_dns_zone_can_be_left_to_the_user() -> None:
    rendering = render(with_settings(CLOUD_SQL, {"database": {"cloudSql": {"privateDnsZone": False}}}))
    assert rendering.resources("gcp:dns/") == []
    assert app_env(rendering)["DATABASE_HOST"] == one(rendering, INSTANCE).state["dnsName"].rstrip(".")


def test_require_connects_to_the_private_ip_without_verifying() -> None:
    rendering = render(with_settings(CLOUD_SQL, {"database": {"tls": {"mode": "require"}}}))
    env = app_env(rendering)
    assert env["DATABASE_HOST"] == one(rendering, INSTANCE).state["privateIpAddress"]
    assert env["DATABASE_SSL"] == "true"
    assert env["DATABASE_SSL_INSECURE"] == "true"
    assert "DATABASE_SSL_CA" not in env
    assert ca_volume(app_pod(rendering)) is None
    assert rendering.resources("gcp:dns/") == []


def test_auth_proxy_is_a_native_sidecar_in_every_client_pod(proxied: Rendering) -> None:
    connection_name = one(proxied, INSTANCE).state["connectionName"]
    for pod in (app_pod(proxied), job_pod(proxied)):
        names = [c["name"] for c in pod["initContainers"]]
        assert names == ["cloud-sql-proxy", "wait-for-database"]  # the proxy first
        proxy = containers(pod, "cloud-sql-proxy")
        assert proxy["restartPolicy"] == "Always"
        assert proxy["image"] == "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.15.2"
        assert proxy["args"][-1] == connection_name
        assert {"--private-ip", "--port=5432", "--address=127.0.0.1", "--exit-zero-on-sigterm"} <= set(
            proxy["args"]
        )
        assert proxy["startupProbe"]["httpGet"] == {"path": "/startup", "port": "proxy-health"}
        assert proxy["securityContext"]["runAsNonRoot"] is True
        assert proxy["securityContext"]["readOnlyRootFilesystem"] is True
    wait = env_of(containers(job_pod(proxied), "wait-for-database"))
    assert wait.get("DATABASE_HOST") in (None, "127.0.0.1")


def test_auth_proxy_clients_talk_plain_tcp_to_localhost(proxied: Rendering) -> None:
    env = app_env(proxied)
    assert env["DATABASE_HOST"] == "127.0.0.1"
    assert env["DATABASE_PORT"] == "5432"
    assert "DATABASE_SSL" not in env
    assert ca_volume(app_pod(proxied)) is None
    assert proxied.resources("gcp:dns/") == []
    settings = inputs(one(proxied, INSTANCE))["settings"]
    assert settings["connectorEnforcement"] == "REQUIRED"
    assert settings["ipConfiguration"]["sslMode"] == "ENCRYPTED_ONLY"


def test_auth_proxy_identity_is_a_workload_identity_annotation(proxied: Rendering) -> None:
    account = proxied.manifest("ServiceAccount", "heimdall")
    assert account["metadata"]["annotations"] == {"iam.gke.io/gcp-service-account": GSA}
    assert app_pod(proxied)["serviceAccountName"] == "heimdall"
    assert job_pod(proxied)["serviceAccountName"] == "heimdall"


def test_auth_proxy_over_public_ip_needs_no_authorized_networks() -> None:
    rendering = render(
        {
            "database": {
                "provider": "gcp-cloudsql",
                "cloudSql": {"publicIp": True, "useAuthProxy": True},
            }
        }
    )
    ip = inputs(one(rendering, INSTANCE))["settings"]["ipConfiguration"]
    assert ip["ipv4Enabled"] is True
    assert "privateNetwork" not in ip
    proxy = containers(app_pod(rendering), "cloud-sql-proxy")
    assert "--private-ip" not in proxy["args"]
    assert "iam.gke.io/gcp-service-account" not in (
        rendering.manifest("ServiceAccount", "heimdall")["metadata"].get("annotations") or {}
    )


def test_public_ip_is_open_to_the_authorized_networks_only() -> None:
    rendering = render(
        with_settings(
            CLOUD_SQL,
            {"database": {"cloudSql": {"publicIp": True, "authorizedNetworks": ["203.0.113.0/24"]}}},
        )
    )
    ip = inputs(one(rendering, INSTANCE))["settings"]["ipConfiguration"]
    assert ip["ipv4Enabled"] is True
    assert ip["authorizedNetworks"] == [{"name": "heimdall-0", "value": "203.0.113.0/24"}]


def test_options_reach_the_instance() -> None:
    rendering = render(
        with_settings(
            CLOUD_SQL,
            {
                "database": {
                    "cloudSql": {
                        "instanceName": "heimdall-prod",
                        "region": "europe-west1",
                        "tier": "db-perf-optimized-N-2",
                        "edition": "ENTERPRISE_PLUS",
                        "availabilityType": "REGIONAL",
                        "diskSizeGb": 100,
                        "backupStartTime": "02:00",
                        "retainedBackups": 30,
                        "deletionProtection": False,
                        "labels": {"environment": "production"},
                    }
                }
            },
        )
    )
    args = inputs(one(rendering, INSTANCE))
    assert args["name"] == "heimdall-prod"
    assert args["region"] == "europe-west1"
    assert args["deletionProtection"] is False
    settings = args["settings"]
    assert settings["deletionProtectionEnabled"] is False
    assert (settings["tier"], settings["edition"]) == ("db-perf-optimized-N-2", "ENTERPRISE_PLUS")
    assert settings["availabilityType"] == "REGIONAL"
    assert settings["diskSize"] == 100
    assert settings["backupConfiguration"]["startTime"] == "02:00"
    assert settings["backupConfiguration"]["backupRetentionSettings"]["retainedBackups"] == 30
    assert settings["userLabels"]["environment"] == "production"




def test_verify_defaults_to_the_instance_ca() -> None:
    tls = parse_settings(CLOUD_SQL).database.tls
    assert (tls.mode, tls.ca) == ("verify", "auto")
    tls = parse_settings(PROXY).database.tls
    assert (tls.mode, tls.ca) == ("disable", None)
