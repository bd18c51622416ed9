"""`DatabaseRestore`: a restore from a dump on the backup target, applied by `pulumi up`.

Creates, when `restore.from` is set, a Job `heimdall-restore-<id>` that waits for the
database (the shared wait-for-database init container), fetches the dump (target `s3`: an
AWS CLI init container, heimdall/scripts/s3-download.sh), then runs
heimdall/scripts/restore.sh: pg_restore --clean --if-exists in one transaction, so that a
missing, corrupt or failing dump leaves the database as it was. In the same transaction the
database records the restore (heimdall_restore.applied), and a restore it already received
is skipped: a Job recreated after a refresh, or for a changed target, restores nothing.
Every update while restore.from is set warns that it is.

The stack makes the migration Job wait for this Job: database -> restore -> migrations ->
app. pulumi-kubernetes waits for the Job and fails the update if it fails.

The Job runs once per value of `restore.from` (and of the target's location and
`restore.runId`): the id in the Job's name derives from them, and later changes of the pod
template (a new client image, new security contexts) are ignored, so that no unrelated
`pulumi up` restores an old dump over newer data; the database's own record of its restores
guards the rest. To restore a dump again on purpose, set a new `restore.runId`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from heimdall.database.contract import DatabaseConnection
from heimdall.kube import meta, pods
from heimdall.kube.database_client import database_client
from heimdall.operations.pods import OperationsArgs, postgres_container, postgres_pod_spec
from heimdall.operations.target import BackupTarget
from heimdall.settings.operations import Backup, Restore

core = k8s.core.v1
COMPONENT = "heimdall-restore"


# backup.s3.prefix's default before it was per stack: an unset prefix is hashed as this, so
# that no restore Job of an existing stack is renamed (a new Job would run the restore again).
LEGACY_S3_PREFIX = "heimdall/"


def restore_id(backup: Backup, restore: Restore) -> str:
    """A short id of what is restored: the dump's name and where it is read from (and
    restore.runId, when set)."""
    where: dict[str, object] = {"target": backup.target, "from": restore.from_}
    if backup.s3 is not None:
        location = backup.s3.model_dump(include={"bucket", "prefix", "endpoint"})
        if location["prefix"] is None:
            location["prefix"] = LEGACY_S3_PREFIX
        where["s3"] = location
    if restore.run_id is not None:  # only when set: existing Jobs keep their names
        where["runId"] = restore.run_id
    digest = hashlib.sha256(json.dumps(where, sort_keys=True).encode()).hexdigest()
    return digest[:10]


class DatabaseRestore(pulumi.ComponentResource):
    job: k8s.batch.v1.Job

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
        super().__init__("heimdall:operations:DatabaseRestore", name, None, opts)
        restore = args.restore
        if restore.from_ is None:
            raise ValueError("DatabaseRestore needs restore.from")
        client = database_client(connection, args.database_client)
        resources = pods.resource_requirements(restore.resources)
        from_env = core.EnvVarArgs(name="RESTORE_FROM", value=restore.from_)
        run_env = [core.EnvVarArgs(name="RESTORE_RUN_ID", value=restore.run_id)] if restore.run_id else []
        # Every update while restore.from is set says so: it is easy to forget, and each
        # new Job for it (a changed target, a Job deleted outside Pulumi) checks the
        # database's restore history again.
        again = f" (restore.runId {restore.run_id})" if restore.run_id else ""
        pulumi.log.warn(
            f"restore.from is set: {restore.from_}{again} is restored into database "
            f"{args.database_name} unless that database already received it; remove "
            "restore.from once the restore has succeeded",
            resource=self,
        )

        init_containers = list(client.init_containers)
        if target.kind == "s3":
            init_containers.append(
                target.s3_container(
                    "download", "s3-download.sh", {"RESTORE_FROM": restore.from_}, resources
                )
            )
        restore_container = postgres_container(
            "restore",
            "restore.sh",
            args.database_client.image,
            env=[
                *client.env,
                core.EnvVarArgs(name="BACKUP_DIR", value=target.directory),
                from_env,
                *run_env,
            ],
            mounts=[*client.volume_mounts, target.mount(read_only=target.kind == "pvc")],
            resources=resources,
        )

        wait = args.database_client.wait_timeout_seconds
        timeout = f"{wait + restore.timeout_seconds + 120}s"
        job_id = restore_id(args.backup, restore)
        self.job = k8s.batch.v1.Job(
            f"{name}-{job_id}",
            # replaceUnready: the next `pulumi up` replaces a failed restore Job instead of
            # waiting on it again. No ttlSecondsAfterFinished: a Job deleted by the TTL
            # controller would show as drift and run again.
            metadata=meta.metadata(
                namespace,
                COMPONENT,
                f"heimdall-restore-{job_id}",
                annotations={"pulumi.com/replaceUnready": "true"},
            ),
            spec=k8s.batch.v1.JobSpecArgs(
                # A failed restore changed nothing; retrying the same dump would fail again.
                backoff_limit=0,
                active_deadline_seconds=wait + restore.timeout_seconds,
                template=core.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=meta.labels(COMPONENT)),
                    spec=postgres_pod_spec(
                        args.placement,
                        service_account_name,
                        init_containers,
                        [restore_container],
                        volumes=[*client.volumes, target.volume(read_only=target.kind == "pvc")],
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[*connection.ready, *target.ready],
                # Never run an old restore again because something unrelated changed.
                ignore_changes=["spec"],
                custom_timeouts=pulumi.CustomTimeouts(create=timeout, update=timeout),
            ),
        )
        self.register_outputs({"jobName": self.job.metadata.name})
