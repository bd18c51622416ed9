"""The database guard: a `database.provider` switch on a stack that holds data is refused
before anything that depends on the database changes.

Why a guard (read in pulumi/pulumi, commit 1b5949891b, v3.259.0):
`pulumi up --yes --skip-preview` (pulumi/actions `command: up`) applies steps as soon as
their dependencies allow (pkg/resource/deploy/deployment_executor.go:270-345) and deletes
the resources the program no longer declares only after every other step
(`performPostSteps`, deployment_executor.go:486-501). The protected old database then
fails there (pkg/resource/deploy/step.go:647-648, `resource "<urn>" cannot be deleted
because it is protected`), after Heimdall's config, the migration Job and the app were
already pointed at the new, empty database. Nor does `database.allowDestroy` set in the
same update help: the old resources are not declared any more, so their delete reads the
`protect` flag of the last deployment (step.go:647, `s.old.Protect`).

So the stack's first object, the namespace claim ConfigMap (every namespaced object takes
its namespace from it, and the database component depends on it), carries the provider and
whether the data is protected in two annotations, and a `before_update` hook compares the
last deployment's with the new ones. A raising hook fails that step before it changes
anything (pkg/resource/deploy/step.go:960-983, `UpdateStep.Apply` runs the hooks first;
deployment.go:880 words it `before hook "<name>" failed: <message>`), the step executor
cancels what has not started (step_executor.go:435-461), and what waits on the claim's URN
or outputs is never registered. With `on_dry_run` the hook refuses in `pulumi preview`
already. A stack deployed before the guard existed has no annotations yet: its first
update records them, and the guard holds from the next one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from pulumi.resource_hooks import ResourceHook, ResourceHookArgs, ResourceHookOptions

from heimdall.engine_values import get_path, hook_inputs

PROVIDER = "heimdall.mitre.org/database-provider"
PROTECTED = "heimdall.mitre.org/database-protected"
RUNBOOK = "docs/operations.md#moving-from-the-embedded-database-to-a-managed-one"


def recorded_annotations(provider: str, protected: bool) -> dict[str, str]:
    return {PROVIDER: provider, PROTECTED: "true" if protected else "false"}


def _recorded(inputs: Optional[Mapping[str, Any]], key: str) -> Optional[str]:
    value = get_path(inputs, "metadata", "annotations", key)
    return value if isinstance(value, str) else None


def switch_refusal(old: Optional[Mapping[str, Any]], new: Optional[Mapping[str, Any]]) -> Optional[str]:
    """Why the claim cannot go from `old` to `new` (its inputs), or None."""
    was, now = _recorded(old, PROVIDER), _recorded(new, PROVIDER)
    if was is None or now is None or was == now:
        return None
    if _recorded(old, PROTECTED) != "true":
        # The last update unprotected the old database (database.allowDestroy): its
        # delete at the end succeeds, as the user asked.
        return None
    return (
        f"database.provider changed from {was} to {now} on a stack whose database is protected: "
        f"Heimdall, its migration Job and its config would move to the new, empty database "
        f"before the old one's delete fails at the end of the update; set it back to {was}, or "
        f"move the data first: a final dump, then database.allowDestroy true in an update of "
        f"its own, then the switch with restore.from ({RUNBOOK})"
    )


def guard_hook(name: str) -> ResourceHook:
    async def run(args: ResourceHookArgs) -> None:
        problem = switch_refusal(await hook_inputs(args.old_inputs), await hook_inputs(args.new_inputs))
        if problem is not None:
            raise ValueError(problem)

    return ResourceHook(f"{name}-database-guard", run, ResourceHookOptions(on_dry_run=True))
