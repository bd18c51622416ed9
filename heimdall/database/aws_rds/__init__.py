"""Provider `aws-rds`: Amazon RDS for PostgreSQL.

settings.py: `database.awsRds`; component.py: `AwsRdsPostgres` (needs pulumi-aws, from
the pyproject extra `aws`); mocks.py, plan.py, policy.py: its parts of the offline render, the deploy
plan and the policy pack.

Its member of the `database` union, `settings.AwsRdsSettings`, is the provider
(`heimdall.database.provider.DatabaseProvider`); the registry names it.
"""
