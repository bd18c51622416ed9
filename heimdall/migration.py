"""`MigrationJob`: Heimdall's database migrations and seeders, run before the app starts.

A `batch/v1` Job in the Heimdall image runs `migration.commands` (by default the image's
own `sequelize db:migrate` and `db:seed:all`) after a wait-for-database init container.
The seeders create the admin user from ADMIN_EMAIL and ADMIN_PASSWORD (from the Secret)
and ADMIN_USES_EXTERNAL_AUTH (`admin.usesExternalAuth`). Heimdall's seeder prints the
admin password, supplied or random, so the commands run under `redact-output.js`
(`pods.redacted`): the values of REDACTED_ENV and the seeder's password line never reach
the Job's log, and the Job still fails, with the error visible, when a command fails.
With a restore, the Job waits for the restore Job and runs again for each new
`restore.from`.

pulumi-kubernetes waits for the Job to complete and fails the update on
BackoffLimitExceeded or DeadlineExceeded; the workload depends on it, so the app never
starts before migrations succeed. Any change of the pod template (a new image, new
commands, a new ConfigMap name) replaces the Job, which runs the migrations again; a change
of its spec alone (`timeoutSeconds`, `backoffLimit`) updates the completed Job in place and
runs nothing (pulumi-kubernetes replaces a Job only for its template, completions,
parallelism and selector: heimdall/tooling/replace_rules.py). `migration.runId`, in the
template, runs them again on purpose.

Its pod takes the same guardrails as the server's (security contexts with the user's
overrides, nodeSelector, tolerations, affinity, pod labels and annotations) and the
volumes of `additions` (the CA bundle NODE_EXTRA_CA_CERTS points at).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from heimdall.kube import meta, pods
from heimdall.pod import HeimdallPod
from heimdall.settings.app import Migration

core = k8s.core.v1
COMPONENT = "heimdall-migration"
# Kept out of the Job's log: the seeder prints ADMIN_PASSWORD even when it was supplied.
# API_KEY_SECRET is not in the Job's environment today; listed so it stays covered if it is.
REDACTED_ENV = ("ADMIN_PASSWORD", "DATABASE_PASSWORD", "JWT_SECRET", "API_KEY_SECRET")


@dataclass(frozen=True)
class MigrationArgs:
    """The `migration` section, whether the administrator logs in through a provider
    (`admin.usesExternalAuth`), and the dump being restored (`restore.from`), if any."""

    migration: Migration
    admin_uses_external_auth: bool = False
    restored_from: Optional[str] = None


class MigrationJob(pulumi.ComponentResource):
    job: k8s.batch.v1.Job

    def __init__(
        self,
        name: str,
        args: MigrationArgs,
        pod: HeimdallPod,
        after: Sequence[pulumi.Resource],
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("heimdall:app:MigrationJob", name, None, opts)
        migration = args.migration
        secrets = pod.secrets
        template_annotations = (
            {"heimdall.mitre.org/run-id": migration.run_id} if migration.run_id else {}
        )
        if args.restored_from:
            # A new restore runs the migrations again: the dump may predate the image.
            template_annotations["heimdall.mitre.org/restored-from"] = args.restored_from
        container = pod.container(
            "migrate",
            pods.redacted(["/bin/sh", "-ec", "\n".join(migration.commands)], REDACTED_ENV),
            env=[
                pods.secret_env("ADMIN_PASSWORD", secrets.admin_password),
                core.EnvVarArgs(
                    name="ADMIN_USES_EXTERNAL_AUTH",
                    value=pods.flag(args.admin_uses_external_auth),
                ),
                pods.secret_env("JWT_SECRET", secrets.jwt_secret),
            ],
            resources=migration.resources,
        )
        self.job = k8s.batch.v1.Job(
            f"{name}-job",
            # Auto-named, so a replacement creates the new Job before deleting the old one.
            # replaceUnready: the next `pulumi up` replaces a failed Job instead of waiting
            # on it again. No ttlSecondsAfterFinished: a Job deleted by the TTL controller
            # would show as drift and run again.
            metadata=meta.metadata(
                pod.namespace, COMPONENT, annotations={"pulumi.com/replaceUnready": "true"}
            ),
            spec=k8s.batch.v1.JobSpecArgs(
                backoff_limit=migration.backoff_limit,
                active_deadline_seconds=migration.timeout_seconds,
                template=core.PodTemplateSpecArgs(
                    metadata=pod.metadata(COMPONENT, template_annotations),
                    spec=pod.spec(container, restart_policy="Never"),
                ),
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=list(after),
                custom_timeouts=pulumi.CustomTimeouts(
                    create=f"{migration.timeout_seconds + 120}s",
                    update=f"{migration.timeout_seconds + 120}s",
                ),
            ),
        )
        self.register_outputs({"jobName": self.job.metadata.name})
