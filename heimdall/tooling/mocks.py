"""Pulumi mocks that stand in for the engine and providers, for tests and the offline render.

`HeimdallMocks` fills in what the engine and providers would (Kubernetes auto-naming with
a stable suffix, `RandomPassword.result`, cloud outputs such as addresses), and records
nothing itself. `RecordingMonitor` runs the transforms of each resource and of its
ancestors on it, as the engine does, then records every registration as the engine sees
it: type, logical name, parent, dependencies, protection and inputs.

In preview mode (`preview=True`) the mocks return no computed values, so, as in a real
`pulumi preview` of a new stack, every output of a new resource is unknown.
"""

from __future__ import annotations

import json
import string
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

import pulumi
from google.protobuf import struct_pb2  # type: ignore[import-untyped]
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.proto import callback_pb2, resource_pb2

from heimdall import sdk_private
from heimdall.tooling.naming import stable_token
from heimdall.tooling.replace_rules import force_new_paths, value_at

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def _random_password(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    length = int(args.inputs.get("length", 16))
    special = args.inputs.get("special", True)
    alphabet = string.ascii_letters + string.digits
    if special:
        alphabet += args.inputs.get("overrideSpecial") or "!@#$%&*()-_=+[]{}<>:?"
    value = stable_token("password", args.name, length=length, alphabet=alphabet)
    return {"result": value, "bcryptHash": "$2a$10$" + stable_token("bcrypt", args.name, length=53)}


def _kubernetes(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    metadata = dict(args.inputs.get("metadata") or {})
    if not metadata.get("name"):
        # The provider appends a random suffix to the logical name, and a new one when it
        # replaces the object: here the suffix follows what forces a replacement
        # (replace_rules, pulumi-kubernetes' diff), so that two renders show what a real
        # update would rename (and so roll its consumers), and nothing else.
        kind = args.typ.rsplit(":", 1)[-1]
        paths = force_new_paths(
            str(args.inputs.get("apiVersion") or ""),
            kind,
            patch=kind.endswith("Patch"),
            immutable=bool(args.inputs.get("immutable")),
        )
        content = json.dumps(
            {path: value_at(args.inputs, path) for path in paths if path != ".metadata.name"},
            sort_keys=True,
            default=str,
        )
        metadata["name"] = f"{args.name}-{stable_token(args.typ, args.name, content)}"
    return {"metadata": metadata}


Computed = Callable[[pulumi.runtime.MockResourceArgs], dict[str, Any]]

# Computed outputs by type token (or "package:" prefix) of what the program itself
# creates; each database provider has its own in its package's mocks.py, which the
# render adds for the stack's provider (`HeimdallMocks(provider_outputs=...)`).
COMPUTED: dict[str, Computed] = {
    "random:index/randomPassword:RandomPassword": _random_password,
    "kubernetes:": _kubernetes,
}

# Results of invokes by function token.
CALLS: dict[str, Callable[[pulumi.runtime.MockCallArgs], dict[str, Any]]] = {}


def _computed_for(computed: dict[str, Computed], token: str) -> Optional[Computed]:
    if token in computed:
        return computed[token]
    package = token.split(":", 1)[0] + ":"
    return computed.get(package)


class HeimdallMocks(pulumi.runtime.Mocks):
    def __init__(
        self, preview: bool = False, provider_outputs: Optional[Mapping[str, Computed]] = None
    ) -> None:
        """`provider_outputs`: what the stack's database provider's resources compute (its
        member's `mocks()`), on top of the program's own `COMPUTED`."""
        self.preview = preview
        self.computed = {**COMPUTED, **(provider_outputs or {})}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[Optional[str], dict]:
        state = dict(args.inputs)
        computed = _computed_for(self.computed, args.typ)
        if computed is not None and not self.preview:
            state.update(computed(args))
        name = (state.get("metadata") or {}).get("name") if isinstance(state.get("metadata"), dict) else None
        resource_id = None if self.preview else f"{name or args.name}-id"
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, Optional[list[tuple[str, str]]]]:
        handler = CALLS.get(args.token)
        # No failures: an empty list (the SDK iterates it; None would raise TypeError).
        return (handler(args) if handler else {}), []


@dataclass
class Registration:
    """One resource as the engine sees it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: Optional[str]
    dependencies: list[str]
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    custom_timeouts: dict[str, str]
    inputs: dict[str, Any]
    state: dict[str, Any] = field(default_factory=dict)
    ignore_changes: list[str] = field(default_factory=list)
    # The resource's `transforms` (callables), which the engine applies to its children:
    # for a component such as a Helm chart, to the objects the provider registers.
    transforms: list[Any] = field(default_factory=list)
    # Resource hooks by kind (before_update, ...): the names the engine would call.
    hooks: dict[str, list[str]] = field(default_factory=dict)


class HookFailed(Exception):
    """A before hook refused the step; the message is the engine's
    (pulumi/pulumi pkg/resource/deploy/deployment.go, `RunHooks`:
    `before hook "<name>" failed: <error>`)."""


class RecordingCallbacks:
    """Stands in for the SDK's callback server under mocks: keeps each resource hook the
    program registers, wrapped by the SDK's own callback code (heimdall.sdk_private), so
    that `call_hook` hands it the inputs exactly as a real run does, and each transform,
    under a token the mock monitor resolves (it looks the token up among the SDK's
    callback servers). `close()` when done."""

    def __init__(self) -> None:
        self.hooks: dict[str, Any] = {}
        self._transforms: dict[Any, str] = {}
        sdk_private.add_callback_server(self)

    def close(self) -> None:
        sdk_private.remove_callback_server(self)

    def register_transform(self, transform: Any) -> callback_pb2.Callback:
        token = self._transforms.setdefault(transform, str(uuid.uuid4()))
        return callback_pb2.Callback(token=token, target="mock")

    def register_resource_hook(self, hook: Any) -> None:
        self.hooks[hook.name] = sdk_private.sdk_hook_callback(hook)

    def register_error_hook(self, hook: Any) -> None:
        self.hooks[hook.name] = hook


def _wire(value: Any) -> Any:
    """A recorded input value back in the form the engine marshals it for a hook
    (pulumi/pulumi pkg/resource/deploy/source_eval.go, `wrapResourceHookCallback`:
    KeepSecrets and KeepUnknowns, so a secret travels as the signature map and an
    unknown as its sentinel string)."""
    if isinstance(value, pulumi.output.Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {str(k): _wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_wire(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return str(value)


def engine_struct(values: Optional[dict[str, Any]]) -> Optional[struct_pb2.Struct]:
    if values is None:
        return None
    struct = struct_pb2.Struct()
    struct.update(_wire(values))
    return struct


def call_hook(
    callback: Any,
    hook_name: str,
    registration: Registration,
    new_inputs: Optional[dict[str, Any]],
    old: Optional[Registration],
) -> None:
    """Call one recorded hook as the engine would for `registration` (new inputs) going
    from `old`; raises HookFailed with the engine's message when the hook raises."""

    request = resource_pb2.ResourceHookRequest(
        urn=registration.urn,
        id=f"{registration.name}-id",
        name=registration.name,
        type=registration.type,
        new_inputs=engine_struct(new_inputs),
        old_inputs=engine_struct(old.inputs if old is not None else None),
        old_outputs=engine_struct(old.state if old is not None else None),
    )
    response = _run_callback(callback, request.SerializeToString())
    if response.error:
        raise HookFailed(f'before hook "{hook_name}" failed: {response.error}')


def _run_callback(callback: Any, payload: bytes) -> Any:
    """Run one of the SDK's callback wrappers (a hook, a transform) to completion on a loop
    of its own: the monitor is called on the SDK's executor thread, outside the program's
    loop."""
    import asyncio

    loop = asyncio.new_event_loop()
    try:
        response = loop.run_until_complete(callback(payload))
        # The SDK tracks every Output it makes (a hook's inputs are Outputs) until it
        # resolves; one left pending on this loop would hold up the next program's
        # wait_for_rpcs forever. Let them all finish here.
        pending = asyncio.all_tasks(loop)
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    finally:
        loop.close()
    return response


def _transform_options(request: Any) -> resource_pb2.TransformResourceOptions:
    """The options the engine hands a transform (pulumi/pulumi
    pkg/resource/deploy/source_eval.go, `RegisterResource`, `opts :=
    &pulumirpc.TransformResourceOptions{...}`), from the registration request."""
    options = resource_pb2.TransformResourceOptions(
        depends_on=list(request.dependencies),
        ignore_changes=list(request.ignoreChanges),
        replace_on_changes=list(request.replaceOnChanges),
        version=request.version,
        provider=request.provider,
        plugin_download_url=request.pluginDownloadURL,
        deleted_with=request.deletedWith,
        additional_secret_outputs=list(request.additionalSecretOutputs),
        hide_diff=list(request.hideDiffs),
    )
    setattr(options, "import", request.importId)
    if request.HasField("protect"):
        options.protect = request.protect
    if request.HasField("retainOnDelete"):
        options.retain_on_delete = request.retainOnDelete
    if request.deleteBeforeReplaceDefined:
        options.delete_before_replace = request.deleteBeforeReplace
    if request.HasField("customTimeouts"):
        options.custom_timeouts.CopyFrom(request.customTimeouts)
    if request.HasField("hooks"):
        options.hooks.CopyFrom(request.hooks)
    return options


def _apply_options(request: Any, options: resource_pb2.TransformResourceOptions) -> None:
    """A transform's options back into the registration, as the engine goes on with them."""
    del request.dependencies[:]
    request.dependencies.extend(options.depends_on)
    del request.ignoreChanges[:]
    request.ignoreChanges.extend(options.ignore_changes)
    del request.replaceOnChanges[:]
    request.replaceOnChanges.extend(options.replace_on_changes)
    del request.additionalSecretOutputs[:]
    request.additionalSecretOutputs.extend(options.additional_secret_outputs)
    if options.HasField("protect"):
        request.protect = options.protect
    else:
        request.ClearField("protect")
    if options.HasField("retain_on_delete"):
        request.retainOnDelete = options.retain_on_delete
    else:
        request.ClearField("retainOnDelete")
    request.deleteBeforeReplace = options.delete_before_replace
    request.deleteBeforeReplaceDefined = options.HasField("delete_before_replace")
    request.ClearField("customTimeouts")
    if options.HasField("custom_timeouts"):
        request.customTimeouts.CopyFrom(options.custom_timeouts)
    request.ClearField("hooks")
    if options.HasField("hooks"):
        request.hooks.CopyFrom(options.hooks)


class RecordingMonitor(MockMonitor):
    """A mock monitor that applies transforms as the engine does and keeps every
    registration, components included.

    The engine runs on each registration, before anything else, the resource's own
    transforms, then each ancestor's (nearest first), then the stack's (pulumi/pulumi
    pkg/resource/deploy/source_eval.go at v3.259.0, `RegisterResource`, lines 2375-2446;
    each resource's parent and own transforms are kept at lines 2967 and 2972), each
    through the program's callback server (`wrapTransformCallback`, lines 1542-1616:
    properties marshalled keeping secrets and unknowns; a response without properties or
    options keeps the old ones, lines 1599-1610). Here each transform runs through the SDK's
    own wrapper (heimdall.sdk_private.sdk_transform_callback) on the serialized request.
    Not reproduced: the engine also upgrades the properties of a resource that has
    transforms of its own to output values (line 2342); the program's only such
    resources are the `Heimdall` component and the Helm charts, whose transforms leave
    them as they are.
    """

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []
        self._parents: dict[str, str] = {}
        self._own_transforms: dict[str, list[Any]] = {}
        self._wrapped: dict[Any, Any] = {}

    def _transformed(self, request: Any, own: list[Any]) -> Any:
        chain = list(own)
        current = request.parent
        while current:
            chain.extend(self._own_transforms.get(current, ()))
            current = self._parents.get(current, "")
        chain.extend(self._stack_transforms)
        if not chain:
            return request
        transformed = resource_pb2.RegisterResourceRequest()
        transformed.CopyFrom(request)
        for transform in chain:
            if transform not in self._wrapped:
                self._wrapped[transform] = sdk_private.sdk_transform_callback(transform)
            call = resource_pb2.TransformRequest(
                type=transformed.type,
                name=transformed.name,
                custom=transformed.custom,
                parent=transformed.parent,
                properties=transformed.object,
                options=_transform_options(transformed),
            )
            response = _run_callback(self._wrapped[transform], call.SerializeToString())
            if response.HasField("properties"):
                transformed.object.CopyFrom(response.properties)
            if response.HasField("options"):
                _apply_options(transformed, response.options)
        return transformed

    def RegisterResource(self, request: Any) -> Any:
        if request.type == "pulumi:pulumi:Stack":
            return super().RegisterResource(request)
        own = sdk_private.resolve_transforms(request.transforms)
        request = self._transformed(request, own)
        response = super().RegisterResource(request)
        self._parents[response.urn] = request.parent
        self._own_transforms[response.urn] = own
        registered = self.resources.get(response.urn)
        inputs = pulumi.runtime.rpc.deserialize_properties(request.object, keep_unknowns=True)
        timeouts = request.customTimeouts
        self.registrations.append(
            Registration(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=request.parent or None,
                dependencies=list(request.dependencies),
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                delete_before_replace=bool(request.deleteBeforeReplace),
                custom_timeouts={
                    k: v
                    for k, v in (
                        ("create", timeouts.create),
                        ("update", timeouts.update),
                        ("delete", timeouts.delete),
                    )
                    if v
                },
                inputs=inputs,
                state=dict(registered.state) if registered is not None else {},
                ignore_changes=list(request.ignoreChanges),
                transforms=own,
                hooks=_hooks(request.hooks),
            )
        )
        return response


def _hooks(hooks: Any) -> dict[str, list[str]]:
    """The registration's resource hooks by kind (the request's `hooks` message)."""
    by_kind = {
        "before_create": hooks.before_create,
        "after_create": hooks.after_create,
        "before_update": hooks.before_update,
        "after_update": hooks.after_update,
        "before_delete": hooks.before_delete,
        "after_delete": hooks.after_delete,
    }
    return {kind: list(names) for kind, names in by_kind.items() if names}
