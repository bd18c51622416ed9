"""Provider azure-postgres: Azure Database for PostgreSQL Flexible Server, private or
firewalled public access, TLS, and what Heimdall's pods receive."""

from __future__ import annotations

from typing import Any

import pytest

from heimdall.tooling.render import Rendering
from tests.databases import (
    AZURE,
    AZURE_SUBNET,
    AZURE_VNET,
    app_env,
    app_pod,
    ca_volume,
    depends_on,
    inputs,
    is_secret,
    one,
    render,
    with_settings,
)

SERVER = "azure-native:dbforpostgresql:Server"
EXISTING_ZONE = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/dns-rg/providers/"
    "Microsoft.Network/privateDnsZones/heimdall.private.postgres.database.azure.com"
)
PUBLIC: dict[str, Any] = {
    "database": {
        "provider": "azure-postgres",
        "username": "heimdall_app",
        "azure": {
            "resourceGroupName": "heimdall-rg",
            "publicAccess": True,
            "allowedIpRanges": ["203.0.113.0/24", "198.51.100.7", "192.0.2.10-192.0.2.20"],
        },
    }
}


@pytest.fixture(scope="module")
def rendering() -> Rendering:
    return render(AZURE)


def test_server_is_private_backed_up_and_protected(rendering: Rendering) -> None:
    server = one(rendering, SERVER)
    args = inputs(server)
    assert args["version"] == "17"
    assert args["createMode"] == "Create"
    assert args["sku"] == {"name": "Standard_B1ms", "tier": "Burstable"}
    assert args["storage"] == {"storageSizeGB": 32, "autoGrow": "Enabled"}
    assert args["backup"] == {"backupRetentionDays": 7, "geoRedundantBackup": "Disabled"}
    assert args["highAvailability"]["mode"] == "Disabled"
    assert args["authConfig"]["passwordAuth"] == "Enabled"
    assert args["administratorLogin"] == "heimdall_app"
    assert is_secret(server.inputs["administratorLoginPassword"])
    zone = one(rendering, "azure-native:privatedns:PrivateZone")
    assert args["network"] == {
        "delegatedSubnetResourceId": AZURE_SUBNET,
        "privateDnsZoneArmResourceId": f"{zone.name}-id",
        "publicNetworkAccess": "Disabled",
    }
    assert server.protect is True


def test_resource_group_is_created_and_protected(rendering: Rendering) -> None:
    group = one(rendering, "azure-native:resources:ResourceGroup")
    assert group.protect is True
    assert inputs(one(rendering, SERVER))["resourceGroupName"] == group.state["name"]


def test_private_dns_zone_is_linked_to_the_subnets_virtual_network(rendering: Rendering) -> None:
    zone = one(rendering, "azure-native:privatedns:PrivateZone")
    link = one(rendering, "azure-native:privatedns:VirtualNetworkLink")
    assert inputs(zone)["privateZoneName"] == "heimdall-test.private.postgres.database.azure.com"
    assert inputs(zone)["location"] == "global"
    assert inputs(link)["virtualNetwork"] == {"id": AZURE_VNET}
    assert inputs(link)["registrationEnabled"] is False
    assert inputs(link)["privateZoneName"] == zone.state["name"]
    # The server is created after the link, so that its name resolves at once.
    assert depends_on(rendering, one(rendering, SERVER), link)


def test_tls_is_required_by_the_server_and_kept_when_pulumi_lets_go(rendering: Rendering) -> None:
    parameter = one(rendering, "azure-native:dbforpostgresql:Configuration")
    assert inputs(parameter)["configurationName"] == "require_secure_transport"
    assert inputs(parameter)["value"] == "on"
    assert inputs(parameter)["source"] == "user-override"
    assert parameter.retain_on_delete is True


def test_database_is_created_and_protected(rendering: Rendering) -> None:
    database = one(rendering, "azure-native:dbforpostgresql:Database")
    assert inputs(database)["databaseName"] == "heimdall"
    assert inputs(database)["serverName"] == one(rendering, SERVER).state["name"]
    assert database.protect is True


def test_workload_connects_to_the_server_name_with_verified_tls(rendering: Rendering) -> None:
    env = app_env(rendering)
    assert env["DATABASE_HOST"] == one(rendering, SERVER).state["fullyQualifiedDomainName"]
    assert env["DATABASE_HOST"].endswith(".postgres.database.azure.com")
    assert env["DATABASE_USERNAME"] == "heimdall_app"
    assert env["DATABASE_SSL"] == "true"
    assert env["DATABASE_SSL_INSECURE"] == "false"
    # Azure's certificates chain to public roots in Node's trust store: no CA to mount.
    assert "DATABASE_SSL_CA" not in env
    assert ca_volume(app_pod(rendering)) is None
    assert env["DATABASE_PASSWORD"]["secret"][1] == "password"
    job = one(rendering, "kubernetes:batch/v1:Job")
    assert depends_on(rendering, job, one(rendering, SERVER))
    assert depends_on(rendering, job, one(rendering, "azure-native:dbforpostgresql:Database"))


def test_existing_resource_group_and_dns_zone_are_used_as_they_are() -> None:
    rendering = render(
        with_settings(
            AZURE,
            {"database": {"azure": {"resourceGroupName": "heimdall-rg", "privateDnsZoneId": EXISTING_ZONE}}},
        )
    )
    assert rendering.resources("azure-native:resources:") == []
    assert rendering.resources("azure-native:privatedns:") == []
    args = inputs(one(rendering, SERVER))
    assert args["resourceGroupName"] == "heimdall-rg"
    assert args["network"]["privateDnsZoneArmResourceId"] == EXISTING_ZONE


def test_public_access_is_open_to_the_allowed_ranges_only() -> None:
    rendering = render(PUBLIC)
    assert inputs(one(rendering, SERVER))["network"] == {"publicNetworkAccess": "Enabled"}
    rules = sorted(
        (inputs(r)["startIpAddress"], inputs(r)["endIpAddress"])
        for r in rendering.resources("azure-native:dbforpostgresql:FirewallRule")
    )
    assert rules == [
        ("192.0.2.10", "192.0.2.20"),
        ("198.51.100.7", "198.51.100.7"),
        ("203.0.113.0", "203.0.113.255"),
    ]
    assert rendering.resources("azure-native:privatedns:") == []


def test_server_writes_run_one_after_another() -> None:
    # A Flexible Server answers concurrent operations with ServerIsBusy.
    rendering = render(PUBLIC)
    urn = {r.name: r.urn for r in rendering.registrations}
    chain = [
        "heimdall-database-require-secure-transport",
        "heimdall-database-database",
        "heimdall-database-firewall-203-0-113-0-24",
        "heimdall-database-firewall-198-51-100-7",
        "heimdall-database-firewall-192-0-2-10-192-0-2-20",
    ]
    by_name = {r.name: r for r in rendering.registrations}
    for before, after in zip(chain, chain[1:], strict=False):
        assert urn[before] in by_name[after].dependencies, f"{after} does not wait for {before}"


def test_options_reach_the_server() -> None:
    rendering = render(
        with_settings(
            AZURE,
            {
                "database": {
                    "azure": {
                        "serverName": "heimdall-prod",
                        "location": "northeurope",
                        "version": "16",
                        "sku": {"name": "Standard_D2ds_v5", "tier": "GeneralPurpose"},
                        "storageSizeGb": 128,
                        "storageAutoGrow": False,
                        "highAvailability": "ZoneRedundant",
                        "backupRetentionDays": 35,
                        "geoRedundantBackup": True,
                        "tags": {"environment": "production"},
                    }
                }
            },
        )
    )
    args = inputs(one(rendering, SERVER))
    assert args["serverName"] == "heimdall-prod"
    assert args["location"] == "northeurope"
    assert args["version"] == "16"
    assert args["sku"] == {"name": "Standard_D2ds_v5", "tier": "GeneralPurpose"}
    assert args["storage"] == {"storageSizeGB": 128, "autoGrow": "Disabled"}
    assert args["highAvailability"]["mode"] == "ZoneRedundant"
    assert args["backup"] == {"backupRetentionDays": 35, "geoRedundantBackup": "Enabled"}
    assert args["tags"]["environment"] == "production"


