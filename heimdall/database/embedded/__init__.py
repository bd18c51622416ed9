"""Provider `embedded`: PostgreSQL in the cluster, from the official `postgres` image.

settings.py: `database.embedded`; component.py: `EmbeddedPostgres`. No cloud SDK.

`Embedded` is the provider (`heimdall.database.provider.DatabaseProvider`); the registry names it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from heimdall.database.provider import DatabaseProvider, wrong_member

if TYPE_CHECKING:
    import pulumi

    from heimdall.database.contract import DatabaseConnection, DatabaseRequest
    from heimdall.settings.database import DatabaseSettings, DatabaseTlsSettings

class Embedded(DatabaseProvider):
    name = "embedded"
    section = "embedded"
    description = "Settings of the embedded PostgreSQL (provider embedded)."

    def settings(self) -> type[DatabaseSettings]:
        from heimdall.database.embedded.settings import EmbeddedSettings

        return EmbeddedSettings

    def tls(self, database: DatabaseSettings) -> DatabaseTlsSettings:
        from heimdall.database.embedded.settings import EmbeddedSettings, tls_rules

        if not isinstance(database, EmbeddedSettings):
            raise wrong_member(self.name, database)
        return tls_rules(database)

    def build(
        self,
        name: str,
        database: DatabaseSettings,
        request: DatabaseRequest[None],
        opts: Optional[pulumi.ResourceOptions],
    ) -> DatabaseConnection:
        from heimdall.database.embedded.component import EmbeddedPostgres
        from heimdall.database.embedded.settings import EmbeddedSettings

        if not isinstance(database, EmbeddedSettings):
            raise wrong_member(self.name, database)
        return EmbeddedPostgres(name, request.with_section(database.embedded), opts).connection
