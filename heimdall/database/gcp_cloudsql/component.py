"""`CloudSqlPostgres`: Google Cloud SQL for PostgreSQL (provider `gcp-cloudsql`).

Creates:
- the database password (pulumi-random unless `secrets.databasePassword` is given) and the
  Kubernetes Secret clients read it from;
- the instance: `databaseVersion` (POSTGRES_17), `tier`, `availabilityType`, an SSD disk
  that grows by itself, a private IP on `cloudSql.network` (a public IP only with
  `publicIp`, open to `authorizedNetworks` alone), TLS-only connections
  (`ssl_mode=ENCRYPTED_ONLY`) with a server certificate from Google's shared CA (it names
  the instance's DNS name), daily backups with point-in-time recovery, kept after
  deletion, and deletion protection both in Pulumi and in the Cloud SQL API;
- the database (`database.name`) and the built-in user Heimdall connects as
  (`database.username`); both are abandoned, never dropped, when Pulumi deletes them.

How clients connect depends on the settings:
- `useAuthProxy`: the Cloud SQL Auth Proxy runs as a native sidecar (an init container
  with `restartPolicy: Always`) in every database client pod; clients talk to
  127.0.0.1 in plain TCP and the proxy authorizes with IAM (Workload Identity: the
  Heimdall service account gets the `iam.gke.io/gcp-service-account` annotation) and
  encrypts. The instance then refuses direct connections (`connector_enforcement`).
- `tls.mode: verify` (the default): clients connect to the instance's DNS name, the name
  its certificate carries, and verify it against the instance's server CA
  (`serverCaCerts`, put into a ConfigMap mounted as DATABASE_SSL_CA). With
  `privateDnsZone` (default) a private Cloud DNS zone on `network` resolves that name to
  the private IP.
- `tls.mode: require`: clients connect to the private IP, encrypted but unverified.

The instance and the database are protected (`protect=True`) unless
`database.allowDestroy` is true. Project and region come from `gcp:project` and
`gcp:region` (or `cloudSql.region`), credentials from the ambient Google setup.
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s
from pulumi_gcp import dns as gcp_dns
from pulumi_gcp import sql as gcp_sql

from heimdall.database.cloud import cloud_tags
from heimdall.database.contract import DatabaseConnection, DatabaseRequest
from heimdall.database.credentials import managed_password
from heimdall.database.gcp_cloudsql.settings import CloudSqlDatabase
from heimdall.database.tls import client_tls
from heimdall.kube import pods, security

core = k8s.core.v1
PROXY_UID = 65532  # the proxy image's distroless "nonroot" user
PROXY_HEALTH_PORT = 9090
WORKLOAD_IDENTITY_ANNOTATION = "iam.gke.io/gcp-service-account"


class CloudSqlPostgres(pulumi.ComponentResource):
    connection: DatabaseConnection
    instance: gcp_sql.DatabaseInstance

    def __init__(
        self,
        name: str,
        request: DatabaseRequest[CloudSqlDatabase],
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("heimdall:database:CloudSqlPostgres", name, None, opts)
        cloud_sql = request.section
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=request.protect)
        labels = cloud_tags(cloud_sql.labels, label=True)

        password, password_value = managed_password(name, request, self, "gcp-cloudsql")
        self.instance = gcp_sql.DatabaseInstance(
            f"{name}-instance",
            name=cloud_sql.instance_name,
            region=cloud_sql.region,
            database_version=cloud_sql.database_version,
            deletion_protection=cloud_sql.deletion_protection,
            settings=_instance_settings(cloud_sql, labels),
            opts=stateful,
        )
        sql_database = gcp_sql.Database(
            f"{name}-database",
            instance=self.instance.name,
            name=request.name,
            deletion_policy="ABANDON",
            opts=stateful,
        )
        user = gcp_sql.User(
            f"{name}-user",
            instance=self.instance.name,
            name=request.username,
            password=password_value,
            # PostgreSQL refuses to drop a role that owns objects; the data stays either way.
            deletion_policy="ABANDON",
            opts=child,
        )
        ready: list[pulumi.Resource] = [self.instance, sql_database, user]

        tls = client_tls(name, request, self, auto_ca=self._server_ca())
        init_containers: list[core.ContainerArgs] = []
        annotations: dict[str, str] = {}
        host: pulumi.Input[str]
        if cloud_sql.use_auth_proxy:
            host = "127.0.0.1"
            init_containers.append(
                auth_proxy_container(cloud_sql, request.port, self.instance.connection_name)
            )
            if cloud_sql.auth_proxy.service_account:
                annotations[WORKLOAD_IDENTITY_ANNOTATION] = cloud_sql.auth_proxy.service_account
        elif tls.mode == "verify":
            host = self.instance.dns_name.apply(_host_name)
            if cloud_sql.private_dns_zone:
                ready.append(self._private_dns(name, cloud_sql, labels))
        else:
            host = self.instance.private_ip_address

        self.connection = DatabaseConnection(
            provider="gcp-cloudsql",
            host=host,
            port=request.port,
            database=request.name,
            username=request.username,
            password=password,
            password_value=password_value,
            tls=tls,
            ready=ready,
            init_containers=init_containers,
            service_account_annotations=annotations,
            instance_name=self.instance.name,
        )
        self.register_outputs(
            {
                "connectionName": self.instance.connection_name,
                "privateIpAddress": self.instance.private_ip_address,
                "dnsName": self.instance.dns_name,
            }
        )

    def _server_ca(self) -> pulumi.Output[str]:
        """Every server CA certificate of the instance, as one PEM bundle."""
        return self.instance.server_ca_certs.apply(
            lambda certs: "".join(cert.cert for cert in certs or [] if cert.cert)
        )

    def _private_dns(
        self, name: str, cloud_sql: CloudSqlDatabase, labels: dict[str, str]
    ) -> gcp_dns.RecordSet:
        """A private zone on the VPC for the instance's DNS name, pointing at its private IP."""
        fqdn = self.instance.dns_name.apply(lambda dns: dns if dns.endswith(".") else dns + ".")
        zone = gcp_dns.ManagedZone(
            f"{name}-dns",
            dns_name=fqdn,
            visibility="private",
            description="Heimdall: the Cloud SQL instance's DNS name on the private network",
            private_visibility_config=gcp_dns.ManagedZonePrivateVisibilityConfigArgs(
                networks=[
                    gcp_dns.ManagedZonePrivateVisibilityConfigNetworkArgs(
                        network_url=str(cloud_sql.network)
                    )
                ]
            ),
            labels=labels,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return gcp_dns.RecordSet(
            f"{name}-dns-record",
            managed_zone=zone.name,
            name=fqdn,
            type="A",
            ttl=300,
            rrdatas=[self.instance.private_ip_address],
            opts=pulumi.ResourceOptions(parent=self),
        )


def _host_name(dns_name: Optional[str]) -> str:
    if not dns_name:
        raise ValueError(
            "Cloud SQL reported no DNS name for the instance, so its certificate cannot be "
            "verified by name: set database.tls.mode require, or cloudSql.useAuthProxy"
        )
    return dns_name.rstrip(".")


def _instance_settings(
    cloud_sql: CloudSqlDatabase, labels: dict[str, str]
) -> gcp_sql.DatabaseInstanceSettingsArgs:
    return gcp_sql.DatabaseInstanceSettingsArgs(
        tier=cloud_sql.tier,
        edition=cloud_sql.edition,
        availability_type=cloud_sql.availability_type,
        disk_type="PD_SSD",
        disk_size=cloud_sql.disk_size_gb,
        disk_autoresize=cloud_sql.disk_autoresize,
        disk_autoresize_limit=cloud_sql.disk_autoresize_limit_gb,
        deletion_protection_enabled=cloud_sql.deletion_protection,
        retain_backups_on_delete=cloud_sql.retain_backups_on_delete,
        # With the proxy, every client goes through it: refuse anything else.
        connector_enforcement="REQUIRED" if cloud_sql.use_auth_proxy else "NOT_REQUIRED",
        ip_configuration=gcp_sql.DatabaseInstanceSettingsIpConfigurationArgs(
            ipv4_enabled=cloud_sql.public_ip,
            private_network=cloud_sql.network,
            allocated_ip_range=cloud_sql.allocated_ip_range,
            ssl_mode="ENCRYPTED_ONLY",
            # The shared CA's server certificates carry the instance's DNS name, so that
            # clients (Node checks the host name) can verify them.
            server_ca_mode="GOOGLE_MANAGED_CAS_CA",
            enable_private_path_for_google_cloud_services=False,
            authorized_networks=[
                gcp_sql.DatabaseInstanceSettingsIpConfigurationAuthorizedNetworkArgs(
                    name=f"heimdall-{index}", value=block
                )
                for index, block in enumerate(cloud_sql.authorized_networks)
            ]
            or None,
        ),
        backup_configuration=gcp_sql.DatabaseInstanceSettingsBackupConfigurationArgs(
            enabled=True,
            point_in_time_recovery_enabled=cloud_sql.point_in_time_recovery,
            transaction_log_retention_days=cloud_sql.transaction_log_retention_days,
            start_time=cloud_sql.backup_start_time,
            backup_retention_settings=gcp_sql.DatabaseInstanceSettingsBackupConfigurationBackupRetentionSettingsArgs(
                retained_backups=cloud_sql.retained_backups, retention_unit="COUNT"
            ),
        ),
        user_labels=labels,
    )


def auth_proxy_container(
    cloud_sql: CloudSqlDatabase, port: int, connection_name: pulumi.Input[str]
) -> core.ContainerArgs:
    """The Cloud SQL Auth Proxy as a native sidecar: an init container that keeps running
    (`restartPolicy: Always`). Its startup probe holds back the next init container (the
    wait for the database) and the main containers until it listens."""
    proxy = cloud_sql.auth_proxy
    flags = [
        f"--port={port}",
        "--address=127.0.0.1",
        *(["--private-ip"] if cloud_sql.network else []),
        "--structured-logs",
        "--health-check",
        "--http-address=0.0.0.0",
        f"--http-port={PROXY_HEALTH_PORT}",
        "--exit-zero-on-sigterm",
    ]
    return core.ContainerArgs(
        name="cloud-sql-proxy",
        image=proxy.image.reference,
        image_pull_policy=proxy.image.pull_policy,
        restart_policy="Always",
        args=[*flags, connection_name],
        ports=[core.ContainerPortArgs(name="proxy-health", container_port=PROXY_HEALTH_PORT)],
        startup_probe=core.ProbeArgs(
            http_get=core.HTTPGetActionArgs(path="/startup", port="proxy-health"),
            period_seconds=2,
            timeout_seconds=2,
            failure_threshold=60,
        ),
        liveness_probe=core.ProbeArgs(
            http_get=core.HTTPGetActionArgs(path="/liveness", port="proxy-health"),
            period_seconds=20,
            timeout_seconds=5,
            failure_threshold=3,
        ),
        resources=pods.resource_requirements(proxy.resources),
        security_context=security.container_security_context(PROXY_UID),
    )
