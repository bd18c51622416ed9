"""`database.cloudSql`: a Google Cloud SQL for PostgreSQL instance (provider gcp-cloudsql).

The settings and rules only: importable without pulumi-gcp, which the component
(`component.py`) needs and the pyproject extra installs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal, Optional

from pydantic import AfterValidator, Field, model_validator

from heimdall.settings.database import (
    DatabaseSettings,
    DatabaseTlsSettings,
    check_ca,
    require_encryption,
    with_default_mode,
)
from heimdall.settings.types import CidrSet, DnsLabel, Image, Model, Resources, requests_and_limits

if TYPE_CHECKING:
    import pulumi

    from heimdall.database.contract import DatabaseConnection, DatabaseRequest
    from heimdall.database.facts import Computed, PolicyChecks


def _instance_name(value: str) -> str:
    # Cloud SQL: "lowercase letters, numbers, and hyphens; start with a letter" (Cloud SQL
    # docs, Create instances: instance ID), at most 98 characters with the project id.
    if not re.fullmatch(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$", value):
        raise ValueError(
            "must be a Cloud SQL instance name: lowercase letters, digits and '-', starting "
            "with a letter and not ending with '-', such as heimdall-db"
        )
    return value


def _labels(value: dict[str, str]) -> dict[str, str]:
    # Google Cloud labels (Resource Manager docs, "Requirements for labels"): at most 64;
    # keys 1-63 lowercase letters, digits, '_' or '-', starting with a letter; values at
    # most 63 of the same characters.
    if len(value) > 64:
        raise ValueError(f"has {len(value)} labels; Google Cloud takes at most 64")
    for key, item in value.items():
        if not re.fullmatch(r"^[a-z][a-z0-9_-]{0,62}$", key):
            raise ValueError(
                f"key {key!r} must be 1-63 lowercase letters, digits, '_' or '-', starting "
                "with a letter (Google Cloud labels have no capitals, spaces, '.' or '/')"
            )
        if not re.fullmatch(r"^[a-z0-9_-]{0,63}$", item):
            raise ValueError(
                f"{key}: value {item!r} must be at most 63 lowercase letters, digits, '_' or '-'"
            )
    return value


def _time_of_day(value: str) -> str:
    hours, _, minutes = value.partition(":")
    if not (len(hours) == 2 and len(minutes) == 2 and hours.isdigit() and minutes.isdigit()) or int(hours) > 23 or int(minutes) > 59:
        raise ValueError("must be a time of day HH:MM in UTC, 00:00 to 23:59, such as 03:00")
    return value


class CloudSqlAuthProxy(Model):
    """The Cloud SQL Auth Proxy sidecar (`database.cloudSql.authProxy`)."""

    image: Image = Field(
        default=Image(repository="gcr.io/cloud-sql-connectors/cloud-sql-proxy", tag="2.15.2"),
        description="Image of the Cloud SQL Auth Proxy v2.",
    )
    service_account: Optional[
        Annotated[str, Field(pattern=r"^[a-z][-a-z0-9]{4,28}[a-z0-9]@[-a-z0-9.]+\.iam\.gserviceaccount\.com$")]
    ] = Field(
        default=None,
        description=(
            "Google service account (with roles/cloudsql.client) the Heimdall Kubernetes "
            "service account impersonates through Workload Identity; set as the "
            "iam.gke.io/gcp-service-account annotation. Leave unset when you grant the "
            "role to the Kubernetes service account directly."
        ),
    )
    resources: Resources = Field(
        default=requests_and_limits("50m", "64Mi", "500m", "256Mi"),
        description="Requests and limits of the proxy container.",
    )


class CloudSqlDatabase(Model):
    """`database.cloudSql`: a Google Cloud SQL for PostgreSQL instance."""

    network: Optional[
        Annotated[str, Field(pattern=r"^(https://www\.googleapis\.com/compute/v1/)?projects/[^/]+/global/networks/[^/]+$")]
    ] = Field(
        default=None,
        description=(
            "VPC network of the instance's private IP (projects/P/global/networks/N), with "
            "private services access configured; required unless the Auth Proxy uses "
            "the public IP."
        ),
    )
    allocated_ip_range: Optional[DnsLabel] = Field(
        default=None, description="Name of the private services access range to take the IP from."
    )
    public_ip: bool = Field(default=False, description="Give the instance a public IP as well.")
    authorized_networks: CidrSet = Field(
        default=[],
        description="CIDR blocks allowed to the public IP; required with publicIp unless the "
        "Auth Proxy is used. Never 0.0.0.0/0, nor blocks that together admit more public "
        "addresses than a /8 (0.0.0.0/1 + 128.0.0.0/1).",
    )
    use_auth_proxy: bool = Field(
        default=False,
        description=(
            "Connect through the Cloud SQL Auth Proxy, a native sidecar in every database "
            "client pod (DATABASE_HOST=127.0.0.1); the proxy authorizes with IAM and "
            "encrypts. Direct connections are then refused by the instance."
        ),
    )
    auth_proxy: CloudSqlAuthProxy = Field(
        default=CloudSqlAuthProxy(), description="The Auth Proxy sidecar, when useAuthProxy."
    )
    private_dns_zone: bool = Field(
        default=True,
        description=(
            "With tls.mode verify: create a private Cloud DNS zone on `network` resolving "
            "the instance's DNS name (the name its certificate carries) to its private IP. "
            "Set false when you resolve that name yourself."
        ),
    )
    instance_name: Optional[Annotated[str, AfterValidator(_instance_name)]] = Field(
        default=None,
        description="Instance name: lowercase letters, digits and '-', starting with a letter; "
        "default: the Pulumi name with a random suffix (names cannot be reused for a week).",
    )
    region: Optional[str] = Field(default=None, description="Region; default: gcp:region.")
    database_version: str = Field(
        default="POSTGRES_17", pattern=r"^POSTGRES_\d{2}$", description="Cloud SQL database version."
    )
    edition: Literal["ENTERPRISE", "ENTERPRISE_PLUS"] = Field(
        default="ENTERPRISE", description="Cloud SQL edition (ENTERPRISE_PLUS needs a db-perf-optimized tier)."
    )
    tier: str = Field(
        default="db-custom-1-3840",
        pattern=r"^db-[a-zA-Z0-9-]+$",
        description="Machine tier, such as db-custom-1-3840 or db-perf-optimized-N-2.",
    )
    availability_type: Literal["ZONAL", "REGIONAL"] = Field(
        default="ZONAL", description="REGIONAL adds a standby in a second zone."
    )
    disk_size_gb: int = Field(default=20, ge=10, le=65536, description="Disk size in GB.")
    disk_autoresize: bool = Field(default=True, description="Grow the disk automatically.")
    disk_autoresize_limit_gb: int = Field(
        default=0, ge=0, description="Ceiling of automatic growth in GB; 0: no limit; otherwise at least diskSizeGb."
    )
    backup_start_time: Optional[Annotated[str, AfterValidator(_time_of_day)]] = Field(
        default=None, description="Daily backup start (HH:MM, UTC); default: Google chooses."
    )
    retained_backups: int = Field(default=7, ge=1, le=365, description="Number of daily backups kept.")
    point_in_time_recovery: bool = Field(default=True, description="Keep the write-ahead log for point-in-time recovery.")
    transaction_log_retention_days: int = Field(
        default=7,
        ge=1,
        le=35,
        description="Days of write-ahead log kept for point-in-time recovery: at most 7 on "
        "ENTERPRISE, 35 on ENTERPRISE_PLUS (Cloud SQL's limits).",
    )
    deletion_protection: bool = Field(
        default=True,
        description="Refuse deletion, both in Pulumi (deletion_protection) and in the Cloud SQL API.",
    )
    retain_backups_on_delete: bool = Field(
        default=True, description="Keep the automated backups when the instance is deleted."
    )
    labels: Annotated[dict[str, str], AfterValidator(_labels)] = Field(
        default={},
        description="Labels on the instance: at most 64; keys start with a lowercase letter; "
        "keys and values lowercase letters, digits, '_' and '-', at most 63 characters.",
    )

    @property
    def server_major(self) -> int:
        return int(self.database_version.removeprefix("POSTGRES_"))

    @model_validator(mode="after")
    def _network(self) -> CloudSqlDatabase:
        if self.network is None and not self.public_ip:
            raise ValueError("the instance needs an address: set network (private IP) or publicIp")
        if not self.use_auth_proxy and self.network is None:
            raise ValueError(
                "a direct connection needs the private IP: set network, or set useAuthProxy "
                "to connect through the Cloud SQL Auth Proxy"
            )
        if self.public_ip and not self.authorized_networks and not self.use_auth_proxy:
            raise ValueError(
                "publicIp needs authorizedNetworks (or useAuthProxy, which authorizes with IAM)"
            )
        if self.authorized_networks and not self.public_ip:
            raise ValueError("authorizedNetworks only apply with publicIp: true")
        if self.edition == "ENTERPRISE" and self.transaction_log_retention_days > 7:
            raise ValueError(
                f"transactionLogRetentionDays {self.transaction_log_retention_days} is over "
                "ENTERPRISE's maximum of 7 (35 needs edition ENTERPRISE_PLUS); set 7 or less"
            )
        if 0 < self.disk_autoresize_limit_gb < self.disk_size_gb:
            raise ValueError(
                f"diskAutoresizeLimitGb {self.disk_autoresize_limit_gb} is below diskSizeGb "
                f"{self.disk_size_gb}: set 0 (no limit) or at least diskSizeGb"
            )
        perf = self.tier.startswith("db-perf-optimized-")
        if (self.edition == "ENTERPRISE_PLUS") != perf:
            raise ValueError(
                "ENTERPRISE_PLUS needs a db-perf-optimized-N-* tier, and such tiers need ENTERPRISE_PLUS"
            )
        return self


class CloudSqlSettings(DatabaseSettings):
    """`database` with provider gcp-cloudsql: the shared settings and `database.cloud_sql`."""

    section: ClassVar[str] = "cloudSql"
    description: ClassVar[str] = "Settings of provider gcp-cloudsql (Google Cloud SQL for PostgreSQL)."
    missing_section: ClassVar[Optional[str]] = "provider 'gcp-cloudsql' needs the cloudSql section"
    sdk: ClassVar[Optional[str]] = "pulumi_gcp"
    extra: ClassVar[Optional[str]] = "gcp"
    managed: ClassVar[bool] = True
    provider: Literal["gcp-cloudsql"] = "gcp-cloudsql"
    cloud_sql: CloudSqlDatabase

    @property
    def server_major(self) -> Optional[int]:
        return self.cloud_sql.server_major

    def effective_tls(self) -> DatabaseTlsSettings:
        proxy = self.cloud_sql.use_auth_proxy
        tls = with_default_mode(self.tls, "disable" if proxy else "verify")
        if tls.mode == "verify" and tls.ca is None:
            tls = tls.model_copy(update={"ca": "auto"})
        if proxy and tls.mode != "disable":
            raise ValueError(
                "with cloudSql.useAuthProxy Heimdall talks plain TCP to the proxy on 127.0.0.1 "
                "and the proxy encrypts and verifies: leave tls.mode unset (disable)"
            )
        if not proxy:
            require_encryption("gcp-cloudsql", tls)
        return check_ca(tls, auto_ca=True)

    def build(
        self,
        name: str,
        request: DatabaseRequest[None],
        opts: Optional[pulumi.ResourceOptions],
    ) -> DatabaseConnection:
        from heimdall.database.gcp_cloudsql.component import CloudSqlPostgres

        return CloudSqlPostgres(name, request.with_section(self.cloud_sql), opts).connection

    @classmethod
    def mocks(cls) -> Mapping[str, Computed]:
        from heimdall.database.gcp_cloudsql.mocks import COMPUTED

        return COMPUTED

    @classmethod
    def plan(cls) -> Mapping[str, str]:
        from heimdall.database.gcp_cloudsql.plan import AWAITED

        return AWAITED

    @classmethod
    def policy(cls) -> Optional[PolicyChecks]:
        from heimdall.database.gcp_cloudsql.policy import CHECKS

        return CHECKS
