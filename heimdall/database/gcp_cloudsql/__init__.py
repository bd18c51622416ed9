"""Provider `gcp-cloudsql`: Google Cloud SQL for PostgreSQL.

settings.py: `database.cloudSql`; component.py: `CloudSqlPostgres` (needs pulumi-gcp, from
the pyproject extra `gcp`); mocks.py, plan.py, policy.py: its parts of the offline render, the deploy
plan and the policy pack.

Its member of the `database` union, `settings.CloudSqlSettings`, is the provider
(`heimdall.database.provider.DatabaseProvider`); the registry names it.
"""
