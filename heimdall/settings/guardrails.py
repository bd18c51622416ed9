"""Guardrails: security contexts, scheduling, labels and annotations, NetworkPolicies,
the PodDisruptionBudget and the autoscaler."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Annotated, Literal, Optional

from pydantic import (
    AfterValidator,
    Field,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)

from heimdall.settings.kubernetes import Affinity, NetworkPolicyPeer, TopologySpreadConstraint
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


# The API server's limit on one object's annotations, keys and values together
# (apimachinery pkg/api/validation/objectmeta.go TotalAnnotationSizeLimitB = 256 KiB).
ANNOTATIONS_LIMIT = 256 * 1024


def _annotations(value: dict[str, str]) -> dict[str, str]:
    for key in value:
        _qualified_name(key)
    size = sum(len(k) + len(v) for k, v in value.items())
    if size > ANNOTATIONS_LIMIT:
        raise ValueError(
            f"annotations total {size} bytes, over the API server's limit of 256 KiB "
            "(keys and values together, per object); keep large data in a ConfigMap"
        )
    return value


def _node_selector(value: dict[str, str]) -> dict[str, str]:
    """Label keys and values, as the API server checks a nodeSelector."""
    for key, item in value.items():
        _qualified_name(key)
        if len(item) > 63 or not _LABEL_VALUE.fullmatch(item):
            raise ValueError(
                f"{key}: value {item!r} must be a label value: at most 63 letters, digits, '-', "
                "'_' or '.', starting and ending with a letter or digit"
            )
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
NodeSelector = Annotated[dict[str, str], AfterValidator(_node_selector)]
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
        default=None,
        description="Profile file on the node: required with type Localhost, refused with the "
        "others (the API server's validateSeccompProfileField).",
    )

    @model_validator(mode="after")
    def _profile_with_localhost(self) -> SeccompProfile:
        # kubernetes pkg/apis/core/validation/validation.go validateSeccompProfileField.
        if self.type == "Localhost" and not self.localhost_profile:
            raise ValueError(
                "localhostProfile is required with type Localhost (the profile file on the "
                "node, such as profiles/heimdall.json); or use type RuntimeDefault"
            )
        if self.type != "Localhost" and self.localhost_profile:
            raise ValueError(
                f"localhostProfile is only read with type Localhost (type is {self.type}); "
                "remove it or set type Localhost"
            )
        return self


class PodSecurityContext(Model):
    """Overrides of the pod securityContext of Heimdall's pods.

    An unset key keeps the hardened default; a key set to null removes it (for example
    `runAsUser: null` on OpenShift, which assigns the uid itself).
    """

    run_as_user: Optional[int] = Field(
        default=None,
        ge=0,
        description="uid of the pod's processes (default 1001, the image's user); every "
        "container sets its own, which wins, so set securityContext.runAsUser with it (a "
        "pod-level value or null alone is refused).",
    )
    run_as_group: Optional[int] = Field(default=None, ge=0, description="gid of the pod's processes (default 1001); like runAsUser, only together with securityContext.runAsGroup.")
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
    privileged: Optional[bool] = Field(default=None, description="Run privileged (default false); true needs allowPrivilegeEscalation true (the API server refuses it with escalation off).")
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

    @model_validator(mode="after")
    def _escalation(self) -> ContainerSecurityContext:
        # kubernetes pkg/apis/core/validation/validation.go ValidateSecurityContext: "cannot
        # set `allowPrivilegeEscalation` to false and `privileged` to true" (or with
        # capabilities.add CAP_SYS_ADMIN). Unset, allowPrivilegeEscalation stays false.
        escalation_off = (
            "allow_privilege_escalation" not in self.model_fields_set
            or self.allow_privilege_escalation is False
        )
        if not escalation_off:
            return self
        if self.privileged:
            raise ValueError(
                "privileged true needs allowPrivilegeEscalation true (it is false by default, "
                "and the API server refuses the pair); set both, or leave privileged false"
            )
        if self.capabilities and "CAP_SYS_ADMIN" in self.capabilities.add:
            raise ValueError(
                "capabilities.add CAP_SYS_ADMIN needs allowPrivilegeEscalation true (the API "
                "server refuses it with escalation off)"
            )
        return self


class Toleration(Model):
    key: Optional[str] = Field(default=None, description="Taint key (a label key); empty needs operator Exists, which then matches every taint.")
    operator: Literal["Equal", "Exists"] = Field(default="Equal", description="Equal or Exists.")
    value: Optional[str] = Field(default=None, description="Taint value, for operator Equal; refused with Exists (the API server's rule).")
    effect: Optional[Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]] = Field(
        default=None, description="Taint effect to tolerate; empty: all effects."
    )
    toleration_seconds: Optional[int] = Field(
        default=None, ge=0, description="For NoExecute: how long the pod stays after the taint appears; refused with any other effect."
    )

    @model_validator(mode="after")
    def _as_the_api_server(self) -> Toleration:
        # kubernetes pkg/apis/core/validation/validation.go ValidateTolerations.
        if self.key:
            _qualified_name(self.key)
        elif self.operator != "Exists":
            raise ValueError("operator must be Exists when key is empty (a toleration of every taint)")
        if self.operator == "Exists" and self.value:
            raise ValueError(
                f"value {self.value!r} must be empty when operator is Exists; remove it, or "
                "use operator Equal"
            )
        if self.toleration_seconds is not None and self.effect != "NoExecute":
            raise ValueError(
                "tolerationSeconds is only for effect NoExecute (the API server refuses it "
                f"with effect {self.effect or 'empty'}); set effect NoExecute or remove it"
            )
        return self


_LABEL_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
_NODE_OPERATORS = (*_LABEL_OPERATORS, "Gt", "Lt")


def _selector_problem(value: object, path: str, node: bool = False) -> Optional[str]:
    """What the API server refuses in the selectors inside a pass-through object (kubernetes
    apimachinery ValidateLabelSelectorRequirement, core ValidateNodeSelectorRequirement):
    an unknown operator, In/NotIn without values, Exists/DoesNotExist with values, Gt/Lt
    without exactly one integer, bad label keys or values, an empty topologyKey."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            problem = _selector_problem(item, f"{path}.{index}", node)
            if problem:
                return problem
        return None
    if not isinstance(value, dict):
        return None
    for key, item in value.items():
        where = f"{path}.{key}" if path else str(key)
        if key in ("matchExpressions", "matchFields") and isinstance(item, list):
            for index, requirement in enumerate(item):
                if not isinstance(requirement, dict):
                    continue
                at = f"{where}.{index}"
                operator, values = requirement.get("operator"), requirement.get("values") or []
                allowed = _NODE_OPERATORS if node else _LABEL_OPERATORS
                if operator not in allowed:
                    return f"{at}.operator {operator!r} must be one of {', '.join(allowed)}"
                if operator in ("In", "NotIn") and not values:
                    return f"{at}.values must not be empty with operator {operator}"
                if operator in ("Exists", "DoesNotExist") and values:
                    return f"{at}.values must be empty with operator {operator}"
                if operator in ("Gt", "Lt") and (len(values) != 1 or not str(values[0]).lstrip("-").isdigit()):
                    return f"{at}.values must be one integer with operator {operator}"
        elif key == "matchLabels" and isinstance(item, dict):
            for label, text in item.items():
                try:
                    _qualified_name(str(label))
                except ValueError as error:
                    return f"{where}: {error}"
                if not isinstance(text, str) or len(text) > 63 or not _LABEL_VALUE.fullmatch(text):
                    return f"{where}.{label} value {text!r} is not a label value (at most 63 letters, digits, '-', '_' or '.')"
        elif key == "topologyKey" and item == "":
            return f"{where} must not be empty, such as kubernetes.io/hostname"
        else:
            problem = _selector_problem(item, where, node or key == "nodeAffinity")
            if problem:
                return problem
    return None


def _selectors(value: dict[str, object]) -> None:
    problem = _selector_problem(value, "")
    if problem:
        raise ValueError(problem)


def _spread(value: dict[str, object]) -> None:
    """What the API server refuses in a topologySpreadConstraint beyond its schema
    (kubernetes pkg/apis/core/validation/validation.go validateTopologySpreadConstraints)."""
    skew = value.get("maxSkew")
    if isinstance(skew, int) and skew < 1:
        raise ValueError(f"maxSkew {skew} must be greater than zero, such as 1")
    when = value.get("whenUnsatisfiable")
    if when not in ("DoNotSchedule", "ScheduleAnyway"):
        raise ValueError(f"whenUnsatisfiable {when!r} must be DoNotSchedule or ScheduleAnyway")
    domains = value.get("minDomains")
    if domains is not None and (not isinstance(domains, int) or domains < 1 or when != "DoNotSchedule"):
        raise ValueError("minDomains must be greater than zero, and only with whenUnsatisfiable DoNotSchedule")
    key = value.get("topologyKey")
    if isinstance(key, str):
        if not key:
            raise ValueError("topologyKey must not be empty, such as topology.kubernetes.io/zone")
        _qualified_name(key)
    for policy in ("nodeAffinityPolicy", "nodeTaintsPolicy"):
        if policy in value and value[policy] not in ("Honor", "Ignore"):
            raise ValueError(f"{policy} {value[policy]!r} must be Honor or Ignore")
    _selectors(value)


def _cidr_text(text: object, where: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(str(text), strict=True)
    except ValueError:
        raise ValueError(f"{where} {text!r} must be a CIDR block such as 10.0.0.0/16 (host bits zero)") from None


def _peer(value: dict[str, object]) -> None:
    """A NetworkPolicyPeer as the API server checks it (kubernetes
    pkg/apis/networking/validation/validation.go ValidateNetworkPolicyPeer, ValidateIPBlock)."""
    if not value:
        raise ValueError("an empty peer admits nothing: give podSelector, namespaceSelector or ipBlock")
    block = value.get("ipBlock")
    if block is None:
        return _selectors(value)
    if len(value) > 1:
        raise ValueError("ipBlock may not be combined with podSelector or namespaceSelector in one peer")
    if not isinstance(block, dict):  # not reached: the IPBlock model's check ran first
        raise ValueError("ipBlock must be an object")
    cidr = _cidr_text(block.get("cidr"), "ipBlock.cidr")
    for index, item in enumerate(block.get("except") or []):
        inner = _cidr_text(item, f"ipBlock.except.{index}")
        if inner.version != cidr.version or not inner.subnet_of(cidr) or inner == cidr:  # type: ignore[arg-type]
            raise ValueError(f"ipBlock.except.{index} {item!r} must lie strictly inside ipBlock.cidr {str(cidr)!r}")
    return None


def _api_server_rule(rule: Callable[[dict[str, object]], None]) -> Callable[[object, ValidatorFunctionWrapHandler], object]:
    """A check of `rule` after the object's own model: on the stack's dict as written (its
    keys in the stack's order, so the first problem named is the first one there)."""

    def check(value: object, handler: ValidatorFunctionWrapHandler) -> object:
        model = handler(value)
        rule(value if isinstance(value, dict) else model.as_input())
        return model

    return check


SpreadConstraint = Annotated[TopologySpreadConstraint, WrapValidator(_api_server_rule(_spread))]
CheckedAffinity = Annotated[Affinity, WrapValidator(_api_server_rule(_selectors))]
PolicyPeer = Annotated[NetworkPolicyPeer, WrapValidator(_api_server_rule(_peer))]


class NetworkPolicySettings(Model):
    enabled: bool = Field(
        default=True,
        description="Create NetworkPolicies: deny ingress to the stack's pods except Heimdall on "
        "3000 and the embedded database from the stack's own pods. Egress stays open.",
    )
    ingress_from: list[PolicyPeer] = Field(
        default=[],
        description="NetworkPolicyPeer objects (podSelector, namespaceSelector, ipBlock) allowed "
        "to reach Heimdall on port 3000; empty: any source (an ingress controller anywhere). "
        "Refused as the API server refuses them: an empty peer, ipBlock beside a selector, a "
        "cidr with host bits, an except outside its cidr.",
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
