"""Conformance: the engine's order of steps and its refusals, as tests/engine.py's `plan`
models them for the stack-change tests.

Upstream: pulumi/pulumi, snapshot commit 1b5949891b (v3.259.0), pkg/resource/deploy/.
"""

from __future__ import annotations

from typing import Any, Optional

from heimdall.tooling.mocks import Registration
from heimdall.tooling.render import Rendering
from tests.engine import plan

STACK = "urn:pulumi:test::heimdall::"


def reg(name: str, inputs: dict[str, Any], *, deps: tuple[str, ...] = (), protect: bool = False,
        hooks: Optional[list[str]] = None, parent: Optional[str] = None, custom: bool = True) -> Registration:
    return Registration(
        urn=f"{STACK}kubernetes:core/v1:ConfigMap::{name}",
        type="kubernetes:core/v1:ConfigMap",
        name=name,
        custom=custom,
        parent=f"{STACK}kubernetes:core/v1:ConfigMap::{parent}" if parent else None,
        dependencies=[f"{STACK}kubernetes:core/v1:ConfigMap::{d}" for d in deps],
        protect=protect,
        retain_on_delete=False,
        delete_before_replace=False,
        custom_timeouts={},
        inputs={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, **inputs},
        hooks={"before_update": hooks} if hooks else {},
    )


class _Refuse:
    """A hook callback as the SDK wraps it (bytes in, a response with `error` out)."""

    async def __call__(self, request: bytes) -> Any:
        from pulumi.runtime.proto import resource_pb2

        return resource_pb2.ResourceHookResponse(error="no")


def rendering(*registrations: Registration, hooks: Optional[dict[str, Any]] = None) -> Rendering:
    return Rendering(provider="embedded", namespace="heimdall", registrations=list(registrations), outputs={},
                     secret_outputs=frozenset(), hooks=hooks or {})


def test_a_failing_before_hook_stops_its_dependents_and_every_delete() -> None:
    # deployment.go:880 (the message), step_executor.go:435-461 (cancel), source_eval.go:
    # 3039-3045 (a registration returns when its step is done), deployment_executor.go:
    # 318-323 (a cancelled deployment never reaches performPostSteps).
    before = rendering(reg("guard", {"data": {"a": "1"}}), reg("app", {"data": {"v": "1"}}, deps=("guard",)),
                       reg("old", {"data": {}}, protect=True), reg("free", {"data": {"v": "1"}}))
    after = rendering(
        reg("guard", {"data": {"a": "1"}, "metadata": {"name": "guard", "labels": {"x": "y"}}}, hooks=["g"]),
        reg("app", {"data": {"v": "2"}}, deps=("guard",)),
        reg("child", {"data": {}}, parent="app"),
        reg("free", {"data": {"v": "1"}, "metadata": {"name": "free", "labels": {"x": "y"}}}),
        hooks={"g": _Refuse()},
    )
    changes = plan(before, after)
    assert changes.refusals == ['guard: before hook "g" failed: no']
    # Only what does not wait on the guard took its step; nothing was deleted.
    assert changes.steps == {"free": "update"}


def test_deletes_come_last_and_read_the_last_deployments_protect_flag() -> None:
    # deployment_executor.go:486-501, step.go:614-624 and 647-648.
    before = rendering(reg("old", {"data": {}}, protect=True), reg("app", {"data": {"v": "1"}}))
    after = rendering(reg("app", {"data": {"v": "2"}}), reg("new", {"data": {}}))
    changes = plan(before, after)
    assert changes.steps == {"app": "replace", "new": "create", "old": "delete"}
    assert list(changes.steps)[-1] == "old"
    assert changes.refusals == [f'resource "{STACK}kubernetes:core/v1:ConfigMap::old" cannot be deleted because it is protected']


def test_unprotecting_and_replacing_in_one_update_is_allowed() -> None:
    # step_generator.go:1954-1957: `new.Protect && old.Protect`.
    before = rendering(reg("db", {"data": {"v": "1"}}, protect=True))
    assert plan(before, rendering(reg("db", {"data": {"v": "2"}}, protect=False))).refusals == []
    (refusal,) = plan(before, rendering(reg("db", {"data": {"v": "2"}}, protect=True))).refusals
    assert refusal.startswith('unable to replace resource "') and "marked for protection" in refusal
