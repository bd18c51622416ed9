"""`EmbeddedPostgres`: PostgreSQL in the cluster, from the official `postgres` image.

Creates:
- the Secret with the database password (unless the password lives in a Secret the user
  manages), generated with pulumi-random when none is supplied (`credentials.py`);
- a StatefulSet of one PostgreSQL pod running as uid 999 with `pg_isready` probes, its
  data on a volumeClaimTemplate that is kept when the StatefulSet goes, or on
  `existingClaim` (whose data directory an init container checks), in one place for every
  major version and guarded by an init container (datadir.py);
- a headless Service governing the StatefulSet and a ClusterIP Service clients use.

The StatefulSet is protected unless `database.allowDestroy` is true, so that a config
change that would delete it fails instead of losing the data. Changes on a database that
holds data (a new volume size or class, a new name, user or password) are handled or
refused as `changes.py` says; the password in the Secret is applied at every start of
the PostgreSQL container (scripts/postgres-password.sh).
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from heimdall.database.contract import DatabaseConnection, DatabaseRequest, ServerPods
from heimdall.database.credentials import password_secret
from heimdall.database.embedded import changes
from heimdall.database.embedded.datadir import data_guard, data_layout
from heimdall.database.embedded.settings import EmbeddedDatabase
from heimdall.kube import meta, placement, pods, security

core = k8s.core.v1
POSTGRES_PORT = 5432
COMPONENT = "postgres"
HEADLESS_NAME = "heimdall-postgres-headless"


def major_version(image_tag: str) -> str:
    return image_tag.split(".")[0].split("-")[0]


def check_data_directory(embedded: EmbeddedDatabase) -> core.ContainerArgs:
    """The init container that checks an existing claim's data directory: owned by the
    image's uid, of the image's major, a configured cluster (after the data guard, which
    keeps the server off any other cluster, so its own container and script)."""
    mount_path, pgdata = data_layout(embedded.data_directory)
    major = major_version(embedded.image.tag)
    env = {
        "PGDATA": pgdata,
        "DATA_MOUNT": mount_path,
        "PG_MAJOR": major,
        "EXPECTED_UID": str(security.POSTGRES_UID),
        "CLAIM": embedded.existing_claim or "",
    }
    return core.ContainerArgs(
        name="check-data-directory",
        image=embedded.image.reference,
        image_pull_policy=embedded.image.pull_policy,
        command=["/bin/sh", "-c", pods.script("check-data-directory.sh")],
        env=pods.plain_env(dict(env)),
        resources=core.ResourceRequirementsArgs(
            requests={"cpu": "10m", "memory": "16Mi"}, limits={"cpu": "100m", "memory": "64Mi"}
        ),
        security_context=security.container_security_context(security.POSTGRES_UID),
        volume_mounts=[core.VolumeMountArgs(name="data", mount_path=mount_path, read_only=True)],
    )


def password_on_start() -> core.LifecycleArgs:
    """A postStart hook that sets the database user's password from the Secret at every
    start of the container (the image applies it only to an empty volume)."""
    return core.LifecycleArgs(
        post_start=core.LifecycleHandlerArgs(
            exec_=core.ExecActionArgs(command=["/bin/sh", "-c", pods.script("postgres-password.sh")])
        )
    )


class EmbeddedPostgres(pulumi.ComponentResource):
    connection: DatabaseConnection

    def __init__(
        self,
        name: str,
        request: DatabaseRequest[EmbeddedDatabase],
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("heimdall:database:EmbeddedPostgres", name, None, opts)
        embedded = request.section
        namespace = request.namespace
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=request.protect)

        password_value: Optional[pulumi.Output[str]] = None
        if request.password.existing is not None:
            password = request.password.existing
        else:
            password, password_value = password_secret(
                name,
                request,
                self,
                request.password.value,
                random.RandomPasswordArgs(length=32, special=False),
            )

        selector = meta.selector_labels(COMPONENT)
        core.Service(
            f"{name}-headless",
            metadata=meta.metadata(namespace, COMPONENT, HEADLESS_NAME),
            spec=core.ServiceSpecArgs(
                cluster_ip="None",
                selector=selector,
                ports=[core.ServicePortArgs(name="postgres", port=POSTGRES_PORT)],
            ),
            opts=child,
        )
        service = core.Service(
            f"{name}-service",
            # No await: clients wait for the StatefulSet (whose await proves the pod ready,
            # and whose selector is this one); awaiting the Service's endpoints as well
            # would put 10 s of endpoint settling between "database ready" and the
            # migration Job. The clients' wait-for-database init container checks the
            # real thing, a connection through this Service.
            metadata=meta.metadata(
                namespace, COMPONENT, "heimdall-postgres", annotations=meta.SKIP_AWAIT
            ),
            spec=core.ServiceSpecArgs(
                type="ClusterIP",
                selector=selector,
                ports=[
                    core.ServicePortArgs(
                        name="postgres", port=request.port, target_port="postgres"
                    )
                ],
            ),
            opts=child,
        )

        # One layout for every major version, guarded (datadir.py).
        mount_path, pgdata = data_layout(embedded.data_directory)
        env: list[core.EnvVarArgs] = pods.plain_env(
            {"POSTGRES_USER": request.username, "POSTGRES_DB": request.name}
        )
        env.append(pods.secret_env("POSTGRES_PASSWORD", password))
        env.append(core.EnvVarArgs(name="PGDATA", value=pgdata))

        def pg_isready(period: int, failures: int) -> core.ProbeArgs:
            return core.ProbeArgs(
                exec_=core.ExecActionArgs(
                    command=[
                        "pg_isready", "-q", "-h", "127.0.0.1", "-p", str(POSTGRES_PORT),
                        "-U", request.username, "-d", request.name,
                    ]
                ),
                period_seconds=period,
                timeout_seconds=5,
                failure_threshold=failures,
            )

        volumes = [pods.tmp_volume("run"), pods.tmp_volume("tmp")]
        claim_templates = None
        claim_checks: list[core.ContainerArgs] = []
        if embedded.existing_claim:
            # A claim the stack did not create (a Helm chart's): mounted as it is, checked
            # before PostgreSQL starts on it.
            volumes.append(
                core.VolumeArgs(
                    name="data",
                    persistent_volume_claim=core.PersistentVolumeClaimVolumeSourceArgs(
                        claim_name=embedded.existing_claim
                    ),
                )
            )
            claim_checks.append(check_data_directory(embedded))
        elif embedded.persistence.enabled:
            claim_templates = [
                core.PersistentVolumeClaimArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(name="data", labels=meta.labels(COMPONENT)),
                    spec=core.PersistentVolumeClaimSpecArgs(
                        access_modes=["ReadWriteOnce"],
                        storage_class_name=embedded.persistence.storage_class or None,
                        resources=core.VolumeResourceRequirementsArgs(
                            requests={"storage": embedded.persistence.size}
                        ),
                    ),
                )
            ]
        else:
            volumes.append(pods.tmp_volume("data", size_limit=embedded.persistence.size))

        self.stateful_set = k8s.apps.v1.StatefulSet(
            f"{name}-statefulset",
            metadata=meta.metadata(namespace, COMPONENT, "heimdall-postgres"),
            spec=k8s.apps.v1.StatefulSetSpecArgs(
                replicas=1,
                # A plain name, not headless.metadata.name: depending on the Service would
                # make the StatefulSet wait for the Service's endpoints, i.e. for itself.
                service_name=HEADLESS_NAME,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
                # Deleting or scaling the StatefulSet never deletes the data volume.
                persistent_volume_claim_retention_policy=k8s.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs(
                    when_deleted="Retain", when_scaled="Retain"
                ),
                template=core.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=meta.labels(COMPONENT)),
                    spec=core.PodSpecArgs(
                        automount_service_account_token=False,
                        security_context=security.pod_security_context(security.POSTGRES_UID),
                        termination_grace_period_seconds=60,
                        **placement.node_placement(request.placement),
                        init_containers=[data_guard(embedded), *claim_checks],
                        containers=[
                            core.ContainerArgs(
                                name="postgres",
                                image=embedded.image.reference,
                                image_pull_policy=embedded.image.pull_policy,
                                env=env,
                                ports=[
                                    core.ContainerPortArgs(
                                        name="postgres", container_port=POSTGRES_PORT
                                    )
                                ],
                                lifecycle=password_on_start(),
                                startup_probe=pg_isready(period=5, failures=60),
                                readiness_probe=pg_isready(period=10, failures=3),
                                liveness_probe=pg_isready(period=20, failures=6),
                                resources=pods.resource_requirements(embedded.resources),
                                security_context=security.container_security_context(
                                    security.POSTGRES_UID
                                ),
                                volume_mounts=[
                                    core.VolumeMountArgs(name="data", mount_path=mount_path),
                                    core.VolumeMountArgs(
                                        name="run", mount_path="/var/run/postgresql"
                                    ),
                                    core.VolumeMountArgs(name="tmp", mount_path="/tmp"),
                                ],
                            )
                        ],
                        volumes=volumes,
                    ),
                ),
                volume_claim_templates=claim_templates,
            ),
            opts=pulumi.ResourceOptions.merge(
                stateful,
                pulumi.ResourceOptions(
                    # The template shapes the claim made on the first start only; the
                    # claim's size is data_volume's (a change would replace the StatefulSet).
                    ignore_changes=["spec.volumeClaimTemplates"],
                    hooks=pulumi.ResourceHookBinding(
                        before_update=[changes.identity_hook(name, embedded.allow_rename)]
                    ),
                ),
            ),
        )
        if embedded.persistence.enabled and not embedded.existing_claim:
            # An existing claim is the user's: its size and class stay theirs.
            changes.data_volume(
                name,
                namespace,
                embedded.persistence.size,
                embedded.persistence.storage_class,
                meta.labels(COMPONENT),
                self.stateful_set,
                self,
            )

        self.connection = DatabaseConnection(
            provider="embedded",
            host=pulumi.Output.concat(service.metadata.name, ".", namespace, ".svc"),
            port=request.port,
            database=request.name,
            username=request.username,
            password=password,
            password_value=password_value,
            ready=[self.stateful_set, service],
            server_pods=ServerPods(selector=selector, port=POSTGRES_PORT),
        )
        self.register_outputs({"host": self.connection.host})
