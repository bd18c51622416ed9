"""The CloudNativePG operator and its Barman Cloud plugin, from their Helm charts.

`kubernetes.helm.v4.Chart`, not `helm.v3.Release`: v4 renders the chart in the provider and
registers every object as a Pulumi resource, ordered (CRDs before custom resources) and
awaited (the operator's Deployment, whose readiness is its webhooks'), so `depends_on` the
chart means "the operator answers". Pulumi then sees, diffs and protects each object, and
the policy pack checks the operator's Deployment like any other. A Release runs Helm
itself: one opaque resource whose objects Pulumi never sees (nothing to protect, and Helm
waits only for Deployments). Chart hooks are dropped by v4; neither chart needs them.

Deleting a CRD deletes every custom resource of its kind in the whole Kubernetes cluster,
so the operator's CRDs would take every `Cluster` (and, by owner references, their volumes)
with them: `keep_crds` makes the charts' CRDs retained on delete (always: they are shared
by the whole cluster) and protected like the data.
"""

from __future__ import annotations

from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s

from heimdall.database.cloudnative_pg.settings import (
    OPERATOR_CHART,
    PLUGIN_CHART,
    CloudNativePgDatabase,
)
from heimdall.kube import meta
from heimdall.settings.types import Resources

CRD_TYPE = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"


def keep_crds(protect: bool) -> pulumi.ResourceTransform:
    """A transform for a chart: its CustomResourceDefinitions are retained when Pulumi
    deletes them (and protected unless `protect` is false)."""

    def transform(args: pulumi.ResourceTransformArgs) -> Optional[pulumi.ResourceTransformResult]:
        if args.type_ != CRD_TYPE:
            return None
        options = pulumi.ResourceOptions.merge(
            args.opts, pulumi.ResourceOptions(protect=protect, retain_on_delete=True)
        )
        return pulumi.ResourceTransformResult(props=args.props, opts=options)

    return transform


def resources_values(resources: Resources) -> dict[str, Any]:
    amounts = {
        "requests": {k: v for k, v in resources.requests.model_dump().items() if v},
        "limits": {k: v for k, v in resources.limits.model_dump().items() if v},
    }
    return {k: v for k, v in amounts.items() if v}


def install_operator(
    name: str, cnpg: CloudNativePgDatabase, protect: bool, parent: pulumi.Resource
) -> list[pulumi.Resource]:
    """The operator's chart (and the plugin's, for backups), when the stack installs
    them; what the Cluster must wait for."""
    charts: list[pulumi.Resource] = []
    operator = cnpg.operator
    repository = k8s.helm.v4.RepositoryOptsArgs(repo=operator.repository)
    if operator.install:
        namespace = k8s.core.v1.Namespace(
            f"{name}-operator-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=operator.namespace, labels=meta.labels("cloudnative-pg")
            ),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        charts.append(
            k8s.helm.v4.Chart(
                f"{name}-operator",
                chart=OPERATOR_CHART,
                version=operator.version,
                repository_opts=repository,
                name="cnpg",
                namespace=namespace.metadata.name,
                values={
                    "resources": resources_values(operator.resources),
                    # The dashboard is a subchart from another repository; off by default,
                    # said here so that no render ever needs it.
                    "monitoring": {"grafanaDashboard": {"create": False}},
                },
                opts=pulumi.ResourceOptions(parent=parent, transforms=[keep_crds(protect)]),
            )
        )
    if cnpg.backup.enabled and cnpg.plugin_install:
        plugin = cnpg.backup.plugin
        charts.append(
            k8s.helm.v4.Chart(
                f"{name}-backup-plugin",
                chart=PLUGIN_CHART,
                version=plugin.version,
                repository_opts=repository,
                name="barman-cloud",
                # The plugin must run in the operator's namespace.
                namespace=operator.namespace,
                values={"resources": resources_values(plugin.resources)},
                opts=pulumi.ResourceOptions(
                    parent=parent, depends_on=list(charts), transforms=[keep_crds(protect)]
                ),
            )
        )
    return charts
