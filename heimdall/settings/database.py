"""`database`: the settings every provider shares, and the TLS rules providers share.

`DatabaseSettings` holds what every provider uses (name, username, port, TLS, the client
image, protection) and the defaults of a provider's facts. Each provider's package
(heimdall/database/<provider>/settings.py) derives its member of the `database` union from
it, with its `provider` literal, its own section and its facts: the member is the provider
(`heimdall.database.provider.DatabaseProvider`). The registry lists the members; this
module imports nothing from heimdall.database but the facts' value types (for type
checking).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Optional, Union, get_args

from pydantic import Field, model_validator

from heimdall.settings.types import (
    PROJECT_ROOT,
    DnsSubdomain,
    Image,
    Model,
    PgDatabaseName,
    PgIdentifier,
    Port,
)

if TYPE_CHECKING:
    from heimdall.database.facts import Computed, PolicyChecks


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
            "store). Unset, it follows the provider: verify for aws-rds, gcp-cloudsql, "
            "azure-postgres and the in-cluster providers whose servers require TLS; disable "
            "for embedded, external, and gcp-cloudsql with the Auth Proxy (the proxy "
            "encrypts and verifies)."
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


# --- TLS rules the providers share ------------------------------------------------------------


def with_default_mode(
    tls: DatabaseTlsSettings, mode: Literal["disable", "require", "verify"]
) -> DatabaseTlsSettings:
    """`tls` with `mode` when the stack did not set one."""
    if "mode" in tls.model_fields_set:
        return tls
    return tls.model_copy(update={"mode": mode})


def require_encryption(provider: str, tls: DatabaseTlsSettings) -> None:
    """A server that accepts TLS connections only."""
    if tls.mode == "disable":
        raise ValueError(
            f"provider {provider!r} accepts TLS connections only: tls.mode disable "
            "cannot connect; use verify (the default) or require"
        )


def check_ca(tls: DatabaseTlsSettings, auto_ca: bool = False) -> DatabaseTlsSettings:
    """`ca` only with verify; `auto` only where the provider offers the server's CA."""
    if tls.ca is not None and tls.mode != "verify":
        raise ValueError(f"tls.ca is only used with tls.mode verify (mode is {tls.mode})")
    if tls.ca == "auto" and not auto_ca:
        raise ValueError(
            "tls.ca auto is only for gcp-cloudsql; give a PEM file path or a ConfigMap {name, key}"
        )
    return tls


@dataclass(frozen=True)
class StackFacts:
    """What a provider's rules across sections see of the rest of the stack's settings
    (`DatabaseSettings.check_stack`), built by `Settings`."""

    namespace: str  # namespace
    min_replicas: int  # the fewest Heimdall pods in normal operation
    existing_secret: bool  # secrets.existingSecret is set
    database_password: bool  # secrets.databasePassword is set
    restore_from: Optional[str]  # restore.from
    object_store: bool  # backup.s3 is set


class DatabaseSettings(Model):
    """The database settings every provider shares: the base of each member of the
    `database` union (`heimdall.database.registry.DatabaseChoice`), which adds its
    `provider` literal, its own section, its facts and its methods (`effective_tls`,
    `build`: see `heimdall.database.provider.DatabaseProvider`)."""

    # The provider's facts (DatabaseProvider), the defaults here. `provider_name` is the
    # member's `provider` literal, read from it when the member is defined.
    provider_name: ClassVar[str] = "embedded"
    section: ClassVar[str] = ""
    description: ClassVar[str] = ""
    managed: ClassVar[bool] = False
    missing_section: ClassVar[Optional[str]] = None
    sdk: ClassVar[Optional[str]] = None
    extra: ClassVar[Optional[str]] = None

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        values = get_args(cls.model_fields["provider"].annotation)
        if len(values) == 1 and isinstance(values[0], str):
            cls.provider_name = values[0]

    @classmethod
    def mocks(cls) -> Mapping[str, Computed]:
        """What the offline render's mocks fill in for its resources, by type token."""
        return {}

    @classmethod
    def plan(cls) -> Mapping[str, str]:
        """What `pulumi up` waits for among its resources, by type token."""
        return {}

    @classmethod
    def policy(cls) -> Optional[PolicyChecks]:
        """Its resources' policy checks."""
        return None

    provider: str = Field(default="embedded", description="Where the database comes from: embedded (PostgreSQL in the cluster) or external (an existing server); the managed providers are listed in the registry.")
    name: PgDatabaseName = Field(default="heimdall", description="Database name Heimdall uses; a name such as heimdall-database (the Helm chart's) is quoted wherever it reaches SQL.")
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

    @property
    def server_major(self) -> Optional[int]:
        """The server's PostgreSQL major version when the settings say it; None otherwise."""
        return None

    @property
    def uses_store(self) -> bool:
        """Whether the provider archives into (or recovers from) the stack's object store
        (`backup.s3`) itself."""
        return False

    def check_stack(self, stack: StackFacts) -> None:
        """The provider's rules across sections: ValueError with one sentence naming the
        key it refuses."""
