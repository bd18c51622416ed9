"""heimdall/kube/stack_metadata.py: the user's labels and annotations on every object,
through the `Heimdall` component's transform.

Where they go is what the program did before the transform (labels()/metadata()/
pod_metadata() under a contextvars block): object metadata gets both; the templates of
what an object creates (pod, Job, volume claim templates, a custom resource's
inheritedMetadata) get the labels; Heimdall's own pods also carry the annotations, as
their pod annotations (heimdall/stack.py `pod_args`).
"""

from __future__ import annotations

from typing import Any

import pytest

from heimdall.engine_values import SECRET_SIG_KEY, SECRET_SIG_VALUE
from heimdall.kube import meta
from heimdall.kube.stack_metadata import StackMetadata, under_helm_chart
from heimdall.tooling.render import Rendering
from tests.conftest import BuildFn

LABELS = {"team": "security", "cost-center": "c42"}
ANNOTATIONS = {"example.com/owner": "sec-team"}
COMMON = StackMetadata(labels=LABELS, annotations=ANNOTATIONS)


def stateful_set() -> dict[str, Any]:
    return {
        "metadata": {"name": "db", "labels": meta.labels("postgres"), "annotations": {"pulumi.com/skipAwait": "true"}},
        "spec": {
            "template": {"metadata": {"labels": meta.labels("postgres")}, "spec": {}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}}, {"metadata": {"name": "wal"}}],
        },
    }


def test_object_metadata_gets_both_and_templates_the_labels() -> None:
    found = COMMON.apply("kubernetes:apps/v1:StatefulSet", stateful_set())
    assert found is not None
    assert found["metadata"]["labels"] == {**meta.labels("postgres"), **LABELS}
    assert found["metadata"]["annotations"] == {**ANNOTATIONS, "pulumi.com/skipAwait": "true"}
    template = found["spec"]["template"]["metadata"]
    assert template["labels"] == {**meta.labels("postgres"), **LABELS}
    assert "annotations" not in template
    assert [c["metadata"]["labels"] for c in found["spec"]["volumeClaimTemplates"]] == [LABELS, LABELS]


def test_the_input_is_left_as_it_was() -> None:
    props = stateful_set()
    COMMON.apply("kubernetes:apps/v1:StatefulSet", props)
    assert props == stateful_set()


def test_a_cron_jobs_job_and_pod_templates_get_the_labels() -> None:
    props = {
        "metadata": {},
        "spec": {"jobTemplate": {"metadata": {}, "spec": {"template": {"metadata": {}}}}},
    }
    found = COMMON.apply("kubernetes:batch/v1:CronJob", props)
    assert found is not None
    assert found["spec"]["jobTemplate"]["metadata"] == {"labels": LABELS}
    assert found["spec"]["jobTemplate"]["spec"]["template"]["metadata"] == {"labels": LABELS}


def test_a_custom_resource_passes_the_labels_on_to_what_its_operator_creates() -> None:
    props = {"metadata": {"name": "c"}, "spec": {"inheritedMetadata": {"labels": {"app.kubernetes.io/part-of": "heimdall"}}}}
    found = COMMON.apply("kubernetes:postgresql.cnpg.io/v1:Cluster", props)
    assert found is not None
    assert found["spec"]["inheritedMetadata"] == {"labels": {"app.kubernetes.io/part-of": "heimdall", **LABELS}}
    assert found["metadata"]["annotations"] == ANNOTATIONS


def test_the_programs_annotations_win_and_the_users_labels_win_over_pod_labels() -> None:
    props = {
        "metadata": {"annotations": {"example.com/owner": "program"}},
        "spec": {"template": {"metadata": {"labels": {"team": "from-podLabels"}}}},
    }
    found = COMMON.apply("kubernetes:apps/v1:StatefulSet", props)
    assert found is not None
    assert found["metadata"]["annotations"] == {"example.com/owner": "program"}
    assert found["spec"]["template"]["metadata"]["labels"]["team"] == "security"


def test_a_patch_gets_the_labels_only() -> None:
    props = {"metadata": {"name": "data-0", "annotations": {"pulumi.com/patchForce": "true"}}}
    found = COMMON.apply("kubernetes:core/v1:PersistentVolumeClaimPatch", props)
    assert found is not None
    assert found["metadata"] == {"name": "data-0", "annotations": {"pulumi.com/patchForce": "true"}, "labels": LABELS}


@pytest.mark.parametrize(
    "type_",
    ["kubernetes:helm.sh/v4:Chart", "aws:rds/instance:Instance", "random:index/randomPassword:RandomPassword", "heimdall:app:HeimdallWorkload"],
)
def test_what_is_no_kubernetes_object_is_left_alone(type_: str) -> None:
    assert COMMON.apply(type_, {"metadata": {}, "tags": {}}) is None


def test_nothing_to_add_changes_nothing() -> None:
    assert StackMetadata().apply("kubernetes:core/v1:ConfigMap", {"metadata": {}}) is None


def test_what_a_helm_chart_installs_is_recognised_by_its_parents_urn() -> None:
    chart = (
        "urn:pulumi:dev::heimdall::heimdall:index:Heimdall$heimdall:database:CloudNativePg"
        "$kubernetes:helm.sh/v4:Chart::heimdall-database-operator"
    )
    assert under_helm_chart(chart)
    assert under_helm_chart(chart.replace("::heimdall-database-operator", "$kubernetes:apps/v1:Deployment::x"))
    assert not under_helm_chart("urn:pulumi:dev::heimdall::heimdall:index:Heimdall::heimdall")
    assert not under_helm_chart("")


# --- the whole stack ------------------------------------------------------------------------


def kubernetes_objects(rendering: Rendering) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{r.type}::{r.name}", r.inputs)
        for r in rendering.registrations
        if r.type.startswith("kubernetes:") and not r.type.startswith("kubernetes:helm.sh/")
    ]


@pytest.mark.parametrize(
    "database",
    [
        {"provider": "embedded"},
        {"provider": "cloudnative-pg", "name": "heimdall", "username": "heimdall"},
    ],
    ids=["embedded", "cloudnative-pg"],
)
def test_every_object_built_under_heimdall_carries_them(build: BuildFn, database: dict[str, Any]) -> None:
    rendering = build(
        {
            "labels": LABELS,
            "annotations": ANNOTATIONS,
            "database": database,
            "backup": {"enabled": True},
            "networkPolicy": {"enabled": True},
        }
    )
    objects = kubernetes_objects(rendering)
    # Objects of every part: the stack's, the application's, the operations' and the
    # database provider's component (the provider never sees the settings' labels).
    parents = {r.parent.rsplit("$", 1)[-1].split("::")[0] for r in rendering.registrations if r.parent and r.type.startswith("kubernetes:")}
    assert {"heimdall:index:Heimdall", "heimdall:operations:DatabaseBackup"} <= parents
    assert any(p.startswith("heimdall:database:") for p in parents), parents
    for name, inputs in objects:
        assert LABELS.items() <= inputs["metadata"]["labels"].items(), name
        if not name.split("::")[0].endswith("Patch"):
            assert ANNOTATIONS.items() <= inputs["metadata"]["annotations"].items(), name
    for obj in rendering.manifests():
        for template in (
            obj.get("spec", {}).get("template"),
            obj.get("spec", {}).get("jobTemplate"),
            *obj.get("spec", {}).get("volumeClaimTemplates", []),
        ):
            if template is not None:
                assert LABELS.items() <= template["metadata"]["labels"].items(), obj["metadata"]
    heimdall_pods = [m for m in rendering.manifests() if m["kind"] in ("StatefulSet", "Job") and m["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"].startswith("heimdall")]
    assert heimdall_pods
    for obj in heimdall_pods:
        assert ANNOTATIONS.items() <= obj["spec"]["template"]["metadata"]["annotations"].items()


def test_the_cluster_passes_the_labels_to_its_pods(build: BuildFn) -> None:
    rendering = build({"labels": LABELS, "database": {"provider": "cloudnative-pg", "name": "heimdall", "username": "heimdall"}})
    (cluster,) = [m for m in rendering.manifests() if m["kind"] == "Cluster"]
    assert LABELS.items() <= cluster["spec"]["inheritedMetadata"]["labels"].items()


def test_the_operators_namespace_has_them_and_the_chart_is_left_alone(build: BuildFn) -> None:
    rendering = build({"labels": LABELS, "annotations": ANNOTATIONS, "database": {"provider": "cloudnative-pg", "name": "heimdall", "username": "heimdall"}})
    namespaces = [m for m in rendering.manifests() if m["kind"] == "Namespace"]
    assert len(namespaces) == 2
    for namespace in namespaces:
        assert LABELS.items() <= namespace["metadata"]["labels"].items()
    for chart in rendering.charts():
        assert "team" not in str(chart.inputs)


def test_the_component_has_the_transform_only_with_something_to_add(build: BuildFn) -> None:
    def heimdall_transforms(rendering: Rendering) -> int:
        (component,) = [r for r in rendering.registrations if r.type == "heimdall:index:Heimdall"]
        return len(component.transforms)

    assert heimdall_transforms(build({})) == 0
    assert heimdall_transforms(build({"annotations": ANNOTATIONS})) == 1


def test_a_secret_map_stays_secret_with_the_labels_inside() -> None:
    # As a transform receives a map holding a secret (rpc.py deserialize_property).
    wrapped = {SECRET_SIG_KEY: SECRET_SIG_VALUE, "value": {"name": "x", "annotations": {"a": "s"}}}
    found = COMMON.apply("kubernetes:core/v1:ConfigMap", {"metadata": wrapped})
    assert found is not None
    assert found["metadata"][SECRET_SIG_KEY] == SECRET_SIG_VALUE
    assert found["metadata"]["value"]["labels"] == LABELS
    assert found["metadata"]["value"]["annotations"] == {**ANNOTATIONS, "a": "s"}
