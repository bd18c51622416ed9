"""Resource inputs as the engine hands them over (to resource hooks, the mocks, the policy
pack): camelCase maps, secret values wrapped in a signature map. Standard library only, so
that the policy pack and the program's hooks can both use it.

A resource hook gets them in another shape: the Python SDK (since 3.204) deserializes the
engine's inputs pushing a nested secret's secretness up to its top-level property
(pulumi/runtime/rpc.py `deserialize_property`), then hands every secret top-level property
over as `Output.secret(<plain value>)` (pulumi/runtime/_callbacks.py `outputtify_secrets`).
A hook reads them through `hook_inputs` first; tests/conformance/test_hook_inputs.py holds
the SDK's behaviour.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, Optional

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


async def hook_inputs(inputs: Optional[Mapping[str, Any]]) -> Optional[dict[str, Any]]:
    """A hook's `old_inputs`/`new_inputs` with every top-level `Output` (a secret one, or
    any other) awaited to its value, unknowns kept: the plain maps the checks read."""
    if inputs is None:
        return None
    from pulumi import Output  # here: the policy pack imports this module without the SDK

    plain: dict[str, Any] = {}
    for key, value in inputs.items():
        if isinstance(value, Output):
            value = await value.future(with_unknowns=True)
        elif inspect.isawaitable(value):
            value = await value
        plain[str(key)] = value
    return plain
