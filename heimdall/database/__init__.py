"""Database providers: interchangeable components behind one contract.

Every provider is a `pulumi.ComponentResource` that takes `DatabaseRequest` and exposes a
`DatabaseConnection` as `.connection`. The Heimdall workload, the migration Job and the
day-2 Jobs consume only the connection; they never ask which provider made it.
"""
