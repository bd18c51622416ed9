"""`build_database`: the chosen provider's component, declared from the stack's settings.

It hands the provider a `DatabaseRequest` (its own section, the shared database settings,
where its objects go) and returns the provider's `DatabaseConnection`. The component's
module is imported only here, so a stack imports only its own provider's SDK.
"""

from __future__ import annotations

from typing import Optional

import pulumi

from heimdall.database import registry
from heimdall.database.contract import (
    DatabaseConnection,
    DatabaseRequest,
    PasswordSource,
    Placement,
)
from heimdall.settings.database import DatabaseSettings
from heimdall.settings.operations import BackupS3


def build_database(
    name: str,
    database: DatabaseSettings,
    namespace: pulumi.Input[str],
    password: PasswordSource,
    placement: Placement,
    opts: Optional[pulumi.ResourceOptions] = None,
    backup_s3: Optional[BackupS3] = None,
) -> DatabaseConnection:
    """Declare the chosen provider's resources and return its connection."""
    spec = registry.spec(database.provider)
    module = registry.part(database.provider, "component")
    if module is None:
        raise LookupError(f"database provider {database.provider!r} has no component module")
    request: DatabaseRequest[object] = DatabaseRequest(
        section=database.section,
        name=database.name,
        username=database.username,
        port=database.port,
        tls=database.tls,
        protect=not database.allow_destroy,
        namespace=namespace,
        password=password,
        placement=placement,
        backup_s3=backup_s3,
    )
    component = getattr(module, spec.component)(name, request, opts)
    connection: DatabaseConnection = component.connection
    return connection
