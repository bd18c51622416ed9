"""What `pulumi up` would do going from one rendering of a stack to the next.

`plan(before, after)` compares two runs of the program under mocks as the engine compares
its last deployment with the program's new registrations, with pulumi-kubernetes' replace
rules (provider/pkg/provider/diff.go: the fields that force a replacement per kind; a
Patch resource is replaced only for a new name or namespace) and the engine's rules:
`ignore_changes` keeps the old value, a protected resource is neither replaced nor
deleted, and `before_update` hooks run (with the old and new inputs) before an update.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Optional

from heimdall.tooling.mocks import REPLACED_ON_CHANGE, Registration
from heimdall.tooling.render import HookFailed, Rendering, _plain

# pulumi-kubernetes' force-new fields, for the kinds this stack declares.
FORCE_NEW = {
    "StatefulSet": (
        "spec.podManagementPolicy", "spec.revisionHistoryLimit", "spec.selector",
        "spec.serviceName", "spec.volumeClaimTemplates",
    ),
    "Deployment": ("spec.selector",),
    "Job": ("spec.completions", "spec.parallelism", "spec.selector", "spec.template"),
    "PersistentVolumeClaim": ("spec.accessModes", "spec.selector", "spec.storageClassName", "spec.volumeName"),
    "PodDisruptionBudget": ("spec",),
    "Secret": ("type",),
    "Service": ("spec.clusterIP",),
}


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
    old_inputs = _plain(old.inputs, True)
    new_plain = _plain(new_inputs, True)
    for path in ("metadata.name", "metadata.namespace"):
        if _at(old_inputs, path) != _at(new_plain, path):
            return True
    kind = _kind(new)
    if kind.endswith("Patch"):
        return False
    fields = FORCE_NEW.get(kind, ()) + REPLACED_ON_CHANGE.get(kind, ())
    return any(_at(old_inputs, f) != _at(new_plain, f) for f in fields)


def plan(before: Rendering, after: Rendering) -> Plan:
    result = Plan()
    olds = {r.urn: r for r in before.registrations if r.custom}
    news = {r.urn: r for r in after.registrations if r.custom}
    for urn, new in news.items():
        old = olds.get(urn)
        if old is None:
            result.steps[new.name] = "create"
            continue
        inputs = _with_ignored(new.inputs, old.inputs, new.ignore_changes)
        if _plain(inputs, True) == _plain(old.inputs, True):
            continue
        if _replaces(old, inputs, new):
            result.steps[new.name] = "replace"
            if old.protect:
                result.refusals.append(
                    f'unable to replace resource "{urn}" as it is currently marked for protection'
                )
            continue
        result.steps[new.name] = "update"
        checked = Registration(**{**new.__dict__, "inputs": inputs})
        try:
            after.run_hooks(checked, "before_update", old)
        except HookFailed as error:
            result.refusals.append(f"{new.name}: {error}")
    for urn, old in olds.items():
        if urn not in news:
            result.steps[old.name] = "delete"
            if old.protect:
                result.refusals.append(
                    f'unable to delete resource "{urn}" as it is currently marked for protection'
                )
    return result
