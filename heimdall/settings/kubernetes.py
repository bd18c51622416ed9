"""Kubernetes objects the settings pass through as they are (`affinity`,
`topologySpreadConstraints`, `networkPolicy.ingressFrom`), as pydantic models of their
Kubernetes types.

The models are kept by hand from the Kubernetes OpenAPI schema (core/v1, networking/v1,
meta/v1; the same in 1.30 and 1.34, the versions the render validates against):
every field under its Kubernetes name, its type, which ones are required.
tests/settings/test_kubernetes.py checks each model against kubernetes-validate's
schemas, so a field cannot drift. Checking the stack's dict against them refuses what
the API server would (`nodeAfinity`, a missing `topologyKey`, `maxSkew: "1"`) before any
resource exists, with one line naming the key and the Kubernetes type.

`as_input()` gives back the camelCase dict the stack set (the keys it set, nulls
included), which is what the components hand to pulumi-kubernetes.
"""

from __future__ import annotations

import types
import typing
from typing import Optional, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError


class KubernetesObject(BaseModel):
    """A Kubernetes object type: unknown keys, missing required keys and values of the
    wrong type are refused with the wording of `_object_problem`, before pydantic sees
    the dict."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=False, validate_by_alias=True)

    @model_validator(mode="before")
    @classmethod
    def _as_kubernetes(cls, value: object) -> object:
        if isinstance(value, cls):
            return value
        if not isinstance(value, dict):
            raise PydanticCustomError("dict_type", "Input should be a valid dictionary")
        problem = _object_problem(value, cls, "")
        if problem is not None:
            raise ValueError(problem)
        return value

    def as_input(self) -> dict[str, object]:
        """The object as the stack wrote it (camelCase, only the keys it set)."""
        return self.model_dump(by_alias=True, exclude_unset=True)


# --- meta/v1 -------------------------------------------------------------------------------


class LabelSelectorRequirement(KubernetesObject):
    key: str
    operator: str
    values: Optional[list[str]] = None


class LabelSelector(KubernetesObject):
    match_expressions: Optional[list[LabelSelectorRequirement]] = Field(default=None, alias="matchExpressions")
    match_labels: Optional[dict[str, str]] = Field(default=None, alias="matchLabels")


# --- core/v1: affinity ---------------------------------------------------------------------


class NodeSelectorRequirement(KubernetesObject):
    key: str
    operator: str
    values: Optional[list[str]] = None


class NodeSelectorTerm(KubernetesObject):
    match_expressions: Optional[list[NodeSelectorRequirement]] = Field(default=None, alias="matchExpressions")
    match_fields: Optional[list[NodeSelectorRequirement]] = Field(default=None, alias="matchFields")


class NodeSelector(KubernetesObject):
    node_selector_terms: list[NodeSelectorTerm] = Field(alias="nodeSelectorTerms")


class PreferredSchedulingTerm(KubernetesObject):
    preference: NodeSelectorTerm
    weight: int


class NodeAffinity(KubernetesObject):
    preferred_during_scheduling_ignored_during_execution: Optional[list[PreferredSchedulingTerm]] = Field(
        default=None, alias="preferredDuringSchedulingIgnoredDuringExecution"
    )
    required_during_scheduling_ignored_during_execution: Optional[NodeSelector] = Field(
        default=None, alias="requiredDuringSchedulingIgnoredDuringExecution"
    )


class PodAffinityTerm(KubernetesObject):
    label_selector: Optional[LabelSelector] = Field(default=None, alias="labelSelector")
    match_label_keys: Optional[list[str]] = Field(default=None, alias="matchLabelKeys")
    mismatch_label_keys: Optional[list[str]] = Field(default=None, alias="mismatchLabelKeys")
    namespace_selector: Optional[LabelSelector] = Field(default=None, alias="namespaceSelector")
    namespaces: Optional[list[str]] = None
    topology_key: str = Field(alias="topologyKey")


class WeightedPodAffinityTerm(KubernetesObject):
    pod_affinity_term: PodAffinityTerm = Field(alias="podAffinityTerm")
    weight: int


class PodAffinity(KubernetesObject):
    preferred_during_scheduling_ignored_during_execution: Optional[list[WeightedPodAffinityTerm]] = Field(
        default=None, alias="preferredDuringSchedulingIgnoredDuringExecution"
    )
    required_during_scheduling_ignored_during_execution: Optional[list[PodAffinityTerm]] = Field(
        default=None, alias="requiredDuringSchedulingIgnoredDuringExecution"
    )


class PodAntiAffinity(KubernetesObject):
    preferred_during_scheduling_ignored_during_execution: Optional[list[WeightedPodAffinityTerm]] = Field(
        default=None, alias="preferredDuringSchedulingIgnoredDuringExecution"
    )
    required_during_scheduling_ignored_during_execution: Optional[list[PodAffinityTerm]] = Field(
        default=None, alias="requiredDuringSchedulingIgnoredDuringExecution"
    )


class Affinity(KubernetesObject):
    node_affinity: Optional[NodeAffinity] = Field(default=None, alias="nodeAffinity")
    pod_affinity: Optional[PodAffinity] = Field(default=None, alias="podAffinity")
    pod_anti_affinity: Optional[PodAntiAffinity] = Field(default=None, alias="podAntiAffinity")


# --- core/v1: topology spread --------------------------------------------------------------


class TopologySpreadConstraint(KubernetesObject):
    label_selector: Optional[LabelSelector] = Field(default=None, alias="labelSelector")
    match_label_keys: Optional[list[str]] = Field(default=None, alias="matchLabelKeys")
    max_skew: int = Field(alias="maxSkew")
    min_domains: Optional[int] = Field(default=None, alias="minDomains")
    node_affinity_policy: Optional[str] = Field(default=None, alias="nodeAffinityPolicy")
    node_taints_policy: Optional[str] = Field(default=None, alias="nodeTaintsPolicy")
    topology_key: str = Field(alias="topologyKey")
    when_unsatisfiable: str = Field(alias="whenUnsatisfiable")


# --- networking/v1 -------------------------------------------------------------------------


class IPBlock(KubernetesObject):
    cidr: str
    except_: Optional[list[str]] = Field(default=None, alias="except")


class NetworkPolicyPeer(KubernetesObject):
    ip_block: Optional[IPBlock] = Field(default=None, alias="ipBlock")
    namespace_selector: Optional[LabelSelector] = Field(default=None, alias="namespaceSelector")
    pod_selector: Optional[LabelSelector] = Field(default=None, alias="podSelector")


# --- the check, in the words of the API server's types -------------------------------------

_SCALARS: dict[object, str] = {str: "a string", int: "an integer", bool: "true or false"}


def _non_null(annotation: object) -> object:
    """`X` of `Optional[X]`."""
    if typing.get_origin(annotation) in (Union, types.UnionType):
        (inner,) = [a for a in typing.get_args(annotation) if a is not type(None)]
        return inner
    return annotation


def _describe(annotation: object) -> str:
    origin = typing.get_origin(annotation)
    if origin is list:
        return "a list"
    if origin is dict:
        return "a map"
    if isinstance(annotation, type) and issubclass(annotation, KubernetesObject):
        return "an object"
    return _SCALARS[annotation]


def _value_problem(value: object, annotation: object, path: str) -> Optional[str]:
    """None when `value` fits the field type `annotation`, else why not (with its path)."""
    origin = typing.get_origin(annotation)
    if annotation is bool:
        fits = isinstance(value, bool)
    elif annotation is int:
        fits = isinstance(value, int) and not isinstance(value, bool)
    elif annotation is str:
        fits = isinstance(value, str)
    elif origin is list:
        if not isinstance(value, list):
            return f"{path} must be a list"
        (item,) = typing.get_args(annotation)
        for index, element in enumerate(value):
            problem = _value_problem(element, item, f"{path}[{index}]")
            if problem is not None:
                return problem
        return None
    elif origin is dict:
        if not isinstance(value, dict):
            return f"{path} must be a map"
        _, item = typing.get_args(annotation)
        for key, element in value.items():
            if not isinstance(key, str):
                return f"{path}: keys must be strings"
            problem = _value_problem(element, item, f"{path}.{key}")
            if problem is not None:
                return problem
        return None
    elif isinstance(annotation, type) and issubclass(annotation, KubernetesObject):
        if not isinstance(value, dict):
            return f"{path} must be an object"
        return _object_problem(value, annotation, path)
    else:  # pragma: no cover - a field type this check does not know (a test keeps it out)
        raise TypeError(f"no check for {annotation!r} at {path}")
    return None if fits else f"{path} must be {_describe(annotation)}"


def _object_problem(value: dict[object, object], model: type[KubernetesObject], path: str) -> Optional[str]:
    """None when `value` is a valid Kubernetes `model`, else the first problem: an unknown
    key, then a missing required key, then a value of the wrong type (depth first)."""
    fields = {field.alias or name: field for name, field in model.model_fields.items()}
    kind = model.__name__
    prefix = f"{path}." if path else ""
    for key in value:
        if not isinstance(key, str) or key not in fields:
            return f"{prefix}{key} is not a field of Kubernetes {kind} (fields: {', '.join(sorted(fields))})"
    required = sorted((name, field.alias or name) for name, field in model.model_fields.items() if field.is_required())
    for _, key in required:
        if value.get(key) is None:  # null is no value: the API server reads it as unset
            return f"{prefix}{key} is required in Kubernetes {kind}"
    for key, item in value.items():
        if item is None:
            continue
        problem = _value_problem(item, _non_null(fields[str(key)].annotation), f"{prefix}{key}")
        if problem is not None:
            return problem
    return None
