"""Guardrails: security contexts, scheduling, labels and annotations, NetworkPolicies,
the PodDisruptionBudget and the autoscaler."""

from __future__ import annotations

import re
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, Field, model_validator

from heimdall.settings.kubernetes import NetworkPolicyPeer
from heimdall.settings.types import Model, dns_subdomain

_LABEL_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
# The labels the program manages itself: selectors and ownership.
RESERVED_LABELS = frozenset(
    {
        "app.kubernetes.io/name",
        "app.kubernetes.io/instance",
        "app.kubernetes.io/part-of",
        "app.kubernetes.io/managed-by",
    }
)


def _qualified_name(key: str) -> None:
    prefix, _, name = key.rpartition("/")
    if prefix:
        dns_subdomain(prefix)
    if len(name) > 63 or not _LABEL_NAME.fullmatch(name):
        raise ValueError(
            f"{key!r} is not a valid label or annotation key ([prefix/]name, name at most "
            "63 letters, digits, '-', '_' or '.')"
        )


def _labels(value: dict[str, str]) -> dict[str, str]:
    for key, item in value.items():
        _qualified_name(key)
        if key in RESERVED_LABELS:
            raise ValueError(f"label {key!r} is managed by the program and cannot be set")
        if len(item) > 63 or not _LABEL_VALUE.fullmatch(item):
            raise ValueError(
                f"label value {item!r} must be at most 63 letters, digits, '-', '_' or '.', "
                "starting and ending with a letter or digit"
            )
    return value


def _annotations(value: dict[str, str]) -> dict[str, str]:
    for key in value:
        _qualified_name(key)
    return value


# pulumi-kubernetes reads annotations under this prefix itself (skipAwait, waitFor,
# timeoutSeconds, replaceUnready, patchForce, ...): on the Jobs and StatefulSets they
# would change how `pulumi up` orders and waits for the deploy.
PULUMI_ANNOTATION_PREFIX = "pulumi.com/"


def _stack_annotations(value: dict[str, str]) -> dict[str, str]:
    _annotations(value)
    for key in value:
        if key.startswith(PULUMI_ANNOTATION_PREFIX):
            raise ValueError(
                f"annotation {key!r} is read by Pulumi itself and would change how pulumi up "
                "waits for every object (pulumi.com/skipAwait lets Heimdall roll while the "
                "migrations run); pulumi.com/* keys are refused here (an Ingress or HTTPRoute "
                "takes them in ingress.annotations or gateway.annotations)"
            )
    return value


Labels = Annotated[dict[str, str], AfterValidator(_labels)]
Annotations = Annotated[dict[str, str], AfterValidator(_annotations)]
# `annotations` and `podAnnotations`: on every object, or every pod, of the stack.
StackAnnotations = Annotated[dict[str, str], AfterValidator(_stack_annotations)]


class SeccompProfile(Model):
    """A seccomp profile, as in a Kubernetes securityContext."""

    type: Literal["RuntimeDefault", "Localhost", "Unconfined"] = Field(
        default="RuntimeDefault",
        description="RuntimeDefault (the container runtime's default filter), Localhost or Unconfined.",
    )
    localhost_profile: Optional[str] = Field(
        default=None, description="Profile file on the node, for type Localhost."
    )


class PodSecurityContext(Model):
    """Overrides of the pod securityContext of Heimdall's pods.

    An unset key keeps the hardened default; a key set to null removes it (for example
    `runAsUser: null` on OpenShift, which assigns the uid itself).
    """

    run_as_user: Optional[int] = Field(
        default=None, ge=0, description="uid of the pod's processes (default 1001, the image's user)."
    )
    run_as_group: Optional[int] = Field(default=None, ge=0, description="gid of the pod's processes (default 1001).")
    fs_group: Optional[int] = Field(default=None, ge=0, description="Group owning mounted volumes (default 1001).")
    fs_group_change_policy: Optional[Literal["OnRootMismatch", "Always"]] = Field(
        default=None, description="When Kubernetes changes volume ownership to fsGroup."
    )
    run_as_non_root: Optional[bool] = Field(
        default=None, description="Refuse to start a container as root (default true)."
    )
    supplemental_groups: Optional[list[Annotated[int, Field(ge=0)]]] = Field(
        default=None, description="Extra groups of the pod's processes."
    )
    seccomp_profile: Optional[SeccompProfile] = Field(
        default=None, description="Seccomp profile of the pod (default RuntimeDefault)."
    )


class Capabilities(Model):
    add: list[str] = Field(default=[], description="Linux capabilities to add (none by default).")
    drop: list[str] = Field(default=["ALL"], description="Linux capabilities to drop (default ALL).")


class ContainerSecurityContext(Model):
    """Overrides of the securityContext of every container in Heimdall's pods (the server,
    the migration Job, their init containers). Unset keys keep the hardened default; null
    removes a key."""

    run_as_user: Optional[int] = Field(default=None, ge=0, description="uid of the container's process.")
    run_as_group: Optional[int] = Field(default=None, ge=0, description="gid of the container's process.")
    run_as_non_root: Optional[bool] = Field(default=None, description="Refuse to run as root (default true).")
    allow_privilege_escalation: Optional[bool] = Field(
        default=None, description="Allow setuid binaries to gain privileges (default false)."
    )
    privileged: Optional[bool] = Field(default=None, description="Run privileged (default false).")
    read_only_root_filesystem: Optional[bool] = Field(
        default=None,
        description="Mount the image read-only (default true; Heimdall writes only to /tmp, an emptyDir).",
    )
    capabilities: Optional[Capabilities] = Field(
        default=None, description="Linux capabilities (default: drop ALL)."
    )
    seccomp_profile: Optional[SeccompProfile] = Field(
        default=None, description="Seccomp profile (default RuntimeDefault)."
    )


class Toleration(Model):
    key: Optional[str] = Field(default=None, description="Taint key; empty with operator Exists matches every taint.")
    operator: Literal["Equal", "Exists"] = Field(default="Equal", description="Equal or Exists.")
    value: Optional[str] = Field(default=None, description="Taint value, for operator Equal.")
    effect: Optional[Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]] = Field(
        default=None, description="Taint effect to tolerate; empty: all effects."
    )
    toleration_seconds: Optional[int] = Field(
        default=None, ge=0, description="For NoExecute: how long the pod stays after the taint appears."
    )


class NetworkPolicySettings(Model):
    enabled: bool = Field(
        default=True,
        description="Create NetworkPolicies: deny ingress to the stack's pods except Heimdall on "
        "3000 and the embedded database from the stack's own pods. Egress stays open.",
    )
    ingress_from: list[NetworkPolicyPeer] = Field(
        default=[],
        description="NetworkPolicyPeer objects (podSelector, namespaceSelector, ipBlock) allowed "
        "to reach Heimdall on port 3000; empty: any source (an ingress controller anywhere).",
    )


class PodDisruptionBudgetSettings(Model):
    enabled: bool = Field(
        default=True,
        description="Create a PodDisruptionBudget for Heimdall when it runs more than one pod.",
    )
    max_unavailable: int = Field(
        default=1, ge=1, description="Pods a voluntary disruption (a node drain) may take down at once."
    )


class Autoscaling(Model):
    enabled: bool = Field(
        default=False,
        description="Create a HorizontalPodAutoscaler for Heimdall; `replicas` is then not set by the program.",
    )
    min_replicas: int = Field(default=2, ge=1, le=50, description="Fewest Heimdall pods.")
    max_replicas: int = Field(default=4, ge=1, le=50, description="Most Heimdall pods.")
    target_cpu_utilization: Optional[int] = Field(
        default=75, ge=1, le=1000, description="Average CPU use, in percent of the request, to aim for."
    )
    target_memory_utilization: Optional[int] = Field(
        default=None, ge=1, le=1000, description="Average memory use, in percent of the request, to aim for."
    )

    @model_validator(mode="after")
    def _bounds(self) -> Autoscaling:
        if self.min_replicas > self.max_replicas:
            raise ValueError("minReplicas must not exceed maxReplicas")
        if self.enabled and self.target_cpu_utilization is None and self.target_memory_utilization is None:
            raise ValueError("set targetCpuUtilization or targetMemoryUtilization")
        return self
