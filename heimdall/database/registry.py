"""The provider registry: the one list of database providers.

`database.provider` -> the provider's package. Adding a provider is its package (see
`provider.py` for what it holds) plus one line here. Everything else finds providers
through this map: the settings model (each provider's section and rules), the component
a stack builds, the offline render's mocks, the deploy plan and the policy pack. Parts
are imported only when asked for, so a stack never imports a cloud SDK it does not use,
and this module imports nothing but the standard library (the policy pack reads it).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from heimdall.database.provider import ProviderSpec


@dataclass(frozen=True)
class Entry:
    package: str  # the provider's package
    # Its section under `database` (camelCase): known without importing the package, so
    # that a stack validates only its own provider's section model.
    section: str


PROVIDERS: dict[str, Entry] = {
    "embedded": Entry("heimdall.database.embedded", "embedded"),
    "external": Entry("heimdall.database.external", "external"),
    "aws-rds": Entry("heimdall.database.aws_rds", "awsRds"),
    "gcp-cloudsql": Entry("heimdall.database.gcp_cloudsql", "cloudSql"),
    "azure-postgres": Entry("heimdall.database.azure_postgres", "azure"),
    "cloudnative-pg": Entry("heimdall.database.cloudnative_pg", "cloudNativePg"),
}


def part(provider: str, name: str) -> Optional[ModuleType]:
    """The provider package's module `name` (settings, component, mocks, plan, policy),
    or None when the package has none."""
    package = PROVIDERS[provider].package
    try:
        return importlib.import_module(f"{package}.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"{package}.{name}":
            raise  # the module exists but needs something missing
        return None


def spec(provider: str) -> ProviderSpec:
    module = part(provider, "settings")
    if module is None:
        raise LookupError(f"database provider {provider!r} has no settings module")
    found: ProviderSpec = module.PROVIDER
    return found


_COLLECTED: dict[tuple[object, ...], dict[str, Any]] = {}


def collect(name: str, attribute: str) -> dict[str, Any]:
    """`attribute` (a dict) of every provider's module `name`, merged in registry order:
    for example every provider's mocks.COMPUTED."""
    key = (name, attribute, *PROVIDERS.items())
    if key not in _COLLECTED:
        merged: dict[str, Any] = {}
        for provider in PROVIDERS:
            module = part(provider, name)
            if module is not None:
                merged.update(getattr(module, attribute, {}))
        _COLLECTED[key] = merged
    return _COLLECTED[key]


def package_path(provider: str) -> str:
    """The provider package's directory, relative to the project (for install hints)."""
    return PROVIDERS[provider].package.replace(".", "/")


def missing_sdk(provider: str) -> Optional[str]:
    """One line saying how to install the provider's SDK when it is not installed; None
    when it is (or the provider needs none)."""
    import importlib.util

    provider_spec = spec(provider)
    needed = provider_spec.sdk
    if needed is None or importlib.util.find_spec(needed) is not None:
        return None
    return (
        f"database provider {provider!r} needs the {needed.replace('_', '-')} SDK, which is "
        f"not installed: run `uv sync --locked --extra {provider_spec.extra}` in the project "
        "(it installs the SDK from uv.lock into .venv; `pulumi install` alone removes it)"
    )
