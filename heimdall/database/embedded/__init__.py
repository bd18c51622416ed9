"""Provider `embedded`: PostgreSQL in the cluster, from the official `postgres` image.

settings.py: `database.embedded`; component.py: `EmbeddedPostgres`. No cloud SDK.
"""
