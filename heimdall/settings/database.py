"""`database`: the settings every provider shares, and the provider sections.

`DatabaseSettings` holds what every provider uses (name, username, port, TLS, the client
image, protection). Each provider's own section (`database.embedded`, `database.awsRds`,
...) comes from the provider's package through the registry: `root.settings_model()` adds
one optional field per registered provider. The validator here checks that exactly the
chosen provider's section is set, fills in its defaults, and lets the provider's rules
decide the effective TLS settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Optional, Union

from pydantic import Field, model_validator
from pydantic.alias_generators import to_snake

from heimdall.database import registry
from heimdall.settings.types import (
    PROJECT_ROOT,
    DnsSubdomain,
    Image,
    Model,
    PgDatabaseName,
    PgIdentifier,
    Port,
)


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


def section_field(section: str) -> str:
    """The model field of a provider section (`awsRds` -> `aws_rds`)."""
    return to_snake(section)


class DatabaseSettings(Model):
    """The shared database settings; `root.settings_model()` adds the provider sections."""

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

    @model_validator(mode="after")
    def _provider_and_section(self) -> DatabaseSettings:
        if self.provider not in registry.PROVIDERS:
            allowed = ", ".join(sorted(registry.PROVIDERS))
            raise ValueError(f"provider {self.provider!r} is not one of: {allowed}")
        chosen = registry.PROVIDERS[self.provider].section
        for entry in registry.PROVIDERS.values():
            if entry.section != chosen and getattr(self, section_field(entry.section), None) is not None:
                raise ValueError(
                    f"the {entry.section} section is set but provider is "
                    f"{self.provider!r}; remove it or set provider accordingly"
                )
        spec = registry.spec(self.provider)
        field = section_field(chosen)
        section = getattr(self, field, None)
        if section is None:
            if spec.missing_section is not None:
                raise ValueError(spec.missing_section)
            section = spec.model()
            # Filled in place: a validator's return value is ignored under DatabaseSettings(...).
            self._fill(field, section)
        tls = spec.rules(self, section) if spec.rules is not None else check_ca(self.tls)
        self._fill("tls", tls)
        return self

    def _fill(self, field: str, value: Any) -> None:
        object.__setattr__(self, field, value)  # the model is frozen once validated
        self.__pydantic_fields_set__.add(field)

    @property
    def section(self) -> Any:
        """The chosen provider's settings section."""
        return getattr(self, section_field(registry.PROVIDERS[self.provider].section))

    @property
    def managed(self) -> bool:
        return registry.spec(self.provider).managed
