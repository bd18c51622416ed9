"""Provider `external`: a PostgreSQL server that already exists.

settings.py: `database.external`; component.py: `ExternalDatabase`. No cloud SDK.
"""
