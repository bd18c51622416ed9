"""The stack's settings: one typed model, loaded once from the `heimdall:` config namespace.

Every key a stack file may set is declared here, with its default. The model is validated
before any resource is declared; a bad value raises `SettingsError` whose message is one
line naming the key, the value and what is allowed. Components receive the model (or a
part of it) and never read `pulumi.Config` themselves.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel

NAMESPACE = "heimdall"
# The Pulumi project directory (where Pulumi.yaml is): relative file paths in settings,
# such as database.tls.ca, are read from here.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

# --- reusable value types -----------------------------------------------------------------

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUANTITY = re.compile(
    r"^(\d+(\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+)?$"
)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PG_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_IMAGE_REPOSITORY = re.compile(r"^[a-z0-9]+([._/:-][a-z0-9]+)*$")
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_HOSTNAME = re.compile(
    r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)


def _dns_label(value: str) -> str:
    if len(value) > 63 or not _DNS_LABEL.fullmatch(value):
        raise ValueError(
            "must be a DNS-1123 label: at most 63 lowercase letters, digits or '-', "
            "starting and ending with a letter or digit"
        )
    return value


def _dns_subdomain(value: str) -> str:
    if len(value) > 253 or not _DNS_SUBDOMAIN.fullmatch(value):
        raise ValueError(
            "must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', "
            "at most 253 characters"
        )
    return value


def _quantity(value: str) -> str:
    if not _QUANTITY.fullmatch(value):
        raise ValueError("must be a Kubernetes quantity such as 500m, 1, 256Mi or 10Gi")
    return value


def _env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        raise ValueError("must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)")
    return value


def _pg_identifier(value: str) -> str:
    if not _PG_IDENTIFIER.fullmatch(value):
        raise ValueError(
            "must be a PostgreSQL identifier: a letter or '_' then letters, digits or '_', "
            "at most 63 characters"
        )
    return value


def _image_repository(value: str) -> str:
    if not _IMAGE_REPOSITORY.fullmatch(value):
        raise ValueError("must be an image repository such as mitre/heimdall2")
    return value


def _image_tag(value: str) -> str:
    if not _IMAGE_TAG.fullmatch(value):
        raise ValueError("must be an image tag such as 2.13.1")
    return value


def _hostname(value: str) -> str:
    if len(value) > 253 or not _HOSTNAME.fullmatch(value):
        raise ValueError("must be a lowercase DNS host name such as heimdall.example.com")
    return value


def _http_url(value: str) -> str:
    if not re.fullmatch(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", value):
        raise ValueError("must be an http:// or https:// URL without query or fragment")
    return value.rstrip("/")


DnsLabel = Annotated[str, AfterValidator(_dns_label)]
DnsSubdomain = Annotated[str, AfterValidator(_dns_subdomain)]
Quantity = Annotated[str, AfterValidator(_quantity)]
EnvName = Annotated[str, AfterValidator(_env_name)]
PgIdentifier = Annotated[str, AfterValidator(_pg_identifier)]
ImageRepository = Annotated[str, AfterValidator(_image_repository)]
ImageTag = Annotated[str, AfterValidator(_image_tag)]
Hostname = Annotated[str, AfterValidator(_hostname)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
Port = Annotated[int, Field(ge=1, le=65535)]
# Values the program will not take from a stack file as plain text.
SECRET_ENV_NAMES = frozenset(
    {
        "DATABASE_PASSWORD",
        "DATABASE_URL",
        "JWT_SECRET",
        "API_KEY_SECRET",
        "ADMIN_PASSWORD",
        "LDAP_PASSWORD",
        "GITHUB_CLIENTSECRET",
        "GITLAB_SECRET",
        "GOOGLE_CLIENTSECRET",
        "OKTA_CLIENTSECRET",
        "OIDC_CLIENT_SECRET",
    }
)


class Model(BaseModel):
    """Base of every settings section: camelCase keys, unknown keys rejected, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        coerce_numbers_to_str=True,
        validate_default=True,
    )


# --- shared sections ----------------------------------------------------------------------


class ResourceAmounts(Model):
    cpu: Optional[Quantity] = Field(default=None, description="CPU, a Kubernetes quantity (e.g. 250m, 1).")
    memory: Optional[Quantity] = Field(default=None, description="Memory, a Kubernetes quantity (e.g. 512Mi, 1Gi).")


class Resources(Model):
    requests: ResourceAmounts = Field(default=ResourceAmounts(), description="What the scheduler reserves.")
    limits: ResourceAmounts = Field(default=ResourceAmounts(), description="The most the container may use.")


class Image(Model):
    repository: ImageRepository = Field(description="Image repository.")
    tag: ImageTag = Field(description="Image tag; pin a version (moving tags make `pulumi up` non-reproducible).")
    pull_policy: Literal["Always", "IfNotPresent", "Never"] = Field(default="IfNotPresent", description="Always, IfNotPresent or Never.")

    @property
    def reference(self) -> str:
        base = f"{self.repository}:{self.tag}"
        return f"{base}@{self.digest}" if self.digest else base

    digest: Optional[str] = Field(
        default=None,
        pattern=r"^sha256:[a-f0-9]{64}$",
        description="Image digest (sha256:...); pins the exact image, the tag then only documents it.",
    )


def _resources(cpu_req: str, mem_req: str, cpu_lim: str, mem_lim: str) -> Resources:
    return Resources(
        requests=ResourceAmounts(cpu=cpu_req, memory=mem_req),
        limits=ResourceAmounts(cpu=cpu_lim, memory=mem_lim),
    )


# --- database -----------------------------------------------------------------------------


class Persistence(Model):
    enabled: bool = Field(default=True, description="Keep the data on a PersistentVolumeClaim; false keeps it in an emptyDir (lost with the pod: tests only).")
    size: Quantity = Field(default="10Gi", description="Size of the data volume.")
    storage_class: str = Field(default="", description="StorageClass of the data volume; empty uses the cluster's default.")

    @model_validator(mode="after")
    def _storage_class_name(self) -> Persistence:
        if self.storage_class:
            _dns_subdomain(self.storage_class)
        return self


class EmbeddedDatabase(Model):
    image: Image = Field(default=Image(repository="postgres", tag="17"), description="The official PostgreSQL image (17 by default; 18+ changes the data layout, handled).")
    persistence: Persistence = Field(default=Persistence(), description="The data volume.")
    resources: Resources = Field(default=_resources("100m", "128Mi", "200m", "256Mi"), description="Requests and limits of the PostgreSQL container (as the original chart).")


class ExternalDatabase(Model):
    host: Hostname = Field(description="Host name of the existing PostgreSQL server.")
    existing_secret: Optional[DnsSubdomain] = Field(default=None, description="A Secret you manage that holds the database password.")
    existing_secret_password_key: str = Field(default="password", description="The key of the password in existingSecret.")
    password: Optional[SecretStr] = Field(default=None, description="The database password as a Pulumi secret (`pulumi config set --secret --path database.external.password`).")

    @model_validator(mode="after")
    def _one_password_source(self) -> ExternalDatabase:
        if self.existing_secret and self.password is not None:
            raise ValueError(
                "set either existingSecret or password (a Pulumi secret), not both"
            )
        return self


def _cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        raise ValueError(
            "must be a CIDR block such as 10.0.0.0/16 (with the host bits zero)"
        ) from None
    if network.prefixlen == 0:
        raise ValueError("must not admit every address (0.0.0.0/0 or ::/0): name your networks")
    return str(network)


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


def _aws_id(prefix: str) -> Any:
    pattern = re.compile(rf"^{prefix}-[0-9a-f]{{8,17}}$")

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"must be an AWS id such as {prefix}-0123456789abcdef0")
        return value

    return AfterValidator(check)


Cidr = Annotated[str, AfterValidator(_cidr)]
AzureIpRange = Annotated[str, AfterValidator(_azure_ip_range)]
AwsVpcId = Annotated[str, _aws_id("vpc")]
AwsSubnetId = Annotated[str, _aws_id("subnet")]
AwsSecurityGroupId = Annotated[str, _aws_id("sg")]
Tags = dict[Annotated[str, Field(min_length=1, max_length=128)], Annotated[str, Field(max_length=256)]]


class ConfigMapRef(Model):
    """A key of a ConfigMap, in the stack's namespace, that you manage."""

    name: DnsSubdomain = Field(description="Name of the ConfigMap.")
    key: str = Field(
        default="ca.pem",
        pattern=r"^[-._a-zA-Z0-9]+$",
        description="Key of the ConfigMap that holds the PEM certificates.",
    )


def _ca_file(path: str) -> Path:
    """A CA path from settings: absolute, or relative to the Pulumi project directory."""
    candidate = Path(path)
    return candidate if candidate.is_absolute() else PROJECT_ROOT / candidate


class DatabaseTlsSettings(Model):
    """TLS from Heimdall and its Jobs to the database (every provider)."""

    mode: Literal["disable", "require", "verify"] = Field(
        default="disable",
        description=(
            "disable: plain TCP; require: encrypted, the server certificate is not checked; "
            "verify: encrypted and the certificate checked against `ca` (or Node's trust "
            "store). Unset, it follows the provider: verify for aws-rds, gcp-cloudsql and "
            "azure-postgres; disable for embedded, external, and gcp-cloudsql with the "
            "Auth Proxy (the proxy encrypts and verifies)."
        ),
    )
    ca: Optional[Union[ConfigMapRef, str]] = Field(
        default=None,
        description=(
            "The CA certificates that sign the server's certificate, for mode verify: a PEM "
            "file path in the repository (relative to Pulumi.yaml; put into a ConfigMap), "
            "a ConfigMap you manage ({name, key}), or `auto` (gcp-cloudsql: the instance's "
            "server CA; the default there). Required for aws-rds: use "
            "certs/rds-global-bundle.pem."
        ),
    )

    @model_validator(mode="after")
    def _ca_file_exists(self) -> DatabaseTlsSettings:
        if isinstance(self.ca, str) and self.ca != "auto":
            path = _ca_file(self.ca)
            if not path.is_file():
                raise ValueError(f"ca file {self.ca!r} does not exist (paths are relative to Pulumi.yaml)")
            if "-----BEGIN CERTIFICATE-----" not in path.read_text(errors="replace"):
                raise ValueError(f"ca file {self.ca!r} holds no PEM certificate")
        return self

    def ca_pem(self) -> Optional[str]:
        """The PEM text when `ca` is a file path; None otherwise."""
        if isinstance(self.ca, str) and self.ca != "auto":
            return _ca_file(self.ca).read_text()
        return None


class AwsRdsDatabase(Model):
    """`database.awsRds`: an Amazon RDS for PostgreSQL instance in your VPC."""

    vpc_id: AwsVpcId = Field(description="VPC of the instance and its security group (vpc-...).")
    subnet_ids: list[AwsSubnetId] = Field(
        description="Private subnets of the DB subnet group, in at least two Availability Zones."
    )
    allowed_security_group_ids: list[AwsSecurityGroupId] = Field(
        default=[],
        description="Security groups admitted to the database port (for example the EKS nodes' or pods').",
    )
    allowed_cidr_blocks: list[Cidr] = Field(
        default=[],
        description="CIDR blocks admitted to the database port (for example the pod network); never 0.0.0.0/0.",
    )
    identifier: Optional[Annotated[str, Field(max_length=63, pattern=r"^[a-z](-?[a-z0-9])*$")]] = Field(
        default=None,
        description="RDS instance identifier; default: the Pulumi name with a random suffix.",
    )
    engine_version: str = Field(
        default="17",
        pattern=r"^\d{2}(\.\d+)?$",
        description="PostgreSQL version: a major version (minor upgrades are automatic) or major.minor.",
    )
    instance_class: str = Field(
        default="db.t4g.micro",
        pattern=r"^db\.[a-z0-9-]+\.[a-z0-9]+$",
        description="Instance class, such as db.t4g.micro or db.m7g.large.",
    )
    allocated_storage: int = Field(default=20, ge=20, le=65536, description="Storage in GiB.")
    max_allocated_storage: int = Field(
        default=100,
        ge=0,
        le=65536,
        description="Storage autoscaling ceiling in GiB; 0 turns autoscaling off.",
    )
    storage_type: Literal["gp3", "gp2", "io1", "io2"] = Field(
        default="gp3", description="EBS storage type."
    )
    kms_key_id: Optional[Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:kms:")]] = Field(
        default=None,
        description="ARN of the KMS key that encrypts the storage; default: the AWS-managed key. Storage is always encrypted.",
    )
    multi_az: bool = Field(default=False, description="A standby in a second Availability Zone.")
    backup_retention_period: int = Field(
        default=7, ge=1, le=35, description="Days of automated backups (point-in-time recovery); at least 1."
    )
    backup_window: Optional[Annotated[str, Field(pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$")]] = Field(
        default=None, description="Daily backup window in UTC, such as 03:00-04:00; default: AWS chooses."
    )
    maintenance_window: Optional[
        Annotated[str, Field(pattern=r"^[a-z]{3}:\d{2}:\d{2}-[a-z]{3}:\d{2}:\d{2}$")]
    ] = Field(default=None, description="Weekly maintenance window in UTC, such as sun:04:30-sun:05:30.")
    deletion_protection: bool = Field(
        default=True, description="AWS refuses to delete the instance while this is true."
    )
    skip_final_snapshot: bool = Field(
        default=False, description="Delete the instance without a final snapshot (never in production)."
    )
    performance_insights_enabled: bool = Field(
        default=False, description="Turn on Performance Insights (7 days retention)."
    )
    ca_cert_identifier: Optional[str] = Field(
        default=None,
        description="Server certificate CA, such as rds-ca-rsa2048-g1; default: the AWS default. Keep it covered by tls.ca.",
    )
    parameters: dict[Annotated[str, Field(pattern=r"^[a-z_.]+$")], str] = Field(
        default={},
        description="Extra parameters of the instance's parameter group (rds.force_ssl is always 1).",
    )
    tags: Tags = Field(default={}, description="Tags on every AWS resource the provider creates.")

    @model_validator(mode="after")
    def _network(self) -> AwsRdsDatabase:
        if len(set(self.subnet_ids)) < 2:
            raise ValueError(
                "subnetIds needs at least two subnets in different Availability Zones "
                "(an RDS DB subnet group requires them)"
            )
        if not self.allowed_security_group_ids and not self.allowed_cidr_blocks:
            raise ValueError(
                "set allowedSecurityGroupIds or allowedCidrBlocks: without them no client "
                "can reach the database"
            )
        if 0 < self.max_allocated_storage < self.allocated_storage:
            raise ValueError("maxAllocatedStorage must be 0 (off) or at least allocatedStorage")
        if "rds.force_ssl" in self.parameters:
            raise ValueError("parameters must not set rds.force_ssl: TLS is always forced")
        return self


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
        default=_resources("50m", "64Mi", "500m", "256Mi"),
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
    authorized_networks: list[Cidr] = Field(
        default=[],
        description="CIDR blocks allowed to the public IP; required with publicIp unless the Auth Proxy is used.",
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
    instance_name: Optional[DnsLabel] = Field(
        default=None,
        description="Instance name; default: the Pulumi name with a random suffix (names cannot be reused for a week).",
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
        default=0, ge=0, description="Ceiling of automatic growth in GB; 0: no limit."
    )
    backup_start_time: Optional[Annotated[str, Field(pattern=r"^\d{2}:\d{2}$")]] = Field(
        default=None, description="Daily backup start (HH:MM, UTC); default: Google chooses."
    )
    retained_backups: int = Field(default=7, ge=1, le=365, description="Number of daily backups kept.")
    point_in_time_recovery: bool = Field(default=True, description="Keep the write-ahead log for point-in-time recovery.")
    transaction_log_retention_days: int = Field(
        default=7, ge=1, le=35, description="Days of write-ahead log kept for point-in-time recovery."
    )
    deletion_protection: bool = Field(
        default=True,
        description="Refuse deletion, both in Pulumi (deletion_protection) and in the Cloud SQL API.",
    )
    retain_backups_on_delete: bool = Field(
        default=True, description="Keep the automated backups when the instance is deleted."
    )
    labels: dict[str, str] = Field(default={}, description="Labels on the instance.")

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
        perf = self.tier.startswith("db-perf-optimized-")
        if (self.edition == "ENTERPRISE_PLUS") != perf:
            raise ValueError(
                "ENTERPRISE_PLUS needs a db-perf-optimized-N-* tier, and such tiers need ENTERPRISE_PLUS"
            )
        return self


class AzureSku(Model):
    name: str = Field(
        default="Standard_B1ms",
        pattern=r"^Standard_[A-Za-z0-9_]+$",
        description="Compute size, such as Standard_B1ms or Standard_D2ds_v5.",
    )
    tier: Literal["Burstable", "GeneralPurpose", "MemoryOptimized"] = Field(
        default="Burstable", description="Compute tier of the size."
    )


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
    server_name: Optional[Annotated[str, Field(pattern=r"^[a-z0-9][-a-z0-9]{1,61}[a-z0-9]$")]] = Field(
        default=None, description="Server name (global DNS label); default: the Pulumi name with a random suffix."
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
    allowed_ip_ranges: list[AzureIpRange] = Field(
        default=[],
        description="With publicAccess: addresses, CIDR blocks or first-last ranges admitted by firewall rules.",
    )
    tags: Tags = Field(default={}, description="Tags on every Azure resource the provider creates.")

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


class Database(Model):
    provider: str = Field(default="embedded", description="Where the database comes from: embedded (PostgreSQL in the cluster) or external (an existing server); the managed providers are listed in the registry.")
    name: PgIdentifier = Field(default="heimdall", description="Database name Heimdall uses.")
    username: PgIdentifier = Field(default="postgres", description="Database user Heimdall connects as.")
    port: Port = Field(default=5432, description="Database port.")
    client_image: Image = Field(default=Image(repository="postgres", tag="17"), description="Image with the PostgreSQL client tools (pg_isready) for the wait-for-database init container; its major version should be at least the server's.")
    wait_timeout_seconds: int = Field(default=300, ge=10, le=3600, description="How long the wait-for-database init container waits before it fails with a clear message.")
    tls: DatabaseTlsSettings = Field(default=DatabaseTlsSettings(), description="TLS between Heimdall (and its Jobs) and the database.")
    allow_destroy: bool = Field(
        default=False,
        description=(
            "Let Pulumi delete the data: the embedded StatefulSet, the namespace, managed "
            "instances and their databases are protected unless this is true."
        ),
    )
    embedded: Optional[EmbeddedDatabase] = Field(default=None, description="Settings of the embedded PostgreSQL (provider embedded).")
    external: Optional[ExternalDatabase] = Field(default=None, description="Settings of an existing PostgreSQL server (provider external).")
    aws_rds: Optional[AwsRdsDatabase] = Field(
        default=None, description="Settings of provider aws-rds (Amazon RDS for PostgreSQL)."
    )
    cloud_sql: Optional[CloudSqlDatabase] = Field(
        default=None, description="Settings of provider gcp-cloudsql (Google Cloud SQL for PostgreSQL)."
    )
    azure: Optional[AzurePostgresDatabase] = Field(
        default=None,
        description="Settings of provider azure-postgres (Azure Database for PostgreSQL Flexible Server).",
    )

    @model_validator(mode="after")
    def _provider_and_section(self) -> Database:
        from heimdall.database.registry import PROVIDERS

        if self.provider not in PROVIDERS:
            allowed = ", ".join(sorted(PROVIDERS))
            raise ValueError(f"provider {self.provider!r} is not one of: {allowed}")
        for section in {entry.section for entry in PROVIDERS.values()}:
            if getattr(self, section, None) is not None and PROVIDERS[self.provider].section != section:
                raise ValueError(
                    f"the {to_camel(section)} section is set but provider is "
                    f"{self.provider!r}; remove it or set provider accordingly"
                )
        if self.provider == "external" and self.external is None:
            raise ValueError("provider 'external' needs the external section with at least host")
        entry = PROVIDERS[self.provider]
        if entry.managed and getattr(self, entry.section) is None:
            raise ValueError(
                f"provider {self.provider!r} needs the {to_camel(entry.section)} section"
            )
        self._check_names()
        # Filled in place: a validator's return value is ignored under Database(...).
        if self.provider == "embedded" and self.embedded is None:
            self._fill("embedded", EmbeddedDatabase())
        self._fill("tls", self._client_tls(entry.managed))
        return self

    def _fill(self, field: str, value: Any) -> None:
        object.__setattr__(self, field, value)  # the model is frozen once validated
        self.__pydantic_fields_set__.add(field)

    def _check_names(self) -> None:
        """Names the managed services refuse, refused here before anything is created."""
        if self.provider == "aws-rds":
            if not self.username[0].isalpha() or self.username == "rdsadmin":
                raise ValueError(
                    f"aws-rds: username {self.username!r} must start with a letter and not be rdsadmin"
                )
            if not self.name[0].isalpha():
                raise ValueError(f"aws-rds: name {self.name!r} must start with a letter")
        if self.provider == "azure-postgres" and (
            self.username in AZURE_RESERVED_LOGINS or self.username.startswith("pg_")
        ):
            raise ValueError(
                f"azure-postgres: username {self.username!r} is reserved; avoid "
                + ", ".join(sorted(AZURE_RESERVED_LOGINS))
                + " and names starting with pg_"
            )

    def _client_tls(self, managed: bool) -> DatabaseTlsSettings:
        """`tls` with the provider's default mode when unset, checked against the provider."""
        tls = self.tls
        proxy = self.cloud_sql is not None and self.cloud_sql.use_auth_proxy
        if "mode" not in tls.model_fields_set:
            tls = tls.model_copy(update={"mode": "verify" if managed and not proxy else "disable"})
        if self.provider == "gcp-cloudsql" and tls.mode == "verify" and tls.ca is None:
            tls = tls.model_copy(update={"ca": "auto"})
        if self.provider == "embedded" and tls.mode != "disable":
            raise ValueError("the embedded PostgreSQL serves no TLS: tls.mode must be disable")
        if proxy and tls.mode != "disable":
            raise ValueError(
                "with cloudSql.useAuthProxy Heimdall talks plain TCP to the proxy on 127.0.0.1 "
                "and the proxy encrypts and verifies: leave tls.mode unset (disable)"
            )
        if managed and not proxy and tls.mode == "disable":
            raise ValueError(
                f"provider {self.provider!r} accepts TLS connections only: tls.mode disable "
                "cannot connect; use verify (the default) or require"
            )
        if tls.ca is not None and tls.mode != "verify":
            raise ValueError(f"tls.ca is only used with tls.mode verify (mode is {tls.mode})")
        if tls.ca == "auto" and self.provider != "gcp-cloudsql":
            raise ValueError(
                "tls.ca auto is only for gcp-cloudsql; give a PEM file path or a ConfigMap {name, key}"
            )
        if self.provider == "aws-rds" and tls.mode == "verify" and tls.ca is None:
            raise ValueError(
                "aws-rds with tls.mode verify needs tls.ca: the RDS CA is not in Node's trust "
                "store, so Heimdall would fail with 'self signed certificate in certificate "
                "chain'; set tls.ca to certs/rds-global-bundle.pem"
            )
        return tls


# --- day-2 operations: backups and restore ---------------------------------------------------


_CRON_MACROS = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
# (name, lowest, highest, names for the values from `lowest` on)
_CRON_FIELDS: tuple[tuple[str, int, int, Optional[list[str]]], ...] = (
    ("minute", 0, 59, None),
    ("hour", 0, 23, None),
    ("day of month", 1, 31, None),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 6, _WEEKDAYS),
)


def _cron_value(text: str, low: int, high: int, names: Optional[list[str]]) -> int:
    if names and text.upper() in names:
        return low + names.index(text.upper())
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"{text!r} is not in {low}-{high}")
    return int(text)


def _cron_field(text: str, low: int, high: int, names: Optional[list[str]], wildcard_q: bool) -> None:
    for part in text.split(","):
        base, _, step = part.partition("/")
        if step and (not step.isdigit() or int(step) < 1):
            raise ValueError(f"step {step!r} must be a positive number")
        if base == "*" or (base == "?" and wildcard_q):
            continue
        first, _, last = base.partition("-")
        start = _cron_value(first, low, high, names)
        if last and _cron_value(last, low, high, names) < start:
            raise ValueError(f"range {base!r} ends before it starts")


def _cron(value: str) -> str:
    """The schedule syntax of Kubernetes CronJobs: five fields, or a macro such as @daily."""
    text = " ".join(value.split())
    if text in _CRON_MACROS:
        return text
    if text.upper().startswith(("TZ=", "CRON_TZ=")):
        raise ValueError("set the time zone with backup.timeZone, not in the schedule")
    fields = text.split(" ")
    if len(fields) != 5:
        raise ValueError(
            "must be a cron schedule with five fields (minute hour day-of-month month "
            "day-of-week), such as '15 2 * * *', or a macro such as @daily"
        )
    for field_text, (label, low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
        try:
            _cron_field(field_text, low, high, names, wildcard_q=label.startswith("day"))
        except ValueError as error:
            raise ValueError(f"{label} field {field_text!r}: {error}") from None
    return text


def _time_zone(value: str) -> str:
    if not re.fullmatch(r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$", value):
        raise ValueError("must be an IANA time zone name such as Etc/UTC or Europe/Paris")
    return value


def _dump_file_name(value: str) -> str:
    if (
        not re.fullmatch(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$", value)
        or value.endswith(".partial")
    ):
        raise ValueError(
            "must be the file name of a dump on the backup target, such as "
            "heimdall-20250101T021500Z.dump (no directories)"
        )
    return value


CronSchedule = Annotated[str, AfterValidator(_cron)]
TimeZone = Annotated[str, AfterValidator(_time_zone)]
DumpFileName = Annotated[str, AfterValidator(_dump_file_name)]


class BackupVolume(Model):
    """`backup.pvc`: the PersistentVolumeClaim that holds the dumps."""

    size: Quantity = Field(
        default="10Gi",
        description="Size of the backup volume; it holds `retention` compressed dumps.",
    )
    storage_class: Optional[DnsSubdomain] = Field(
        default=None,
        description="StorageClass of the backup volume; unset: the cluster's default.",
    )


class BackupS3(Model):
    """`backup.s3`: an S3-compatible object store (AWS S3, MinIO, Ceph, GCS interop, ...)."""

    bucket: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")] = Field(
        description="Bucket the dumps are written to; it must exist."
    )
    prefix: Annotated[str, Field(max_length=512, pattern=r"^([A-Za-z0-9!_.*'()-]+/)*$")] = Field(
        default="heimdall/",
        description="Key prefix of the dumps: empty or ending with '/'; use one per stack.",
    )
    endpoint: Optional[HttpUrl] = Field(
        default=None,
        description="Endpoint URL of an S3-compatible store; unset: AWS S3.",
    )
    region: Annotated[str, Field(pattern=r"^[a-z0-9-]{1,32}$")] = Field(
        default="us-east-1", description="Region of the bucket."
    )
    force_path_style: bool = Field(
        default=False,
        description="Address the bucket as <endpoint>/<bucket> (MinIO and most "
        "self-hosted stores need it) instead of <bucket>.<endpoint>.",
    )
    existing_secret: DnsSubdomain = Field(
        description="Secret (in the stack's namespace) holding the access key pair; "
        "read by reference only."
    )
    access_key_id_key: str = Field(
        default="AWS_ACCESS_KEY_ID", description="Key of the access key id in existingSecret."
    )
    secret_access_key_key: str = Field(
        default="AWS_SECRET_ACCESS_KEY",
        description="Key of the secret access key in existingSecret.",
    )
    image: Image = Field(
        default=Image(repository="amazon/aws-cli", tag="2.32.8"),
        description="Image with the AWS CLI that uploads, lists, prunes and downloads dumps.",
    )


class Backup(Model):
    """Scheduled logical backups (pg_dump) of the database."""

    enabled: Optional[bool] = Field(
        default=None,
        description="Run the backup CronJob. Unset: on for the embedded and external "
        "providers, off for managed clouds (their own automated backups are configured).",
    )
    schedule: CronSchedule = Field(
        default="15 2 * * *",
        description="Cron schedule of the backups (five fields or a macro such as @daily).",
    )
    time_zone: TimeZone = Field(
        default="Etc/UTC", description="IANA time zone the schedule is read in."
    )
    retention: int = Field(
        default=7,
        ge=1,
        le=1000,
        description="How many verified dumps to keep; older ones are pruned, only after a "
        "new dump has been written and verified.",
    )
    target: Literal["pvc", "s3"] = Field(
        default="pvc",
        description="Where dumps go: pvc (a PersistentVolumeClaim of the stack) or s3 (an "
        "S3-compatible object store, section backup.s3).",
    )
    pvc: BackupVolume = Field(
        default=BackupVolume(), description="The backup volume (target pvc)."
    )
    s3: Optional[BackupS3] = Field(default=None, description="The object store (target s3).")
    deadline_seconds: int = Field(
        default=3600,
        ge=60,
        le=86400,
        description="A backup run (waiting for the database included) is stopped after "
        "this many seconds and counts as failed.",
    )
    resources: Resources = Field(
        default=_resources("100m", "256Mi", "1", "1Gi"),
        description="Resources of the pg_dump container (and of the upload container).",
    )

    @model_validator(mode="after")
    def _target_section(self) -> Backup:
        if self.target == "s3" and self.s3 is None:
            raise ValueError("target 's3' needs the s3 section with at least bucket and existingSecret")
        if self.target == "pvc" and self.s3 is not None:
            raise ValueError("the s3 section is set but target is 'pvc'; set target: s3 or remove it")
        if self.target == "s3" and "pvc" in self.model_fields_set:
            raise ValueError("the pvc section is set but target is 's3'; remove it")
        return self


class Restore(Model):
    """A restore from a dump on the backup target, run by `pulumi up` before migrations."""

    from_: Optional[DumpFileName] = Field(
        default=None,
        alias="from",
        description="File name of the dump on the backup target to restore, such as "
        "heimdall-20250101T021500Z.dump. The restore runs once per value; remove it "
        "once the restore has succeeded.",
    )
    timeout_seconds: int = Field(
        default=3600,
        ge=60,
        le=86400,
        description="The restore Job fails after database.waitTimeoutSeconds plus this many "
        "seconds (the database is then left as it was).",
    )
    resources: Resources = Field(
        default=_resources("100m", "256Mi", "1", "1Gi"),
        description="Resources of the pg_restore container.",
    )


# --- Heimdall -----------------------------------------------------------------------------


class SecretKeys(Model):
    """Key names inside `secrets.existingSecret`."""

    jwt_secret: str = Field(default="JWT_SECRET", description="Key of JWT_SECRET in existingSecret.")
    api_key_secret: str = Field(default="API_KEY_SECRET", description="Key of API_KEY_SECRET in existingSecret.")
    admin_password: str = Field(default="ADMIN_PASSWORD", description="Key of ADMIN_PASSWORD in existingSecret.")
    database_password: str = Field(default="DATABASE_PASSWORD", description="Key of the database password in existingSecret.")


class Secrets(Model):
    existing_secret: Optional[DnsSubdomain] = Field(default=None, description="A Secret you manage holding every secret (keys as in `keys`); nothing is generated.")
    keys: SecretKeys = Field(default=SecretKeys(), description="Key names inside existingSecret.")
    jwt_secret: Optional[SecretStr] = Field(default=None, description="JWT_SECRET as a Pulumi secret (32+ characters); generated when unset.")
    api_key_secret: Optional[SecretStr] = Field(default=None, description="API_KEY_SECRET as a Pulumi secret (32+ characters); generated when unset.")
    admin_password: Optional[SecretStr] = Field(default=None, description="ADMIN_PASSWORD of the admin user the seeders create, as a Pulumi secret; generated when unset.")
    database_password: Optional[SecretStr] = Field(default=None, description="The database password as a Pulumi secret; generated when unset (except for an external database).")

    @model_validator(mode="after")
    def _one_approach(self) -> Secrets:
        supplied = [
            name
            for name in ("jwt_secret", "api_key_secret", "admin_password", "database_password")
            if getattr(self, name) is not None
        ]
        if self.existing_secret and supplied:
            raise ValueError(
                "existingSecret holds every secret; do not also set "
                + ", ".join(to_camel(n) for n in supplied)
            )
        for name in ("jwt_secret", "api_key_secret"):
            value = getattr(self, name)
            if value is not None and len(value.get_secret_value()) < 32:
                raise ValueError(f"{to_camel(name)} must be at least 32 characters long")
        return self


class Admin(Model):
    email: str = Field(default="admin@heimdall.local", pattern=r"^[^@\s]+@[^@\s]+$", description="ADMIN_EMAIL: the administrator the seeders create when no admin exists.")
    uses_external_auth: bool = Field(
        default=False,
        description="Seed the administrator as an external-auth (LDAP/OAuth) user "
        "(ADMIN_USES_EXTERNAL_AUTH); only read when the admin user is first created.",
    )


class Migration(Model):
    commands: list[Annotated[str, Field(min_length=1)]] = Field(
        default=[
            "yarn backend sequelize db:migrate",
            "yarn backend sequelize db:seed:all",
        ],
        min_length=1,
        description="Shell commands the migration Job runs in the Heimdall image, in /app, in order (default: those of image 2.13.x; 2.12.x and older use `sequelize-cli`).",
    )
    timeout_seconds: int = Field(default=600, ge=60, le=86400, description="activeDeadlineSeconds of the migration Job; Pulumi waits this long plus two minutes.")
    backoff_limit: int = Field(default=2, ge=0, le=10, description="Retries of the migration Job before the update fails.")
    run_id: Optional[Annotated[str, Field(max_length=63, pattern=r"^[A-Za-z0-9._-]+$")]] = Field(default=None, description="Change it to run the migrations again without any other change.")
    resources: Resources = Field(default=_resources("250m", "512Mi", "1", "1Gi"), description="Requests and limits of the migration container.")


class ProbeTiming(Model):
    initial_delay_seconds: int = Field(default=0, ge=0, description="Seconds before the first probe.")
    period_seconds: int = Field(default=10, ge=1, description="Seconds between probes.")
    timeout_seconds: int = Field(default=5, ge=1, description="Seconds before a probe times out.")
    failure_threshold: int = Field(default=3, ge=1, description="Failures in a row before the probe fails.")


class Probes(Model):
    path: str = Field(default="/server", pattern=r"^/[^\s]*$", description="HTTP path probed. /server is a real, cheap route; Heimdall has no health endpoint and answers unknown paths with the web app (200).")
    startup: ProbeTiming = Field(default=ProbeTiming(period_seconds=10, failure_threshold=36), description="Startup probe: up to 6 minutes for the server to listen.")
    readiness: ProbeTiming = Field(default=ProbeTiming(), description="Readiness probe.")
    liveness: ProbeTiming = Field(default=ProbeTiming(), description="Liveness probe.")


class Rollout(Model):
    """How the Heimdall StatefulSet replaces its pods when the image or config changes."""

    min_ready_seconds: int = Field(
        default=10,
        ge=0,
        le=600,
        description=(
            "Seconds a new Heimdall pod must stay ready before the rolling update replaces "
            "the next one (StatefulSet minReadySeconds), so a pod that passes its first "
            "probes and then crashes stops the rollout while the old pods still serve."
        ),
    )
    pre_stop_seconds: int = Field(
        default=5,
        ge=0,
        le=20,
        description=(
            "Seconds a stopping Heimdall pod keeps serving after Kubernetes takes it out of "
            "the Service's endpoints, so that kube-proxy and the ingress controller stop "
            "sending it requests before it exits (a preStop hook); 0 disables the hook."
        ),
    )


class Ingress(Model):
    enabled: bool = Field(default=False, description="Create an Ingress.")
    class_name: Optional[DnsSubdomain] = Field(default=None, description="IngressClass name; empty uses the cluster's default. gce and gce-internal (GKE) become the kubernetes.io/ingress.class annotation, the only thing GKE's controller reads.")
    host: Optional[Hostname] = Field(default=None, description="Host name users reach Heimdall at (required when enabled).")
    tls_secret_name: Optional[DnsSubdomain] = Field(default=None, description="Secret with the TLS certificate for host; also makes the derived URL https.")
    annotations: dict[str, str] = Field(default={}, description="Annotations of the Ingress (e.g. for cert-manager or body size).")

    @model_validator(mode="after")
    def _host_when_enabled(self) -> Ingress:
        if self.enabled and not self.host:
            raise ValueError("enabled ingress needs a host")
        if self.host and self.host.startswith("*."):
            raise ValueError("host must not be a wildcard: Heimdall needs one external URL")
        return self


# --- guardrails: security contexts, scheduling, labels -----------------------------------

_LABEL_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
# The labels the program manages itself: selectors and ownership.
RESERVED_LABELS = frozenset(
    {
        "app.kubernetes.io/name",
        "app.kubernetes.io/instance",
        "app.kubernetes.io/part-of",
        "app.kubernetes.io/managed-by",
    }
)


def _qualified_name(key: str) -> None:
    prefix, _, name = key.rpartition("/")
    if prefix:
        _dns_subdomain(prefix)
    if len(name) > 63 or not _LABEL_NAME.fullmatch(name):
        raise ValueError(
            f"{key!r} is not a valid label or annotation key ([prefix/]name, name at most "
            "63 letters, digits, '-', '_' or '.')"
        )


def _labels(value: dict[str, str]) -> dict[str, str]:
    for key, item in value.items():
        _qualified_name(key)
        if key in RESERVED_LABELS:
            raise ValueError(f"label {key!r} is managed by the program and cannot be set")
        if len(item) > 63 or not _LABEL_VALUE.fullmatch(item):
            raise ValueError(
                f"label value {item!r} must be at most 63 letters, digits, '-', '_' or '.', "
                "starting and ending with a letter or digit"
            )
    return value


def _annotations(value: dict[str, str]) -> dict[str, str]:
    for key in value:
        _qualified_name(key)
    return value


Labels = Annotated[dict[str, str], AfterValidator(_labels)]
Annotations = Annotated[dict[str, str], AfterValidator(_annotations)]


class SeccompProfile(Model):
    """A seccomp profile, as in a Kubernetes securityContext."""

    type: Literal["RuntimeDefault", "Localhost", "Unconfined"] = Field(
        default="RuntimeDefault",
        description="RuntimeDefault (the container runtime's default filter), Localhost or Unconfined.",
    )
    localhost_profile: Optional[str] = Field(
        default=None, description="Profile file on the node, for type Localhost."
    )


class PodSecurityContext(Model):
    """Overrides of the pod securityContext of Heimdall's pods.

    An unset key keeps the hardened default; a key set to null removes it (for example
    `runAsUser: null` on OpenShift, which assigns the uid itself).
    """

    run_as_user: Optional[int] = Field(
        default=None, ge=0, description="uid of the pod's processes (default 1001, the image's user)."
    )
    run_as_group: Optional[int] = Field(default=None, ge=0, description="gid of the pod's processes (default 1001).")
    fs_group: Optional[int] = Field(default=None, ge=0, description="Group owning mounted volumes (default 1001).")
    fs_group_change_policy: Optional[Literal["OnRootMismatch", "Always"]] = Field(
        default=None, description="When Kubernetes changes volume ownership to fsGroup."
    )
    run_as_non_root: Optional[bool] = Field(
        default=None, description="Refuse to start a container as root (default true)."
    )
    supplemental_groups: Optional[list[Annotated[int, Field(ge=0)]]] = Field(
        default=None, description="Extra groups of the pod's processes."
    )
    seccomp_profile: Optional[SeccompProfile] = Field(
        default=None, description="Seccomp profile of the pod (default RuntimeDefault)."
    )


class Capabilities(Model):
    add: list[str] = Field(default=[], description="Linux capabilities to add (none by default).")
    drop: list[str] = Field(default=["ALL"], description="Linux capabilities to drop (default ALL).")


class ContainerSecurityContext(Model):
    """Overrides of the securityContext of every container in Heimdall's pods (the server,
    the migration Job, their init containers). Unset keys keep the hardened default; null
    removes a key."""

    run_as_user: Optional[int] = Field(default=None, ge=0, description="uid of the container's process.")
    run_as_group: Optional[int] = Field(default=None, ge=0, description="gid of the container's process.")
    run_as_non_root: Optional[bool] = Field(default=None, description="Refuse to run as root (default true).")
    allow_privilege_escalation: Optional[bool] = Field(
        default=None, description="Allow setuid binaries to gain privileges (default false)."
    )
    privileged: Optional[bool] = Field(default=None, description="Run privileged (default false).")
    read_only_root_filesystem: Optional[bool] = Field(
        default=None,
        description="Mount the image read-only (default true; Heimdall writes only to /tmp, an emptyDir).",
    )
    capabilities: Optional[Capabilities] = Field(
        default=None, description="Linux capabilities (default: drop ALL)."
    )
    seccomp_profile: Optional[SeccompProfile] = Field(
        default=None, description="Seccomp profile (default RuntimeDefault)."
    )


class Toleration(Model):
    key: Optional[str] = Field(default=None, description="Taint key; empty with operator Exists matches every taint.")
    operator: Literal["Equal", "Exists"] = Field(default="Equal", description="Equal or Exists.")
    value: Optional[str] = Field(default=None, description="Taint value, for operator Equal.")
    effect: Optional[Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]] = Field(
        default=None, description="Taint effect to tolerate; empty: all effects."
    )
    toleration_seconds: Optional[int] = Field(
        default=None, ge=0, description="For NoExecute: how long the pod stays after the taint appears."
    )


class NetworkPolicySettings(Model):
    enabled: bool = Field(
        default=True,
        description="Create NetworkPolicies: deny ingress to the stack's pods except Heimdall on "
        "3000 and the embedded database from the stack's own pods. Egress stays open.",
    )
    ingress_from: list[dict[str, Any]] = Field(
        default=[],
        description="NetworkPolicyPeer objects (podSelector, namespaceSelector, ipBlock) allowed "
        "to reach Heimdall on port 3000; empty: any source (an ingress controller anywhere).",
    )


class PodDisruptionBudgetSettings(Model):
    enabled: bool = Field(
        default=True,
        description="Create a PodDisruptionBudget for Heimdall when it runs more than one pod.",
    )
    max_unavailable: int = Field(
        default=1, ge=1, description="Pods a voluntary disruption (a node drain) may take down at once."
    )


class Autoscaling(Model):
    enabled: bool = Field(
        default=False,
        description="Create a HorizontalPodAutoscaler for Heimdall; `replicas` is then not set by the program.",
    )
    min_replicas: int = Field(default=2, ge=1, le=50, description="Fewest Heimdall pods.")
    max_replicas: int = Field(default=4, ge=1, le=50, description="Most Heimdall pods.")
    target_cpu_utilization: Optional[int] = Field(
        default=75, ge=1, le=1000, description="Average CPU use, in percent of the request, to aim for."
    )
    target_memory_utilization: Optional[int] = Field(
        default=None, ge=1, le=1000, description="Average memory use, in percent of the request, to aim for."
    )

    @model_validator(mode="after")
    def _bounds(self) -> Autoscaling:
        if self.min_replicas > self.max_replicas:
            raise ValueError("minReplicas must not exceed maxReplicas")
        if self.enabled and self.target_cpu_utilization is None and self.target_memory_utilization is None:
            raise ValueError("set targetCpuUtilization or targetMemoryUtilization")
        return self


# --- exposure: Gateway API ----------------------------------------------------------------


class GatewayParentRef(Model):
    name: DnsSubdomain = Field(description="Name of the Gateway the route attaches to.")
    namespace: Optional[DnsLabel] = Field(
        default=None, description="Namespace of the Gateway; default: Heimdall's namespace."
    )
    section_name: Optional[DnsSubdomain] = Field(
        default=None, description="Listener of the Gateway to attach to; default: every listener that admits the route."
    )
    port: Optional[Port] = Field(default=None, description="Listener port to attach to.")


class Gateway(Model):
    enabled: bool = Field(
        default=False,
        description="Create a Gateway API HTTPRoute (gateway.networking.k8s.io/v1) to Heimdall; "
        "may be on together with ingress, for example while moving from one to the other.",
    )
    parent_refs: list[GatewayParentRef] = Field(
        default=[], description="Gateways (and listeners) the route attaches to."
    )
    hostnames: list[Hostname] = Field(
        default=[],
        description="Host names the route answers; the first gives EXTERNAL_URL "
        "(https://<host>) unless externalUrl or an ingress host is set.",
    )
    annotations: Annotations = Field(default={}, description="Annotations of the HTTPRoute.")

    @model_validator(mode="after")
    def _parents_when_enabled(self) -> Gateway:
        if self.enabled and not self.parent_refs:
            raise ValueError("an enabled gateway route needs at least one parentRefs entry")
        return self


# --- Heimdall's own settings: CA certificates, banners, authentication ------------------

PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----"


def _pem_file(path: str) -> str:
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise ValueError(
            f"cannot read the file ({error.strerror or error}); paths are relative to the "
            "project directory"
        ) from None
    if PEM_CERTIFICATE not in text:
        raise ValueError(f"the file holds no PEM certificate ({PEM_CERTIFICATE})")
    if "PRIVATE KEY" in text:
        raise ValueError("the file holds a private key; CA bundles go to a ConfigMap, never keys")
    return path


PemFile = Annotated[str, AfterValidator(_pem_file)]


class CaCertificates(Model):
    """Extra certificate authorities Heimdall trusts (NODE_EXTRA_CA_CERTS)."""

    files: list[PemFile] = Field(
        default=[],
        description="PEM files (paths relative to the project directory) bundled into one "
        "ConfigMap and mounted for NODE_EXTRA_CA_CERTS: corporate CAs, an LDAP server's CA.",
    )
    existing_config_map: Optional[DnsSubdomain] = Field(
        default=None, description="A ConfigMap you manage that holds the PEM bundle, instead of files."
    )
    existing_config_map_key: str = Field(
        default="ca.crt", pattern=r"^[-._a-zA-Z0-9]+$", description="Key of the bundle in existingConfigMap."
    )

    @model_validator(mode="after")
    def _one_source(self) -> CaCertificates:
        if self.files and self.existing_config_map:
            raise ValueError("set either files or existingConfigMap, not both")
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.files or self.existing_config_map)


class ClassificationBanner(Model):
    text: str = Field(default="", description="Banner text, e.g. UNCLASSIFIED (CLASSIFICATION_BANNER_TEXT); empty: no banner.")
    text_color: str = Field(default="", description="CSS colour of the text (CLASSIFICATION_BANNER_TEXT_COLOR).")
    color: str = Field(default="", description="CSS colour of the banner (CLASSIFICATION_BANNER_COLOR).")

    @model_validator(mode="after")
    def _colours_need_text(self) -> ClassificationBanner:
        if (self.text_color or self.color) and not self.text:
            raise ValueError("a classification banner colour needs text")
        return self


class Banners(Model):
    classification: ClassificationBanner = Field(
        default=ClassificationBanner(), description="The classification banner at the top and bottom of every page."
    )
    warning: str = Field(default="", description="A warning banner shown to every user (WARNING_BANNER).")


_SECRET_KEY = r"^[-._a-zA-Z0-9]+$"


class ProviderSecret(Model):
    """Where one provider's secret comes from: a Pulumi secret, or a Secret you manage."""

    existing_secret: Optional[DnsSubdomain] = Field(
        default=None, description="A Secret you manage that holds the value, instead of the Pulumi secret."
    )
    existing_secret_key: Optional[str] = Field(
        default=None,
        pattern=_SECRET_KEY,
        description="Key in existingSecret; default: the variable's own name (e.g. GITLAB_SECRET).",
    )

    def _secret_value(self) -> Optional[SecretStr]:
        raise NotImplementedError

    def _check_secret(self, field: str, required: bool) -> None:
        value = self._secret_value()
        if value is not None and self.existing_secret:
            raise ValueError(f"set either {field} (a Pulumi secret) or existingSecret, not both")
        if required and value is None and not self.existing_secret:
            raise ValueError(f"{field} is required: set it as a Pulumi secret, or set existingSecret")


class OAuthClient(ProviderSecret):
    client_id: str = Field(min_length=1, description="OAuth client id.")
    client_secret: Optional[SecretStr] = Field(
        default=None, description="OAuth client secret, as a Pulumi secret (`pulumi config set --secret --path`)."
    )

    def _secret_value(self) -> Optional[SecretStr]:
        return self.client_secret

    @model_validator(mode="after")
    def _secret_source(self) -> OAuthClient:
        self._check_secret("clientSecret", required=True)
        return self


class GithubAuth(OAuthClient):
    enterprise_base_url: Optional[HttpUrl] = Field(
        default=None, description="GitHub Enterprise Server URL (GITHUB_ENTERPRISE_INSTANCE_BASE_URL)."
    )
    enterprise_api_url: Optional[HttpUrl] = Field(
        default=None, description="GitHub Enterprise Server API URL (GITHUB_ENTERPRISE_INSTANCE_API_URL)."
    )


class GitlabAuth(OAuthClient):
    base_url: Optional[HttpUrl] = Field(
        default=None, description="Self-managed GitLab URL (GITLAB_BASEURL); default gitlab.com."
    )


class GoogleAuth(OAuthClient):
    pass


class OktaAuth(OAuthClient):
    domain: Hostname = Field(description="Okta domain, e.g. example.okta.com (OKTA_DOMAIN).")
    issuer_url: Optional[HttpUrl] = Field(default=None, description="OKTA_ISSUER_URL, when not derived from the domain.")
    authorization_url: Optional[HttpUrl] = Field(default=None, description="OKTA_AUTHORIZATION_URL override.")
    token_url: Optional[HttpUrl] = Field(default=None, description="OKTA_TOKEN_URL override.")
    user_info_url: Optional[HttpUrl] = Field(default=None, description="OKTA_USER_INFO_URL override.")
    use_https_proxy: bool = Field(
        default=False, description="Reach Okta through the HTTPS_PROXY set in `env` (OKTA_USE_HTTPS_PROXY)."
    )


class OidcAuth(OAuthClient):
    name: str = Field(default="OIDC", min_length=1, description="Label of the login button (OIDC_NAME).")
    issuer: HttpUrl = Field(description="Issuer URL (OIDC_ISSUER).")
    authorization_url: HttpUrl = Field(description="Authorization endpoint (OIDC_AUTHORIZATION_URL).")
    token_url: HttpUrl = Field(description="Token endpoint (OIDC_TOKEN_URL).")
    user_info_url: HttpUrl = Field(description="UserInfo endpoint (OIDC_USER_INFO_URL).")
    uses_pkce_s256: bool = Field(
        default=True, description="Use PKCE with S256 (OIDC_USES_PKCE_S256); recommended by OAuth 2.1."
    )
    uses_pkce_plain: bool = Field(
        default=False, description="Use PKCE with the plain method (OIDC_USES_PKCE_PLAIN); only for IdPs without S256."
    )
    external_groups: bool = Field(
        default=False, description="Take group membership from the IdP's groups claim (OIDC_EXTERNAL_GROUPS)."
    )
    use_https_proxy: bool = Field(
        default=False, description="Reach the IdP through the HTTPS_PROXY set in `env` (OIDC_USE_HTTPS_PROXY)."
    )
    uses_verified_email: Optional[bool] = Field(
        default=None,
        description="Accept only users whose email the IdP marks verified (OIDC_USES_VERIFIED_EMAIL); "
        "unset: Heimdall's default.",
    )

    @model_validator(mode="after")
    def _one_pkce_method(self) -> OidcAuth:
        if self.uses_pkce_s256 and self.uses_pkce_plain:
            raise ValueError("set usesPkceS256 or usesPkcePlain, not both")
        return self


class LdapAuth(ProviderSecret):
    host: Hostname = Field(description="LDAP server host name (LDAP_HOST).")
    port: Port = Field(default=389, description="LDAP server port (LDAP_PORT).")
    bind_dn: Optional[str] = Field(
        default=None, min_length=1, description="DN Heimdall binds as to search users (LDAP_BINDDN)."
    )
    bind_password: Optional[SecretStr] = Field(
        default=None, description="Password of bindDn (LDAP_PASSWORD), as a Pulumi secret."
    )
    search_base: str = Field(min_length=1, description="Where users are searched (LDAP_SEARCHBASE).")
    search_filter: Optional[str] = Field(
        default=None,
        description="User search filter (LDAP_SEARCHFILTER); Heimdall's default is (sAMAccountName={{username}}).",
    )
    name_field: Optional[str] = Field(default=None, description="Attribute with the user's name (LDAP_NAMEFIELD; default name).")
    mail_field: Optional[str] = Field(default=None, description="Attribute with the user's email (LDAP_MAILFIELD; default mail).")
    ssl: bool = Field(
        default=False,
        description="TLS to the LDAP server (LDAP_SSL); needs caCertificates, whose bundle becomes LDAP_SSL_CA.",
    )
    ssl_insecure: bool = Field(
        default=False, description="Do not verify the LDAP server's certificate (LDAP_SSL_INSECURE); avoid."
    )

    def _secret_value(self) -> Optional[SecretStr]:
        return self.bind_password

    @model_validator(mode="after")
    def _bind_secret(self) -> LdapAuth:
        self._check_secret("bindPassword", required=self.bind_dn is not None)
        if (self.bind_password is not None or self.existing_secret) and self.bind_dn is None:
            raise ValueError("a bind password needs bindDn")
        return self


class Auth(Model):
    """Login providers besides local accounts. A provider is on when its section is set."""

    ldap: Optional[LdapAuth] = Field(default=None, description="LDAP / Active Directory login.")
    github: Optional[GithubAuth] = Field(default=None, description="GitHub (or GitHub Enterprise) OAuth login.")
    gitlab: Optional[GitlabAuth] = Field(default=None, description="GitLab OAuth login.")
    google: Optional[GoogleAuth] = Field(default=None, description="Google OAuth login.")
    okta: Optional[OktaAuth] = Field(default=None, description="Okta login.")
    oidc: Optional[OidcAuth] = Field(default=None, description="Any OpenID Connect provider (Keycloak, Entra ID, ...).")

    @property
    def oauth_providers(self) -> list[str]:
        """The providers that redirect back to <EXTERNAL_URL>/authn/..."""
        return [name for name in ("github", "gitlab", "google", "okta", "oidc") if getattr(self, name)]

    @property
    def any(self) -> bool:
        return bool(self.ldap or self.oauth_providers)


_DURATION = re.compile(r"^([1-9][0-9]*)([smhd])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _jwt_expire_time(value: str) -> str:
    match = _DURATION.fullmatch(value)
    if not match:
        raise ValueError("must be a duration such as 60s, 30m, 12h or 1d")
    if int(match.group(1)) * _SECONDS[match.group(2)] > 2 * 86400:
        raise ValueError("Heimdall caps sessions at 2d")
    return value


JwtDuration = Annotated[str, AfterValidator(_jwt_expire_time)]


class Settings(Model):
    namespace: DnsLabel = Field(default="heimdall", description="Kubernetes namespace of every object.")
    create_namespace: bool = Field(default=True, description="Create the namespace (protected like the database: deleting it deletes its volumes).")
    image: Image = Field(default=Image(repository="mitre/heimdall2", tag="2.13.1"), description="The Heimdall image.")
    image_pull_secrets: list[DnsSubdomain] = Field(default=[], description="Secrets used to pull images.")
    replicas: int = Field(
        default=1,
        ge=0,
        le=50,
        description=(
            "Heimdall pods. 2 or more keep Heimdall serving during upgrades; 0 stops it "
            "(a maintenance window, see docs/upgrades.md)."
        ),
    )
    resources: Resources = Field(default=_resources("250m", "512Mi", "1", "1Gi"), description="Requests and limits of the Heimdall container.")
    start_command: list[Annotated[str, Field(min_length=1)]] = Field(
        default=["yarn", "backend", "start"], min_length=1,
        description="Command of the Heimdall container; migrations are the Job's work.",
    )
    env: dict[EnvName, str] = Field(default={}, description="Extra plain environment variables for Heimdall (ConfigMap); secret names are refused.")
    external_url: Optional[HttpUrl] = Field(default=None, description="EXTERNAL_URL, the URL users reach Heimdall at; derived from the ingress when unset.")
    database: Database = Field(default_factory=lambda: Database(), description="The database: provider and its settings.")
    secrets: Secrets = Field(default=Secrets(), description="Heimdall's secrets: generated, supplied as Pulumi secrets, or an existing Secret.")
    admin: Admin = Field(default=Admin(), description="The administrator account.")
    migration: Migration = Field(default=Migration(), description="The migration Job.")
    probes: Probes = Field(default=Probes(), description="Probes of the Heimdall container.")
    ingress: Ingress = Field(default=Ingress(), description="The Ingress.")
    gateway: Gateway = Field(default=Gateway(), description="Gateway API HTTPRoute to Heimdall.")
    # Heimdall's own settings (CONTEXT.md's environment table).
    auth: Auth = Field(default=Auth(), description="Login providers: ldap, github, gitlab, google, okta, oidc.")
    jwt_expire_time: JwtDuration = Field(
        default="12h",
        description="Session length (JWT_EXPIRE_TIME), at most 2d; Heimdall's own default, 60s, logs users out.",
    )
    local_login_disabled: bool = Field(
        default=False, description="Hide the email/password login (LOCAL_LOGIN_DISABLED); needs an auth provider."
    )
    registration_disabled: bool = Field(
        default=True,
        description="Forbid self-registration of local accounts (REGISTRATION_DISABLED); "
        "the admin creates users.",
    )
    one_session_per_user: bool = Field(
        default=False, description="A new login ends the user's other sessions (ONE_SESSION_PER_USER)."
    )
    max_file_upload_size: int = Field(
        default=50, ge=1, le=10240, description="Largest upload in MB (MAX_FILE_UPLOAD_SIZE)."
    )
    banners: Banners = Field(default=Banners(), description="Classification and warning banners.")
    ca_certificates: CaCertificates = Field(
        default=CaCertificates(), description="Extra CAs Heimdall trusts (NODE_EXTRA_CA_CERTS)."
    )
    # Guardrails: hardening, scheduling, availability.
    pod_security_context: PodSecurityContext = Field(
        default=PodSecurityContext(),
        description="Overrides of the pod securityContext of Heimdall's pods (null removes a key).",
    )
    security_context: ContainerSecurityContext = Field(
        default=ContainerSecurityContext(),
        description="Overrides of the container securityContext in Heimdall's pods (null removes a key).",
    )
    node_selector: dict[str, str] = Field(
        default={}, description="nodeSelector of every pod (Heimdall, its Jobs, the embedded database)."
    )
    tolerations: list[Toleration] = Field(
        default=[], description="Tolerations of every pod (Heimdall, its Jobs, the embedded database)."
    )
    affinity: Optional[dict[str, Any]] = Field(
        default=None,
        description="Kubernetes affinity (nodeAffinity, podAffinity, podAntiAffinity) of Heimdall's "
        "pods and the migration Job.",
    )
    topology_spread_constraints: Optional[list[dict[str, Any]]] = Field(
        default=None,
        description="topologySpreadConstraints of Heimdall's pods; unset: with more than one pod, "
        "a soft spread over nodes; [] for none.",
    )
    labels: Labels = Field(default={}, description="Extra labels on every object and pod (never in selectors).")
    annotations: Annotations = Field(default={}, description="Extra annotations on every object.")
    pod_labels: Labels = Field(default={}, description="Extra labels on Heimdall's pods (server and Jobs).")
    pod_annotations: Annotations = Field(
        default={}, description="Extra annotations on Heimdall's pods (server and Jobs)."
    )
    network_policy: NetworkPolicySettings = Field(
        default=NetworkPolicySettings(), description="NetworkPolicies of the stack's pods."
    )
    pod_disruption_budget: PodDisruptionBudgetSettings = Field(
        default=PodDisruptionBudgetSettings(), description="PodDisruptionBudget of Heimdall."
    )
    autoscaling: Autoscaling = Field(
        default=Autoscaling(), description="HorizontalPodAutoscaler of Heimdall."
    )
    backup: Backup = Field(default=Backup(), description="Scheduled database backups.")
    restore: Restore = Field(default=Restore(), description="Restore from a dump.")
    rollout: Rollout = Field(
        default=Rollout(),
        description="Rolling update of the Heimdall pods; see docs/upgrades.md.",
    )

    @model_validator(mode="after")
    def _cross_checks(self) -> Settings:
        leaked = sorted(SECRET_ENV_NAMES & set(self.env))
        if leaked:
            raise ValueError(
                f"env must not carry secrets ({', '.join(leaked)}): "
                "use the secrets section or an existing Secret"
            )
        from heimdall.database.registry import PROVIDERS

        if PROVIDERS[self.database.provider].managed and self.secrets.existing_secret:
            raise ValueError(
                f"database provider {self.database.provider!r} sets the database user's "
                "password when it creates the instance, so it cannot take DATABASE_PASSWORD "
                "from secrets.existingSecret; give the other secrets as Pulumi secrets "
                "(secrets.jwtSecret, ...) and let the provider generate the password, or set "
                "secrets.databasePassword"
            )
        external = self.database.external
        if (
            self.database.provider == "external"
            and external is not None
            and not external.existing_secret
            and external.password is None
            and not self.secrets.existing_secret
            and self.secrets.database_password is None
        ):
            raise ValueError(
                "database.external needs a password: set database.external.existingSecret "
                "(a Secret you manage) or database.external.password (a Pulumi secret)"
            )
        tls = self.database.tls
        if (self.backup_enabled or self.restore.from_) and tls.mode == "verify" and tls.ca is None:
            # Heimdall (Node) has its own CA bundle; pg_dump/pg_restore in the official
            # postgres image have none (it ships without ca-certificates).
            raise ValueError(
                "backup and restore verify the database's certificate with pg_dump and "
                "pg_restore, whose image has no system CA store: with database.tls.mode "
                "verify set database.tls.ca (the server's CA bundle), or turn backup off"
            )
        self._guardrail_checks()
        return self

    def _guardrail_checks(self) -> None:
        oauth = self.auth.oauth_providers
        if oauth and self.external_url_env is None:
            raise ValueError(
                f"auth.{oauth[0]} needs externalUrl (or an ingress or gateway host): OAuth "
                "providers redirect users back to <externalUrl>/authn/..."
            )
        if self.auth.ldap and self.auth.ldap.ssl and not self.ca_certificates.enabled:
            raise ValueError(
                "auth.ldap.ssl needs caCertificates (files or existingConfigMap): Heimdall reads "
                "LDAP_SSL_CA from a file and refuses to start without it"
            )
        if self.local_login_disabled and not self.auth.any:
            raise ValueError(
                "localLoginDisabled needs an auth provider, or nobody can log in"
            )
        scaling = self.autoscaling
        if scaling.enabled:
            if "replicas" in self.model_fields_set:
                raise ValueError(
                    "replicas is managed by the autoscaler when autoscaling.enabled; "
                    "set autoscaling.minReplicas instead"
                )
            if scaling.target_cpu_utilization and not self.resources.requests.cpu:
                raise ValueError("autoscaling.targetCpuUtilization needs resources.requests.cpu")
            if scaling.target_memory_utilization and not self.resources.requests.memory:
                raise ValueError("autoscaling.targetMemoryUtilization needs resources.requests.memory")
        gateway = self.gateway
        if (
            gateway.enabled
            and not self.external_url
            and not self.ingress.enabled
            and gateway.hostnames
            and gateway.hostnames[0].startswith("*.")
        ):
            raise ValueError(
                "the first gateway hostname is a wildcard: set externalUrl, the URL users open"
            )

    @property
    def min_replicas(self) -> int:
        """The fewest Heimdall pods running in normal operation."""
        return self.autoscaling.min_replicas if self.autoscaling.enabled else self.replicas

    @property
    def url(self) -> str:
        """The URL users open: externalUrl, else the ingress host, else the gateway route's
        first host name, else the in-cluster URL."""
        if self.external_url:
            return self.external_url
        if self.ingress.enabled and self.ingress.host:
            scheme = "https" if self.ingress.tls_secret_name else "http"
            return f"{scheme}://{self.ingress.host}"
        if self.gateway.enabled and self.gateway.hostnames:
            return f"https://{self.gateway.hostnames[0]}"
        return f"http://heimdall.{self.namespace}.svc.cluster.local:3000"

    @property
    def backup_enabled(self) -> bool:
        """backup.enabled, or its default: on unless a managed cloud backs the database up."""
        if self.backup.enabled is not None:
            return self.backup.enabled
        from heimdall.database.registry import PROVIDERS

        return not PROVIDERS[self.database.provider].managed

    @property
    def external_url_env(self) -> Optional[str]:
        """EXTERNAL_URL for the app: set only when users reach Heimdall from outside."""
        if self.external_url or self.ingress.enabled or (self.gateway.enabled and self.gateway.hostnames):
            return self.url
        return None


# --- loading ------------------------------------------------------------------------------


class SettingsError(Exception):
    """A stack's settings are invalid. The message is one line, fit for a user."""


_SENSITIVE_PATHS = ("password", "secret", "token", "key")


def _sensitive(loc: str) -> bool:
    return any(word in loc.lower() for word in _SENSITIVE_PATHS) and not loc.lower().endswith(
        ("existingsecret", "keys", "existingsecretpasswordkey", "tlssecretname", "existingsecretkey")
    )


def _redact(value: Any) -> Any:
    """A section's value with its secret-looking keys hidden (an error on a whole section,
    such as auth.github, shows the section)."""
    if isinstance(value, dict):
        return {k: "<hidden>" if _sensitive(str(k)) else _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(item) for item in value]
    return value


def _describe(value: Any, loc: str) -> str:
    if _sensitive(loc):
        return "<hidden>"
    value = _redact(value)
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _first_error_line(error: ValidationError) -> str:
    errors = error.errors(include_url=False)
    first = errors[0]
    # A map key can be anything a user typed (even a newline): quote odd ones.
    loc = ".".join(
        str(part) if re.fullmatch(r"[\w-]+", str(part)) else json.dumps(str(part))
        for part in first["loc"]
    )
    key = f"{NAMESPACE}:{loc}" if loc else NAMESPACE
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        line = f"{key}: unknown key; see the configuration reference in README.md"
    elif first["type"] == "missing":
        line = f"{key}: required but not set"
    elif isinstance(first.get("input"), dict):
        # A rule over a whole section: name the section, never echo its values.
        line = f"{key}: {message}"
    else:
        # A map's key (loc ends in "[key]") is a name, never a secret value.
        shown = loc if first["loc"][-1] != "[key]" else ""
        line = f"{key} = {_describe(first.get('input'), shown)}: {message}"
    if len(errors) > 1:
        line += f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''})"
    return line


def parse_settings(values: Mapping[str, Any]) -> Settings:
    """Validate plain values (top-level keys without the namespace) into Settings."""
    try:
        return Settings.model_validate(dict(values))
    except ValidationError as error:
        raise SettingsError(_first_error_line(error)) from None


def decode_config_value(raw: Any) -> Any:
    """Pulumi passes every config value as a string; objects and arrays arrive as JSON."""
    if isinstance(raw, str) and raw[:1] in ("{", "["):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def _plain_secrets(model: BaseModel, path: str) -> list[str]:
    """Paths of SecretStr values set inside `model` (recursively)."""
    found: list[str] = []
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        key = f"{path}.{field.alias or name}" if path else (field.alias or name)
        if isinstance(value, SecretStr):
            found.append(key)
        elif isinstance(value, BaseModel):
            found.extend(_plain_secrets(value, key))
    return found


def settings_from_config(
    config: Mapping[str, Any], secret_keys: Optional[set[str]] = None
) -> Settings:
    """Build Settings from a flat `namespace:key -> value` map, as Pulumi holds config.

    With `secret_keys` (the config keys Pulumi holds encrypted), a secret value stored in
    plain text in the stack file is refused: it would sit unencrypted in git.
    """
    values = {
        key.split(":", 1)[1]: decode_config_value(value)
        for key, value in config.items()
        if key.startswith(f"{NAMESPACE}:")
    }
    settings = parse_settings(values)
    if secret_keys is not None:
        for path in _plain_secrets(settings, ""):
            if f"{NAMESPACE}:{path.split('.', 1)[0]}" not in secret_keys:
                raise SettingsError(
                    f"{NAMESPACE}:{path} is stored in plain text; set it with "
                    f"`pulumi config set --secret --path {path} <value>`"
                )
    return settings


def load_settings() -> Settings:
    """Read the running stack's `heimdall:` config. Raises SettingsError on bad values."""
    from pulumi.runtime import config as runtime_config

    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = set(runtime_config.get_config_secret_keys_env()) | {
        key for key in merged if runtime_config.is_config_secret(key)
    }
    return settings_from_config(merged, secret_keys)
