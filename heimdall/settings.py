"""The stack's settings: one typed model, loaded once from the `heimdall:` config namespace.

Every key a stack file may set is declared here, with its default. The model is validated
before any resource is declared; a bad value raises `SettingsError` whose message is one
line naming the key, the value and what is allowed. Components receive the model (or a
part of it) and never read `pulumi.Config` themselves.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

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
    if len(value) > 63 or not _DNS_LABEL.match(value):
        raise ValueError(
            "must be a DNS-1123 label: at most 63 lowercase letters, digits or '-', "
            "starting and ending with a letter or digit"
        )
    return value


def _dns_subdomain(value: str) -> str:
    if len(value) > 253 or not _DNS_SUBDOMAIN.match(value):
        raise ValueError(
            "must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', "
            "at most 253 characters"
        )
    return value


def _quantity(value: str) -> str:
    if not _QUANTITY.match(value):
        raise ValueError("must be a Kubernetes quantity such as 500m, 1, 256Mi or 10Gi")
    return value


def _env_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        raise ValueError("must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)")
    return value


def _pg_identifier(value: str) -> str:
    if not _PG_IDENTIFIER.match(value):
        raise ValueError(
            "must be a PostgreSQL identifier: a letter or '_' then letters, digits or '_', "
            "at most 63 characters"
        )
    return value


def _image_repository(value: str) -> str:
    if not _IMAGE_REPOSITORY.match(value):
        raise ValueError("must be an image repository such as mitre/heimdall2")
    return value


def _image_tag(value: str) -> str:
    if not _IMAGE_TAG.match(value):
        raise ValueError("must be an image tag such as 2.13.1")
    return value


def _hostname(value: str) -> str:
    if len(value) > 253 or not _HOSTNAME.match(value):
        raise ValueError("must be a lowercase DNS host name such as heimdall.example.com")
    return value


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", value):
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
    cpu: Optional[Quantity] = None
    memory: Optional[Quantity] = None


class Resources(Model):
    requests: ResourceAmounts = ResourceAmounts()
    limits: ResourceAmounts = ResourceAmounts()


class Image(Model):
    repository: ImageRepository
    tag: ImageTag
    pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"

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
    enabled: bool = True
    size: Quantity = "10Gi"
    storage_class: str = ""  # empty: the cluster's default StorageClass

    @model_validator(mode="after")
    def _storage_class_name(self) -> Persistence:
        if self.storage_class:
            _dns_subdomain(self.storage_class)
        return self


class EmbeddedDatabase(Model):
    image: Image = Image(repository="postgres", tag="17")
    persistence: Persistence = Persistence()
    resources: Resources = _resources("100m", "128Mi", "200m", "256Mi")


class ExternalDatabase(Model):
    host: Hostname
    existing_secret: Optional[DnsSubdomain] = None
    existing_secret_password_key: str = "password"
    password: Optional[SecretStr] = None

    @model_validator(mode="after")
    def _one_password_source(self) -> ExternalDatabase:
        if self.existing_secret and self.password is not None:
            raise ValueError(
                "set either existingSecret or password (a Pulumi secret), not both"
            )
        return self


class DatabaseTlsSettings(Model):
    """TLS from Heimdall and its Jobs to the database."""

    mode: Literal["disable", "require", "verify"] = "disable"


class Database(Model):
    provider: str = "embedded"
    name: PgIdentifier = "heimdall"
    username: PgIdentifier = "postgres"
    port: Port = 5432
    client_image: Image = Image(repository="postgres", tag="17")
    wait_timeout_seconds: int = Field(default=300, ge=10, le=3600)
    tls: DatabaseTlsSettings = DatabaseTlsSettings()
    allow_destroy: bool = False
    embedded: Optional[EmbeddedDatabase] = None
    external: Optional[ExternalDatabase] = None

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
        if self.provider == "embedded" and self.embedded is None:
            return self.model_copy(update={"embedded": EmbeddedDatabase()})
        return self


# --- Heimdall -----------------------------------------------------------------------------


class SecretKeys(Model):
    """Key names inside `secrets.existingSecret`."""

    jwt_secret: str = "JWT_SECRET"
    api_key_secret: str = "API_KEY_SECRET"
    admin_password: str = "ADMIN_PASSWORD"
    database_password: str = "DATABASE_PASSWORD"


class Secrets(Model):
    existing_secret: Optional[DnsSubdomain] = None
    keys: SecretKeys = SecretKeys()
    jwt_secret: Optional[SecretStr] = None
    api_key_secret: Optional[SecretStr] = None
    admin_password: Optional[SecretStr] = None
    database_password: Optional[SecretStr] = None

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
    email: str = Field(default="admin@heimdall.local", pattern=r"^[^@\s]+@[^@\s]+$")


class Migration(Model):
    commands: list[Annotated[str, Field(min_length=1)]] = Field(
        default=[
            "yarn backend sequelize db:migrate",
            "yarn backend sequelize db:seed:all",
        ],
        min_length=1,
    )
    timeout_seconds: int = Field(default=600, ge=60, le=86400)
    backoff_limit: int = Field(default=2, ge=0, le=10)
    # Change it to run the migrations again without any other change.
    run_id: Optional[Annotated[str, Field(max_length=63, pattern=r"^[A-Za-z0-9._-]+$")]] = None
    resources: Resources = _resources("250m", "512Mi", "1", "1Gi")


class ProbeTiming(Model):
    initial_delay_seconds: int = Field(default=0, ge=0)
    period_seconds: int = Field(default=10, ge=1)
    timeout_seconds: int = Field(default=5, ge=1)
    failure_threshold: int = Field(default=3, ge=1)


class Probes(Model):
    path: str = Field(default="/server", pattern=r"^/[^\s]*$")
    startup: ProbeTiming = ProbeTiming(period_seconds=10, failure_threshold=36)
    readiness: ProbeTiming = ProbeTiming()
    liveness: ProbeTiming = ProbeTiming()


class Ingress(Model):
    enabled: bool = False
    class_name: Optional[DnsSubdomain] = None
    host: Optional[Hostname] = None
    tls_secret_name: Optional[DnsSubdomain] = None
    annotations: dict[str, str] = {}

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
    if len(name) > 63 or not _LABEL_NAME.match(name):
        raise ValueError(
            f"{key!r} is not a valid label or annotation key ([prefix/]name, name at most "
            "63 letters, digits, '-', '_' or '.')"
        )


def _labels(value: dict[str, str]) -> dict[str, str]:
    for key, item in value.items():
        _qualified_name(key)
        if key in RESERVED_LABELS:
            raise ValueError(f"label {key!r} is managed by the program and cannot be set")
        if len(item) > 63 or not _LABEL_VALUE.match(item):
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
    match = _DURATION.match(value)
    if not match:
        raise ValueError("must be a duration such as 60s, 30m, 12h or 1d")
    if int(match.group(1)) * _SECONDS[match.group(2)] > 2 * 86400:
        raise ValueError("Heimdall caps sessions at 2d")
    return value


JwtDuration = Annotated[str, AfterValidator(_jwt_expire_time)]


class Settings(Model):
    namespace: DnsLabel = "heimdall"
    create_namespace: bool = True
    image: Image = Image(repository="mitre/heimdall2", tag="2.13.1")
    image_pull_secrets: list[DnsSubdomain] = []
    replicas: int = Field(default=1, ge=1, le=50)
    resources: Resources = _resources("250m", "512Mi", "1", "1Gi")
    start_command: list[Annotated[str, Field(min_length=1)]] = Field(
        default=["yarn", "backend", "start"], min_length=1
    )
    env: dict[EnvName, str] = {}
    external_url: Optional[HttpUrl] = None
    database: Database = Field(default_factory=lambda: Database())
    secrets: Secrets = Secrets()
    admin: Admin = Admin()
    migration: Migration = Migration()
    probes: Probes = Probes()
    ingress: Ingress = Ingress()
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

    @model_validator(mode="after")
    def _cross_checks(self) -> Settings:
        leaked = sorted(SECRET_ENV_NAMES & set(self.env))
        if leaked:
            raise ValueError(
                f"env must not carry secrets ({', '.join(leaked)}): "
                "use the secrets section or an existing Secret"
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
    loc = ".".join(str(part) for part in first["loc"])
    key = f"{NAMESPACE}:{loc}" if loc else NAMESPACE
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key"
        line = f"{key}: {message}; see the configuration reference in README.md"
    elif first["type"] == "missing":
        line = f"{key}: required but not set"
    else:
        line = f"{key} = {_describe(first.get('input'), loc)}: {message}"
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
