"""Provider `azure-postgres`: Azure Database for PostgreSQL Flexible Server.

settings.py: `database.azure`; component.py: `AzurePostgres` (needs pulumi-azure-native, from
the pyproject extra `azure`); mocks.py, plan.py, policy.py: its parts of the offline render, the deploy
plan and the policy pack.

Its member of the `database` union, `settings.AzurePostgresSettings`, is the provider
(`heimdall.database.provider.DatabaseProvider`); the registry names it.
"""
