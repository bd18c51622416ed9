"""Day-2 operations on the database: scheduled backups and restores.

`DatabaseOperations` composes them from the settings and the database's connection (the
provider contract; it never asks which provider made the database):
- the backup target (`target.py`): the backup volume, or an S3-compatible bucket;
- `DatabaseBackup` (`backup.py`): the backup CronJob, when `backup.enabled` (by default
  for the embedded and external providers);
- `DatabaseRestore` (`restore.py`): the restore Job, when `restore.from` is set.

`restore_job` is the Job the migration Job must wait for (None without a restore).
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from heimdall.database.contract import DatabaseConnection
from heimdall.operations.backup import DatabaseBackup
from heimdall.operations.pods import OperationsArgs
from heimdall.operations.restore import DatabaseRestore
from heimdall.operations.target import declare_backup_target

__all__ = ["DatabaseBackup", "DatabaseOperations", "DatabaseRestore", "OperationsArgs"]


class DatabaseOperations(pulumi.ComponentResource):
    backup: Optional[DatabaseBackup]
    restore_job: Optional[k8s.batch.v1.Job]

    def __init__(
        self,
        name: str,
        args: OperationsArgs,
        connection: DatabaseConnection,
        service_account_name: pulumi.Input[str],
        namespace: pulumi.Input[str],
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("heimdall:operations:DatabaseOperations", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.backup = None
        self.restore_job = None
        if not args.backup_enabled and args.restore.from_ is None:
            self.register_outputs({})
            return

        target = declare_backup_target(
            f"{name}-backups", args.backup, args.protect, args.namespace, namespace, child
        )
        if args.backup_enabled:
            self.backup = DatabaseBackup(
                f"{name}-backup",
                args,
                connection,
                target,
                service_account_name,
                namespace,
                opts=child,
            )
        if args.restore.from_ is not None:
            self.restore_job = DatabaseRestore(
                f"{name}-restore",
                args,
                connection,
                target,
                service_account_name,
                namespace,
                opts=child,
            ).job
        self.register_outputs({})
