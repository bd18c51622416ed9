"""What a provider tells the offline tooling and the policy pack, as value types.

`Computed` (what the offline render's mocks fill in for one of its resources) and
`PolicyChecks` (its resources' checks in the policy pack). A provider's member of the
`database` union returns them from its `mocks()` and `policy()`; this module imports only
the standard library at run time, so that the shared `DatabaseSettings` can name them
without importing the provider protocol, and the policy pack can load them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    import pulumi

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
