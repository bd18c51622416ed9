"""Conformance: which changes make pulumi-kubernetes replace an object, and the render and
the plans agreeing with it.

Upstream: pulumi/pulumi-kubernetes, snapshot commit 94977969d (after v4.33; the pinned SDK
is 4.34), provider/pkg/provider/diff.go and provider/pkg/provider/provider.go `Diff`;
cited per case as diff.go:LINE / provider.go:LINE. The table lives in
heimdall/tooling/replace_rules.py.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from heimdall.tooling.replace_rules import force_new_paths, replaced_by
from tests.conftest import BuildFn
from tests.engine import plan


def changed(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    result = copy.deepcopy(base)
    target = result
    keys = path.split(".")
    for key in keys[:-1]:
        target = target.setdefault(key, {})
    target[keys[-1]] = value
    return result


JOB = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"namespace": "heimdall", "labels": {"a": "b"}},
    "spec": {
        "backoffLimit": 2,
        "activeDeadlineSeconds": 600,
        "template": {"metadata": {"annotations": {}}, "spec": {"containers": [{"name": "m", "image": "i:1"}]}},
    },
}
STATEFUL_SET = {
    "apiVersion": "apps/v1",
    "kind": "StatefulSet",
    "metadata": {"name": "heimdall-postgres", "namespace": "heimdall"},
    "spec": {
        "replicas": 1,
        "serviceName": "heimdall-postgres-headless",
        "selector": {"matchLabels": {"app": "postgres"}},
        "podManagementPolicy": "OrderedReady",
        "template": {"spec": {"containers": [{"name": "postgres", "image": "postgres:17"}]}},
        "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "10Gi"}}}}],
    },
}
CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "heimdall"}, "data": {"A": "1"}}
SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"namespace": "heimdall"}, "type": "Opaque", "stringData": {"A": "1"}}
CLAIM = {
    "apiVersion": "v1",
    "kind": "PersistentVolumeClaim",
    "metadata": {"name": "data", "namespace": "heimdall"},
    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}},
}
CLAIM_PATCH = {**CLAIM, "kind": "PersistentVolumeClaimPatch"}
PDB = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "p"}, "spec": {"minAvailable": 1}}


@pytest.mark.parametrize(
    ("base", "path", "value", "replaced", "upstream"),
    [
        # A Job: only completions, parallelism, selector and the pod template (diff.go:178-186).
        (JOB, "spec.activeDeadlineSeconds", 900, [], "diff.go:178-186"),
        (JOB, "spec.backoffLimit", 4, [], "diff.go:178-186"),
        (JOB, "metadata.labels", {"a": "c"}, [], "diff.go:178-186"),
        (JOB, "spec.template.metadata.annotations", {"run": "2"}, [".spec.template"], "diff.go:183"),
        (JOB, "spec.completions", 2, [".spec.completions"], "diff.go:180"),
        (JOB, "spec.parallelism", 2, [".spec.parallelism"], "diff.go:181"),
        # A StatefulSet (diff.go:196-205).
        (STATEFUL_SET, "spec.replicas", 2, [], "diff.go:196-205"),
        (STATEFUL_SET, "spec.template.spec.containers", [{"name": "postgres", "image": "postgres:18"}], [], "diff.go:196-205"),
        (STATEFUL_SET, "spec.serviceName", "other", [".spec.serviceName"], "diff.go:201"),
        (STATEFUL_SET, "spec.podManagementPolicy", "Parallel", [".spec.podManagementPolicy"], "diff.go:198"),
        (STATEFUL_SET, "spec.revisionHistoryLimit", 3, [".spec.revisionHistoryLimit"], "diff.go:199"),
        (STATEFUL_SET, "spec.selector.matchLabels", {"app": "pg"}, [".spec.selector", ".spec.selector.matchLabels"], "diff.go:200,204"),
        (STATEFUL_SET, "spec.volumeClaimTemplates", [], [".spec.volumeClaimTemplates"], "diff.go:202"),
        # Every kind: a new name or namespace (diff.go:207-212, provider.go:1559).
        (STATEFUL_SET, "metadata.name", "pg2", [".metadata.name"], "diff.go:209"),
        (JOB, "metadata.namespace", "other", [".metadata.namespace"], "diff.go:210"),
        # ConfigMap: its content, not its labels nor `immutable` alone (diff.go:32-33).
        (CONFIG_MAP, "data", {"A": "2"}, [".data"], "diff.go:32-33"),
        (CONFIG_MAP, "binaryData", {"B": "AA=="}, [".binaryData"], "diff.go:32-33"),
        (CONFIG_MAP, "metadata.labels", {"x": "y"}, [], "diff.go:32-33"),
        (CONFIG_MAP, "immutable", False, [], "diff.go:32-33"),
        # Secret: type, stringData, data (diff.go:28-29).
        (SECRET, "stringData", {"A": "2"}, [".stringData"], "diff.go:28-29"),
        (SECRET, "type", "kubernetes.io/basic-auth", [".type"], "diff.go:29"),
        (SECRET, "data", {"A": "MQ=="}, [".data"], "diff.go:29"),
        (SECRET, "metadata.annotations", {"x": "y"}, [], "diff.go:28-29"),
        # A PersistentVolumeClaim: a larger size is an update, the class is not (diff.go:111-118).
        (CLAIM, "spec.resources.requests.storage", "20Gi", [], "diff.go:111-118"),
        (CLAIM, "spec.storageClassName", "fast", [".spec.storageClassName"], "diff.go:115"),
        (CLAIM, "spec.accessModes", ["ReadWriteMany"], [".spec.accessModes"], "diff.go:113"),
        # A policy/v1 PodDisruptionBudget has no rule (only v1beta1 has, diff.go:62-64).
        (PDB, "spec.minAvailable", 2, [], "diff.go:62-64"),
        ({**PDB, "apiVersion": "policy/v1beta1"}, "spec.minAvailable", 2, [".spec"], "diff.go:63,188-190"),
    ],
)
def test_replace_rules(base: dict[str, Any], path: str, value: Any, replaced: list[str], upstream: str) -> None:
    assert replaced_by(base, changed(base, path, value)) == replaced, upstream


@pytest.mark.parametrize(
    ("path", "value", "replaced"),
    [
        # provider.go:1559-1567: a Patch resource only for its identity.
        ("spec.storageClassName", "fast", []),
        ("spec.accessModes", ["ReadWriteMany"], []),
        ("metadata.name", "other", [".metadata.name"]),
    ],
)
def test_a_patch_resource_is_replaced_only_for_a_new_name_or_namespace(path: str, value: Any, replaced: list[str]) -> None:
    assert replaced_by(CLAIM_PATCH, changed(CLAIM_PATCH, path, value), patch=True) == replaced


def test_the_provider_flags_make_config_maps_and_secrets_mutable_unless_immutable() -> None:
    # diff.go:28 and :32: enableSecretMutable / enableConfigMapMutable, `immutable` wins.
    assert force_new_paths("v1", "Secret", secret_mutable=True) == (".metadata.name", ".metadata.namespace", ".type")
    assert ".data" in force_new_paths("v1", "Secret", secret_mutable=True, immutable=True)
    assert force_new_paths("v1", "ConfigMap", config_map_mutable=True) == (".metadata.name", ".metadata.namespace")
    assert ".data" in force_new_paths("v1", "ConfigMap", config_map_mutable=True, immutable=True)


def test_an_unknown_group_or_kind_is_replaced_only_for_its_identity() -> None:
    # diff.go:23-38: no table entry, only the metadata paths.
    assert force_new_paths("postgresql.cnpg.io/v1", "Cluster") == (".metadata.name", ".metadata.namespace")
    assert force_new_paths("v1", "Service") == (".metadata.name", ".metadata.namespace", ".spec.clusterIP")


# --- the render and the plans agree --------------------------------------------------------

MIGRATION_JOB = "heimdall-migration-job"


def _migration_name(rendering: Any) -> str:
    (job,) = [r for r in rendering.registrations if r.name == MIGRATION_JOB]
    return str(job.state["metadata"]["name"])


@pytest.mark.parametrize(
    "change", [{"timeoutSeconds": 1200}, {"backoffLimit": 4}], ids=["timeoutSeconds", "backoffLimit"]
)
def test_a_migration_timeout_or_retry_change_updates_the_job_in_place(build: BuildFn, change: dict[str, Any]) -> None:
    before, after = build({}), build({"migration": change})
    changes = plan(before, after)
    # A real `pulumi up` updates the completed Job (no new Job, no migrations run again).
    assert changes.of(MIGRATION_JOB) == "update", changes.steps
    assert changes.refusals == []
    assert _migration_name(before) == _migration_name(after)
    # ... and nothing else moves: the app and its config are untouched.
    assert set(changes.steps) == {MIGRATION_JOB}


@pytest.mark.parametrize(
    "values",
    [
        {"migration": {"runId": "again-1"}},
        {"image": {"tag": "2.13.2"}},
        {"migration": {"commands": ["yarn backend sequelize db:migrate"]}},
    ],
    ids=["runId", "image", "commands"],
)
def test_what_is_meant_to_run_the_migrations_again_reaches_the_pod_template(build: BuildFn, values: dict[str, Any]) -> None:
    before, after = build({}), build(values)
    assert plan(before, after).of(MIGRATION_JOB) == "replace"
    # A new name: the auto-named Job is created anew, so its migrations run.
    assert _migration_name(before) != _migration_name(after)
