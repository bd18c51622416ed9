"""Provider `external`: a PostgreSQL server that already exists.

settings.py: `database.external`; component.py: `ExternalDatabase`. No cloud SDK.

Its member of the `database` union, `settings.ExternalSettings`, is the provider
(`heimdall.database.provider.DatabaseProvider`); the registry names it.
"""
