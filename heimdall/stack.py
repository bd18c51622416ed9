"""`Heimdall`: the whole deployment, composed from its parts.

namespace -> secrets -> database (the chosen provider) -> config -> backups and restore
-> migration Job -> workload, with the guardrails beside them (NetworkPolicies, PodDisruptionBudget,
autoscaler), the login secrets and CA bundle the pods mount, and the Gateway API route.
Every object gets the user's extra `labels` and `annotations`. Returns the stack
outputs; `__main__.py` exports them.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Optional
from urllib.parse import quote

import pulumi
import pulumi_kubernetes as k8s

from heimdall import kube
from heimdall.auth import AuthSecrets
from heimdall.availability import HeimdallAvailability
from heimdall.certificates import ExtraCaCertificates
from heimdall.config import HeimdallConfig
from heimdall.database import guard
from heimdall.database.build import build_database
from heimdall.database.contract import DatabaseConnection
from heimdall.exposure import GatewayRoute
from heimdall.migration import MigrationJob
from heimdall.network import NetworkPolicies
from heimdall.operations import DatabaseOperations
from heimdall.pod import HeimdallPod
from heimdall.secrets import HeimdallSecrets
from heimdall.settings.root import Settings
from heimdall.workload import HeimdallWorkload

# The CA file a verifying connection string names, in the directory psql runs in: the
# `databaseCaCertificate` output (or the CA from the cluster, see docs/databases.md) saved
# there. libpq's verify-full needs one: its default, ~/.postgresql/root.crt, rarely exists.
CA_FILE = "database-ca.pem"


def connection_string(connection: DatabaseConnection) -> pulumi.Output[str]:
    """`postgres://user:password@host:port/db`, every part URL-encoded; without the
    password when it lives in a Secret the user manages."""
    tls = {
        "disable": "",
        "require": "?sslmode=require",
        "verify": f"?sslmode=verify-full&sslrootcert={CA_FILE}",
    }
    query = tls[connection.tls.mode]

    def build(args: list[Any]) -> str:
        host, port, password = args
        user = quote(connection.username, safe="")
        auth = f"{user}:{quote(password, safe='')}" if password is not None else user
        return f"postgres://{auth}@{host}:{port}/{quote(connection.database, safe='')}{query}"

    password = connection.password_value if connection.password_value is not None else None
    return pulumi.Output.secret(
        pulumi.Output.all(connection.host, connection.port, password).apply(build)
    )


CLAIM_NAME = "heimdall-stack"


def claim_namespace(
    name: str, namespace: pulumi.Input[str], parent: pulumi.Resource, settings: Settings
) -> tuple[k8s.core.v1.ConfigMap, pulumi.Output[str]]:
    """A ConfigMap with a fixed name that says which stack owns the namespace; the
    namespace every other object of the stack gets is this ConfigMap's, so each of them
    depends on it.

    Most objects of a stack have fixed names (the Services, the StatefulSets, the backup
    CronJob and volume), so two stacks cannot share a namespace. A second stack pointed at
    a namespace that one already uses stops at this ConfigMap, the first object it creates
    there (pulumi-kubernetes creates, never adopts, an existing object: "configmaps
    \"heimdall-stack\" already exists"; `pulumi preview` fails the same way with a dry
    run), and so never touches the first stack's objects. Its `stack` key names the owner.

    Being first, it is also the database guard (heimdall/database/guard.py): its
    annotations record the provider, and a hook refuses a switch on a stack whose data is
    protected before anything that depends on the database changes.
    """
    stack = f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"
    claim = k8s.core.v1.ConfigMap(
        f"{name}-namespace-claim",
        metadata=kube.metadata(
            namespace,
            "heimdall",
            CLAIM_NAME,
            annotations=guard.recorded_annotations(
                settings.database.provider, protected=not settings.database.allow_destroy
            ),
        ),
        data={
            "stack": stack,
            "note": "This namespace belongs to the Pulumi stack above: one Heimdall stack per namespace.",
        },
        opts=pulumi.ResourceOptions(
            parent=parent,
            hooks=pulumi.ResourceHookBinding(before_update=[guard.guard_hook(name)]),
        ),
    )
    return claim, claim.metadata.namespace.apply(lambda value: str(value))


class Heimdall(pulumi.ComponentResource):
    outputs: dict[str, Any]

    def __init__(
        self, name: str, settings: Settings, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        super().__init__("heimdall:index:Heimdall", name, None, opts)
        with kube.common_metadata(settings.labels, settings.annotations):
            self.outputs = self._build(name, settings)
        self.register_outputs(self.outputs)

    def _build(self, name: str, settings: Settings) -> dict[str, Any]:
        protect_data = not settings.database.allow_destroy

        namespace: pulumi.Input[str] = settings.namespace
        if settings.create_namespace:
            # Deleting a namespace deletes every volume in it: protect it like the data.
            ns = k8s.core.v1.Namespace(
                f"{name}-namespace",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=settings.namespace,
                    labels=kube.labels("heimdall"),
                    annotations=kube.common_annotations(),
                ),
                opts=pulumi.ResourceOptions(parent=self, protect=protect_data),
            )
            namespace = ns.metadata.name
        claim, namespace = claim_namespace(name, namespace, self, settings)

        child = pulumi.ResourceOptions(parent=self)
        secrets = HeimdallSecrets(f"{name}-secrets", settings.secrets, namespace, opts=child)
        connection = build_database(
            f"{name}-database",
            settings.database,
            namespace,
            secrets.database_password,
            kube.stack_placement(settings),
            # After the guard, also what takes no namespace (a managed instance).
            opts=pulumi.ResourceOptions(parent=self, depends_on=[claim]),
            backup_s3=settings.backup.s3,
        )
        config = HeimdallConfig(f"{name}-config", settings, connection, namespace, opts=child)
        shared: list[kube.PodAdditions] = []  # the server's and the Job's
        if settings.ca_certificates.enabled:
            shared.append(
                ExtraCaCertificates(
                    f"{name}-ca-certificates", settings.ca_certificates, namespace, opts=child
                ).pod
            )
        server_only: list[kube.PodAdditions] = []
        if settings.auth.any:
            server_only.append(AuthSecrets(f"{name}-auth", settings.auth, namespace, opts=child).pod)
        operations = DatabaseOperations(
            f"{name}-operations",
            settings,
            connection,
            config.service_account_name,
            namespace,
            opts=child,
        )
        pod = HeimdallPod(
            settings=settings,
            namespace=namespace,
            connection=connection,
            secrets=secrets,
            config_map_name=config.config_map_name,
            service_account_name=config.service_account_name,
            additions=shared,
        )
        # database -> restore (when set) -> migrations -> app: never migrate a
        # half-restored database, never serve before the schema is current.
        restored = [operations.restore_job] if operations.restore_job is not None else []
        migration = MigrationJob(
            f"{name}-migration", pod, after=[*connection.ready, *restored], opts=child
        )
        HeimdallWorkload(
            f"{name}-app",
            dataclasses.replace(pod, additions=[*shared, *server_only]),
            after=[migration.job],
            opts=child,
        )
        if settings.network_policy.enabled:
            NetworkPolicies(
                f"{name}-network-policies", settings.network_policy, connection, namespace, opts=child
            )
        HeimdallAvailability(f"{name}-availability", settings, namespace, opts=child)
        if settings.gateway.enabled:
            GatewayRoute(f"{name}-gateway", settings.gateway, namespace, opts=child)

        return {
            "url": settings.url,
            "namespace": namespace,
            "databaseProvider": connection.provider,
            "databaseHost": connection.host,
            "adminEmail": settings.admin.email,
            "adminPassword": pulumi.Output.secret(secrets.admin_password_value)
            if secrets.admin_password_value is not None
            else None,
            "connectionString": connection_string(connection),
            # For the runbooks and the user's own tools (not secrets): the managed instance's
            # real name, its Azure resource group, the CA the clients verify against.
            "databaseInstance": connection.instance_name,
            "databaseResourceGroup": connection.resource_group,
            "databaseCaCertificate": connection.tls.pem,
        }
