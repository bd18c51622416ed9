"""Provider `cloudnative-pg`: a highly available PostgreSQL cluster in Kubernetes, run by
the CloudNativePG operator.

settings.py: `database.cloudNativePg`; component.py: `CloudNativePgCluster` (the
operator's chart, the Cluster, backups to S3); plan.py, policy.py: its parts of the deploy
plan and the policy pack. No SDK beyond the core.

`CloudNativePg` is the provider (`heimdall.database.provider.DatabaseProvider`); the registry names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Optional

from heimdall.database.provider import DatabaseProvider, PolicyChecks, wrong_member

if TYPE_CHECKING:
    import pulumi

    from heimdall.database.contract import DatabaseConnection, DatabaseRequest
    from heimdall.settings.database import DatabaseSettings, DatabaseTlsSettings

class CloudNativePg(DatabaseProvider):
    name = "cloudnative-pg"
    section = "cloudNativePg"
    description = "Settings of provider cloudnative-pg (a PostgreSQL cluster run by the CloudNativePG operator)."

    def settings(self) -> type[DatabaseSettings]:
        from heimdall.database.cloudnative_pg.settings import CloudNativePgSettings

        return CloudNativePgSettings

    def tls(self, database: DatabaseSettings) -> DatabaseTlsSettings:
        from heimdall.database.cloudnative_pg.settings import CloudNativePgSettings, tls_rules

        if not isinstance(database, CloudNativePgSettings):
            raise wrong_member(self.name, database)
        return tls_rules(database)

    def build(
        self,
        name: str,
        database: DatabaseSettings,
        request: DatabaseRequest[None],
        opts: Optional[pulumi.ResourceOptions],
    ) -> DatabaseConnection:
        from heimdall.database.cloudnative_pg.component import CloudNativePgCluster
        from heimdall.database.cloudnative_pg.settings import CloudNativePgSettings

        if not isinstance(database, CloudNativePgSettings):
            raise wrong_member(self.name, database)
        return CloudNativePgCluster(name, request.with_section(database.cloud_native_pg), opts).connection

    def plan(self) -> Mapping[str, str]:
        from heimdall.database.cloudnative_pg.plan import AWAITED

        return AWAITED

    def policy(self) -> Optional[PolicyChecks]:
        from heimdall.database.cloudnative_pg.policy import CHECKS

        return CHECKS
