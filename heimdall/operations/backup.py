"""`DatabaseBackup`: scheduled logical backups of the database with pg_dump.

Creates a CronJob `heimdall-database-backup`. Each run waits for the database (the shared
wait-for-database init container), then runs heimdall/scripts/backup.sh in the PostgreSQL
client image: pg_dump in custom format under a temporary name, verified with pg_restore,
renamed, and only then older dumps pruned beyond `backup.retention`.

Target `pvc`: the dump goes straight onto the backup volume. Target `s3`: the dump goes to
an emptyDir in an init container, then the AWS CLI image (heimdall/scripts/s3-upload.sh)
uploads it, checks the stored size and prunes the bucket's old dumps.

concurrencyPolicy Forbid (runs never overlap), a starting deadline, an active deadline,
history limits, resources, non-root with the shared security contexts; the password reaches
pg_dump as PGPASSWORD from the Secret by reference.
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from heimdall.database.contract import DatabaseConnection
from heimdall.kube import meta, pods
from heimdall.kube.database_client import database_client
from heimdall.operations.pods import OperationsArgs, postgres_container, postgres_pod_spec
from heimdall.operations.target import BackupTarget

core = k8s.core.v1
batch = k8s.batch.v1
COMPONENT = "heimdall-backup"
CRON_JOB_NAME = "heimdall-database-backup"
# A run the controller could not start on time (controller down, cluster busy) still
# starts within this window; later, it is skipped until the next scheduled time.
STARTING_DEADLINE_SECONDS = 3600
HISTORY_LIMIT = 3


class DatabaseBackup(pulumi.ComponentResource):
    cron_job: batch.CronJob

    def __init__(
        self,
        name: str,
        args: OperationsArgs,
        connection: DatabaseConnection,
        target: BackupTarget,
        service_account_name: pulumi.Input[str],
        namespace: pulumi.Input[str],
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("heimdall:operations:DatabaseBackup", name, None, opts)
        backup = args.backup
        client = database_client(connection, args.database_client)
        resources = pods.resource_requirements(backup.resources)
        dump = postgres_container(
            "backup",
            "backup.sh",
            args.database_client.image,
            env=[
                *client.env,
                core.EnvVarArgs(name="BACKUP_DIR", value=target.directory),
                # Target s3: the uploader prunes the bucket; nothing to prune in the emptyDir.
                core.EnvVarArgs(
                    name="BACKUP_RETENTION",
                    value=str(backup.retention) if target.kind == "pvc" else "0",
                ),
            ],
            mounts=[*client.volume_mounts, target.mount()],
            resources=resources,
        )
        init_containers = list(client.init_containers)
        if target.kind == "s3":
            init_containers.append(dump)
            containers = [
                target.s3_container(
                    "upload",
                    "s3-upload.sh",
                    {"BACKUP_RETENTION": str(backup.retention)},
                    resources,
                )
            ]
        else:
            containers = [dump]

        pod = postgres_pod_spec(
            args.placement,
            service_account_name,
            init_containers,
            containers,
            volumes=[*client.volumes, target.volume()],
        )
        self.cron_job = batch.CronJob(
            f"{name}-cronjob",
            metadata=meta.metadata(namespace, COMPONENT, CRON_JOB_NAME),
            spec=batch.CronJobSpecArgs(
                schedule=backup.schedule,
                time_zone=backup.time_zone,
                concurrency_policy="Forbid",
                starting_deadline_seconds=STARTING_DEADLINE_SECONDS,
                successful_jobs_history_limit=HISTORY_LIMIT,
                failed_jobs_history_limit=HISTORY_LIMIT,
                job_template=batch.JobTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=meta.labels(COMPONENT)),
                    spec=batch.JobSpecArgs(
                        backoff_limit=1,
                        active_deadline_seconds=backup.deadline_seconds,
                        template=core.PodTemplateSpecArgs(
                            metadata=k8s.meta.v1.ObjectMetaArgs(labels=meta.labels(COMPONENT)),
                            spec=pod,
                        ),
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[*connection.ready, *target.ready]
            ),
        )
        self.register_outputs({"cronJobName": self.cron_job.metadata.name})
