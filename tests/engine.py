"""What `pulumi up` would do going from one rendering of a stack to the next.

`plan(before, after)` compares two runs of the program under mocks as the engine compares
its last deployment with the program's new registrations, with pulumi-kubernetes' replace
rules (heimdall/tooling/replace_rules.py, from provider/pkg/provider/diff.go: the fields
that force a replacement per kind; a Patch resource is replaced only for a new name or
namespace) and the engine's rules:
`ignore_changes` keeps the old value, a protected resource is neither replaced nor
deleted, and `before_update` hooks run (with the old and new inputs) before an update.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Optional

from heimdall.tooling.mocks import Registration
from heimdall.tooling.render import HookFailed, Rendering, _plain
from heimdall.tooling.replace_rules import replaced_by


@dataclass
class Plan:
    steps: dict[str, str] = field(default_factory=dict)  # logical name -> create|update|replace|delete
    refusals: list[str] = field(default_factory=list)  # what stops the update, one line each

    def of(self, name: str) -> Optional[str]:
        return self.steps.get(name)


def _at(value: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _with_ignored(new: dict[str, Any], old: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    result = copy.deepcopy(new)
    for path in paths:
        keys = path.split(".")
        target = result
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        old_value = _at(old, path)
        if old_value is None:
            target.pop(keys[-1], None)
        else:
            target[keys[-1]] = copy.deepcopy(old_value)
    return result


def _kind(registration: Registration) -> str:
    return registration.type.rsplit(":", 1)[-1]


def _replaces(old: Registration, new_inputs: dict[str, Any], new: Registration) -> bool:
    if not new.type.startswith("kubernetes:"):
        return False
    patch = _kind(new).endswith("Patch")
    return bool(replaced_by(_plain(old.inputs, True), _plain(new_inputs, True), patch=patch))


def plan(before: Rendering, after: Rendering) -> Plan:
    """The steps a `pulumi up --skip-preview` would take, in the engine's order
    (pulumi/pulumi@1b5949891b pkg/resource/deploy): a resource is registered once its
    parent and every resource it depends on are (source_eval.go:3039-3045: a registration
    returns when its step is done); a failing before hook fails its step
    (deployment.go:880) and cancels the rest (step_executor.go:435-461), so nothing that
    waits on it gets a step and nothing is deleted; deletes come last
    (deployment_executor.go:486-501), a protected one fails there (step.go:647-648)."""
    result = Plan()
    olds = {r.urn: r for r in before.registrations if r.custom}
    news = {r.urn: r for r in after.registrations if r.custom}
    blocked: set[str] = set()  # URNs whose registration never completes
    for new in after.registrations:
        if new.parent in blocked or blocked.intersection(new.dependencies):
            blocked.add(new.urn)
            continue
        if not new.custom:
            continue
        urn = new.urn
        old = olds.get(urn)
        if old is None:
            result.steps[new.name] = "create"
            continue
        inputs = _with_ignored(new.inputs, old.inputs, new.ignore_changes)
        if _plain(inputs, True) == _plain(old.inputs, True):
            continue
        if _replaces(old, inputs, new):
            result.steps[new.name] = "replace"
            # step_generator.go:1957: unprotecting and replacing in one update is allowed.
            if old.protect and new.protect:
                result.refusals.append(
                    f'unable to replace resource "{urn}" as it is currently marked for protection'
                )
            continue
        checked = Registration(**{**new.__dict__, "inputs": inputs})
        try:
            after.run_hooks(checked, "before_update", old)
        except HookFailed as error:
            result.refusals.append(f"{new.name}: {error}")
            blocked.add(urn)
            continue
        result.steps[new.name] = "update"
    if blocked:
        return result
    for urn, old in olds.items():
        if urn not in news:
            result.steps[old.name] = "delete"
            if old.protect:  # the last deployment's flag: the program no longer declares it
                result.refusals.append(f'resource "{urn}" cannot be deleted because it is protected')
    return result
