"""The provider registry: `database.provider` -> component, imported only when chosen.

Adding a provider is one module plus one line here (and its settings section). Components
are named as "module:Class" strings so that a stack never imports a cloud SDK it does not
use.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

import pulumi

if TYPE_CHECKING:
    from heimdall.database.contract import DatabaseConnection, DatabaseRequest


@dataclass(frozen=True)
class ProviderEntry:
    section: str  # the settings field under `database` that configures it
    component: str  # "module:Class" of a ComponentResource with a `.connection`
    # A managed cloud database: the section is required, the server accepts TLS only
    # (tls.mode defaults to verify), and the provider sets the user's password itself.
    managed: bool = False


PROVIDERS: dict[str, ProviderEntry] = {
    "embedded": ProviderEntry("embedded", "heimdall.database.embedded:EmbeddedPostgres"),
    "external": ProviderEntry("external", "heimdall.database.external:ExternalDatabase"),
    "aws-rds": ProviderEntry("aws_rds", "heimdall.database.aws_rds:AwsRdsPostgres", managed=True),
    "gcp-cloudsql": ProviderEntry(
        "cloud_sql", "heimdall.database.gcp_cloudsql:CloudSqlPostgres", managed=True
    ),
    "azure-postgres": ProviderEntry(
        "azure", "heimdall.database.azure_postgres:AzurePostgres", managed=True
    ),
}


def build_database(
    name: str, request: DatabaseRequest, opts: Optional[pulumi.ResourceOptions] = None
) -> DatabaseConnection:
    """Declare the chosen provider's resources and return its connection."""
    entry = PROVIDERS[request.settings.database.provider]
    module_name, class_name = entry.component.split(":")
    component_class = getattr(importlib.import_module(module_name), class_name)
    component = component_class(name, request, opts)
    connection: DatabaseConnection = component.connection
    return connection
