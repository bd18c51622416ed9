"""The deploy plan: the engine's graph, what Pulumi awaits, and the critical path.

The critical path of every stack file is pinned here: database ready -> (restore, when
configured) -> migration Job -> Heimdall StatefulSet ready, and nothing else on it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import pytest

from heimdall.kube.meta import SKIP_AWAIT
from heimdall.tooling import deploy_plan as dp
from heimdall.tooling.cli import main
from heimdall.tooling.mocks import Registration
from heimdall.tooling.render import Rendering, run_stack_file
from tests.conftest import REPO, STACK_FILES

DATABASE = "StatefulSet/heimdall-database-statefulset"
MIGRATION = "Job/heimdall-migration-job"
APP = "StatefulSet/heimdall-app-statefulset"

# The expected critical path of each stack file, by its path relative to the repository.
# A new stack file needs a line here.
CRITICAL_PATHS: dict[str, list[str]] = {
    "Pulumi.dev.yaml": [DATABASE, MIGRATION, APP],
    "Pulumi.prod.yaml": ["Instance/heimdall-database-instance", MIGRATION, APP],
    "examples/stacks/Pulumi.azure-postgres.yaml": ["Server/heimdall-database-server", MIGRATION, APP],
    # The operator's chart (its webhooks answer), the plugin's, then the Cluster Ready.
    "examples/stacks/Pulumi.cloudnative-pg.yaml": [
        "Chart/heimdall-database-operator",
        "Chart/heimdall-database-backup-plugin",
        "Cluster/heimdall-database-cluster-heimdall-db",
        MIGRATION,
        APP,
    ],
    # An existing database: nothing of ours to wait for before the migrations.
    "examples/stacks/Pulumi.external.yaml": [MIGRATION, APP],
    "examples/stacks/Pulumi.gcp-cloudsql-proxy.yaml": [
        "DatabaseInstance/heimdall-database-instance",
        MIGRATION,
        APP,
    ],
    "examples/stacks/Pulumi.gcp-cloudsql.yaml": [
        "DatabaseInstance/heimdall-database-instance",
        MIGRATION,
        APP,
    ],
}


def _key(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


@pytest.fixture(scope="module", params=STACK_FILES, ids=_key)
def stack_file(request: pytest.FixtureRequest) -> tuple[str, Rendering]:
    return _key(request.param), run_stack_file(str(request.param))


def _find(rendering: Rendering, label: str) -> Registration:
    found = [r for r in rendering.registrations if dp.label(r) == label]
    assert len(found) == 1, f"{len(found)} resources labelled {label}"
    return found[0]


# --- every stack file ---------------------------------------------------------------------


def test_critical_path_of_every_stack_file(stack_file: tuple[str, Rendering]) -> None:
    name, rendering = stack_file
    if name not in CRITICAL_PATHS:
        pytest.fail(
            f"stack file {name} has no expected critical path: add it to CRITICAL_PATHS in "
            f"tests/tooling/test_deploy_plan.py (its plan is {dp.deploy_plan(rendering).path_labels()})"
        )
    assert dp.deploy_plan(rendering).path_labels() == CRITICAL_PATHS[name]


def test_nothing_but_the_chain_waits_for_the_jobs_or_the_app(
    stack_file: tuple[str, Rendering],
) -> None:
    """Secrets, ConfigMaps, policies, the Ingress...: none may wait for a Job or the app."""
    name, rendering = stack_file
    path = dp.deploy_plan(rendering).path_labels()
    jobs = [i for i, label in enumerate(path) if label.startswith("Job/")]
    assert jobs, f"{name}: no Job on the critical path {path}"
    for index in range(jobs[0], len(path)):
        waiting = {
            dp.label(r) for r in dp.dependents(rendering, _find(rendering, path[index]))
        }
        assert waiting <= set(path[index + 1 :]), (
            f"{name}: {sorted(waiting - set(path[index + 1:]))} wait for {path[index]}"
        )


def test_the_migration_job_is_always_awaited(stack_file: tuple[str, Rendering]) -> None:
    # Without the await the app would start before the schema is current.
    _, rendering = stack_file
    job = _find(rendering, MIGRATION)
    assert not dp.skips_await(job)
    assert dp.wait_of(job) == dp.Wait("complete", dp.JOB_COMPLETE)


# --- the graph as the engine sees it -------------------------------------------------------


def test_outputs_feeding_inputs_are_dependencies(build: Any) -> None:
    """The SDK records a resource whose output feeds an input, without any depends_on."""
    rendering = build({"database": {"provider": "embedded"}})
    config_map = _find(rendering, "ConfigMap/heimdall-config-env")
    service = _find(rendering, "Service/heimdall-database-service")  # DATABASE_HOST
    assert service.urn in config_map.dependencies


def _registration(
    name: str,
    type_: str = "kubernetes:core/v1:ConfigMap",
    custom: bool = True,
    parent: Optional[Registration] = None,
    dependencies: tuple[Registration, ...] = (),
    inputs: Optional[dict[str, Any]] = None,
) -> Registration:
    return Registration(
        urn=f"urn:pulumi:test::heimdall::{type_}::{name}",
        type=type_,
        name=name,
        custom=custom,
        parent=parent.urn if parent else None,
        dependencies=[d.urn for d in dependencies],
        protect=False,
        retain_on_delete=False,
        delete_before_replace=False,
        custom_timeouts={},
        inputs=inputs or {},
    )


def _rendering(*registrations: Registration) -> Rendering:
    return Rendering(
        provider="embedded",  # the plan never reads it
        namespace="heimdall",
        registrations=list(registrations),
        outputs={},
        secret_outputs=frozenset(),
    )


def _statefulset(name: str, labels: dict[str, str], **kwargs: Any) -> Registration:
    return _registration(
        name,
        "kubernetes:apps/v1:StatefulSet",
        inputs={"spec": {"replicas": 1.0, "template": {"metadata": {"labels": labels}}}},
        **kwargs,
    )


def test_children_of_a_component_wait_for_its_dependencies() -> None:
    job = _registration("job", "kubernetes:batch/v1:Job")
    component = _registration("app", "heimdall:app:Thing", custom=False, dependencies=(job,))
    child = _registration("app-config", parent=component)
    grandchild_component = _registration("inner", "heimdall:app:Inner", custom=False, parent=component)
    grandchild = _registration("inner-config", parent=grandchild_component)
    graph = dp.Graph([job, component, child, grandchild_component, grandchild])
    assert graph.start_after(child.urn) == {job.urn}
    assert graph.depends_on(grandchild.urn, job.urn)


def test_a_child_of_a_custom_resource_waits_for_it() -> None:
    parent = _registration("parent", "kubernetes:batch/v1:Job")
    child = _registration("child", parent=parent)
    assert dp.Graph([parent, child]).start_after(child.urn) == {parent.urn}


def test_a_service_await_waits_for_the_pods_it_selects() -> None:
    labels = {"app.kubernetes.io/name": "web"}
    statefulset = _statefulset("web", labels)
    service = _registration(
        "web-service",
        "kubernetes:core/v1:Service",
        inputs={"spec": {"selector": labels, "ports": [{"port": 80.0}]}},
    )
    other = _statefulset("other", {"app.kubernetes.io/name": "other"})
    plan = dp.deploy_plan(_rendering(statefulset, service, other))
    assert plan.path_labels() == ["StatefulSet/web", "Service/web-service"]
    assert plan.seconds == dp.POD_READY + dp.ENDPOINTS_SETTLE


def test_services_without_pods_to_wait_for_are_not_awaited() -> None:
    headless = _registration(
        "headless", "kubernetes:core/v1:Service", inputs={"spec": {"clusterIP": "None", "selector": {"a": "b"}}}
    )
    no_selector = _registration("plain", "kubernetes:core/v1:Service", inputs={"spec": {}})
    skipped = _registration(
        "skipped",
        "kubernetes:core/v1:Service",
        inputs={
            "metadata": {"annotations": dict(SKIP_AWAIT)},
            "spec": {"selector": {"a": "b"}},
        },
    )
    assert [dp.wait_of(r) for r in (headless, no_selector, skipped)] == [None, None, None]
    plan = dp.deploy_plan(_rendering(headless, no_selector, skipped))
    assert plan.steps == () and plan.skipped == ("Service/skipped",)


def test_an_ingress_waits_for_its_backends_to_exist_not_to_be_ready() -> None:
    labels = {"app.kubernetes.io/name": "web"}
    statefulset = _statefulset("web", labels)
    service = _registration(
        "web-service",
        "kubernetes:core/v1:Service",
        inputs={"metadata": {"name": "web"}, "spec": {"selector": labels}},
    )
    ingress = _registration(
        "web-ingress",
        "kubernetes:networking.k8s.io/v1:Ingress",
        inputs={
            "spec": {
                "rules": [{"http": {"paths": [{"backend": {"service": {"name": "web"}}}]}}]
            }
        },
    )
    plan = dp.deploy_plan(_rendering(statefulset, service, ingress))
    step = next(s for s in plan.steps if s.label == "Ingress/web-ingress")
    assert (step.start, step.after) == (0, ())


@pytest.mark.parametrize(
    "token",
    [
        "aws:rds/instance:Instance",
        "gcp:sql/databaseInstance:DatabaseInstance",
        "azure-native:dbforpostgresql:Server",
        "azure-native:dbforpostgresql/v20240801:Server",
    ],
)
def test_managed_database_instances_are_awaited(token: str) -> None:
    instance = _registration("db", token)
    config = _registration("config", dependencies=(instance,))  # takes the address
    job = _registration("migrate", "kubernetes:batch/v1:Job", dependencies=(config,))
    plan = dp.deploy_plan(_rendering(instance, config, job))
    assert plan.path_labels() == [f"{token.rsplit(':', 1)[-1]}/db", "Job/migrate"]
    assert plan.seconds == dp.MANAGED_DATABASE + dp.JOB_COMPLETE


def test_other_cloud_resources_are_not_awaited() -> None:
    assert dp.wait_of(_registration("pg", "aws:rds/parameterGroup:ParameterGroup")) is None
    assert dp.wait_of(_registration("pw", "random:index/randomPassword:RandomPassword")) is None


# --- the plan of real stacks ---------------------------------------------------------------


def test_statefulset_estimates_follow_replicas_and_pod_management(build: Any) -> None:
    plan = dp.deploy_plan(build({"replicas": 3}))
    app = next(s for s in plan.steps if s.label == APP)
    database = next(s for s in plan.steps if s.label == DATABASE)
    assert app.wait.until == "3 replicas ready"
    assert app.finish - app.start == dp.POD_READY  # Parallel: the pods start together
    assert app.wait.rollout_seconds == 3 * (dp.POD_READY + 10)  # one at a time
    assert app.after == (MIGRATION,)
    assert database.after == ()


def test_an_ingress_is_awaited_beside_the_chain(build: Any) -> None:
    rendering = build({"ingress": {"enabled": True, "host": "heimdall.example.com"}})
    plan = dp.deploy_plan(rendering)
    assert "Ingress/heimdall-app-ingress" in [s.label for s in plan.steps]
    assert plan.path_labels() == [DATABASE, MIGRATION, APP]


def test_the_services_skip_await_and_say_so(build: Any) -> None:
    plan = dp.deploy_plan(build())
    assert set(plan.skipped) == {
        "Service/heimdall-app-service",
        "Service/heimdall-database-service",
        "PersistentVolumeClaim/heimdall-operations-backups-volume",
    }
    text = dp.format_plan(plan)
    assert f"critical path (~{plan.seconds}s): {DATABASE} -> {MIGRATION} -> {APP}" in text
    assert "not awaited (pulumi.com/skipAwait): " in text


def test_a_restore_sits_between_the_database_and_the_migrations(build: Any) -> None:
    plan = dp.deploy_plan(build({"restore": {"from": "heimdall-20261124T021500Z.dump"}}))
    path = plan.path_labels()
    assert path[0] == DATABASE and path[-2:] == [MIGRATION, APP]
    assert len(path) == 4 and path[1].startswith("Job/heimdall-operations-restore-")


def test_render_prints_the_plan_after_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["render", str(REPO / "Pulumi.dev.yaml"), "--out", str(tmp_path), "--no-validate"]) == 0
    out = capsys.readouterr().out
    assert out.index("resources:") < out.index("deploy plan") < out.index("critical path")
    assert f"{DATABASE} -> {MIGRATION} -> {APP}" in out
