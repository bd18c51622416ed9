"""`database.azure`: an Azure Database for PostgreSQL Flexible Server (provider azure-postgres).

The settings and rules only: importable without pulumi-azure-native, which the component
(`component.py`) needs and the pyproject extra installs.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Optional

from pydantic import AfterValidator, Field, model_validator

from heimdall.settings.database import (
    DatabaseSettings,
    DatabaseTlsSettings,
    check_ca,
    require_encryption,
    with_default_mode,
)
from heimdall.settings.types import Model, Tags, open_to_internet

if TYPE_CHECKING:
    import pulumi

    from heimdall.database.contract import DatabaseConnection, DatabaseRequest
    from heimdall.database.facts import Computed, PolicyChecks


def ip_range_bounds(value: str) -> tuple[str, str]:
    """(first, last) IPv4 address of `a.b.c.d`, `a.b.c.d/n` or `a.b.c.d-e.f.g.h`."""
    if "-" in value:
        first_text, last_text = (part.strip() for part in value.split("-", 1))
        first, last = ipaddress.IPv4Address(first_text), ipaddress.IPv4Address(last_text)
    else:
        network = ipaddress.IPv4Network(value, strict=True)
        first, last = network.network_address, network.broadcast_address
    return str(first), str(last)


def _azure_ip_range(value: str) -> str:
    try:
        first, last = (ipaddress.IPv4Address(v) for v in ip_range_bounds(value))
    except ValueError:
        raise ValueError(
            "must be an IPv4 address, CIDR block (203.0.113.0/24) or range "
            "(203.0.113.10-203.0.113.20)"
        ) from None
    if first > last:
        raise ValueError("the range's first address is after its last")
    if int(first) == 0:
        # 0.0.0.0-0.0.0.0 is Azure's "allow every Azure service" rule: any tenant's VM.
        raise ValueError("must not start at 0.0.0.0 (every address, or every Azure tenant)")
    return value


AzureIpRange = Annotated[str, AfterValidator(_azure_ip_range)]


def _server_name(value: str) -> str:
    # Azure naming rules (Microsoft.DBforPostgreSQL/flexibleServers): 3-63 characters,
    # lowercase letters, digits and hyphens, not starting or ending with a hyphen.
    if not re.fullmatch(r"^[a-z0-9][-a-z0-9]{1,61}[a-z0-9]$", value):
        raise ValueError(
            "must be a flexible server name: 3-63 lowercase letters, digits and '-', not "
            "starting or ending with '-', such as heimdall-db"
        )
    return value


def _azure_tags(value: dict[str, str]) -> dict[str, str]:
    # Azure Resource Manager tag limits: at most 50 per resource; names up to 512
    # characters without < > % & \ ? /; values up to 256.
    if len(value) > 50:
        raise ValueError(f"has {len(value)} tags; Azure takes at most 50 per resource")
    for key in value:
        bad = sorted(set(key) & set("<>%&\\?/"))
        if bad:
            raise ValueError(f"name {key!r} holds {''.join(bad)!r}, which Azure refuses in tag names")
    return value


def _azure_ranges(value: list[str]) -> list[str]:
    networks: list[Any] = []
    for item in value:
        first, last = (ipaddress.IPv4Address(v) for v in ip_range_bounds(item))
        networks.extend(ipaddress.summarize_address_range(first, last))
    problem = open_to_internet(networks)
    if problem:
        raise ValueError(f"these ranges {problem}")
    return value


AzureIpRanges = Annotated[list[AzureIpRange], AfterValidator(_azure_ranges)]


class AzureSku(Model):
    name: str = Field(
        default="Standard_B1ms",
        pattern=r"^Standard_[A-Za-z0-9_]+$",
        description="Compute size, such as Standard_B1ms or Standard_D2ds_v5.",
    )
    tier: Literal["Burstable", "GeneralPurpose", "MemoryOptimized"] = Field(
        default="Burstable",
        description="Compute tier of the size: Burstable takes Standard_B*, GeneralPurpose "
        "Standard_D*, MemoryOptimized Standard_E* (Azure's compute options).",
    )

    @model_validator(mode="after")
    def _name_in_tier(self) -> AzureSku:
        # Azure Database for PostgreSQL flexible server, "Compute options": the B-series
        # are Burstable, the D-series General Purpose, the E-series Memory Optimized.
        family = {"Burstable": "Standard_B", "GeneralPurpose": "Standard_D", "MemoryOptimized": "Standard_E"}[self.tier]
        if not self.name.startswith(family):
            raise ValueError(
                f"name {self.name!r} is not a size of tier {self.tier} (its sizes are "
                f"{family}*): set tier to the size's tier, or a {family}* size"
            )
        return self


AZURE_STORAGE_SIZES = (32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767)
AZURE_RESERVED_LOGINS = frozenset(
    {"azure_superuser", "azure_pg_admin", "admin", "administrator", "root", "guest", "public"}
)


class AzurePostgresDatabase(Model):
    """`database.azure`: an Azure Database for PostgreSQL Flexible Server."""

    resource_group_name: Optional[Annotated[str, Field(pattern=r"^[-\w._()]{1,90}$")]] = Field(
        default=None,
        description="An existing resource group for the server; default: a new one (protected like the data).",
    )
    location: Optional[str] = Field(default=None, description="Azure region; default: azure-native:location.")
    server_name: Optional[Annotated[str, AfterValidator(_server_name)]] = Field(
        default=None,
        description="Server name (global DNS label): 3-63 lowercase letters, digits and '-', not "
        "starting or ending with '-'; default: the Pulumi name with a random suffix.",
    )
    version: Literal["14", "15", "16", "17"] = Field(default="17", description="PostgreSQL major version.")
    sku: AzureSku = Field(default=AzureSku(), description="Compute: name and tier.")
    storage_size_gb: int = Field(default=32, description="Storage in GiB: 32, 64, 128, ... 32767.")
    storage_auto_grow: bool = Field(default=True, description="Grow storage automatically when nearly full.")
    high_availability: Literal["Disabled", "SameZone", "ZoneRedundant"] = Field(
        default="Disabled", description="A standby server (not on the Burstable tier)."
    )
    backup_retention_days: int = Field(default=7, ge=7, le=35, description="Days of backups kept.")
    geo_redundant_backup: bool = Field(
        default=False, description="Copy backups to the paired region (fixed at creation)."
    )
    delegated_subnet_id: Optional[
        Annotated[
            str,
            Field(
                pattern=r"(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/virtualNetworks/[^/]+/subnets/[^/]+$"
            ),
        ]
    ] = Field(
        default=None,
        description=(
            "Private access: a subnet delegated to Microsoft.DBforPostgreSQL/flexibleServers "
            "(full resource ID); the server gets no public endpoint."
        ),
    )
    private_dns_zone_id: Optional[
        Annotated[
            str,
            Field(pattern=r"(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/privateDnsZones/[^/]+\.postgres\.database\.azure\.com$"),
        ]
    ] = Field(
        default=None,
        description="Private access: an existing private DNS zone (*.postgres.database.azure.com); default: one is created and linked to the subnet's VNet.",
    )
    public_access: bool = Field(
        default=False, description="Public endpoint, open only to allowedIpRanges (instead of private access)."
    )
    allowed_ip_ranges: AzureIpRanges = Field(
        default=[],
        description="With publicAccess: addresses, CIDR blocks or first-last ranges admitted by "
        "firewall rules; never from 0.0.0.0, nor ranges that together admit more public "
        "addresses than a /8 (1.0.0.0-255.255.255.255).",
    )
    tags: Annotated[Tags, AfterValidator(_azure_tags)] = Field(
        default={},
        description="Tags on every Azure resource the provider creates: at most 50; names "
        "without < > % & \\ ? /.",
    )

    @property
    def server_major(self) -> int:
        return int(self.version)

    @model_validator(mode="after")
    def _network(self) -> AzurePostgresDatabase:
        if self.storage_size_gb not in AZURE_STORAGE_SIZES:
            sizes = ", ".join(str(s) for s in AZURE_STORAGE_SIZES)
            raise ValueError(f"storageSizeGb must be one of {sizes}")
        if self.public_access and self.delegated_subnet_id:
            raise ValueError("choose private access (delegatedSubnetId) or publicAccess, not both")
        if not self.public_access and not self.delegated_subnet_id:
            raise ValueError(
                "private access needs delegatedSubnetId (a subnet delegated to "
                "Microsoft.DBforPostgreSQL/flexibleServers); or set publicAccess with allowedIpRanges"
            )
        if self.public_access and not self.allowed_ip_ranges:
            raise ValueError("publicAccess needs allowedIpRanges: the server would take no client")
        if self.allowed_ip_ranges and not self.public_access:
            raise ValueError("allowedIpRanges only apply with publicAccess: true")
        if self.private_dns_zone_id and not self.delegated_subnet_id:
            raise ValueError("privateDnsZoneId only applies with delegatedSubnetId")
        if self.high_availability != "Disabled" and self.sku.tier == "Burstable":
            raise ValueError("highAvailability needs the GeneralPurpose or MemoryOptimized tier")
        return self


class AzurePostgresSettings(DatabaseSettings):
    """`database` with provider azure-postgres: the shared settings and `database.azure`."""

    section: ClassVar[str] = "azure"
    description: ClassVar[str] = "Settings of provider azure-postgres (Azure Database for PostgreSQL Flexible Server)."
    missing_section: ClassVar[Optional[str]] = "provider 'azure-postgres' needs the azure section"
    sdk: ClassVar[Optional[str]] = "pulumi_azure_native"
    extra: ClassVar[Optional[str]] = "azure"
    managed: ClassVar[bool] = True
    provider: Literal["azure-postgres"] = "azure-postgres"
    azure: AzurePostgresDatabase

    @property
    def server_major(self) -> Optional[int]:
        return self.azure.server_major

    def effective_tls(self) -> DatabaseTlsSettings:
        if self.username in AZURE_RESERVED_LOGINS or self.username.startswith("pg_"):
            raise ValueError(
                f"azure-postgres: username {self.username!r} is reserved; avoid "
                + ", ".join(sorted(AZURE_RESERVED_LOGINS))
                + " and names starting with pg_"
            )
        tls = with_default_mode(self.tls, "verify")
        require_encryption("azure-postgres", tls)
        return check_ca(tls)

    def build(
        self,
        name: str,
        request: DatabaseRequest[None],
        opts: Optional[pulumi.ResourceOptions],
    ) -> DatabaseConnection:
        from heimdall.database.azure_postgres.component import AzurePostgres

        return AzurePostgres(name, request.with_section(self.azure), opts).connection

    @classmethod
    def mocks(cls) -> Mapping[str, Computed]:
        from heimdall.database.azure_postgres.mocks import COMPUTED

        return COMPUTED

    @classmethod
    def plan(cls) -> Mapping[str, str]:
        from heimdall.database.azure_postgres.plan import AWAITED

        return AWAITED

    @classmethod
    def policy(cls) -> Optional[PolicyChecks]:
        from heimdall.database.azure_postgres.policy import CHECKS

        return CHECKS
