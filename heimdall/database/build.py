"""`build_database`: the chosen provider's component, declared from the stack's settings.

It converts the settings into the contract's own value types (the TLS request, the object
store; `kube.stack_placement` makes the `Placement`) and hands the chosen provider (the
stack's member of the `database` union) a `DatabaseRequest`; the provider declares its
component and returns its `DatabaseConnection`. The component's module is imported only by
its provider's `build`, so a stack imports only its own provider's SDK.
"""

from __future__ import annotations

from typing import Optional

import pulumi

from heimdall.database import registry
from heimdall.database.contract import (
    ConfigMapKeyRef,
    DatabaseConnection,
    DatabaseRequest,
    ObjectStore,
    PasswordSource,
    Placement,
    TlsRequest,
)
from heimdall.database.provider import DatabaseProvider
from heimdall.settings.database import ConfigMapRef, DatabaseTlsSettings
from heimdall.settings.operations import BackupS3


def tls_request(tls: DatabaseTlsSettings) -> TlsRequest:
    """The effective `database.tls` as the contract's `TlsRequest`."""
    if isinstance(tls.ca, ConfigMapRef):
        return TlsRequest(mode=tls.mode, ca=ConfigMapKeyRef(tls.ca.name, tls.ca.key))
    return TlsRequest(mode=tls.mode, ca_pem=tls.ca_pem(), auto_ca=tls.ca == "auto")


def object_store(s3: Optional[BackupS3]) -> Optional[ObjectStore]:
    """`backup.s3` as the contract's `ObjectStore` (under this stack's key prefix)."""
    if s3 is None:
        return None
    return ObjectStore(
        bucket=s3.bucket,
        prefix=s3.key_prefix(pulumi.get_stack()),
        region=s3.region,
        secret=s3.existing_secret,
        access_key_id_key=s3.access_key_id_key,
        secret_access_key_key=s3.secret_access_key_key,
        endpoint=s3.endpoint,
    )


def build_database(
    name: str,
    database: registry.DatabaseChoice,
    namespace: pulumi.Input[str],
    password: PasswordSource,
    placement: Placement,
    opts: Optional[pulumi.ResourceOptions] = None,
    backup_s3: Optional[BackupS3] = None,
) -> DatabaseConnection:
    """Declare the chosen provider's resources and return its connection."""
    request: DatabaseRequest[None] = DatabaseRequest(
        section=None,
        name=database.name,
        username=database.username,
        port=database.port,
        tls=tls_request(database.tls),
        protect=not database.allow_destroy,
        namespace=namespace,
        password=password,
        placement=placement,
        object_store=object_store(backup_s3),
    )
    # Every member of the union is a provider: mypy checks each against the protocol here.
    provider: DatabaseProvider = database
    return provider.build(name, request, opts)
