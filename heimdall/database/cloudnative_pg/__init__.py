"""Provider `cloudnative-pg`: a highly available PostgreSQL cluster in Kubernetes, run by
the CloudNativePG operator.

settings.py: `database.cloudNativePg`; component.py: `CloudNativePgCluster` (the
operator's chart, the Cluster, backups to S3); plan.py, policy.py: its parts of the deploy
plan and the policy pack. No SDK beyond the core.

Its member of the `database` union, `settings.CloudNativePgSettings`, is the provider
(`heimdall.database.provider.DatabaseProvider`); the registry names it.
"""
