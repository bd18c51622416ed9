"""The provider registry: the one list of database providers.

Adding a provider is its package (see `provider.py` for what it holds) plus one line in
`DatabaseChoice`: its member of the `database` union, with its import. The union is the
type of `Settings.database` (discriminated by `provider`), so mypy and the JSON Schema see
every member; everything else reaches providers through the members' typed class
variables and methods (`DatabaseProvider`): the component a stack builds, the offline
render's mocks, the deploy plan, the policy pack and the install hints. A member imports
its component, mocks, plan and policy modules only when asked, so a stack never imports a
cloud SDK it does not use, and this module imports the members' settings (pydantic and the
standard library) and nothing of pulumi.
"""

from __future__ import annotations

import importlib.util
import typing
from typing import Optional, Union

from heimdall.database.aws_rds.settings import AwsRdsSettings
from heimdall.database.azure_postgres.settings import AzurePostgresSettings
from heimdall.database.cloudnative_pg.settings import CloudNativePgSettings
from heimdall.database.embedded.settings import EmbeddedSettings
from heimdall.database.external.settings import ExternalSettings
from heimdall.database.gcp_cloudsql.settings import CloudSqlSettings
from heimdall.settings.database import DatabaseSettings

# One line per provider. The first is the default of `database.provider`.
DatabaseChoice = Union[
    EmbeddedSettings,
    ExternalSettings,
    AwsRdsSettings,
    CloudSqlSettings,
    AzurePostgresSettings,
    CloudNativePgSettings,
]

PROVIDERS: tuple[type[DatabaseSettings], ...] = typing.get_args(DatabaseChoice)
BY_NAME: dict[str, type[DatabaseSettings]] = {p.provider_name: p for p in PROVIDERS}
DEFAULT = PROVIDERS[0]


def names() -> list[str]:
    """Every provider's `database.provider` value, sorted (for messages)."""
    return sorted(BY_NAME)


def find(name: str) -> type[DatabaseSettings]:
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
