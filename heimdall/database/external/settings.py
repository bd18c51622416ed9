"""`database.external`: a PostgreSQL server that already exists."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from pydantic import Field, SecretStr, model_validator

from heimdall.database.provider import ProviderSpec
from heimdall.settings.types import DnsSubdomain, Hostname, Model, SecretKeyName

if TYPE_CHECKING:
    from heimdall.settings.root import Settings


class ExternalDatabase(Model):
    host: Hostname = Field(description="Host name of the existing PostgreSQL server.")
    existing_secret: Optional[DnsSubdomain] = Field(default=None, description="A Secret you manage that holds the database password.")
    existing_secret_password_key: SecretKeyName = Field(default="password", description="The key of the password in existingSecret.")
    password: Optional[SecretStr] = Field(default=None, description="The database password as a Pulumi secret (`pulumi config set --secret --path database.external.password`).")

    @model_validator(mode="after")
    def _one_password_source(self) -> ExternalDatabase:
        if self.existing_secret and self.password is not None:
            raise ValueError(
                "set either existingSecret or password (a Pulumi secret), not both"
            )
        return self


def _stack_rules(settings: Settings) -> None:
    external = settings.database.section
    if (
        not external.existing_secret
        and external.password is None
        and not settings.secrets.existing_secret
        and settings.secrets.database_password is None
    ):
        raise ValueError(
            "database.external needs a password: set database.external.existingSecret "
            "(a Secret you manage) or database.external.password (a Pulumi secret)"
        )


PROVIDER = ProviderSpec(
    model=ExternalDatabase,
    description="Settings of an existing PostgreSQL server (provider external).",
    component="ExternalDatabase",
    missing_section="provider 'external' needs the external section with at least host",
    stack_rules=_stack_rules,
)
