"""Changes a user makes on a stack that already holds data: each built before and after
under the mocks, and compared as the engine and pulumi-kubernetes would (tests/engine.py).
docs/upgrades.md has the table of these changes and their outcomes."""

from __future__ import annotations

from typing import Any

import pytest

from heimdall.tooling.render import Rendering
from tests.conftest import BuildFn, containers, database_password_secret, env_of
from tests.engine import plan

EMBEDDED_STS = "heimdall-database-statefulset"
DATA_VOLUME = "heimdall-database-data-volume"


def registration(rendering: Rendering, name: str) -> Any:
    (found,) = [r for r in rendering.registrations if r.name == name]
    return found


def claim_patch(rendering: Rendering) -> dict[str, Any]:
    from tests.databases import inputs

    return inputs(registration(rendering, DATA_VOLUME))


# --- database.embedded.persistence ----------------------------------------------------------


def test_growing_the_embedded_volume_expands_its_claim_in_place(build: BuildFn) -> None:
    before = build({})
    after = build({"database": {"embedded": {"persistence": {"size": "50Gi"}}}})
    changes = plan(before, after)
    assert changes.refusals == []
    # Not a replacement of the protected StatefulSet: a server-side apply of the claim's size.
    assert changes.steps == {DATA_VOLUME: "update"}
    patch = claim_patch(after)
    assert patch["metadata"]["name"] == "data-heimdall-postgres-0"
    assert patch["spec"]["resources"]["requests"]["storage"] == "50Gi"
    assert patch["metadata"]["annotations"]["pulumi.com/patchForce"] == "true"
    volume = registration(after, DATA_VOLUME)
    assert volume.retain_on_delete  # removing the patch never touches the claim
    assert any(dep.endswith(f"::{EMBEDDED_STS}") for dep in volume.dependencies)
    assert "spec.volumeClaimTemplates" in registration(after, EMBEDDED_STS).ignore_changes


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"size": "5Gi"},
            "database.embedded.persistence.size 5Gi is smaller than the data volume's 10Gi: "
            "Kubernetes cannot shrink a volume; set 10Gi or more, or move the data to a new "
            "volume (docs/operations.md#moving-the-embedded-database-to-another-volume)",
        ),
        ({"size": "10000Mi"}, "10000Mi is smaller than the data volume's 10Gi"),
        (
            {"storageClass": "fast-ssd"},
            "database.embedded.persistence.storageClass changed from '' (the cluster's "
            "default) to 'fast-ssd': the data volume's storage class cannot change",
        ),
    ],
)
def test_shrinking_or_moving_the_embedded_volume_is_refused_in_one_line(
    build: BuildFn, values: dict[str, Any], message: str
) -> None:
    before = build({})
    changes = plan(before, build({"database": {"embedded": {"persistence": values}}}))
    (refusal,) = changes.refusals
    assert message in refusal and "\n" not in refusal
    assert "docs/operations.md#moving-the-embedded-database-to-another-volume" in refusal


def test_a_storage_class_set_from_the_start_stays_and_the_same_size_changes_nothing(build: BuildFn) -> None:
    values = {"database": {"embedded": {"persistence": {"storageClass": "fast-ssd", "size": "20Gi"}}}}
    before = build(values)
    assert claim_patch(before)["spec"]["storageClassName"] == "fast-ssd"
    assert plan(before, build(values)).steps == {}
    assert plan(before, build({**values, "replicas": 2})).refusals == []


def test_turning_persistence_off_on_a_database_with_data_is_refused(build: BuildFn) -> None:
    before = build({"database": {"allowDestroy": True}})
    after = build({"database": {"allowDestroy": True, "embedded": {"persistence": {"enabled": False}}}})
    (refusal,) = plan(before, after).refusals
    assert "database.embedded.persistence.enabled false on a database that holds data" in refusal


@pytest.mark.parametrize(
    ("before_claim", "after_claim", "message"),
    [
        (None, "chart-data", "database.embedded.existingClaim chart-data on a database whose data is on its own claim"),
        ("chart-data", None, "removing database.embedded.existingClaim (chart-data) from a database that runs on it"),
        ("chart-data", "other-data", "database.embedded.existingClaim changed from chart-data to other-data"),
    ],
)
def test_moving_the_embedded_database_between_claims_is_refused(
    build: BuildFn, before_claim: Any, after_claim: Any, message: str
) -> None:
    def values(claim: Any) -> dict[str, Any]:
        return {"database": {"embedded": {"existingClaim": claim}}} if claim else {}

    (refusal,) = plan(build(values(before_claim)), build(values(after_claim))).refusals
    assert message in refusal
    assert "move the data with a dump and a restore" in refusal


def test_an_existing_claim_is_not_patched(build: BuildFn) -> None:
    rendering = build({"database": {"embedded": {"existingClaim": "chart-data"}}})
    assert not [r for r in rendering.registrations if r.name == DATA_VOLUME]
    assert plan(rendering, rendering).refusals == []


# --- database.name, database.username and the password on the embedded provider ----------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "heimdall_prod"}, "database.name changed from heimdall to heimdall_prod"),
        ({"username": "heimdall_app"}, "database.username changed from postgres to heimdall_app"),
    ],
)
def test_renaming_the_database_or_user_after_the_first_start_is_refused(
    build: BuildFn, change: dict[str, Any], message: str
) -> None:
    before = build({})
    (refusal,) = plan(before, build({"database": change})).refusals
    assert message in refusal
    assert "creates its database and user only on an empty volume" in refusal
    assert "docs/operations.md#renaming-the-embedded-database-or-its-user" in refusal
    renamed = build({"database": {**change, "embedded": {"allowRename": True}}})
    assert plan(before, renamed).refusals == []


def test_a_new_password_is_applied_by_the_database_before_its_clients_use_it(build: BuildFn) -> None:
    before = build({}, secrets={"secrets": {"databasePassword": "first-password-0123456789"}})
    after = build({}, secrets={"secrets": {"databasePassword": "second-password-0123456789"}})
    changes = plan(before, after)
    assert changes.refusals == []
    # The Secret is auto-named: new content is a new Secret, and every reader rolls.
    assert changes.of("heimdall-database-credentials") == "replace"
    assert changes.of(EMBEDDED_STS) == "update"
    assert changes.of("heimdall-migration-job") == "replace"
    assert changes.of("heimdall-app-statefulset") == "update"
    secret = database_password_secret(after)["metadata"]["name"]
    postgres = containers(after.manifest("StatefulSet", "heimdall-postgres")["spec"]["template"]["spec"], "postgres")
    assert env_of(postgres)["POSTGRES_PASSWORD"] == {"secret": (secret, "password")}
    # At every start, the password in the Secret becomes the user's (the image's own
    # POSTGRES_PASSWORD only initialises an empty volume); the pod is ready only after.
    hook = postgres["lifecycle"]["postStart"]["exec"]["command"]
    assert hook[:2] == ["/bin/sh", "-c"] and "ALTER ROLE" in hook[2]
    assert "second-password" not in str(postgres)
    # Order: database (new password applied) -> migration Job -> Heimdall pods.
    job = registration(after, "heimdall-migration-job")
    assert any(dep.endswith(f"::{EMBEDDED_STS}") for dep in job.dependencies)
    app = registration(after, "heimdall-app-statefulset")
    assert job.urn in app.dependencies


# --- secrets.adminPassword and JWT_SECRET ----------------------------------------------------


def test_a_new_admin_password_or_jwt_secret_reruns_the_job_and_rolls_the_pods(build: BuildFn) -> None:
    secrets = {"adminPassword": "Admin-Password-1!aa", "jwtSecret": "j" * 40}
    before = build({}, secrets={"secrets": secrets})
    for key, value in (("adminPassword", "Admin-Password-2!bb"), ("jwtSecret", "k" * 40)):
        after = build({}, secrets={"secrets": {**secrets, key: value}})
        changes = plan(before, after)
        assert changes.refusals == []
        # What happens (docs/operations.md, "Changing the admin password or JWT_SECRET"):
        # the app Secret is replaced, the migration Job runs again (its seeder creates the
        # admin only when none exists: a new adminPassword changes no existing user), and
        # the Heimdall pods roll onto the new Secret (a new JWT_SECRET ends every session).
        assert changes.of("heimdall-secrets-app") == "replace"
        assert changes.of("heimdall-migration-job") == "replace"
        assert changes.of("heimdall-app-statefulset") == "update"
        assert changes.of(EMBEDDED_STS) is None  # the database is not touched
    assert after.outputs["adminPassword"] == "Admin-Password-1!aa"


# --- image.tag -------------------------------------------------------------------------------


def test_a_new_image_tag_migrates_before_any_app_pod_rolls(build: BuildFn) -> None:
    before = build({"replicas": 2})
    after = build({"replicas": 2, "image": {"tag": "2.13.2"}})
    changes = plan(before, after)
    assert changes.refusals == []
    assert changes.steps == {"heimdall-migration-job": "replace", "heimdall-app-statefulset": "update"}
    job = registration(after, "heimdall-migration-job")
    assert job.urn in registration(after, "heimdall-app-statefulset").dependencies
    job_manifest = after.manifest("Job")
    # A failed Job fails the update before the rollout (old pods keep serving) and is
    # replaced, not waited on again, by the next `pulumi up`.
    assert job_manifest["metadata"]["annotations"]["pulumi.com/replaceUnready"] == "true"
    assert containers(job_manifest["spec"]["template"]["spec"], "migrate")["image"] == "mitre/heimdall2:2.13.2"
    assert job_manifest["metadata"]["name"] != before.manifest("Job")["metadata"]["name"]


# --- two stacks in one cluster ---------------------------------------------------------------


def _objects(rendering: Rendering) -> set[tuple[str, str, str]]:
    return {
        (m["kind"], str(m["metadata"].get("namespace") or ""), m["metadata"]["name"])
        for m in rendering.manifests()
    }


def test_two_stacks_in_their_own_namespaces_share_no_object(build: BuildFn) -> None:
    dev, staging = build({"namespace": "heimdall-dev"}), build({"namespace": "heimdall-staging"})
    assert _objects(dev) & _objects(staging) == set()
    for rendering, namespace in ((dev, "heimdall-dev"), (staging, "heimdall-staging")):
        cluster_scoped = [o for o in _objects(rendering) if not o[1]]
        assert cluster_scoped == [("Namespace", "", namespace)]


@pytest.mark.parametrize("create_namespace", [True, False])
def test_a_second_stack_in_the_same_namespace_stops_before_touching_the_first(
    build: BuildFn, create_namespace: bool
) -> None:
    first = build({"namespace": "shared", "createNamespace": create_namespace})
    second = build({"namespace": "shared", "createNamespace": create_namespace})
    assert _objects(first) & _objects(second)  # fixed names: they would collide
    claim = registration(second, "heimdall-namespace-claim")
    assert second.manifest("ConfigMap", "heimdall-stack")["data"]["stack"].endswith("/heimdall/test")
    # Every other namespaced object waits for the claim, which pulumi-kubernetes creates
    # (never adopts): the second stack fails there, before any object of the first changes.
    for r in second.registrations:
        if r.type.startswith("kubernetes:") and r.type != "kubernetes:core/v1:Namespace" and r is not claim:
            assert claim.urn in r.dependencies, r.name


# --- database.provider, restore.from, pulumi destroy: the existing behaviour ----------------


EXTERNAL = {"provider": "external", "external": {"host": "db.example.com", "existingSecret": "db"}}
CLAIM = "heimdall-namespace-claim"


def _waits_on(rendering: Rendering, urn: str) -> set[str]:
    """The names of the registrations that wait for `urn` (through a parent or a
    dependency, transitively): the engine registers none of them before its step is done."""
    waiting: set[str] = {urn}
    names = set()
    for r in rendering.registrations:
        if r.parent in waiting or waiting.intersection(r.dependencies):
            waiting.add(r.urn)
            names.add(r.name)
    return names


def test_a_provider_switch_on_a_stack_with_data_is_refused_before_anything_moves(build: BuildFn) -> None:
    before = build({})
    after = build({"database": EXTERNAL})
    changes = plan(before, after)
    (refusal,) = changes.refusals
    assert refusal.startswith(
        f'{CLAIM}: before hook "heimdall-database-guard" failed: database.provider changed from '
        "embedded to external on a stack whose database is protected: "
    )
    assert "docs/operations.md#moving-from-the-embedded-database-to-a-managed-one" in refusal
    # Nothing took a step: not the config, the Job, the app nor the new database; no delete.
    assert changes.steps == {}
    claim = registration(after, CLAIM)
    waiting = _waits_on(after, claim.urn)
    for name in ("heimdall-config-env", "heimdall-migration-job", "heimdall-app-statefulset"):
        assert name in waiting, name
    # Every object but the Namespace (and generated passwords, which use nothing) waits
    # for the guard, whatever its provider creates.
    from tests.databases import AWS_RDS, render

    cloudnative_pg = build({"database": {"provider": "cloudnative-pg", "username": "heimdall"}})
    for rendering in (after, cloudnative_pg, render(AWS_RDS)):
        guard = registration(rendering, CLAIM).urn
        unguarded = {
            r.name
            for r in rendering.registrations
            if r.custom and r.urn != guard and not r.type.startswith("random:")
        } - _waits_on(rendering, guard)
        assert unguarded <= {"heimdall-namespace"}, unguarded


def test_without_the_guard_the_switch_would_move_heimdall_before_the_protected_delete_fails(
    build: BuildFn,
) -> None:
    import dataclasses

    before = build({})
    after = build({"database": EXTERNAL})
    unguarded = dataclasses.replace(
        after,
        registrations=[
            dataclasses.replace(r, hooks={}) if r.name == CLAIM else r for r in after.registrations
        ],
    )
    changes = plan(before, unguarded)
    # What the guard prevents: Heimdall already on the new database when the delete fails.
    assert changes.of("heimdall-migration-job") == "replace"
    assert changes.of(EMBEDDED_STS) == "delete"
    assert changes.refusals == [
        f'resource "{registration(before, EMBEDDED_STS).urn}" cannot be deleted because it is protected'
    ]


def test_a_switch_after_an_update_that_allowed_destroy_goes_through(build: BuildFn) -> None:
    unprotected = build({"database": {"allowDestroy": True}})
    assert plan(build({}), unprotected).refusals == []  # the unprotecting update itself
    changes = plan(unprotected, build({"database": EXTERNAL}))
    assert changes.refusals == []
    assert changes.of(EMBEDDED_STS) == "delete"
    # Never the claim: the patch is retained on delete, the claim outlives the StatefulSet.
    assert registration(unprotected, DATA_VOLUME).retain_on_delete


def test_allow_destroy_in_the_same_update_as_the_switch_is_still_refused(build: BuildFn) -> None:
    # The old resources are no longer declared: their delete reads the last deployment's
    # protect flag (pulumi/pulumi@1b5949891b pkg/resource/deploy/step.go:647).
    changes = plan(build({}), build({"database": {**EXTERNAL, "allowDestroy": True}}))
    (refusal,) = changes.refusals
    assert "database.provider changed from embedded to external" in refusal


def test_the_guard_runs_in_preview_and_holds_from_the_first_update_that_records_it() -> None:
    from heimdall.database import guard

    hook = guard.guard_hook("heimdall")
    assert hook.name == "heimdall-database-guard" and hook.opts is not None and hook.opts.on_dry_run

    def claim(provider: str | None, protected: bool = True) -> dict[str, Any]:
        annotations = guard.recorded_annotations(provider, protected) if provider else {}
        return {"metadata": {"annotations": annotations}}

    # A stack deployed before the guard: nothing recorded, nothing to compare yet.
    assert guard.switch_refusal(claim(None), claim("external")) is None
    assert guard.switch_refusal(claim("embedded"), claim("embedded")) is None
    assert guard.switch_refusal(claim("embedded", protected=False), claim("external")) is None
    refusal = guard.switch_refusal(claim("embedded"), claim("external", protected=False))
    assert refusal is not None and "\n" not in refusal
    assert refusal.startswith("database.provider changed from embedded to external")


def test_restore_from_left_set_does_not_restore_again_on_later_updates(build: BuildFn) -> None:
    values = {"restore": {"from": "heimdall-20250101T021500Z.dump"}}
    before = build(values)
    changes = plan(before, build({**values, "image": {"tag": "2.13.2"}, "replicas": 2}))
    assert changes.refusals == []
    assert not any("restore" in name for name in changes.steps), changes.steps


@pytest.mark.parametrize("allow_destroy", [False, True])
def test_destroy_stops_at_the_data_unless_allow_destroy(build: BuildFn, allow_destroy: bool) -> None:
    before = build({"database": {"allowDestroy": allow_destroy}})
    nothing = Rendering(provider=before.provider, namespace=before.namespace, registrations=[], outputs={}, secret_outputs=frozenset())
    refusals = plan(before, nothing).refusals
    if allow_destroy:
        assert refusals == []
    else:
        protected = {r.split("::")[-1].split('"')[0] for r in refusals}
        assert protected == {"heimdall-namespace", EMBEDDED_STS, "heimdall-operations-backups-volume"}


def test_the_refusals_link_procedures_that_exist_and_the_table_has_every_change() -> None:
    import re

    from heimdall.database import guard
    from heimdall.database.embedded import changes
    from tests.conftest import REPO

    operations = (REPO / "docs" / "operations.md").read_text()
    anchors = {
        re.sub(r"[^a-z0-9 _-]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in operations.splitlines()
        if line.startswith("#")
    }
    for link in (changes.VOLUME_RUNBOOK, changes.RENAME_RUNBOOK, guard.RUNBOOK):
        assert link.split("#")[1] in anchors, link
    upgrades = (REPO / "docs" / "upgrades.md").read_text()
    table = upgrades.split("## Changes on a stack that holds data")[1].split("\n## ")[0]
    for change in (
        "`image.tag`", "persistence.size` larger", "persistence.size` smaller", "storageClass`",
        "`database.name` or `database.username`", "database password", "`secrets.adminPassword`",
        "`secrets.jwtSecret`", "own `namespace`", "same namespace", "`database.provider`",
        "`restore.from`", "`pulumi destroy`", "PostgreSQL major", "`backup.target`",
        "`pulumi up --refresh`", "`pulumi.com/*`", "`database.embedded.existingClaim`",
        "`database.cloudNativePg.clusterName`",
    ):
        assert f"| {change}" in table or change in table, change
    for link in re.findall(r"\(operations\.md#([^)]+)\)", table):
        assert link in anchors, link


def test_a_new_cloudnative_pg_cluster_name_is_stopped_at_the_protected_old_cluster(
    build: BuildFn,
) -> None:
    base = {"database": {"provider": "cloudnative-pg", "username": "heimdall"}}
    before = build(base)
    after = build({"database": {**base["database"], "cloudNativePg": {"clusterName": "heimdall-db-r1"}}})
    changes = plan(before, after)
    old = "heimdall-database-cluster-heimdall-db"
    assert changes.of(old) == "delete"
    assert any("cannot be deleted because it is protected" in r and old in r for r in changes.refusals)
