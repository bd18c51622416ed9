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
        return f"{self.repository}:{self.tag}"


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


class Settings(Model):
    namespace: DnsLabel = "heimdall"
    create_namespace: bool = True
    image: Image = Image(repository="mitre/heimdall2", tag="2.13.1")
    image_pull_secrets: list[DnsSubdomain] = []
    replicas: int = Field(
        default=1,
        ge=0,
        le=50,
        description=(
            "Heimdall pods. 2 or more keep Heimdall serving during upgrades; 0 stops it "
            "(a maintenance window, see docs/upgrades.md)."
        ),
    )
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
