"""Rolling upgrades of the Heimdall StatefulSet: one pod at a time, each new pod ready for
`rollout.minReadySeconds` before the next goes, a preStop pause so that a stopping pod
is out of the endpoints before it exits, and the migration Job before the rollout."""

from __future__ import annotations

from typing import Any

import pytest

from heimdall.settings.loader import SettingsError, parse_settings
from heimdall.tooling import deploy_plan as dp
from tests.conftest import containers


def _statefulset(rendering: Any) -> dict[str, Any]:
    return rendering.manifest("StatefulSet", "heimdall")


def test_updates_roll_one_pod_at_a_time_with_a_minimum_ready_time(build: Any) -> None:
    spec = _statefulset(build({"replicas": 2}))["spec"]
    assert spec["updateStrategy"] == {"type": "RollingUpdate"}  # maxUnavailable: default 1
    assert spec["minReadySeconds"] == 10
    heimdall = containers(spec["template"]["spec"], "heimdall")
    assert heimdall["readinessProbe"]["httpGet"]["path"] == "/server"


def test_a_stopping_pod_keeps_serving_for_pre_stop_seconds(build: Any) -> None:
    spec = _statefulset(build({"rollout": {"preStopSeconds": 8, "minReadySeconds": 30}}))["spec"]
    heimdall = containers(spec["template"]["spec"], "heimdall")
    assert heimdall["lifecycle"] == {"preStop": {"exec": {"command": ["sleep", "8"]}}}
    assert spec["minReadySeconds"] == 30
    # Within the default termination grace period of 30 s.
    assert spec["template"]["spec"].get("terminationGracePeriodSeconds", 30) > 8


def test_pre_stop_zero_removes_the_hook(build: Any) -> None:
    spec = _statefulset(build({"rollout": {"preStopSeconds": 0}}))["spec"]
    assert "lifecycle" not in containers(spec["template"]["spec"], "heimdall")


def test_pre_stop_longer_than_the_grace_period_allows_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"heimdall:rollout\.preStopSeconds = 25"):
        parse_settings({"rollout": {"preStopSeconds": 25}})


def test_the_migration_job_runs_before_the_rollout(build: Any) -> None:
    rendering = build({"replicas": 2})
    (job,) = rendering.resources("kubernetes:batch/v1:Job")
    (app,) = [
        r
        for r in rendering.resources("kubernetes:apps/v1:StatefulSet")
        if r.name == "heimdall-app-statefulset"
    ]
    assert job.urn in app.dependencies


def test_zero_replicas_stops_heimdall_for_a_maintenance_window(build: Any) -> None:
    rendering = build({"replicas": 0})
    assert _statefulset(rendering)["spec"]["replicas"] == 0
    plan = dp.deploy_plan(rendering)
    app = next(s for s in plan.steps if s.label == "StatefulSet/heimdall-app-statefulset")
    assert (app.wait.until, app.finish - app.start) == ("0 replicas ready", 0)


def _app_timeout(rendering: Any) -> int:
    (app,) = [
        r
        for r in rendering.resources("kubernetes:apps/v1:StatefulSet")
        if r.name == "heimdall-app-statefulset"
    ]
    assert app.custom_timeouts["create"] == app.custom_timeouts["update"]
    return int(app.custom_timeouts["update"].removesuffix("s"))


def test_pulumi_waits_as_long_as_a_healthy_rollout_of_every_replica_can_take(build: Any) -> None:
    # Each pod may use its whole startup probe budget (36 x 10 s by default) before it is
    # ready, one pod at a time: three replicas need far more than Pulumi's 10 minutes.
    startup_budget = 36 * 10
    three = _app_timeout(build({"replicas": 3}))
    assert three >= 3 * (startup_budget + 10 + 5 + 30)  # + minReady, preStop, grace period
    assert three > 600
    # It follows the probes, minReadySeconds and the replicas...
    slow = _app_timeout(
        build({"replicas": 3, "probes": {"startup": {"failureThreshold": 90}},
               "rollout": {"minReadySeconds": 60}})
    )
    assert slow - three == 3 * ((90 - 36) * 10 + 60 - 10)
    assert _app_timeout(build({"replicas": 6})) == 2 * three
    # ...the autoscaler's maximum when it owns the replicas...
    scaled = {"autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 6}}
    assert _app_timeout(build(scaled)) == 2 * three
    # ...and never goes below Pulumi's own default.
    assert _app_timeout(build({"replicas": 1})) == 600
    assert _app_timeout(build({"replicas": 0})) == 600
