"""Provider `azure-postgres`: Azure Database for PostgreSQL Flexible Server.

settings.py: `database.azure`; component.py: `AzurePostgres` (needs pulumi-azure-native, from
the pyproject extra `azure`); mocks.py, plan.py, policy.py: its parts of the offline render, the deploy
plan and the policy pack.

`AzurePostgres` is the provider (`heimdall.database.provider.DatabaseProvider`); the registry names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Optional

from heimdall.database.provider import DatabaseProvider, PolicyChecks, wrong_member

if TYPE_CHECKING:
    import pulumi

    from heimdall.database.contract import DatabaseConnection, DatabaseRequest
    from heimdall.database.provider import Computed
    from heimdall.settings.database import DatabaseSettings, DatabaseTlsSettings

class AzurePostgres(DatabaseProvider):
    name = "azure-postgres"
    section = "azure"
    description = "Settings of provider azure-postgres (Azure Database for PostgreSQL Flexible Server)."
    managed = True
    missing_section = "provider 'azure-postgres' needs the azure section"
    sdk = "pulumi_azure_native"
    extra = "azure"

    def settings(self) -> type[DatabaseSettings]:
        from heimdall.database.azure_postgres.settings import AzurePostgresSettings

        return AzurePostgresSettings

    def tls(self, database: DatabaseSettings) -> DatabaseTlsSettings:
        from heimdall.database.azure_postgres.settings import AzurePostgresSettings, tls_rules

        if not isinstance(database, AzurePostgresSettings):
            raise wrong_member(self.name, database)
        return tls_rules(database)

    def build(
        self,
        name: str,
        database: DatabaseSettings,
        request: DatabaseRequest[None],
        opts: Optional[pulumi.ResourceOptions],
    ) -> DatabaseConnection:
        from heimdall.database.azure_postgres.component import AzurePostgres
        from heimdall.database.azure_postgres.settings import AzurePostgresSettings

        if not isinstance(database, AzurePostgresSettings):
            raise wrong_member(self.name, database)
        return AzurePostgres(name, request.with_section(database.azure), opts).connection

    def mocks(self) -> Mapping[str, Computed]:
        from heimdall.database.azure_postgres.mocks import COMPUTED

        return COMPUTED

    def plan(self) -> Mapping[str, str]:
        from heimdall.database.azure_postgres.plan import AWAITED

        return AWAITED

    def policy(self) -> Optional[PolicyChecks]:
        from heimdall.database.azure_postgres.policy import CHECKS

        return CHECKS
