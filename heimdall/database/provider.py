"""What a database provider is: the `DatabaseProvider` protocol its member implements.

A provider is a package (under heimdall/database/, or anywhere importable) whose
`settings.py` defines its member of the `database` union: a `DatabaseSettings` with its
`provider` literal and its section, which is also the provider. The registry
(`registry.py`) names that class, one line per provider. The member holds the provider's
facts as class variables (its section's key and description, whether it is a managed
cloud, the SDK it needs; its name is its `provider` literal's value) and reaches the rest
of the package through typed methods, each importing its module when called:

- `component.py`: the `pulumi.ComponentResource` that takes a `DatabaseRequest` and
  exposes a `DatabaseConnection` as `.connection` (the only module importing the SDK);
- optionally `mocks.py` (what the offline render's mocks fill in for its resources),
  `plan.py` (what `pulumi up` waits for, for the deploy plan) and `policy.py` (its
  resources' policy checks; standard library only, since the policy pack runs without the
  program's dependencies but pydantic).

`settings.py` imports no cloud SDK and nothing of pulumi at run time. The defaults (no
mocks, plan or policy facts; not managed; no SDK) are the shared `DatabaseSettings`'.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar, Optional, Protocol

if TYPE_CHECKING:
    import pulumi

    from heimdall.database.contract import DatabaseConnection, DatabaseRequest
    from heimdall.database.facts import Computed, PolicyChecks
    from heimdall.settings.database import DatabaseTlsSettings


class DatabaseProvider(Protocol):
    """One database provider, as the settings, the program and the tooling see it: its
    member of the `database` union."""

    provider_name: ClassVar[str]  # the value of `database.provider` (its literal's)
    section: ClassVar[str]  # the key of its settings section under `database` (camelCase)
    description: ClassVar[str]  # the section's line in the configuration reference
    # A managed cloud database: the server accepts TLS only, and the provider creates the
    # user with a password it must know (so not one from secrets.existingSecret).
    managed: ClassVar[bool]
    # Why the section is needed when it is missing; None: the section's defaults apply.
    missing_section: ClassVar[Optional[str]]
    sdk: ClassVar[Optional[str]]  # module of the SDK its component imports, e.g. pulumi_aws
    # The pyproject.toml extra that installs that SDK from uv.lock (`uv sync --extra aws`).
    extra: ClassVar[Optional[str]]

    def effective_tls(self) -> DatabaseTlsSettings:
        """The effective `database.tls`: the provider's defaults applied; ValueError with
        one sentence on a setting it cannot serve."""
        ...

    def build(
        self,
        name: str,
        request: DatabaseRequest[None],
        opts: Optional[pulumi.ResourceOptions],
    ) -> DatabaseConnection:
        """Declare its component (the class in its component.py), with `request` completed
        by its section; return the connection."""
        ...

    @classmethod
    def mocks(cls) -> Mapping[str, Computed]:
        """What the offline render's mocks fill in for its resources, by type token."""
        ...

    @classmethod
    def plan(cls) -> Mapping[str, str]:
        """What `pulumi up` waits for among its resources, by type token."""
        ...

    @classmethod
    def policy(cls) -> Optional[PolicyChecks]:
        """Its resources' policy checks."""
        ...
