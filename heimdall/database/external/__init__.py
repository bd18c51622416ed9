"""Provider `external`: a PostgreSQL server that already exists.

settings.py: `database.external`; component.py: `ExternalDatabase`. No cloud SDK.

`External` is the provider (`heimdall.database.provider.DatabaseProvider`); the registry names it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from heimdall.database.provider import DatabaseProvider, wrong_member

if TYPE_CHECKING:
    import pulumi

    from heimdall.database.contract import DatabaseConnection, DatabaseRequest
    from heimdall.settings.database import DatabaseSettings, DatabaseTlsSettings

class External(DatabaseProvider):
    name = "external"
    section = "external"
    description = "Settings of an existing PostgreSQL server (provider external)."
    missing_section = "provider 'external' needs the external section with at least host"

    def settings(self) -> type[DatabaseSettings]:
        from heimdall.database.external.settings import ExternalSettings

        return ExternalSettings

    def tls(self, database: DatabaseSettings) -> DatabaseTlsSettings:
        from heimdall.database.external.settings import ExternalSettings, tls_rules

        if not isinstance(database, ExternalSettings):
            raise wrong_member(self.name, database)
        return tls_rules(database)

    def build(
        self,
        name: str,
        database: DatabaseSettings,
        request: DatabaseRequest[None],
        opts: Optional[pulumi.ResourceOptions],
    ) -> DatabaseConnection:
        from heimdall.database.external.component import ExternalDatabase
        from heimdall.database.external.settings import ExternalSettings

        if not isinstance(database, ExternalSettings):
            raise wrong_member(self.name, database)
        return ExternalDatabase(name, request.with_section(database.external), opts).connection
