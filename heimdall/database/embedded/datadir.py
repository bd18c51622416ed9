"""Where the embedded PostgreSQL keeps its data, and the init container that guards it.

One layout for every major version: the volume at /var/lib/postgresql/data, the cluster in
its sub-directory `database.embedded.dataDirectory` (default `pgdata`; below the mount, so
that initdb never meets a volume's lost+found), PGDATA set explicitly. A change of
`database.embedded.image.tag` to another major therefore meets the old cluster where it was
and fails closed (PostgreSQL: "database files are incompatible with server"), instead of the
image's entrypoint running initdb in a directory of its own (postgres 18+ defaults PGDATA to
/var/lib/postgresql/<major>/docker) and Heimdall reconnecting to an empty database.

Before the server, the `data-guard` init container (heimdall/scripts/postgres-data-guard.sh,
the same image and uid, the volume mounted as the server sees it) refuses with one line and
the runbook whenever the server would not start on the stack's data: a cluster of another
major in PGDATA, or none there while the volume holds one elsewhere. Stacks that kept
PostgreSQL 18+ data in the image's own layout (<volume>/18/docker: this program mounted the
volume at /var/lib/postgresql for 18+ before) keep it where it is: PGDATA becomes a link to
it.
"""

from __future__ import annotations

import pulumi_kubernetes as k8s

from heimdall.database.embedded.settings import DEFAULT_DATA_DIRECTORY, EmbeddedDatabase
from heimdall.kube import pods, security

core = k8s.core.v1
VOLUME_MOUNT = "/var/lib/postgresql/data"
RUNBOOK = "docs/operations.md#a-new-postgresql-major-version-on-the-embedded-database"


def data_layout(directory: str = DEFAULT_DATA_DIRECTORY) -> tuple[str, str]:
    """(mount path of the data volume, PGDATA), the same for every major version."""
    return VOLUME_MOUNT, f"{VOLUME_MOUNT}/{directory}"


def data_guard(embedded: EmbeddedDatabase) -> core.ContainerArgs:
    """The init container that lets the server start only on the stack's own cluster."""
    mount_path, pgdata = data_layout(embedded.data_directory)
    return core.ContainerArgs(
        name="data-guard",
        image=embedded.image.reference,
        image_pull_policy=embedded.image.pull_policy,
        command=["/bin/sh", "-c", pods.script("postgres-data-guard.sh")],
        env=pods.plain_env(
            {
                "DATA_VOLUME": mount_path,
                "PGDATA": pgdata,
                "DEFAULT_DATA_DIRECTORY": DEFAULT_DATA_DIRECTORY,
                "POSTGRES_IMAGE": embedded.image.reference,
                "RUNBOOK": RUNBOOK,
            }
        ),
        resources=core.ResourceRequirementsArgs(
            requests={"cpu": "10m", "memory": "16Mi"},
            limits={"cpu": "100m", "memory": "64Mi"},
        ),
        security_context=security.container_security_context(security.POSTGRES_UID),
        # Its refusal is what `kubectl describe pod` shows as the reason.
        termination_message_policy=pods.LOGS_ON_ERROR,
        volume_mounts=[core.VolumeMountArgs(name="data", mount_path=mount_path)],
    )
