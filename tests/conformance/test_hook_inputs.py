"""Conformance: what a resource hook receives, as the engine and the pinned Python SDK
hand it over, and the program's hooks deciding right whatever is secret.

Upstream (pulumi/pulumi; the snapshot read is commit 1b5949891b, v3.259.0; the pinned SDK
3.272.0 installed here has the same code at the lines given as "3.272"):

- pkg/resource/deploy/source_eval.go:1821-1828 (`wrapResourceHookCallback`): the engine
  marshals a hook's inputs with KeepSecrets and KeepUnknowns, so a secret travels as the
  signature map {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
  "value": ...}.
- sdk/python/lib/pulumi/runtime/rpc.py:1137 and :1149 (3.272: :1149, :1161),
  `deserialize_property`: a list or map holding a secret becomes a secret itself, up to the
  top-level property.
- sdk/python/lib/pulumi/runtime/_callbacks.py:412-424 and :765-770 (3.272: :368-380,
  :819-824), `do_register_resource_hook` and `outputtify_secrets`: every secret top-level
  property reaches the hook as `Output.secret(<plain value>)`.
- pkg/resource/deploy/deployment.go:880 (`RunHooks`): a raising before hook fails the
  step with `before hook "<name>" failed: <message>`.

The render's recorder wraps each hook with the SDK's own callback code
(heimdall.sdk_private.sdk_hook_callback), so these cases run the installed SDK itself.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
from typing import Any

import pulumi
import pytest
from pulumi.resource_hooks import ResourceHookArgs
from pulumi.runtime.proto import resource_pb2

from heimdall.engine_values import SECRET_SIG_KEY, SECRET_SIG_VALUE, hook_inputs
from heimdall.sdk_private import sdk_hook_callback
from heimdall.tooling.mocks import engine_struct
from heimdall.tooling.render import Rendering
from tests.conftest import BuildFn
from tests.engine import plan

EMBEDDED_STS = "heimdall-database-statefulset"
DATA_VOLUME = "heimdall-database-data-volume"


def secret(value: Any) -> dict[str, Any]:
    """A value as the engine marshals a secret (KeepSecrets)."""
    return {SECRET_SIG_KEY: SECRET_SIG_VALUE, "value": value}


class _Hook:
    """A hook as the SDK's wrapper uses it (name, opts, call); a real ResourceHook would
    also register itself with whatever program ran last."""

    def __init__(self, name: str, function: Any) -> None:
        self.name, self.opts, self._function = name, None, function

    def __call__(self, args: ResourceHookArgs) -> Any:
        return self._function(args)


def received(new_inputs: dict[str, Any]) -> dict[str, tuple[str, Any, bool]]:
    """What a hook's `new_inputs` is when the engine sends `new_inputs`: per property,
    ("output", value, is it secret) or ("plain", value, False). Outputs are read inside
    the hook, on the loop that runs it, as a hook has to."""
    seen: dict[str, tuple[str, Any, bool]] = {}

    async def capture(args: ResourceHookArgs) -> None:
        for key, value in (args.new_inputs or {}).items():
            if isinstance(value, pulumi.Output):
                seen[key] = ("output", await value.future(), await value.is_secret())
            else:
                seen[key] = ("plain", value, False)

    callback = sdk_hook_callback(_Hook("capture", capture))
    request = resource_pb2.ResourceHookRequest(urn="urn", name="r", type="t", new_inputs=engine_struct(new_inputs))
    loop = asyncio.new_event_loop()
    try:
        response = loop.run_until_complete(callback(request.SerializeToString()))
    finally:
        loop.close()
    assert response.error == ""
    return seen


def through_hook_inputs(new_inputs: dict[str, Any]) -> Any:
    """What `hook_inputs` makes of a hook's `new_inputs` for these engine inputs."""
    plain: dict[str, Any] = {}

    async def read(args: ResourceHookArgs) -> None:
        plain.update(await hook_inputs(args.new_inputs) or {})

    callback = sdk_hook_callback(_Hook("read", read))
    request = resource_pb2.ResourceHookRequest(urn="urn", name="r", type="t", new_inputs=engine_struct(new_inputs))
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(callback(request.SerializeToString()))
    finally:
        loop.close()
    return plain


def test_a_nested_secret_makes_its_whole_top_level_property_an_output_secret() -> None:
    # rpc.py:1149 (push up) then _callbacks.py:770 (Output.secret), pulumi@1b5949891b.
    spec = {"resources": {"requests": {"storage": secret("10Gi")}}, "accessModes": ["ReadWriteOnce"]}
    seen = received({"spec": spec, "kind": "PersistentVolumeClaim"})
    plain_spec = {"resources": {"requests": {"storage": "10Gi"}}, "accessModes": ["ReadWriteOnce"]}
    assert seen["spec"] == ("output", plain_spec, True)
    # A property without a secret stays plain.
    assert seen["kind"] == ("plain", "PersistentVolumeClaim", False)


def test_a_secret_in_a_list_makes_the_list_and_its_property_secret() -> None:
    # rpc.py:1137 (lists push up as well), pulumi@1b5949891b.
    containers = [{"name": "postgres", "env": [{"name": "POSTGRES_USER", "value": secret("postgres")}]}]
    kind, value, is_secret = received({"spec": {"template": {"spec": {"containers": containers}}}})["spec"]
    assert (kind, is_secret) == ("output", True)
    assert value["template"]["spec"]["containers"][0]["env"][0] == {"name": "POSTGRES_USER", "value": "postgres"}


def test_a_top_level_secret_arrives_as_an_output_secret_and_the_wrapped_form_never() -> None:
    # _callbacks.py:765-770, pulumi@1b5949891b: the signature map never reaches the hook.
    assert received({"data": secret({"password": "x"})})["data"] == ("output", {"password": "x"}, True)


def test_hook_inputs_reads_through_outputs_for_the_checks() -> None:
    plain = through_hook_inputs({"spec": {"storageClassName": secret("fast")}, "kind": "X"})
    assert plain == {"spec": {"storageClassName": "fast"}, "kind": "X"}


# --- the program's hooks, with secrets where the engine would put them ---------------------


def _with_secrets(rendering: Rendering, name: str, paths: list[tuple[Any, ...]]) -> Rendering:
    """`rendering` with the values at `paths` of resource `name`'s inputs made secret, as
    the engine records an input that came from an `Output.secret`."""
    registrations = []
    for registration in rendering.registrations:
        if registration.name == name:
            inputs = copy.deepcopy(registration.inputs)
            for path in paths:
                target = inputs
                for step in path[:-1]:
                    target = target[step]
                target[path[-1]] = secret(target[path[-1]])
            registration = dataclasses.replace(registration, inputs=inputs)
        registrations.append(registration)
    return dataclasses.replace(rendering, registrations=registrations)


def _postgres_env(rendering: Rendering, variable: str) -> tuple[Any, ...]:
    (sts,) = [r for r in rendering.registrations if r.name == EMBEDDED_STS]
    containers = sts.inputs["spec"]["template"]["spec"]["containers"]
    (index,) = [i for i, c in enumerate(containers) if c["name"] == "postgres"]
    env = containers[index]["env"]
    (position,) = [i for i, item in enumerate(env) if item["name"] == variable]
    return ("spec", "template", "spec", "containers", index, "env", position, "value")


STORAGE = ("spec", "resources", "requests", "storage")
CLAIM_ACCESS = ("spec", "accessModes", 0)  # a secret elsewhere in the spec
CLAIM_LABELS = ("metadata", "labels", "app.kubernetes.io/name")


@pytest.mark.parametrize("secret_paths", [[STORAGE], [CLAIM_ACCESS], [CLAIM_LABELS], [STORAGE, CLAIM_ACCESS, CLAIM_LABELS]])
def test_a_shrink_is_refused_with_secrets_in_the_claim_patch(build: BuildFn, secret_paths: list[Any]) -> None:
    before = _with_secrets(build({}), DATA_VOLUME, secret_paths)
    after = _with_secrets(
        build({"database": {"embedded": {"persistence": {"size": "5Gi"}}}}), DATA_VOLUME, secret_paths
    )
    (refusal,) = plan(before, after).refusals
    assert refusal.startswith(f'{DATA_VOLUME}: before hook "{DATA_VOLUME}" failed: ')
    assert "database.embedded.persistence.size 5Gi is smaller than the data volume's 10Gi" in refusal


@pytest.mark.parametrize(
    ("change", "variable", "message"),
    [
        ({"name": "heimdall_prod"}, "POSTGRES_DB", "database.name changed from heimdall to heimdall_prod"),
        ({"username": "app"}, "POSTGRES_USER", "database.username changed from postgres to app"),
    ],
)
def test_a_rename_is_refused_with_secrets_in_the_stateful_set(
    build: BuildFn, change: dict[str, Any], variable: str, message: str
) -> None:
    plain_before, plain_after = build({}), build({"database": change})
    # The compared value itself secret, in the old and the new inputs.
    paths = [_postgres_env(plain_before, variable)]
    before = _with_secrets(plain_before, EMBEDDED_STS, paths)
    after = _with_secrets(plain_after, EMBEDDED_STS, paths)
    (refusal,) = plan(before, after).refusals
    assert refusal.startswith(f'{EMBEDDED_STS}: before hook "heimdall-database-identity" failed: ')
    assert message in refusal
    # Secret only in the new inputs (a value that became secret in this update): still refused.
    (refusal,) = plan(plain_before, after).refusals
    assert message in refusal


def test_a_claim_move_is_refused_with_a_secret_in_the_stateful_set(build: BuildFn) -> None:
    before = build({})
    after = build({"database": {"embedded": {"existingClaim": "chart-data"}}})
    paths = [("spec", "template", "metadata", "labels", "app.kubernetes.io/name")]
    (refusal,) = plan(_with_secrets(before, EMBEDDED_STS, paths), _with_secrets(after, EMBEDDED_STS, paths)).refusals
    assert "database.embedded.existingClaim chart-data on a database whose data is on its own claim" in refusal


def test_a_hook_that_ignores_its_secret_inputs_leaves_nothing_pending(build: BuildFn) -> None:
    # The SDK tracks each Output it makes for a hook until it resolves (pulumi/output.py
    # `_track`); the recorder lets them finish, or the next run would wait on them forever
    # (a regression shows as this test never ending).
    from heimdall.tooling.mocks import call_hook

    before = build({})
    (sts,) = [r for r in before.registrations if r.name == EMBEDDED_STS]
    lazy = sdk_hook_callback(_Hook("lazy", lambda args: None))
    inputs = {**sts.inputs, "spec": secret(sts.inputs["spec"])}
    call_hook(lazy, "lazy", sts, inputs, dataclasses.replace(sts, inputs=inputs))
    assert build({}).registrations  # the next program runs to its end
