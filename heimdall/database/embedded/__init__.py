"""Provider `embedded`: PostgreSQL in the cluster, from the official `postgres` image.

settings.py: `database.embedded`; component.py: `EmbeddedPostgres`. No cloud SDK.

Its member of the `database` union, `settings.EmbeddedSettings`, is the provider
(`heimdall.database.provider.DatabaseProvider`); the registry names it.
"""
