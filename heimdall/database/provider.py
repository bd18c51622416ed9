"""What a database provider package is made of, and the spec it declares.

A provider is a package (under heimdall/database/, or anywhere importable) with:

- `settings.py`: its settings section (a pydantic model), its validation rules, and
  `PROVIDER`, a `ProviderSpec`. It imports no cloud SDK: the settings load for every
  stack, the SDK only for the stack that uses the provider;
- `component.py`: the `pulumi.ComponentResource` named by `ProviderSpec.component`, taking
  a `DatabaseRequest` and exposing a `DatabaseConnection` as `.connection`;
- optionally `mocks.py` with `COMPUTED` (type token -> what the offline render's mocks
  fill in for that resource), `plan.py` with `AWAITED` (type token -> what `pulumi up`
  waits for, for the deploy plan) and `policy.py` with `CHECKS` (its resources' policy
  checks; standard library only, since the policy pack runs without the program's
  dependencies).

The registry (`registry.py`) maps each `database.provider` value to its package and the
key of its settings section.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from pydantic import BaseModel

    from heimdall.settings.database import DatabaseSettings, DatabaseTlsSettings
    from heimdall.settings.root import Settings


@dataclass(frozen=True)
class ProviderSpec:
    """How the settings and the program use one provider."""

    model: type[BaseModel]  # the settings model of its section (named in the registry)
    description: str  # the section's line in the configuration reference
    component: str  # class name of the ComponentResource in the package's component.py
    # A managed cloud database: the server accepts TLS only, and the provider creates the
    # user with a password it must know (so not one from secrets.existingSecret).
    managed: bool = False
    # Why the section is needed when it is missing; None: the section's defaults apply.
    missing_section: Optional[str] = None
    sdk: Optional[str] = None  # module of the SDK the component imports, e.g. pulumi_aws
    # The pyproject.toml extra that installs that SDK from uv.lock (`uv sync --extra aws`).
    extra: Optional[str] = None
    # (database settings, the section) -> the effective database.tls; raises ValueError
    # with one sentence on a setting the provider cannot serve.
    rules: Optional[Callable[[DatabaseSettings, Any], DatabaseTlsSettings]] = None
    # Rules over the whole stack's settings (e.g. where the password comes from).
    stack_rules: Optional[Callable[[Settings], None]] = None


@dataclass(frozen=True)
class PolicyChecks:
    """A provider's checks for the policy pack: each gets the resource's type token, its
    inputs as the engine sees them (camelCase) and a `report(message)` callback; the
    deletion-protection check also whether the resource is protected. Standard library
    only."""

    encrypted: Optional[Callable[[str, Any, Callable[[str], None]], None]] = None
    private: Optional[Callable[[str, Any, Callable[[str], None]], None]] = None
    tls: Optional[Callable[[str, Any, Callable[[str], None]], None]] = None
    backups: Optional[Callable[[str, Any, Callable[[str], None]], None]] = None
    # (type token, inputs, protected, report); called for production stacks only.
    deletion_protection: Optional[Callable[[str, Any, bool, Callable[[str], None]], None]] = None
