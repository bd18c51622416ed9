"""Every private API of the pinned Pulumi SDKs the project leans on, in one place.

Nothing else in the project imports a `pulumi*._name`. Each function here names what it
borrows; `check()` says, one line per problem, which of them the installed SDKs no longer
have in the shape relied on (tests/test_sdk_private.py fails with those lines when a new
SDK changes them). Imports are lazy: `pulumi up` loads only what its path uses.

Borrowed, with who uses it:

- `pulumi.runtime._callbacks._CallbackServicer` (`_servicers`, `do_register_resource_hook`),
  `pulumi.runtime.mocks._resolve_callbacks` and `pulumi.runtime.settings` (`ROOT`,
  `SETTINGS.callbacks`): under mocks, a fresh root stack per run and the callback server
  that holds transforms and resource hooks (the render's recorder, heimdall/tooling/mocks.py).
  The hook wrapper is the SDK's own: it deserializes the inputs the engine sends exactly
  as in a real run (a nested secret makes its top-level property an `Output.secret`).
  So is the transform wrapper (`_CallbackServicer.register_transform`): the render's
  monitor runs each transform through it, as the engine does over gRPC.

The program's config is read with the SDK's public `pulumi.runtime.get_config_env` and
`get_config_secret_keys_env` (heimdall/settings/loader.py), not `pulumi.runtime.config`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

# --- the callback server under mocks --------------------------------------------------------

HookCallback = Callable[[bytes], Awaitable[Any]]


def reset_root_resource() -> None:
    """Forget the last run's root Stack, so the next program under mocks gets its own."""
    from pulumi.runtime import settings

    settings.ROOT.set(None)


def install_callbacks(server: Any) -> None:
    """Make `server` the callback server the SDK registers hooks and transforms with
    (set after `set_mocks`, which starts none)."""
    from pulumi.runtime import settings

    settings.SETTINGS.callbacks = server


def add_callback_server(server: Any) -> None:
    """Make `server` one of the SDK's callback servers (the mock monitor looks transforms
    up among them by token)."""
    from pulumi.runtime._callbacks import _CallbackServicer

    _CallbackServicer._servicers.append(server)


def remove_callback_server(server: Any) -> None:
    from pulumi.runtime._callbacks import _CallbackServicer

    if server in _CallbackServicer._servicers:
        _CallbackServicer._servicers.remove(server)


def resolve_transforms(callbacks: Any) -> list[Any]:
    """The transform functions behind a registration's callback tokens."""
    from pulumi.runtime.mocks import _resolve_callbacks

    return list(_resolve_callbacks(callbacks))


def sdk_hook_callback(hook: Any) -> HookCallback:
    """The SDK's own wrapper of a resource hook, as the engine calls it: serialized
    `ResourceHookRequest` bytes in, a `ResourceHookResponse` (its `error` set when the
    hook raised) out."""
    # Only `_callbacks` and `_target` are used to wrap a hook; no server is started.
    servicer = _bare_servicer()
    request = servicer.do_register_resource_hook(hook)
    callback: HookCallback = servicer._callbacks[request.callback.token]
    return callback


def _bare_servicer() -> Any:
    """A `_CallbackServicer` without a server: its wrappers touch only these attributes."""
    from pulumi.runtime._callbacks import _CallbackServicer

    servicer = object.__new__(_CallbackServicer)
    servicer._callbacks = {}
    servicer._transforms = {}
    servicer._target = "mock"
    return servicer


def sdk_transform_callback(transform: Any) -> HookCallback:
    """The SDK's own wrapper of a resource transform, as the engine calls it: serialized
    `TransformRequest` bytes in, a `TransformResponse` out. It deserializes the properties
    and options and serializes what the transform returns exactly as in a real run."""
    servicer = _bare_servicer()
    request = servicer.register_transform(transform)
    callback: HookCallback = servicer._callbacks[request.token]
    return callback


# --- the check --------------------------------------------------------------------------------


def _problems() -> list[str]:
    import inspect
    import re

    found: list[str] = []

    def need(condition: bool, what: str) -> None:
        if not condition:
            found.append(what)

    try:
        from pulumi.runtime import _callbacks, mocks, settings
    except ImportError as error:
        return [*found, f"pulumi.runtime._callbacks, .mocks or .settings cannot be imported ({error})"]
    need(hasattr(getattr(settings, "ROOT", None), "set"), "pulumi.runtime.settings.ROOT is no ContextVar")
    need(hasattr(getattr(settings, "SETTINGS", None), "callbacks"), "pulumi.runtime.settings.SETTINGS has no callbacks")
    servicer = getattr(_callbacks, "_CallbackServicer", None)
    need(isinstance(getattr(servicer, "_servicers", None), list), "_CallbackServicer._servicers is no list")
    need(callable(getattr(servicer, "do_register_resource_hook", None)), "_CallbackServicer.do_register_resource_hook is gone")
    need(callable(getattr(servicer, "register_transform", None)), "_CallbackServicer.register_transform is gone")
    need(callable(getattr(mocks, "_resolve_callbacks", None)), "pulumi.runtime.mocks._resolve_callbacks is gone")
    if not found:
        # The hook wrapper touches only these two attributes of its servicer.
        source = inspect.getsource(servicer.do_register_resource_hook)  # type: ignore[union-attr]
        used = set(re.findall(r"self\.(\w+)", source))
        need(used <= {"_callbacks", "_target"}, f"do_register_resource_hook now uses self.{sorted(used)}")
        # The transform wrapper: these attributes, and the option converters (methods).
        source = inspect.getsource(servicer.register_transform)  # type: ignore[union-attr]
        used = set(re.findall(r"self\.(\w+)", source))
        allowed = {"_callbacks", "_target", "_transforms", "_resource_options", "_transformation_resource_options"}
        need(used <= allowed, f"register_transform now uses self.{sorted(used - allowed)}")
    return found


def check() -> list[str]:
    """One line per private API the installed SDKs changed (empty when all still fit)."""
    return [f"pinned-SDK private API changed: {problem} (update heimdall/sdk_private.py)" for problem in _problems()]
