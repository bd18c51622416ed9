"""Provider `gcp-cloudsql`: Google Cloud SQL for PostgreSQL.

settings.py: `database.cloudSql`; component.py: `CloudSqlPostgres` (needs pulumi-gcp, from
the pyproject extra `gcp`); mocks.py, plan.py, policy.py: its parts of the offline render, the deploy
plan and the policy pack.

`CloudSql` is the provider (`heimdall.database.provider.DatabaseProvider`); the registry names it.
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

class CloudSql(DatabaseProvider):
    name = "gcp-cloudsql"
    section = "cloudSql"
    description = "Settings of provider gcp-cloudsql (Google Cloud SQL for PostgreSQL)."
    managed = True
    missing_section = "provider 'gcp-cloudsql' needs the cloudSql section"
    sdk = "pulumi_gcp"
    extra = "gcp"

    def settings(self) -> type[DatabaseSettings]:
        from heimdall.database.gcp_cloudsql.settings import CloudSqlSettings

        return CloudSqlSettings

    def tls(self, database: DatabaseSettings) -> DatabaseTlsSettings:
        from heimdall.database.gcp_cloudsql.settings import CloudSqlSettings, tls_rules

        if not isinstance(database, CloudSqlSettings):
            raise wrong_member(self.name, database)
        return tls_rules(database)

    def build(
        self,
        name: str,
        database: DatabaseSettings,
        request: DatabaseRequest[None],
        opts: Optional[pulumi.ResourceOptions],
    ) -> DatabaseConnection:
        from heimdall.database.gcp_cloudsql.component import CloudSqlPostgres
        from heimdall.database.gcp_cloudsql.settings import CloudSqlSettings

        if not isinstance(database, CloudSqlSettings):
            raise wrong_member(self.name, database)
        return CloudSqlPostgres(name, request.with_section(database.cloud_sql), opts).connection

    def mocks(self) -> Mapping[str, Computed]:
        from heimdall.database.gcp_cloudsql.mocks import COMPUTED

        return COMPUTED

    def plan(self) -> Mapping[str, str]:
        from heimdall.database.gcp_cloudsql.plan import AWAITED

        return AWAITED

    def policy(self) -> Optional[PolicyChecks]:
        from heimdall.database.gcp_cloudsql.policy import CHECKS

        return CHECKS
