"""The provider registry: the one list of database providers.

Adding a provider is its package (see `provider.py` for what it holds) plus one line here:
its class, with its import. Everything else reaches providers through this list and their
typed `DatabaseProvider` methods: the settings' `database` union (each provider's member),
the component a stack builds, the offline render's mocks, the deploy plan, the policy pack
and the install hints. The classes import their parts only when asked, so a stack never
imports a cloud SDK it does not use, and this module imports nothing but the standard
library and the providers' `__init__` modules (the policy pack reads it).
"""

from __future__ import annotations

import importlib.util
from typing import Optional

from heimdall.database.aws_rds import AwsRds
from heimdall.database.azure_postgres import AzurePostgres
from heimdall.database.cloudnative_pg import CloudNativePg
from heimdall.database.embedded import Embedded
from heimdall.database.external import External
from heimdall.database.gcp_cloudsql import CloudSql
from heimdall.database.provider import DatabaseProvider

# One line per provider. The first is the default of `database.provider`.
PROVIDERS: tuple[DatabaseProvider, ...] = (
    Embedded(),
    External(),
    AwsRds(),
    CloudSql(),
    AzurePostgres(),
    CloudNativePg(),
)

BY_NAME: dict[str, DatabaseProvider] = {provider.name: provider for provider in PROVIDERS}
DEFAULT = PROVIDERS[0]


def names() -> list[str]:
    """Every provider's `database.provider` value, sorted (for messages)."""
    return sorted(BY_NAME)


def find(name: str) -> DatabaseProvider:
    """The provider named `name`; KeyError for an unknown one (the settings refuse it)."""
    return BY_NAME[name]


def missing_sdk(name: str) -> Optional[str]:
    """One line saying how to install the provider's SDK when it is not installed; None
    when it is (or the provider needs none)."""
    provider = find(name)
    needed = provider.sdk
    if needed is None or importlib.util.find_spec(needed) is not None:
        return None
    return (
        f"database provider {name!r} needs the {needed.replace('_', '-')} SDK, which is "
        f"not installed: run `uv sync --locked --extra {provider.extra}` in the project "
        "(it installs the SDK from uv.lock into .venv; `pulumi install` alone removes it)"
    )
