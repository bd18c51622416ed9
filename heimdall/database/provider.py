"""What a database provider is: the `DatabaseProvider` protocol its package implements.

A provider is a package (under heimdall/database/, or anywhere importable) whose
`__init__.py` defines a class implementing `DatabaseProvider`, the one thing the registry
(`registry.py`) names. The class holds the provider's facts (its `database.provider`
value, the key and description of its settings section, whether it is a managed cloud,
the SDK it needs) and reaches the rest of the package through typed methods, each
importing its module when called:

- `settings.py`: its member of the `database` union (a `DatabaseSettings` with its
  `provider` literal and its section), and its TLS rules. It imports no cloud SDK;
- `component.py`: the `pulumi.ComponentResource` that takes a `DatabaseRequest` and
  exposes a `DatabaseConnection` as `.connection` (the only module importing the SDK);
- optionally `mocks.py` (what the offline render's mocks fill in for its resources),
  `plan.py` (what `pulumi up` waits for, for the deploy plan) and `policy.py` (its
  resources' policy checks; standard library only, since the policy pack runs without the
  program's dependencies).

This module and the classes in the providers' `__init__.py` import only the standard
library at run time: the policy pack reads the registry in a virtualenv without pydantic.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional, Protocol

if TYPE_CHECKING:
    import pulumi

    from heimdall.database.contract import DatabaseConnection, DatabaseRequest
    from heimdall.settings.database import DatabaseSettings, DatabaseTlsSettings

    # What the offline render's mocks compute for one resource: its outputs.
    Computed = Callable[[pulumi.runtime.MockResourceArgs], dict[str, Any]]

# A policy check's `report(message)` callback.
Report = Callable[[str], None]
# (type token, the resource's inputs as the engine sees them (camelCase), report).
Check = Callable[[str, Mapping[str, Any], Report], None]
# (type token, inputs, whether the resource is protected, report).
ProtectionCheck = Callable[[str, Mapping[str, Any], bool, Report], None]


@dataclass(frozen=True)
class PolicyChecks:
    """A provider's checks for the policy pack, one per policy (None: nothing to check).
    Standard library only."""

    encrypted: Optional[Check] = None
    private: Optional[Check] = None
    tls: Optional[Check] = None
    backups: Optional[Check] = None
    # Called for production stacks only.
    deletion_protection: Optional[ProtectionCheck] = None


class DatabaseProvider(Protocol):
    """One database provider, as the settings, the program and the tooling see it.

    A provider class subclasses it explicitly, for the defaults (no mocks, plan or policy
    facts; not managed; no SDK)."""

    name: str  # the value of `database.provider`
    section: str  # the key of its settings section under `database` (camelCase)
    description: str  # the section's line in the configuration reference
    # A managed cloud database: the server accepts TLS only, and the provider creates the
    # user with a password it must know (so not one from secrets.existingSecret).
    managed: bool = False
    # Why the section is needed when it is missing; None: the section's defaults apply.
    missing_section: Optional[str] = None
    sdk: Optional[str] = None  # module of the SDK its component imports, e.g. pulumi_aws
    # The pyproject.toml extra that installs that SDK from uv.lock (`uv sync --extra aws`).
    extra: Optional[str] = None

    def settings(self) -> type[DatabaseSettings]:
        """Its member of the `database` union."""
        ...

    def tls(self, database: DatabaseSettings) -> DatabaseTlsSettings:
        """The effective `database.tls` of `database` (its own member): the provider's
        defaults applied; ValueError with one sentence on a setting it cannot serve."""
        ...

    def build(
        self,
        name: str,
        database: DatabaseSettings,
        request: DatabaseRequest[None],
        opts: Optional[pulumi.ResourceOptions],
    ) -> DatabaseConnection:
        """Declare its component (the class in its component.py) for `database` (its own
        member), with `request` completed by its section; return the connection."""
        ...

    def mocks(self) -> Mapping[str, Computed]:
        """What the offline render's mocks fill in for its resources, by type token."""
        return {}

    def plan(self) -> Mapping[str, str]:
        """What `pulumi up` waits for among its resources, by type token."""
        return {}

    def policy(self) -> Optional[PolicyChecks]:
        """Its resources' policy checks."""
        return None


def wrong_member(provider: str, database: object) -> TypeError:
    """A provider handed another provider's settings (a bug, never a user's error)."""
    return TypeError(f"database provider {provider!r} got the settings of {type(database).__name__}")
