"""`database.external`: a PostgreSQL server that already exists."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal, Optional

from pydantic import Field, SecretStr, model_validator

from heimdall.settings.database import DatabaseSettings, DatabaseTlsSettings, StackFacts, check_ca
from heimdall.settings.types import DnsSubdomain, Hostname, Model, SecretKeyName

if TYPE_CHECKING:
    import pulumi

    from heimdall.database.contract import DatabaseConnection, DatabaseRequest


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


class ExternalSettings(DatabaseSettings):
    """`database` with provider external: the shared settings and `database.external`."""

    section: ClassVar[str] = "external"
    description: ClassVar[str] = "Settings of an existing PostgreSQL server (provider external)."
    missing_section: ClassVar[Optional[str]] = "provider 'external' needs the external section with at least host"
    provider: Literal["external"] = "external"
    external: ExternalDatabase

    def check_stack(self, stack: StackFacts) -> None:
        external = self.external
        if (
            not external.existing_secret
            and external.password is None
            and not stack.existing_secret
            and not stack.database_password
        ):
            raise ValueError(
                "database.external needs a password: set database.external.existingSecret "
                "(a Secret you manage) or database.external.password (a Pulumi secret)"
            )

    def effective_tls(self) -> DatabaseTlsSettings:
        return check_ca(self.tls)

    def build(
        self,
        name: str,
        request: DatabaseRequest[None],
        opts: Optional[pulumi.ResourceOptions],
    ) -> DatabaseConnection:
        from heimdall.database.external.component import ExternalDatabase as Component

        return Component(name, request.with_section(self.external), opts).connection
