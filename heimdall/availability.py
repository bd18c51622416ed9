"""`HeimdallAvailability`: keep Heimdall serving through node drains and load.

Creates:
- a PodDisruptionBudget (policy/v1) allowing `podDisruptionBudget.maxUnavailable` pods
  down at once, when more than one Heimdall pod runs (with one pod a budget would either
  block every node drain or protect nothing);
- a HorizontalPodAutoscaler (autoscaling/v2) on the Heimdall StatefulSet, when
  `autoscaling.enabled`, scaling on CPU and/or memory use relative to the requests.

Both name the StatefulSet and its labels, not its outputs, so neither waits on the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from heimdall.kube import meta
from heimdall.settings.guardrails import Autoscaling, PodDisruptionBudgetSettings
from heimdall.workload import COMPONENT, STATEFUL_SET_NAME

hpa = k8s.autoscaling.v2


def _utilization(resource: str, percent: int) -> hpa.MetricSpecArgs:
    return hpa.MetricSpecArgs(
        type="Resource",
        resource=hpa.ResourceMetricSourceArgs(
            name=resource,
            target=hpa.MetricTargetArgs(type="Utilization", average_utilization=percent),
        ),
    )


@dataclass(frozen=True)
class AvailabilityArgs:
    """The `podDisruptionBudget` and `autoscaling` sections, and the least number of
    server pods that run (`replicas`, or the autoscaler's minimum)."""

    pod_disruption_budget: PodDisruptionBudgetSettings
    autoscaling: Autoscaling
    min_replicas: int


class HeimdallAvailability(pulumi.ComponentResource):
    pod_disruption_budget: Optional[k8s.policy.v1.PodDisruptionBudget]
    autoscaler: Optional[hpa.HorizontalPodAutoscaler]

    def __init__(
        self,
        name: str,
        args: AvailabilityArgs,
        namespace: pulumi.Input[str],
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("heimdall:app:HeimdallAvailability", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.pod_disruption_budget = None
        if args.pod_disruption_budget.enabled and args.min_replicas > 1:
            self.pod_disruption_budget = k8s.policy.v1.PodDisruptionBudget(
                f"{name}-pdb",
                metadata=meta.metadata(namespace, COMPONENT, "heimdall"),
                spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                    max_unavailable=args.pod_disruption_budget.max_unavailable,
                    selector=k8s.meta.v1.LabelSelectorArgs(
                        match_labels=meta.selector_labels(COMPONENT)
                    ),
                ),
                opts=child,
            )

        self.autoscaler = None
        scaling = args.autoscaling
        if scaling.enabled:
            metrics = []
            if scaling.target_cpu_utilization:
                metrics.append(_utilization("cpu", scaling.target_cpu_utilization))
            if scaling.target_memory_utilization:
                metrics.append(_utilization("memory", scaling.target_memory_utilization))
            self.autoscaler = hpa.HorizontalPodAutoscaler(
                f"{name}-hpa",
                metadata=meta.metadata(namespace, COMPONENT, "heimdall"),
                spec=hpa.HorizontalPodAutoscalerSpecArgs(
                    scale_target_ref=hpa.CrossVersionObjectReferenceArgs(
                        api_version="apps/v1", kind="StatefulSet", name=STATEFUL_SET_NAME
                    ),
                    min_replicas=scaling.min_replicas,
                    max_replicas=scaling.max_replicas,
                    metrics=metrics,
                ),
                opts=child,
            )
        self.register_outputs({})
