"""Changes to an embedded database that already holds data: which are safe, and the
refusals for the others.

What pulumi-kubernetes would do (provider/pkg/provider/diff.go): a StatefulSet whose
`volumeClaimTemplates` change is replaced, and the protected StatefulSet then stops the
update with "unable to replace resource ... marked for protection"; the claim made from
the template (`data-heimdall-postgres-0`) is no Pulumi resource, so nothing would grow it.
So:

- the StatefulSet ignores changes of its `volumeClaimTemplates` (they only shape the
  claim made on the first start);
- `data_volume` declares a `PersistentVolumeClaimPatch` on that claim, a server-side
  apply of its size (and storage class, when set): a larger size expands the claim in
  place when its StorageClass has `allowVolumeExpansion: true`; otherwise the API server
  refuses the patch, in `pulumi preview` already (a dry run), and nothing changes;
- resource hooks, run by the engine before an update with the old and the new inputs
  (also in preview), refuse what cannot work, in one line that says what to do:
  a smaller size or another storage class (`volume_change`), and a new `database.name`
  or `database.username` (`identity_change`: the image creates its user and database
  only on an empty volume).

The engine passes the hooks its own record of the last deployment, so the program needs
no state of its own, and a failed update leaves that record as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s
from pulumi.resource_hooks import ResourceHook, ResourceHookArgs, ResourceHookOptions

from heimdall.engine_values import get_path, hook_inputs, unwrap_secret
from heimdall.settings.types import quantity_value

RUNBOOK = "docs/operations.md"
VOLUME_RUNBOOK = f"{RUNBOOK}#moving-the-embedded-database-to-another-volume"
RENAME_RUNBOOK = f"{RUNBOOK}#renaming-the-embedded-database-or-its-user"
CLAIM = "data-heimdall-postgres-0"  # <volumeClaimTemplate>-<StatefulSet>-<ordinal>


def _maps(items: Any) -> list[Mapping[str, Any]]:
    """The maps of a list of inputs, wrapped secrets unwrapped."""
    unwrapped = (unwrap_secret(item)[0] for item in unwrap_secret(items)[0] or [])
    return [item for item in unwrapped if isinstance(item, Mapping)]


def volume_change(old: Optional[Mapping[str, Any]], new: Optional[Mapping[str, Any]]) -> Optional[str]:
    """Why the data volume cannot go from `old` to `new` (claim patch inputs), or None."""
    old_size = get_path(old, "spec", "resources", "requests", "storage")
    new_size = get_path(new, "spec", "resources", "requests", "storage")
    if (
        isinstance(old_size, str)
        and isinstance(new_size, str)
        and quantity_value(new_size) < quantity_value(old_size)
    ):
        return (
            f"database.embedded.persistence.size {new_size} is smaller than the data "
            f"volume's {old_size}: Kubernetes cannot shrink a volume; set {old_size} or "
            f"more, or move the data to a new volume ({VOLUME_RUNBOOK})"
        )
    old_class = get_path(old, "spec", "storageClassName") or ""
    new_class = get_path(new, "spec", "storageClassName") or ""
    if old_class != new_class:
        shown = lambda name: repr(name) if name else "'' (the cluster's default)"  # noqa: E731
        return (
            f"database.embedded.persistence.storageClass changed from {shown(old_class)} to "
            f"{shown(new_class)}: the data volume's storage class cannot change; set it "
            f"back, or move the data to a new volume ({VOLUME_RUNBOOK})"
        )
    return None


def _postgres_env(inputs: Optional[Mapping[str, Any]]) -> dict[str, Any]:
    for container in _maps(get_path(inputs, "spec", "template", "spec", "containers")):
        if container.get("name") == "postgres":
            return {str(item.get("name")): get_path(item, "value") for item in _maps(container.get("env"))}
    return {}


def _volume_names(inputs: Optional[Mapping[str, Any]]) -> set[str]:
    return {str(v.get("name")) for v in _maps(get_path(inputs, "spec", "template", "spec", "volumes"))}


def _existing_claim(inputs: Optional[Mapping[str, Any]]) -> Optional[str]:
    """The claim of the pod's `data` volume (database.embedded.existingClaim), if any."""
    for volume in _maps(get_path(inputs, "spec", "template", "spec", "volumes")):
        if volume.get("name") == "data":
            claim = get_path(volume, "persistentVolumeClaim", "claimName")
            return str(claim) if claim else None
    return None


def claim_change(old: Optional[Mapping[str, Any]], new: Optional[Mapping[str, Any]]) -> Optional[str]:
    """Why the data cannot move between the stack's own claim and `existingClaim`."""
    was, now = _existing_claim(old), _existing_claim(new)
    if was == now:
        return None
    if was is None:
        where = "an emptyDir" if "data" in _volume_names(old) else "its own claim"
        what = f"database.embedded.existingClaim {now} on a database whose data is on {where}"
    elif now is None:
        what = f"removing database.embedded.existingClaim ({was}) from a database that runs on it"
    else:
        what = f"database.embedded.existingClaim changed from {was} to {now}"
    return (
        f"{what} would start PostgreSQL on other data (its claim is fixed once it holds data): "
        f"set it back, or move the data with a dump and a restore ({VOLUME_RUNBOOK})"
    )


def identity_change(
    old: Optional[Mapping[str, Any]], new: Optional[Mapping[str, Any]], allow_rename: bool
) -> Optional[str]:
    """Why the StatefulSet cannot go from `old` to `new` (its inputs), or None."""
    moved = claim_change(old, new)
    if moved is not None:
        return moved
    if _volume_names(new) - _volume_names(old) >= {"data"}:
        # The claim template is ignored after the first start: an emptyDir named data
        # would shadow nothing, and the data would seem to stay while the setting says no.
        return (
            "database.embedded.persistence.enabled false on a database that holds data "
            "would keep its data on an emptyDir, lost with the pod: set it back to true, or "
            f"move the data first ({VOLUME_RUNBOOK})"
        )
    if allow_rename:
        return None
    before, after = _postgres_env(old), _postgres_env(new)
    for variable, key in (("POSTGRES_DB", "database.name"), ("POSTGRES_USER", "database.username")):
        was, now = before.get(variable), after.get(variable)
        if isinstance(was, str) and isinstance(now, str) and was != now:
            return (
                f"{key} changed from {was} to {now}, but the embedded PostgreSQL creates its "
                f"database and user only on an empty volume, so Heimdall could not connect: "
                f"set it back to {was}, or rename it inside PostgreSQL first and set "
                f"database.embedded.allowRename for that update ({RENAME_RUNBOOK})"
            )
    return None


def _hook(name: str, check: Any) -> ResourceHook:
    async def run(args: ResourceHookArgs) -> None:
        # The SDK hands a property that holds a secret anywhere as Output.secret(...):
        # read through it, so a secret label or value never makes a check pass unseen.
        problem = check(await hook_inputs(args.old_inputs), await hook_inputs(args.new_inputs))
        if problem is not None:
            raise ValueError(problem)

    # on_dry_run: `pulumi preview` refuses already, before anything changes.
    return ResourceHook(name, run, ResourceHookOptions(on_dry_run=True))


def identity_hook(name: str, allow_rename: bool) -> ResourceHook:
    return _hook(f"{name}-identity", lambda old, new: identity_change(old, new, allow_rename))


def data_volume(
    name: str,
    namespace: pulumi.Input[str],
    size: str,
    storage_class: Optional[str],
    labels: dict[str, str],
    stateful_set: pulumi.Resource,
    parent: pulumi.Resource,
) -> k8s.core.v1.PersistentVolumeClaimPatch:
    """The size (and class) of the claim the StatefulSet made, applied to that claim."""
    return k8s.core.v1.PersistentVolumeClaimPatch(
        f"{name}-data-volume",
        metadata=k8s.meta.v1.ObjectMetaPatchArgs(
            name=CLAIM,
            namespace=namespace,
            labels=labels,
            # The StatefulSet controller owns the claim's fields: take the size over.
            annotations={"pulumi.com/patchForce": "true"},
        ),
        spec=k8s.core.v1.PersistentVolumeClaimSpecPatchArgs(
            # The claim's own values (it exists before the patch): also what a dry run
            # on a first preview needs to be a valid claim.
            access_modes=["ReadWriteOnce"],
            storage_class_name=storage_class or None,
            resources=k8s.core.v1.VolumeResourceRequirementsPatchArgs(requests={"storage": size}),
        ),
        opts=pulumi.ResourceOptions(
            parent=parent,
            # After the StatefulSet is ready: its pod's claim exists then.
            depends_on=[stateful_set],
            # Removing the patch leaves the claim as it is (the patch owns a required field).
            retain_on_delete=True,
            hooks=pulumi.ResourceHookBinding(
                before_update=[_hook(f"{name}-data-volume", volume_change)]
            ),
        ),
    )
