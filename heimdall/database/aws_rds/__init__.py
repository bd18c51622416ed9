"""Provider `aws-rds`: Amazon RDS for PostgreSQL.

settings.py: `database.awsRds`; component.py: `AwsRdsPostgres` (needs pulumi-aws, from
the pyproject extra `aws`); mocks.py, plan.py, policy.py: its parts of the offline render, the deploy
plan and the policy pack.

`AwsRds` is the provider (`heimdall.database.provider.DatabaseProvider`); the registry names it.
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

class AwsRds(DatabaseProvider):
    name = "aws-rds"
    section = "awsRds"
    description = "Settings of provider aws-rds (Amazon RDS for PostgreSQL)."
    managed = True
    missing_section = "provider 'aws-rds' needs the awsRds section"
    sdk = "pulumi_aws"
    extra = "aws"

    def settings(self) -> type[DatabaseSettings]:
        from heimdall.database.aws_rds.settings import AwsRdsSettings

        return AwsRdsSettings

    def tls(self, database: DatabaseSettings) -> DatabaseTlsSettings:
        from heimdall.database.aws_rds.settings import AwsRdsSettings, tls_rules

        if not isinstance(database, AwsRdsSettings):
            raise wrong_member(self.name, database)
        return tls_rules(database)

    def build(
        self,
        name: str,
        database: DatabaseSettings,
        request: DatabaseRequest[None],
        opts: Optional[pulumi.ResourceOptions],
    ) -> DatabaseConnection:
        from heimdall.database.aws_rds.component import AwsRdsPostgres
        from heimdall.database.aws_rds.settings import AwsRdsSettings

        if not isinstance(database, AwsRdsSettings):
            raise wrong_member(self.name, database)
        return AwsRdsPostgres(name, request.with_section(database.aws_rds), opts).connection

    def mocks(self) -> Mapping[str, Computed]:
        from heimdall.database.aws_rds.mocks import COMPUTED

        return COMPUTED

    def plan(self) -> Mapping[str, str]:
        from heimdall.database.aws_rds.plan import AWAITED

        return AWAITED

    def policy(self) -> Optional[PolicyChecks]:
        from heimdall.database.aws_rds.policy import CHECKS

        return CHECKS
