"""Where the stack's pods run: nodeSelector, tolerations and pull secrets for every pod,
affinity and topology spread for Heimdall's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Optional

import pulumi_kubernetes as k8s

from heimdall.database.contract import Placement
from heimdall.kube.meta import selector_labels

core = k8s.core.v1


def node_placement(where: Placement) -> dict[str, Any]:
    """nodeSelector, tolerations and imagePullSecrets, for every pod of the stack
    (PodSpecArgs keywords)."""
    tolerations = [
        core.TolerationArgs(
            key=t.key,
            operator=t.operator,
            value=t.value,
            effect=t.effect,
            toleration_seconds=t.toleration_seconds,
        )
        for t in where.tolerations
    ]
    pull_secrets = [core.LocalObjectReferenceArgs(name=s) for s in where.image_pull_secrets]
    return {
        "node_selector": dict(where.node_selector) or None,
        "tolerations": tolerations or None,
        "image_pull_secrets": pull_secrets or None,
    }


@dataclass(frozen=True)
class Scheduling:
    """Where Heimdall's pods run (settings nodeSelector, tolerations, imagePullSecrets,
    affinity, topologySpreadConstraints).

    `affinity` and `topology_spread_constraints` are Kubernetes objects passed on as they
    are (camelCase, as `kubectl` takes them). `several_pods`: more than one server pod may
    run, so that they are spread over nodes by default.
    """

    placement: Placement
    affinity: Optional[Mapping[str, Any]] = None
    topology_spread_constraints: Optional[Sequence[Mapping[str, Any]]] = None
    several_pods: bool = False


def heimdall_scheduling(scheduling: Scheduling, spread: bool = False) -> dict[str, Any]:
    """nodeSelector, tolerations and affinity of Heimdall's pods (PodSpecArgs keywords);
    with `spread`, also topologySpreadConstraints (the server's pods only)."""
    placement = node_placement(scheduling.placement)
    placement["affinity"] = scheduling.affinity or None
    if spread:
        constraints = scheduling.topology_spread_constraints
        if constraints is None and scheduling.several_pods:
            # Soft: spread the pods over nodes when the scheduler can, never block them.
            constraints = [
                {
                    "maxSkew": 1,
                    "topologyKey": "kubernetes.io/hostname",
                    "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": {"matchLabels": selector_labels("heimdall")},
                }
            ]
        placement["topology_spread_constraints"] = constraints or None
    return placement
