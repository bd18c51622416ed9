"""`Heimdall`: the whole deployment, composed from its parts.

namespace -> secrets -> database (the chosen provider) -> config -> backups and restore
-> migration Job -> workload, with the guardrails beside them (NetworkPolicies, PodDisruptionBudget,
autoscaler), the login secrets and CA bundle the pods mount, and the Gateway API route.
Every Kubernetes object gets the user's extra `labels` and `annotations` through the
component's transform (heimdall/kube/stack_metadata.py). Each part takes a narrow `*Args`
built here from the settings: this is the one module besides the settings package that
reads `Settings`. Returns the stack outputs; `__main__.py` exports them.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Optional
from urllib.parse import quote

import pulumi
import pulumi_kubernetes as k8s

from heimdall.auth import AuthSecrets
from heimdall.availability import AvailabilityArgs, HeimdallAvailability
from heimdall.certificates import ExtraCaCertificates
from heimdall.config import ConfigArgs, HeimdallConfig
from heimdall.database import guard
from heimdall.database.build import build_database
from heimdall.database.contract import DatabaseConnection, Placement, Toleration
from heimdall.exposure import GatewayRoute
from heimdall.kube import meta
from heimdall.kube.database_client import DatabaseClientArgs
from heimdall.kube.placement import Scheduling
from heimdall.kube.pods import PodAdditions
from heimdall.kube.stack_metadata import StackMetadata
from heimdall.migration import MigrationArgs, MigrationJob
from heimdall.network import NetworkPolicies
from heimdall.operations import DatabaseOperations, OperationsArgs
from heimdall.pod import HeimdallPod, HeimdallPodArgs
from heimdall.secrets import HeimdallSecrets
from heimdall.settings.root import Settings
from heimdall.workload import HeimdallWorkload, WorkloadArgs

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


# --- the parts' Args, from the settings -----------------------------------------------------


def stack_placement(settings: Settings) -> Placement:
    """Where every pod of the stack runs."""
    return Placement(
        node_selector=dict(settings.node_selector),
        tolerations=tuple(Toleration(**t.model_dump()) for t in settings.tolerations),
        image_pull_secrets=tuple(settings.image_pull_secrets),
    )


def database_client_args(settings: Settings) -> DatabaseClientArgs:
    return DatabaseClientArgs(
        image=settings.database.client_image,
        wait_timeout_seconds=settings.database.wait_timeout_seconds,
        security_context=settings.security_context,
    )


def pod_args(settings: Settings) -> HeimdallPodArgs:
    # affinity and topologySpreadConstraints: Kubernetes objects, passed on camelCase.
    scheduling = Scheduling(
        placement=stack_placement(settings),
        affinity=settings.affinity.as_input() if settings.affinity is not None else None,
        topology_spread_constraints=None
        if settings.topology_spread_constraints is None
        else [constraint.as_input() for constraint in settings.topology_spread_constraints],
        several_pods=settings.min_replicas > 1,
    )
    return HeimdallPodArgs(
        image=settings.image,
        scheduling=scheduling,
        database_client=database_client_args(settings),
        security_context=settings.security_context,
        pod_security_context=settings.pod_security_context,
        labels=settings.pod_labels,
        # Heimdall's pods carry the stack's annotations too (the transform adds them to
        # object metadata only), under their own podAnnotations.
        annotations={**settings.annotations, **settings.pod_annotations},
    )


def config_args(settings: Settings) -> ConfigArgs:
    return ConfigArgs(
        admin_email=settings.admin.email,
        jwt_expire_time=settings.jwt_expire_time,
        local_login_disabled=settings.local_login_disabled,
        registration_disabled=settings.registration_disabled,
        one_session_per_user=settings.one_session_per_user,
        max_file_upload_size=settings.max_file_upload_size,
        banners=settings.banners,
        auth=settings.auth,
        ca_certificates=settings.ca_certificates.enabled,
        env=settings.env,
        external_url=settings.external_url_env,
    )


def operations_args(settings: Settings) -> OperationsArgs:
    return OperationsArgs(
        backup=settings.backup,
        backup_enabled=settings.backup_enabled,
        restore=settings.restore,
        protect=not settings.database.allow_destroy,
        namespace=settings.namespace,
        database_name=settings.database.name,
        database_client=database_client_args(settings),
        placement=stack_placement(settings),
    )


def workload_args(settings: Settings) -> WorkloadArgs:
    return WorkloadArgs(
        start_command=settings.start_command,
        resources=settings.resources,
        replicas=settings.replicas,
        probes=settings.probes,
        rollout=settings.rollout,
        autoscaling=settings.autoscaling,
        ingress=settings.ingress,
        sticky_sessions=settings.sticky_sessions,
    )


def claim_namespace(
    name: str, namespace: pulumi.Input[str], parent: pulumi.Resource, provider: str, protect: bool
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
        metadata=meta.metadata(
            namespace,
            "heimdall",
            CLAIM_NAME,
            annotations=guard.recorded_annotations(provider, protected=protect),
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
        common = StackMetadata(labels=settings.labels, annotations=settings.annotations)
        # Only with something to add: the engine calls every transform of every ancestor
        # for each resource, over gRPC.
        transforms = [common.transform()] if common.labels or common.annotations else []
        super().__init__(
            "heimdall:index:Heimdall",
            name,
            None,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(transforms=transforms)),
        )
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
                    name=settings.namespace, labels=meta.labels("heimdall")
                ),
                opts=pulumi.ResourceOptions(parent=self, protect=protect_data),
            )
            namespace = ns.metadata.name
        claim, namespace = claim_namespace(
            name, namespace, self, settings.database.provider, protect_data
        )

        child = pulumi.ResourceOptions(parent=self)
        secrets = HeimdallSecrets(f"{name}-secrets", settings.secrets, namespace, opts=child)
        connection = build_database(
            f"{name}-database",
            settings.database,
            namespace,
            secrets.database_password,
            stack_placement(settings),
            # After the guard, also what takes no namespace (a managed instance).
            opts=pulumi.ResourceOptions(parent=self, depends_on=[claim]),
            backup_s3=settings.backup.s3,
        )
        config = HeimdallConfig(
            f"{name}-config", config_args(settings), connection, namespace, opts=child
        )
        shared: list[PodAdditions] = []  # the server's and the Job's
        if settings.ca_certificates.enabled:
            shared.append(
                ExtraCaCertificates(
                    f"{name}-ca-certificates", settings.ca_certificates, namespace, opts=child
                ).pod
            )
        server_only: list[PodAdditions] = []
        if settings.auth.any:
            server_only.append(AuthSecrets(f"{name}-auth", settings.auth, namespace, opts=child).pod)
        operations = DatabaseOperations(
            f"{name}-operations",
            operations_args(settings),
            connection,
            config.service_account_name,
            namespace,
            opts=child,
        )
        pod = HeimdallPod(
            args=pod_args(settings),
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
            f"{name}-migration",
            MigrationArgs(
                migration=settings.migration,
                admin_uses_external_auth=settings.admin.uses_external_auth,
                restored_from=settings.restore.from_,
            ),
            pod,
            after=[*connection.ready, *restored],
            opts=child,
        )
        HeimdallWorkload(
            f"{name}-app",
            workload_args(settings),
            dataclasses.replace(pod, additions=[*shared, *server_only]),
            after=[migration.job],
            opts=child,
        )
        if settings.network_policy.enabled:
            NetworkPolicies(
                f"{name}-network-policies", settings.network_policy, connection, namespace, opts=child
            )
        HeimdallAvailability(
            f"{name}-availability",
            AvailabilityArgs(
                pod_disruption_budget=settings.pod_disruption_budget,
                autoscaling=settings.autoscaling,
                min_replicas=settings.min_replicas,
            ),
            namespace,
            opts=child,
        )
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


def deploy(settings: Settings) -> dict[str, Any]:
    """Build the stack and export its outputs (the program's body, `heimdall.program`)."""
    heimdall = Heimdall("heimdall", settings)
    for key, value in heimdall.outputs.items():
        pulumi.export(key, value)
    return heimdall.outputs
