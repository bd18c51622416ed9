"""Day-2 operations as rendered: the backup CronJob, its volume, the restore Job and its
place between the database and the migrations, the admin seeding flag, their settings.

What the scripts do against a real database is in test_operations_postgres.py.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from pydantic import BaseModel

from heimdall.settings.app import Admin
from heimdall.settings.loader import SettingsError, parse_settings
from heimdall.settings.operations import Backup, BackupS3, BackupVolume, Restore
from heimdall.tooling.render import Rendering, validate_manifests
from tests.conftest import BuildFn, containers, database_password_secret, env_of
from tests.databases import AWS_RDS

CRON_JOB = "heimdall-database-backup"
DUMP = "heimdall-20250101T021500Z.dump"
S3 = {
    "bucket": "heimdall-backups",
    "prefix": "prod/",
    "endpoint": "https://minio.example.com:9000",
    "region": "eu-west-1",
    "existingSecret": "backup-s3-credentials",
    "accessKeyIdKey": "id",
    "secretAccessKeyKey": "secret",
}


def backup_pod(rendering: Rendering) -> dict[str, Any]:
    spec = rendering.manifest("CronJob", CRON_JOB)["spec"]
    pod: dict[str, Any] = spec["jobTemplate"]["spec"]["template"]["spec"]
    return pod


def restore_jobs(rendering: Rendering) -> list[dict[str, Any]]:
    return [
        m for m in rendering.manifests()
        if m["kind"] == "Job" and m["metadata"]["name"].startswith("heimdall-restore-")
    ]


def registration(rendering: Rendering, type_: str, name_part: str) -> Any:
    [found] = [r for r in rendering.resources(type_) if name_part in r.name]
    return found


def all_containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod["containers"]]


# --- the backup CronJob ------------------------------------------------------------------------


def test_embedded_stack_backs_up_daily_to_its_own_volume(build: BuildFn) -> None:
    rendering = build({"database": {"provider": "embedded"}})
    cron_job = rendering.manifest("CronJob", CRON_JOB)
    spec = cron_job["spec"]
    assert spec["schedule"] == "15 2 * * *" and spec["timeZone"] == "Etc/UTC"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["startingDeadlineSeconds"] > 0
    assert spec["successfulJobsHistoryLimit"] == 3 and spec["failedJobsHistoryLimit"] == 3
    job = spec["jobTemplate"]["spec"]
    assert job["activeDeadlineSeconds"] == 3600
    assert "ttlSecondsAfterFinished" not in job

    pod = backup_pod(rendering)
    assert pod["restartPolicy"] == "Never"
    assert pod["automountServiceAccountToken"] is False
    assert [c["name"] for c in pod["initContainers"]] == ["wait-for-database"]
    backup = containers(pod, "backup")
    assert backup["image"] == "postgres:17"
    assert backup["resources"]["limits"] == {"cpu": "1", "memory": "1Gi"}
    env = env_of(backup)
    assert env["BACKUP_DIR"] == "/backups" and env["BACKUP_RETENTION"] == "7"
    assert env["DATABASE_PASSWORD"] == {"secret": (database_password_secret(rendering)["metadata"]["name"], "password")}
    assert env["DATABASE_HOST"].startswith("heimdall-postgres")
    script = backup["command"][2]
    assert "pg_dump --no-password --format=custom" in script
    assert 'export PGPASSWORD="${DATABASE_PASSWORD:-}"' in script
    [volume] = [v for v in pod["volumes"] if v["name"] == "dumps"]
    assert volume["persistentVolumeClaim"]["claimName"] == "heimdall-backups"
    assert {"name": "dumps", "mountPath": "/backups"} in backup["volumeMounts"]


def test_backup_pods_run_as_non_root_with_the_shared_security_contexts(build: BuildFn) -> None:
    for values in ({}, {"backup": {"target": "s3", "s3": S3}, "restore": {"from": DUMP}}):
        rendering = build(values)
        pods = [backup_pod(rendering), *(j["spec"]["template"]["spec"] for j in restore_jobs(rendering))]
        for pod in pods:
            assert pod["securityContext"]["runAsNonRoot"] is True
            assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
            for container in all_containers(pod):
                context = container["securityContext"]
                assert context["runAsNonRoot"] is True, container["name"]
                assert context["allowPrivilegeEscalation"] is False
                assert context["readOnlyRootFilesystem"] is True
                assert context["capabilities"] == {"drop": ["ALL"]}
                assert container["resources"]["limits"], container["name"]
                if container["name"] != "wait-for-database":  # the shared one needs no /tmp
                    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]


def test_backup_settings_reach_the_cron_job(build: BuildFn) -> None:
    rendering = build(
        {
            "backup": {
                "schedule": "@hourly",
                "timeZone": "Europe/Paris",
                "retention": 30,
                "deadlineSeconds": 900,
                "pvc": {"size": "50Gi", "storageClass": "fast-ssd"},
                "resources": {"limits": {"cpu": "2", "memory": "2Gi"}},
            }
        }
    )
    spec = rendering.manifest("CronJob", CRON_JOB)["spec"]
    assert spec["schedule"] == "@hourly" and spec["timeZone"] == "Europe/Paris"
    assert spec["jobTemplate"]["spec"]["activeDeadlineSeconds"] == 900
    backup = containers(backup_pod(rendering), "backup")
    assert env_of(backup)["BACKUP_RETENTION"] == "30"
    # A partial section merges over the defaults: the default requests stay.
    assert backup["resources"] == {
        "requests": {"cpu": "100m", "memory": "256Mi"},
        "limits": {"cpu": "2", "memory": "2Gi"},
    }
    claim = rendering.manifest("PersistentVolumeClaim", "heimdall-backups")["spec"]
    assert claim["resources"]["requests"]["storage"] == "50Gi"
    assert claim["storageClassName"] == "fast-ssd"


def test_the_backup_volume_is_protected_like_the_database(build: BuildFn) -> None:
    claim = registration(build({}), "kubernetes:core/v1:PersistentVolumeClaim", "backups")
    assert claim.protect is True
    claim = registration(
        build({"database": {"allowDestroy": True}}),
        "kubernetes:core/v1:PersistentVolumeClaim",
        "backups",
    )
    assert claim.protect is False


def test_pulumi_does_not_wait_for_the_backup_volume_to_bind(build: BuildFn) -> None:
    # WaitForFirstConsumer classes bind it only when the first backup pod runs.
    volume = build({}).manifest("PersistentVolumeClaim", "heimdall-backups")
    assert volume["metadata"]["annotations"]["pulumi.com/skipAwait"] == "true"


def test_backups_off_creates_neither_cron_job_nor_volume(build: BuildFn) -> None:
    rendering = build({"backup": {"enabled": False}})
    assert not rendering.resources("kubernetes:batch/v1:CronJob")
    assert not [r for r in rendering.registrations if r.type == "kubernetes:core/v1:PersistentVolumeClaim"]


def test_backups_default_on_for_self_managed_databases_only() -> None:
    assert parse_settings({}).backup_enabled is True
    external = {"provider": "external", "external": {"host": "db.example.com", "existingSecret": "db"}}
    assert parse_settings({"database": external}).backup_enabled is True
    # A managed cloud backs the database up itself: off by default, and on when asked.
    assert parse_settings(AWS_RDS).backup_enabled is False
    asked = parse_settings({**AWS_RDS, "backup": {"enabled": True}})
    assert asked.backup_enabled is True


def test_external_database_backups_use_its_tls_and_password_secret(build: BuildFn) -> None:
    rendering = build(
        {
            "database": {
                "provider": "external",
                "tls": {"mode": "verify", "ca": {"name": "db-ca", "key": "ca.pem"}},
                "external": {"host": "db.example.com", "existingSecret": "db-credentials"},
            }
        }
    )
    env = env_of(containers(backup_pod(rendering), "backup"))
    assert env["DATABASE_HOST"] == "db.example.com"
    assert env["DATABASE_SSL"] == "true" and env["DATABASE_SSL_INSECURE"] == "false"
    assert env["DATABASE_SSL_CA"].endswith("/ca.pem")
    assert env["DATABASE_PASSWORD"] == {"secret": ("db-credentials", "password")}


def test_verified_tls_without_a_ca_is_refused_for_backup_and_restore() -> None:
    # The postgres image has no system CA store, so pg_dump could never verify.
    external = {
        "provider": "external",
        "tls": {"mode": "verify"},
        "external": {"host": "db.example.com", "existingSecret": "db-credentials"},
    }
    with pytest.raises(SettingsError, match="set database.tls.ca"):
        parse_settings({"database": external})
    with pytest.raises(SettingsError, match="set database.tls.ca"):
        parse_settings(
            {"database": external, "backup": {"enabled": False}, "restore": {"from": "x.dump"}}
        )
    # Heimdall alone (Node has its own CA bundle) is fine.
    assert parse_settings({"database": external, "backup": {"enabled": False}})


def test_s3_target_dumps_in_an_init_container_and_uploads_with_the_aws_cli(build: BuildFn) -> None:
    rendering = build({"backup": {"target": "s3", "retention": 5, "s3": S3}})
    assert not [r for r in rendering.registrations if r.type == "kubernetes:core/v1:PersistentVolumeClaim"]
    pod = backup_pod(rendering)
    assert [c["name"] for c in pod["initContainers"]] == ["wait-for-database", "backup"]
    dump = containers(pod, "backup")
    assert env_of(dump)["BACKUP_DIR"] == "/dumps"
    assert env_of(dump)["BACKUP_RETENTION"] == "0", "the uploader prunes the bucket instead"
    [upload] = pod["containers"]
    assert upload["name"] == "upload" and upload["image"] == "amazon/aws-cli:2.32.8"
    env = env_of(upload)
    assert env["S3_BUCKET"] == "heimdall-backups" and env["S3_PREFIX"] == "prod/"
    assert env["S3_ENDPOINT"] == "https://minio.example.com:9000"
    assert env["AWS_REGION"] == "eu-west-1" and env["BACKUP_RETENTION"] == "5"
    assert env["AWS_ACCESS_KEY_ID"] == {"secret": ("backup-s3-credentials", "id")}
    assert env["AWS_SECRET_ACCESS_KEY"] == {"secret": ("backup-s3-credentials", "secret")}
    assert (env["S3_SECRET_NAME"], env["S3_ACCESS_KEY_ID_KEY"]) == ("backup-s3-credentials", "id")
    assert env["HOME"] == "/tmp"
    [volume] = [v for v in pod["volumes"] if v["name"] == "dumps"]
    # Bounded: a dump bigger than backup.s3.scratchSize evicts this pod, not the node.
    assert volume == {"name": "dumps", "emptyDir": {"sizeLimit": "10Gi"}}


# --- the restore Job ---------------------------------------------------------------------------


def test_no_restore_job_without_restore_from(build: BuildFn) -> None:
    rendering = build({})
    assert restore_jobs(rendering) == []
    migration = registration(rendering, "kubernetes:batch/v1:Job", "migration")
    assert not any("restore" in urn for urn in migration.dependencies)


def test_restore_runs_between_the_database_and_the_migrations(build: BuildFn) -> None:
    rendering = build({"restore": {"from": DUMP}})
    [job] = restore_jobs(rendering)
    restore = registration(rendering, "kubernetes:batch/v1:Job", "restore")
    migration = registration(rendering, "kubernetes:batch/v1:Job", "migration")
    database = registration(rendering, "kubernetes:apps/v1:StatefulSet", "database")
    app = registration(rendering, "kubernetes:apps/v1:StatefulSet", "app")
    claim = registration(rendering, "kubernetes:core/v1:PersistentVolumeClaim", "backups")
    assert database.urn in restore.dependencies and claim.urn in restore.dependencies
    assert restore.urn in migration.dependencies
    assert migration.urn in app.dependencies

    assert job["metadata"]["annotations"] == {"pulumi.com/replaceUnready": "true"}
    spec = job["spec"]
    assert spec["backoffLimit"] == 0 and "ttlSecondsAfterFinished" not in spec
    pod = spec["template"]["spec"]
    assert [c["name"] for c in pod["initContainers"]] == ["wait-for-database"]
    container = containers(pod, "restore")
    env = env_of(container)
    assert env["RESTORE_FROM"] == DUMP and env["BACKUP_DIR"] == "/backups"
    assert env["DATABASE_PASSWORD"] == {"secret": (database_password_secret(rendering)["metadata"]["name"], "password")}
    script = container["command"][2]
    assert "--clean --if-exists --single-transaction" in script
    assert "ON_ERROR_STOP=1" in script and "heimdall_restore.applied" in script
    assert {"name": "dumps", "mountPath": "/backups", "readOnly": True} in container["volumeMounts"]
    # The migrations run again after each restore: the dump may predate the image.
    migration_job = next(
        m for m in rendering.manifests() if m["kind"] == "Job" and "migration" in m["metadata"]["name"]
    )
    annotations = migration_job["spec"]["template"]["metadata"]["annotations"]
    assert annotations["heimdall.mitre.org/restored-from"] == DUMP


def test_a_restore_runs_once_per_dump_not_on_unrelated_changes(build: BuildFn) -> None:
    def restore_name(values: dict[str, Any]) -> tuple[str, list[str]]:
        rendering = build(values)
        [job] = restore_jobs(rendering)
        reg = registration(rendering, "kubernetes:batch/v1:Job", "restore")
        return job["metadata"]["name"], reg.ignore_changes

    first, ignored = restore_name({"restore": {"from": DUMP}})
    assert ignored == ["spec"], "template changes must not restore the dump again"
    unrelated = {"restore": {"from": DUMP, "resources": {"limits": {"cpu": "3"}}},
                 "database": {"clientImage": {"repository": "postgres", "tag": "17.6"}}}
    assert restore_name(unrelated)[0] == first
    assert restore_name({"restore": {"from": "heimdall-20250102T021500Z.dump"}})[0] != first
    assert restore_name({"restore": {"from": DUMP}, "backup": {"target": "s3", "s3": S3}})[0] != first


def test_a_new_restore_job_for_the_same_dump_asks_the_database_first(build: BuildFn) -> None:
    # A changed target makes a new Job: it carries the same dump name (and run id), which
    # the database's restore history already holds, so the new Job restores nothing
    # (tests/operations/test_restore_postgres.py runs the script). restore.runId asks for it again.
    def job(values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        [found] = restore_jobs(build(values))
        return found["metadata"]["name"], env_of(containers(found["spec"]["template"]["spec"], "restore"))

    pvc_name, pvc_env = job({"restore": {"from": DUMP}})
    s3_name, s3_env = job({"restore": {"from": DUMP}, "backup": {"target": "s3", "s3": S3}})
    assert pvc_name != s3_name
    assert pvc_env["RESTORE_FROM"] == s3_env["RESTORE_FROM"] == DUMP
    assert "RESTORE_RUN_ID" not in pvc_env and "RESTORE_RUN_ID" not in s3_env
    again_name, again_env = job({"restore": {"from": DUMP, "runId": "again-1"}})
    assert again_name != pvc_name and again_env["RESTORE_RUN_ID"] == "again-1"


def test_every_update_warns_while_restore_from_is_set(
    build: BuildFn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    build({"restore": {"from": DUMP}})
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"restore.from is set: {DUMP} is restored into database heimdall unless that "
        "database already received it; remove restore.from once the restore has succeeded"
    ]
    caplog.clear()
    build({})
    assert not [r for r in caplog.records if "restore.from" in r.getMessage()]


def test_restore_from_s3_downloads_the_dump_first(build: BuildFn) -> None:
    rendering = build({"backup": {"target": "s3", "s3": S3}, "restore": {"from": DUMP}})
    [job] = restore_jobs(rendering)
    pod = job["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["initContainers"]] == ["wait-for-database", "download"]
    download = containers(pod, "download")
    assert env_of(download)["RESTORE_FROM"] == DUMP
    assert env_of(download)["AWS_SECRET_ACCESS_KEY"] == {"secret": ("backup-s3-credentials", "secret")}
    assert env_of(containers(pod, "restore"))["BACKUP_DIR"] == "/dumps"


def test_restore_without_scheduled_backups_still_reads_the_backup_volume(build: BuildFn) -> None:
    rendering = build({"backup": {"enabled": False}, "restore": {"from": DUMP}})
    assert not rendering.resources("kubernetes:batch/v1:CronJob")
    assert len(restore_jobs(rendering)) == 1
    rendering.manifest("PersistentVolumeClaim", "heimdall-backups")


# --- what is rendered is valid, and holds no secret ---------------------------------------------

DATABASE_PASSWORD = "db-pass-1234567890-abcdef"


def test_rendered_operations_validate_and_carry_no_secret_values(build: BuildFn) -> None:
    for values in (
        {"restore": {"from": DUMP}},
        {"backup": {"target": "s3", "s3": S3}, "restore": {"from": DUMP}},
    ):
        rendering = build(values, secrets={"secrets": {"databasePassword": DATABASE_PASSWORD}})
        ops = [
            m for m in rendering.manifests(show_secrets=False)
            if m["kind"] in ("CronJob", "Job", "PersistentVolumeClaim")
        ]
        assert validate_manifests(ops) == []
        # Even unmasked, only Secrets hold the password; pods read it by reference.
        readable = [m for m in rendering.manifests(show_secrets=True) if m["kind"] != "Secret"]
        assert DATABASE_PASSWORD not in json.dumps(readable)


# --- the admin user ------------------------------------------------------------------------------


def test_admin_uses_external_auth_reaches_the_seeder(build: BuildFn) -> None:
    def seeder_env(values: dict[str, Any]) -> dict[str, Any]:
        rendering = build(values)
        job = next(m for m in rendering.manifests()
                   if m["kind"] == "Job" and "migration" in m["metadata"]["name"])
        return env_of(containers(job["spec"]["template"]["spec"], "migrate"))

    assert seeder_env({})["ADMIN_USES_EXTERNAL_AUTH"] == "false"
    # With a login provider: without one the settings refuse it (settings/rules.py).
    ldap = {"host": "ldap.example.com", "searchBase": "dc=example,dc=com"}
    on = {"admin": {"usesExternalAuth": True}, "auth": {"ldap": ldap}}
    assert seeder_env(on)["ADMIN_USES_EXTERNAL_AUTH"] == "true"


def test_admin_outputs(build: BuildFn) -> None:
    rendering = build({"admin": {"email": "ops@example.com"}})
    assert rendering.outputs["adminEmail"] == "ops@example.com"
    assert "adminPassword" in rendering.secret_outputs
    assert len(rendering.outputs["adminPassword"]) == 24


# --- settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"backup": {"schedule": "every day"}}, "heimdall:backup.schedule = 'every day': must be a cron schedule"),
        ({"backup": {"schedule": "0 25 * * *"}}, "hour field '25': '25' is not in 0-23"),
        ({"backup": {"schedule": "CRON_TZ=UTC 0 2 * * *"}}, "set the time zone with backup.timeZone"),
        ({"backup": {"timeZone": "not a zone"}}, "must be an IANA time zone name"),
        ({"backup": {"retention": 0}}, "heimdall:backup.retention = 0"),
        ({"backup": {"target": "s3"}}, "target 's3' needs the s3 section"),
        ({"backup": {"s3": S3}}, "the s3 section is set but target is 'pvc'"),
        ({"backup": {"target": "s3", "s3": S3, "pvc": {"size": "1Gi"}}}, "the pvc section is set but target is 's3'"),
        ({"backup": {"target": "s3", "s3": {**S3, "bucket": "Bad_Bucket"}}}, "heimdall:backup.s3.bucket"),
        ({"backup": {"target": "s3", "s3": {**S3, "prefix": "/abs"}}}, "heimdall:backup.s3.prefix"),
        ({"backup": {"target": "s3", "s3": {"bucket": "b-1"}}}, "heimdall:backup.s3.existingSecret: required"),
        ({"restore": {"from": "../etc/passwd"}}, "must be the file name of a dump"),
        ({"restore": {"from": ".heimdall-20250101T021500Z.dump.partial"}}, "must be the file name of a dump"),
        ({"backup": {"keep": 3}}, "heimdall:backup.keep: unknown key"),
    ],
)
def test_bad_operations_settings_fail_with_one_line(values: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError) as error:
        parse_settings(values)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "schedule",
    ["0 3 * * *", "*/15 * * * *", "0 2 * * MON-FRI", "30 1 1,15 * ?", "0 0 1 JAN *", "@weekly", "5 4 * * 0-6/2"],
)
def test_cron_schedules_kubernetes_accepts_are_accepted(schedule: str) -> None:
    assert parse_settings({"backup": {"schedule": schedule}}).backup.schedule == schedule


def test_every_operations_setting_is_described() -> None:
    models: list[type[BaseModel]] = [Backup, BackupVolume, BackupS3, Restore]
    for model in models:
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
    assert Admin.model_fields["uses_external_auth"].description
