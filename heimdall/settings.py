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
        use_attribute_docstrings=True,
    )


# --- shared sections ----------------------------------------------------------------------


class ResourceAmounts(Model):
    cpu: Optional[Quantity] = None
    """CPU, a Kubernetes quantity (e.g. 250m, 1)."""
    memory: Optional[Quantity] = None
    """Memory, a Kubernetes quantity (e.g. 512Mi, 1Gi)."""


class Resources(Model):
    requests: ResourceAmounts = ResourceAmounts()
    """What the scheduler reserves."""
    limits: ResourceAmounts = ResourceAmounts()
    """The most the container may use."""


class Image(Model):
    repository: ImageRepository
    """Image repository."""
    tag: ImageTag
    """Image tag; pin a version (moving tags make `pulumi up` non-reproducible)."""
    pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    """Always, IfNotPresent or Never."""

    @property
    def reference(self) -> str:
        return f"{self.repository}:{self.tag}"


def _resources(cpu_req: str, mem_req: str, cpu_lim: str, mem_lim: str) -> Resources:
    return Resources(
        requests=ResourceAmounts(cpu=cpu_req, memory=mem_req),
        limits=ResourceAmounts(cpu=cpu_lim, memory=mem_lim),
    )


# --- database -----------------------------------------------------------------------------


class Persistence(Model):
    enabled: bool = True
    """Keep the data on a PersistentVolumeClaim; false keeps it in an emptyDir (lost with the pod: tests only)."""
    size: Quantity = "10Gi"
    """Size of the data volume."""
    storage_class: str = ""
    """StorageClass of the data volume; empty uses the cluster's default."""

    @model_validator(mode="after")
    def _storage_class_name(self) -> Persistence:
        if self.storage_class:
            _dns_subdomain(self.storage_class)
        return self


class EmbeddedDatabase(Model):
    image: Image = Image(repository="postgres", tag="17")
    """The official PostgreSQL image (17 by default; 18+ changes the data layout, handled)."""
    persistence: Persistence = Persistence()
    """The data volume."""
    resources: Resources = _resources("100m", "128Mi", "200m", "256Mi")
    """Requests and limits of the PostgreSQL container (as the original chart)."""


class ExternalDatabase(Model):
    host: Hostname
    """Host name of the existing PostgreSQL server."""
    existing_secret: Optional[DnsSubdomain] = None
    """A Secret you manage that holds the database password."""
    existing_secret_password_key: str = "password"
    """The key of the password in existingSecret."""
    password: Optional[SecretStr] = None
    """The database password as a Pulumi secret (`pulumi config set --secret --path database.external.password`)."""

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
    """disable (plain TCP), require (encrypted, certificate not verified) or verify (encrypted and verified)."""


class Database(Model):
    provider: str = "embedded"
    """Where the database comes from: embedded (PostgreSQL in the cluster) or external (an existing server); the managed providers are listed in the registry."""
    name: PgIdentifier = "heimdall"
    """Database name Heimdall uses."""
    username: PgIdentifier = "postgres"
    """Database user Heimdall connects as."""
    port: Port = 5432
    """Database port."""
    client_image: Image = Image(repository="postgres", tag="17")
    """Image with the PostgreSQL client tools (pg_isready) for the wait-for-database init container; its major version should be at least the server's."""
    wait_timeout_seconds: int = Field(default=300, ge=10, le=3600)
    """How long the wait-for-database init container waits before it fails with a clear message."""
    tls: DatabaseTlsSettings = DatabaseTlsSettings()
    """TLS between Heimdall (and its Jobs) and the database."""
    allow_destroy: bool = False
    """Allow Pulumi to delete the database and its volumes. False protects them: a change that would delete them fails at `pulumi up`."""
    embedded: Optional[EmbeddedDatabase] = None
    """Settings of the embedded PostgreSQL (provider embedded)."""
    external: Optional[ExternalDatabase] = None
    """Settings of an existing PostgreSQL server (provider external)."""

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
        return self


# --- Heimdall -----------------------------------------------------------------------------


class SecretKeys(Model):
    """Key names inside `secrets.existingSecret`."""

    jwt_secret: str = "JWT_SECRET"
    """Key of JWT_SECRET in existingSecret."""
    api_key_secret: str = "API_KEY_SECRET"
    """Key of API_KEY_SECRET in existingSecret."""
    admin_password: str = "ADMIN_PASSWORD"
    """Key of ADMIN_PASSWORD in existingSecret."""
    database_password: str = "DATABASE_PASSWORD"
    """Key of the database password in existingSecret."""


class Secrets(Model):
    existing_secret: Optional[DnsSubdomain] = None
    """A Secret you manage holding every secret (keys as in `keys`); nothing is generated."""
    keys: SecretKeys = SecretKeys()
    """Key names inside existingSecret."""
    jwt_secret: Optional[SecretStr] = None
    """JWT_SECRET as a Pulumi secret (32+ characters); generated when unset."""
    api_key_secret: Optional[SecretStr] = None
    """API_KEY_SECRET as a Pulumi secret (32+ characters); generated when unset."""
    admin_password: Optional[SecretStr] = None
    """ADMIN_PASSWORD of the admin user the seeders create, as a Pulumi secret; generated when unset."""
    database_password: Optional[SecretStr] = None
    """The database password as a Pulumi secret; generated when unset (except for an external database)."""

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
    """ADMIN_EMAIL: the administrator the seeders create when no admin exists."""


class Migration(Model):
    commands: list[Annotated[str, Field(min_length=1)]] = Field(
        default=[
            "yarn backend sequelize db:migrate",
            "yarn backend sequelize db:seed:all",
        ],
        min_length=1,
    )
    """Shell commands the migration Job runs in the Heimdall image, in /app, in order (default: those of image 2.13.x; 2.12.x and older use `sequelize-cli`)."""
    timeout_seconds: int = Field(default=600, ge=60, le=86400)
    """activeDeadlineSeconds of the migration Job; Pulumi waits this long plus two minutes."""
    backoff_limit: int = Field(default=2, ge=0, le=10)
    """Retries of the migration Job before the update fails."""
    run_id: Optional[Annotated[str, Field(max_length=63, pattern=r"^[A-Za-z0-9._-]+$")]] = None
    """Change it to run the migrations again without any other change."""
    resources: Resources = _resources("250m", "512Mi", "1", "1Gi")
    """Requests and limits of the migration container."""


class ProbeTiming(Model):
    initial_delay_seconds: int = Field(default=0, ge=0)
    """Seconds before the first probe."""
    period_seconds: int = Field(default=10, ge=1)
    """Seconds between probes."""
    timeout_seconds: int = Field(default=5, ge=1)
    """Seconds before a probe times out."""
    failure_threshold: int = Field(default=3, ge=1)
    """Failures in a row before the probe fails."""


class Probes(Model):
    path: str = Field(default="/server", pattern=r"^/[^\s]*$")
    """HTTP path probed. /server is a real, cheap route; Heimdall has no health endpoint and answers unknown paths with the web app (200)."""
    startup: ProbeTiming = ProbeTiming(period_seconds=10, failure_threshold=36)
    """Startup probe: up to 6 minutes for the server to listen."""
    readiness: ProbeTiming = ProbeTiming()
    """Readiness probe."""
    liveness: ProbeTiming = ProbeTiming()
    """Liveness probe."""


class Ingress(Model):
    enabled: bool = False
    """Create an Ingress."""
    class_name: Optional[DnsSubdomain] = None
    """IngressClass name; empty uses the cluster's default."""
    host: Optional[Hostname] = None
    """Host name users reach Heimdall at (required when enabled)."""
    tls_secret_name: Optional[DnsSubdomain] = None
    """Secret with the TLS certificate for host; also makes the derived URL https."""
    annotations: dict[str, str] = {}
    """Annotations of the Ingress (e.g. for cert-manager or body size)."""

    @model_validator(mode="after")
    def _host_when_enabled(self) -> Ingress:
        if self.enabled and not self.host:
            raise ValueError("enabled ingress needs a host")
        if self.host and self.host.startswith("*."):
            raise ValueError("host must not be a wildcard: Heimdall needs one external URL")
        return self


class Settings(Model):
    namespace: DnsLabel = "heimdall"
    """Kubernetes namespace of every object."""
    create_namespace: bool = True
    """Create the namespace (protected like the database: deleting it deletes its volumes)."""
    image: Image = Image(repository="mitre/heimdall2", tag="2.13.1")
    """The Heimdall image."""
    image_pull_secrets: list[DnsSubdomain] = []
    """Secrets used to pull images."""
    replicas: int = Field(default=1, ge=1, le=50)
    """Number of Heimdall pods."""
    resources: Resources = _resources("250m", "512Mi", "1", "1Gi")
    """Requests and limits of the Heimdall container."""
    start_command: list[Annotated[str, Field(min_length=1)]] = Field(
        default=["yarn", "backend", "start"], min_length=1
    )
    """Command of the Heimdall container; migrations are the Job's work."""
    env: dict[EnvName, str] = {}
    """Extra plain environment variables for Heimdall (ConfigMap); secret names are refused."""
    external_url: Optional[HttpUrl] = None
    """EXTERNAL_URL, the URL users reach Heimdall at; derived from the ingress when unset."""
    database: Database = Field(default_factory=lambda: Database())
    """The database: provider and its settings."""
    secrets: Secrets = Secrets()
    """Heimdall's secrets: generated, supplied as Pulumi secrets, or an existing Secret."""
    admin: Admin = Admin()
    """The administrator account."""
    migration: Migration = Migration()
    """The migration Job."""
    probes: Probes = Probes()
    """Probes of the Heimdall container."""
    ingress: Ingress = Ingress()
    """The Ingress."""

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
        return self

    @property
    def url(self) -> str:
        """The URL users open: externalUrl, else the ingress host, else the in-cluster URL."""
        if self.external_url:
            return self.external_url
        if self.ingress.enabled and self.ingress.host:
            scheme = "https" if self.ingress.tls_secret_name else "http"
            return f"{scheme}://{self.ingress.host}"
        return f"http://heimdall.{self.namespace}.svc.cluster.local:3000"

    @property
    def external_url_env(self) -> Optional[str]:
        """EXTERNAL_URL for the app: set only when users reach Heimdall from outside."""
        if self.external_url or self.ingress.enabled:
            return self.url
        return None


# --- loading ------------------------------------------------------------------------------


class SettingsError(Exception):
    """A stack's settings are invalid. The message is one line, fit for a user."""


_SENSITIVE_PATHS = ("password", "secret", "token", "key")


def _describe(value: Any, loc: str) -> str:
    if any(word in loc.lower() for word in _SENSITIVE_PATHS) and not loc.lower().endswith(
        ("existingsecret", "keys", "existingsecretpasswordkey", "tlssecretname")
    ):
        return "<hidden>"
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _first_error_line(error: ValidationError) -> str:
    errors = error.errors(include_url=False)
    first = errors[0]
    loc = ".".join(str(part) for part in first["loc"])
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
