"""Resource inputs as the engine hands them over (to resource hooks, the mocks, the policy
pack): camelCase maps, secret values wrapped in a signature map. Standard library only, so
that the policy pack and the program's hooks can both use it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The wire form of a secret value: {SECRET_SIG_KEY: SECRET_SIG_VALUE, "value": ...}.
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270"


def unwrap_secret(value: Any) -> tuple[Any, bool]:
    """(plain value, was it secret) for an input value."""
    if isinstance(value, Mapping) and value.get(SECRET_SIG_KEY) == SECRET_SIG_VALUE:
        return value.get("value"), True
    return value, False


def get_path(value: Any, *path: str) -> Any:
    """`value[path[0]][path[1]]...`, None where a step is missing or not a map; wrapped
    secrets on the way are unwrapped."""
    value, _ = unwrap_secret(value)
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value, _ = unwrap_secret(value.get(key))
    return value
