"""PodDisruptionBudget and HorizontalPodAutoscaler of Heimdall."""

from __future__ import annotations

import pytest

from heimdall.settings.loader import SettingsError, parse_settings


def kinds(rendering):
    return {m["kind"] for m in rendering.manifests()}


def test_one_pod_gets_no_disruption_budget(build):
    assert "PodDisruptionBudget" not in kinds(build())


def test_two_pods_get_a_budget_selecting_the_server(build):
    rendering = build({"replicas": 2})
    pdb = rendering.manifest("PodDisruptionBudget", "heimdall")
    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["spec"]["maxUnavailable"] == 1
    labels = rendering.manifest("StatefulSet", "heimdall")["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    database = rendering.manifest("StatefulSet", "heimdall-postgres")["spec"]["template"]["metadata"]["labels"]
    assert not pdb["spec"]["selector"]["matchLabels"].items() <= database.items()


def test_budget_can_be_turned_off_or_widened(build):
    assert "PodDisruptionBudget" not in kinds(build({"replicas": 3, "podDisruptionBudget": {"enabled": False}}))
    pdb = build({"replicas": 4, "podDisruptionBudget": {"maxUnavailable": 2}}).manifest("PodDisruptionBudget")
    assert pdb["spec"]["maxUnavailable"] == 2


def test_autoscaler_scales_the_statefulset_which_leaves_replicas_to_it(build):
    rendering = build(
        {"autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 6, "targetMemoryUtilization": 80}}
    )
    hpa = rendering.manifest("HorizontalPodAutoscaler", "heimdall")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "heimdall"}
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 6)
    metrics = {m["resource"]["name"]: m["resource"]["target"] for m in hpa["spec"]["metrics"]}
    assert metrics == {
        "cpu": {"type": "Utilization", "averageUtilization": 75},
        "memory": {"type": "Utilization", "averageUtilization": 80},
    }
    stateful_set = rendering.manifest("StatefulSet", "heimdall")
    assert "replicas" not in stateful_set["spec"]
    # minReplicas 2 means two pods in normal operation: they get a budget and a spread.
    assert "PodDisruptionBudget" in kinds(rendering)
    assert stateful_set["spec"]["template"]["spec"]["topologySpreadConstraints"]


def test_no_autoscaler_by_default_and_replicas_set(build):
    rendering = build({"replicas": 3})
    assert "HorizontalPodAutoscaler" not in kinds(rendering)
    assert rendering.manifest("StatefulSet", "heimdall")["spec"]["replicas"] == 3


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"replicas": 2, "autoscaling": {"enabled": True}}, "set autoscaling.minReplicas instead"),
        ({"autoscaling": {"enabled": True, "minReplicas": 5, "maxReplicas": 2}}, "must not exceed"),
        (
            {"autoscaling": {"enabled": True, "targetCpuUtilization": None}},
            "targetCpuUtilization or targetMemoryUtilization",
        ),
        (
            {"resources": {"requests": {"cpu": None}}, "autoscaling": {"enabled": True}},
            "needs resources.requests.cpu",
        ),
        ({"podDisruptionBudget": {"maxUnavailable": 0}}, "greater than or equal to 1"),
    ],
)
def test_bad_availability_settings_fail_with_one_line(values, message):
    with pytest.raises(SettingsError, match=message):
        parse_settings(values)
