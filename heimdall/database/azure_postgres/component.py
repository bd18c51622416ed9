"""`AzurePostgres`: Azure Database for PostgreSQL Flexible Server (provider `azure-postgres`).

Creates:
- the database password (pulumi-random unless `secrets.databasePassword` is given) and the
  Kubernetes Secret clients read it from;
- a resource group, unless `azure.resourceGroupName` names an existing one (a created
  group is protected like the data: deleting it deletes the server);
- with private access (the default): the server in `azure.delegatedSubnetId` with no
  public endpoint, and, unless `azure.privateDnsZoneId` is given, a private DNS zone
  `*.private.postgres.database.azure.com` linked to the subnet's virtual network;
  with `azure.publicAccess`: a public endpoint and one firewall rule per
  `allowedIpRanges` entry (the settings refuse 0.0.0.0/0 and Azure's "any Azure
  service" rule);
- the server: `version` (17), `sku`, storage with auto-grow, `highAvailability`, backups
  kept `backupRetentionDays` (optionally geo-redundant), password authentication for the
  administrator Heimdall connects as (`database.username`);
- the `require_secure_transport=on` server parameter (kept on Azure when Pulumi forgets
  it: a server parameter cannot be deleted, only reset);
- the database `database.name`.

Azure's server certificates chain to public roots (DigiCert Global Root G2, Microsoft RSA
Root CA 2017) in Node's trust store, so `tls.mode: verify` needs no `tls.ca`.
The server, the database and a created resource group are protected (`protect=True`)
unless `database.allowDestroy` is true. The location comes from `azure.location` or
`azure-native:location`, credentials from the ambient Azure setup.
"""

from __future__ import annotations

import re
from typing import Optional

import pulumi
from pulumi_azure_native import dbforpostgresql, privatedns, resources

from heimdall.database.azure_postgres.settings import AzurePostgresDatabase, ip_range_bounds
from heimdall.database.cloud import cloud_tags, slug
from heimdall.database.contract import DatabaseConnection, DatabaseRequest
from heimdall.database.credentials import managed_password
from heimdall.database.tls import client_tls


def virtual_network_id(subnet_id: str) -> str:
    """The virtual network a subnet's resource ID belongs to."""
    return re.split(r"/subnets/", subnet_id, flags=re.IGNORECASE)[0]


def private_zone_name(stack: str) -> str:
    label = slug(stack, keep="-")[:40] or "stack"
    return f"heimdall-{label}.private.postgres.database.azure.com"


class AzurePostgres(pulumi.ComponentResource):
    connection: DatabaseConnection
    server: dbforpostgresql.Server

    def __init__(
        self,
        name: str,
        request: DatabaseRequest[AzurePostgresDatabase],
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("heimdall:database:AzurePostgres", name, None, opts)
        azure = request.section
        stateful = pulumi.ResourceOptions(parent=self, protect=request.protect)
        tags = cloud_tags(azure.tags)

        password, password_value = managed_password(name, request, self, "azure-postgres")

        resource_group: pulumi.Input[str]
        if azure.resource_group_name:
            resource_group = azure.resource_group_name
        else:
            resource_group = resources.ResourceGroup(
                f"{name}-rg", location=azure.location, tags=tags, opts=stateful
            ).name

        network = self._network(name, azure, resource_group, tags)
        self.server = dbforpostgresql.Server(
            f"{name}-server",
            resource_group_name=resource_group,
            server_name=azure.server_name,
            location=azure.location,
            version=azure.version,
            sku=dbforpostgresql.SkuArgs(name=azure.sku.name, tier=azure.sku.tier),
            storage=dbforpostgresql.StorageArgs(
                storage_size_gb=azure.storage_size_gb,
                auto_grow="Enabled" if azure.storage_auto_grow else "Disabled",
            ),
            high_availability=dbforpostgresql.HighAvailabilityArgs(mode=azure.high_availability),
            backup=dbforpostgresql.BackupArgs(
                backup_retention_days=azure.backup_retention_days,
                geo_redundant_backup="Enabled" if azure.geo_redundant_backup else "Disabled",
            ),
            network=network,
            auth_config=dbforpostgresql.AuthConfigArgs(
                password_auth="Enabled", active_directory_auth="Disabled"
            ),
            administrator_login=request.username,
            administrator_login_password=password_value,
            create_mode="Create",
            tags=tags,
            opts=stateful,
        )
        server_name = self.server.name
        secure_transport = dbforpostgresql.Configuration(
            f"{name}-require-secure-transport",
            resource_group_name=resource_group,
            server_name=server_name,
            configuration_name="require_secure_transport",
            value="on",
            source="user-override",
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        # One after another: a Flexible Server runs one operation at a time and answers
        # concurrent writes with ServerIsBusy, so the first `pulumi up` would fail at random.
        sql_database = dbforpostgresql.Database(
            f"{name}-database",
            resource_group_name=resource_group,
            server_name=server_name,
            database_name=request.name,
            charset="UTF8",
            collation="en_US.utf8",
            opts=pulumi.ResourceOptions.merge(
                stateful, pulumi.ResourceOptions(depends_on=[secure_transport])
            ),
        )
        previous: pulumi.Resource = sql_database
        firewall_rules = []
        for allowed in azure.allowed_ip_ranges:
            first, last = ip_range_bounds(allowed)
            previous = dbforpostgresql.FirewallRule(
                f"{name}-firewall-{slug(allowed)}",
                resource_group_name=resource_group,
                server_name=server_name,
                start_ip_address=first,
                end_ip_address=last,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[previous]),
            )
            firewall_rules.append(previous)

        self.connection = DatabaseConnection(
            provider="azure-postgres",
            host=self.server.fully_qualified_domain_name,
            port=request.port,
            database=request.name,
            username=request.username,
            password=password,
            password_value=password_value,
            tls=client_tls(name, request, self),
            ready=[self.server, secure_transport, sql_database, *firewall_rules],
            instance_name=server_name,
            resource_group=resource_group,
        )
        self.register_outputs({"fullyQualifiedDomainName": self.server.fully_qualified_domain_name})

    def _network(
        self,
        name: str,
        azure: AzurePostgresDatabase,
        resource_group: pulumi.Input[str],
        tags: dict[str, str],
    ) -> dbforpostgresql.NetworkArgs:
        if azure.public_access or azure.delegated_subnet_id is None:
            return dbforpostgresql.NetworkArgs(public_network_access="Enabled")
        zone_id: pulumi.Input[str]
        if azure.private_dns_zone_id:
            zone_id = azure.private_dns_zone_id
        else:
            child = pulumi.ResourceOptions(parent=self)
            zone = privatedns.PrivateZone(
                f"{name}-dns",
                resource_group_name=resource_group,
                private_zone_name=private_zone_name(pulumi.get_stack()),
                location="global",
                tags=tags,
                opts=child,
            )
            link = privatedns.VirtualNetworkLink(
                f"{name}-dns-link",
                resource_group_name=resource_group,
                private_zone_name=zone.name,
                location="global",
                virtual_network=privatedns.SubResourceArgs(
                    id=virtual_network_id(azure.delegated_subnet_id)
                ),
                registration_enabled=False,
                tags=tags,
                opts=child,
            )
            # The server resolves through the zone: create it once the link exists.
            zone_id = pulumi.Output.all(zone.id, link.id).apply(lambda ids: ids[0])
        return dbforpostgresql.NetworkArgs(
            delegated_subnet_resource_id=azure.delegated_subnet_id,
            private_dns_zone_arm_resource_id=zone_id,
            public_network_access="Disabled",
        )
