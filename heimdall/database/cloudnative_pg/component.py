"""`CloudNativePgCluster`: PostgreSQL with failover in the cluster, run by CloudNativePG.

Creates:
- with `operator.install`, the operator's namespace and Helm chart (`operator.py`: its
  CRDs retained and protected), and, with continuous backups, the Barman Cloud plugin's;
- the owner's credentials: a `kubernetes.io/basic-auth` Secret (generated password unless
  `secrets.databasePassword`), auto-named, that the operator reads for the owner's
  password (it applies a new one to the running cluster) and clients read
  DATABASE_PASSWORD from;
- with continuous backups or a recovery, an `ObjectStore` on `backup.s3` (and a Secret
  with its region, a field the CRD only takes from a Secret);
- the `Cluster` (`spec.py`): `instances` PostgreSQL pods, bootstrapped with initdb (the
  shared `database.name`, owned by `database.username`) or recovered from the store,
  TLS only, spread over nodes and zones, the operator's PodDisruptionBudgets; annotated
  `pulumi.com/waitFor: condition=Ready` and protected unless `database.allowDestroy`
  (deleting it deletes its volumes);
- with continuous backups, a `ScheduledBackup` of base backups through the plugin.

The connection points at the `<cluster>-rw` Service (always the primary), TLS verified
against the operator's CA (Secret `<cluster>-ca`, key ca.crt), a name the server's
certificate carries. The server's pods are described for the NetworkPolicies: the stack's
clients on 5432, the operator's namespace on 8000 (status) and 5432, and the instances
among themselves.
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from heimdall.database.cloudnative_pg.operator import install_operator
from heimdall.database.cloudnative_pg.settings import CloudNativePgDatabase
from heimdall.database.cloudnative_pg.spec import (
    cluster_spec,
    object_store_spec,
    scheduled_backup_spec,
)
from heimdall.database.contract import (
    DatabaseConnection,
    DatabaseRequest,
    DatabaseTls,
    SecretKeyRef,
    ServerPods,
)
from heimdall.database.credentials import password_secret
from heimdall.kube import meta

net = k8s.networking.v1
POSTGRES_PORT = 5432
STATUS_PORT = 8000  # the instance manager's status endpoint, which the operator polls
STORE_NAME = "heimdall-backup-store"
WAIT_FOR = {"pulumi.com/waitFor": "condition=Ready"}
# Instances join one after another (pg_basebackup from the primary): more than the
# provider's 10 minutes for a first deploy of three.
CLUSTER_TIMEOUTS = pulumi.CustomTimeouts(create="30m", update="30m")


def server_pods(cnpg: CloudNativePgDatabase) -> ServerPods:
    """The instances, for the NetworkPolicies: the operator must reach every instance on
    8000 and 5432, and the instances each other (CloudNativePG's networking guide)."""
    tcp = [
        net.NetworkPolicyPortArgs(port=port, protocol="TCP")
        for port in (STATUS_PORT, POSTGRES_PORT)
    ]
    selector = {"cnpg.io/cluster": cnpg.cluster_name}
    return ServerPods(
        selector=selector,
        port=POSTGRES_PORT,
        peers=[
            net.NetworkPolicyIngressRuleArgs(
                from_=[
                    net.NetworkPolicyPeerArgs(
                        namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                            match_labels={"kubernetes.io/metadata.name": cnpg.operator.namespace}
                        )
                    )
                ],
                ports=tcp,
            ),
            net.NetworkPolicyIngressRuleArgs(
                from_=[
                    net.NetworkPolicyPeerArgs(
                        pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector)
                    )
                ]
            ),
        ],
    )


class CloudNativePgCluster(pulumi.ComponentResource):
    connection: DatabaseConnection
    cluster: k8s.apiextensions.CustomResource

    def __init__(
        self,
        name: str,
        request: DatabaseRequest[CloudNativePgDatabase],
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("heimdall:database:CloudNativePgCluster", name, None, opts)
        cnpg = request.section
        namespace = request.namespace
        child = pulumi.ResourceOptions(parent=self)
        if request.password.existing is not None:  # the settings refuse it; say so here too
            raise ValueError("cloudnative-pg writes the owner's credentials itself")

        charts = install_operator(name, cnpg, request.protect, self)
        password, password_value = password_secret(
            name,
            request,
            self,
            request.password.value,
            random.RandomPasswordArgs(length=32, special=False),
            username=request.username,
        )

        store: Optional[k8s.apiextensions.CustomResource] = None
        s3 = request.object_store
        if cnpg.uses_store:
            assert s3 is not None  # the settings require backup.s3
            region = k8s.core.v1.Secret(
                f"{name}-backup-region",
                metadata=meta.metadata(namespace, "postgres"),
                type="Opaque",
                string_data={"AWS_REGION": s3.region},
                opts=child,
            )
            store = k8s.apiextensions.CustomResource(
                f"{name}-backup-store",
                api_version="barmancloud.cnpg.io/v1",
                kind="ObjectStore",
                metadata=meta.metadata(namespace, "postgres", STORE_NAME),
                spec=object_store_spec(cnpg, s3, region.metadata.name),
                opts=pulumi.ResourceOptions(parent=self, depends_on=charts),
            )

        inherited = {
            k: v
            for k, v in meta.labels("postgres").items()
            # The operator sets its own app.kubernetes.io/name and instance on its pods.
            if k not in ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by")
        }
        self.cluster = k8s.apiextensions.CustomResource(
            # Named after the cluster: a new clusterName is a new cluster beside the old
            # (a restore), never a replacement of the old one.
            f"{name}-cluster-{cnpg.cluster_name}",
            api_version="postgresql.cnpg.io/v1",
            kind="Cluster",
            metadata=meta.metadata(namespace, "postgres", cnpg.cluster_name, annotations=WAIT_FOR),
            spec=cluster_spec(
                cnpg,
                database=request.name,
                owner=request.username,
                owner_secret=password.name,
                store=STORE_NAME if store is not None else None,
                placement=request.placement,
                inherited_labels=inherited,
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=request.protect,
                depends_on=[*charts, *([store] if store is not None else [])],
                custom_timeouts=CLUSTER_TIMEOUTS,
            ),
        )
        if cnpg.backup.enabled:
            k8s.apiextensions.CustomResource(
                f"{name}-backup-{cnpg.cluster_name}",
                api_version="postgresql.cnpg.io/v1",
                kind="ScheduledBackup",
                metadata=meta.metadata(namespace, "postgres", f"{cnpg.cluster_name}-backup"),
                spec=scheduled_backup_spec(cnpg),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.cluster]),
            )

        rw = f"{cnpg.cluster_name}-rw"
        tls = request.tls
        self.connection = DatabaseConnection(
            provider="cloudnative-pg",
            # <cluster>-rw.<namespace>.svc: a name on the server's certificate.
            host=pulumi.Output.concat(rw, ".", namespace, ".svc"),
            port=POSTGRES_PORT,
            database=request.name,
            username=request.username,
            password=password,
            password_value=password_value,
            tls=DatabaseTls(
                mode=tls.mode,
                ca=SecretKeyRef(f"{cnpg.cluster_name}-ca", "ca.crt") if tls.mode == "verify" else None,
            ),
            ready=[self.cluster],
            instance_name=cnpg.cluster_name,
            server_pods=server_pods(cnpg),
        )
        self.register_outputs({"host": self.connection.host})
