"""MigrationJob: migrations and seeders before the app, waited on by Pulumi."""

from __future__ import annotations

from tests.conftest import containers, database_password_secret, env_of


def job_of(rendering) -> dict:
    return rendering.manifest("Job")


def test_runs_the_image_commands_after_waiting_for_the_database(build) -> None:
    job = job_of(build())
    pod = job["spec"]["template"]["spec"]
    migrate = containers(pod, "migrate")
    assert migrate["image"] == "mitre/heimdall2:2.13.1"
    assert migrate["workingDir"] == "/app"
    # Through the filter that keeps secrets out of the log (tests/test_migration_logs.py).
    assert migrate["command"][:2] == ["node", "-e"]
    assert migrate["command"][-3:] == [
        "/bin/sh",
        "-ec",
        "yarn backend sequelize db:migrate\nyarn backend sequelize db:seed:all",
    ]
    assert [c["name"] for c in pod["initContainers"]] == ["wait-for-database"]
    wait = containers(pod, "wait-for-database")
    assert "pg_isready" in wait["command"][-1]
    assert env_of(wait)["WAIT_TIMEOUT_SECONDS"] == "300"
    assert pod["restartPolicy"] == "Never"


def test_seeds_the_admin_from_the_secret_never_a_logged_random_one(build) -> None:
    rendering = build({"admin": {"email": "root@scans.example.org"}})
    job = job_of(rendering)
    migrate = containers(job["spec"]["template"]["spec"], "migrate")
    env = env_of(migrate)
    assert env["ADMIN_PASSWORD"]["secret"][1] == "ADMIN_PASSWORD"
    assert env["DATABASE_PASSWORD"] == {"secret": (database_password_secret(rendering)["metadata"]["name"], "password")}
    config_name = migrate["envFrom"][0]["configMapRef"]["name"]
    config = rendering.manifest("ConfigMap", config_name)["data"]
    assert config["ADMIN_EMAIL"] == "root@scans.example.org"
    assert config["NODE_ENV"] == "production"


def test_limits_and_pulumi_await_settings(build) -> None:
    rendering = build({"migration": {"timeoutSeconds": 900, "backoffLimit": 1}})
    job = job_of(rendering)
    assert job["spec"]["backoffLimit"] == 1
    assert job["spec"]["activeDeadlineSeconds"] == 900
    assert job["metadata"]["annotations"]["pulumi.com/replaceUnready"] == "true"
    assert "pulumi.com/skipAwait" not in job["metadata"]["annotations"]
    assert "ttlSecondsAfterFinished" not in job["spec"]
    (registration,) = rendering.resources("kubernetes:batch/v1:Job")
    assert registration.custom_timeouts["create"] == "1020s"


def test_configurable_commands_and_rerun_on_image_change(build) -> None:
    old = job_of(build({"migration": {"commands": ["yarn backend sequelize-cli db:migrate"]}}))
    assert old["spec"]["template"]["spec"]["containers"][0]["command"][-1] == (
        "yarn backend sequelize-cli db:migrate"
    )
    # A new image changes the pod template, which replaces the Job: migrations re-run.
    before = job_of(build())["spec"]["template"]
    after = job_of(build({"image": {"repository": "mitre/heimdall2", "tag": "2.13.2"}}))[
        "spec"
    ]["template"]
    assert before != after
    rerun = job_of(build({"migration": {"runId": "2026-11-24"}}))["spec"]["template"]
    assert rerun["metadata"]["annotations"]["heimdall.mitre.org/run-id"] == "2026-11-24"


def test_job_waits_for_the_database_resources(build) -> None:
    rendering = build()
    urns = {r.name: r.urn for r in rendering.registrations}
    (job,) = rendering.resources("kubernetes:batch/v1:Job")
    assert urns["heimdall-database-statefulset"] in job.dependencies
