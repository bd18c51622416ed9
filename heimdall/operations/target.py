"""Where dumps live: the backup volume (target `pvc`) or an S3-compatible bucket (`s3`).

`declare_backup_target` creates the PersistentVolumeClaim for target `pvc` (protected like
the database unless `database.allowDestroy`) and returns a `BackupTarget`, which gives the
backup and restore pods what they need to reach the dumps: the volume, the directory, and
for `s3` the AWS CLI containers that upload, prune and download.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from heimdall.database.contract import SecretKeyRef
from heimdall.kube import meta, pods, security
from heimdall.settings.operations import Backup, BackupS3

core = k8s.core.v1
COMPONENT = "heimdall-backup"
VOLUME_NAME = "heimdall-backups"  # the PVC; its name is fixed so that people can find it
DUMPS_VOLUME = "dumps"
PVC_DIR = "/backups"
SCRATCH_DIR = "/dumps"  # target s3: the pod's emptyDir between pg_dump and the upload


def s3_prefix(s3: BackupS3) -> str:
    """The key prefix the dumps are written under and read from: backup.s3.prefix, or one
    per stack, so that stacks sharing a bucket never prune each other's dumps."""
    return s3.key_prefix(pulumi.get_stack())


@dataclass(frozen=True)
class BackupTarget:
    kind: str  # "pvc" or "s3"
    claim: Optional[core.PersistentVolumeClaim]
    s3: Optional[BackupS3]
    namespace: str

    @property
    def directory(self) -> str:
        """Where the dump files are, inside the pod's postgres container."""
        return PVC_DIR if self.kind == "pvc" else SCRATCH_DIR

    def volume(self, read_only: bool = False) -> core.VolumeArgs:
        if self.claim is None:
            # Bounded: a dump larger than expected evicts this pod instead of filling the
            # node's disk under every other pod on it.
            size = self.s3.scratch_size if self.s3 is not None else None
            return core.VolumeArgs(
                name=DUMPS_VOLUME, empty_dir=core.EmptyDirVolumeSourceArgs(size_limit=size)
            )
        return core.VolumeArgs(
            name=DUMPS_VOLUME,
            persistent_volume_claim=core.PersistentVolumeClaimVolumeSourceArgs(
                claim_name=VOLUME_NAME, read_only=read_only or None
            ),
        )

    def mount(self, read_only: bool = False) -> core.VolumeMountArgs:
        return core.VolumeMountArgs(
            name=DUMPS_VOLUME, mount_path=self.directory, read_only=read_only or None
        )

    @property
    def ready(self) -> list[pulumi.Resource]:
        return [self.claim] if self.claim is not None else []

    def s3_container(
        self,
        name: str,
        script: str,
        env: dict[str, str],
        resources: core.ResourceRequirementsArgs,
    ) -> core.ContainerArgs:
        """A container of the AWS CLI image running `script` against the bucket."""
        s3 = self.s3
        if s3 is None:
            raise ValueError("an S3 container needs target s3")
        secret = s3.existing_secret
        plain: dict[str, pulumi.Input[str]] = {
            # Named in s3-env.sh's error when the Secret or a key is missing.
            "S3_SECRET_NAME": secret,
            "S3_ACCESS_KEY_ID_KEY": s3.access_key_id_key,
            "S3_SECRET_ACCESS_KEY_KEY": s3.secret_access_key_key,
            "POD_NAMESPACE": self.namespace,
            "BACKUP_DIR": SCRATCH_DIR,
            "S3_BUCKET": s3.bucket,
            "S3_PREFIX": s3_prefix(s3),
            "S3_FORCE_PATH_STYLE": pods.flag(s3.force_path_style),
            "AWS_REGION": s3.region,
            "AWS_DEFAULT_REGION": s3.region,
            "AWS_PAGER": "",
            "HOME": "/tmp",
            **env,
        }
        if s3.endpoint:
            plain["S3_ENDPOINT"] = s3.endpoint
            # Stores other than AWS often reject the CLI's default CRC checksums.
            plain["AWS_REQUEST_CHECKSUM_CALCULATION"] = "when_required"
            plain["AWS_RESPONSE_CHECKSUM_VALIDATION"] = "when_required"
        # Optional references: with the Secret (or a key) missing, the container still
        # starts and s3-env.sh fails at once, naming them; a required reference would
        # leave the pod waiting (CreateContainerConfigError) until the Job's deadline,
        # and `pulumi up` waiting on the restore Job for as long.
        return core.ContainerArgs(
            name=name,
            image=s3.image.reference,
            image_pull_policy=s3.image.pull_policy,
            command=["/bin/sh", "-c", pods.script("s3-env.sh") + "\n" + pods.script(script)],
            env=[
                *pods.plain_env(plain),
                pods.secret_env(
                    "AWS_ACCESS_KEY_ID", SecretKeyRef(secret, s3.access_key_id_key), optional=True
                ),
                pods.secret_env(
                    "AWS_SECRET_ACCESS_KEY",
                    SecretKeyRef(secret, s3.secret_access_key_key),
                    optional=True,
                ),
            ],
            resources=resources,
            security_context=security.container_security_context(security.POSTGRES_UID),
            termination_message_policy=pods.LOGS_ON_ERROR,
            volume_mounts=[
                self.mount(),
                core.VolumeMountArgs(name="tmp", mount_path="/tmp"),
            ],
        )


def declare_backup_target(
    name: str,
    backup: Backup,
    protect: bool,
    namespace_name: str,
    namespace: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> BackupTarget:
    """The backup target of `backup`; `protect` (not database.allowDestroy) guards the
    volume like the data, `namespace_name` is the stack's namespace as configured."""
    if backup.target == "s3":
        return BackupTarget(kind="s3", claim=None, s3=backup.s3, namespace=namespace_name)
    claim = core.PersistentVolumeClaim(
        f"{name}-volume",
        # skipAwait: on a WaitForFirstConsumer StorageClass the claim stays Pending until
        # the first backup pod mounts it (hours later); waiting for Bound would add time
        # to `pulumi up`, or time it out, and guard nothing: the pod binds it when it runs.
        metadata=meta.metadata(
            namespace, COMPONENT, VOLUME_NAME, annotations=meta.SKIP_AWAIT
        ),
        spec=core.PersistentVolumeClaimSpecArgs(
            access_modes=["ReadWriteOnce"],
            storage_class_name=backup.pvc.storage_class,
            resources=core.VolumeResourceRequirementsArgs(requests={"storage": backup.pvc.size}),
        ),
        # The dumps are the last line of defence: guard them like the database itself.
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(protect=protect)
        ),
    )
    return BackupTarget(kind="pvc", claim=claim, s3=None, namespace=namespace_name)
