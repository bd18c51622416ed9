"""The pass-through Kubernetes types (heimdall/settings/kubernetes.py) against the
Kubernetes OpenAPI schema the render validates manifests with (kubernetes-validate's
schemas, at every version of heimdall.tooling.render.KUBERNETES_VERSIONS), and what the
settings make of a stack's objects."""

from __future__ import annotations

import json
import types
import typing
from functools import cache
from pathlib import Path
from typing import Optional, Union

import kubernetes_validate
import pytest

from heimdall.settings import kubernetes as k8s
from heimdall.settings.loader import SettingsError, parse_settings
from heimdall.tooling.render import KUBERNETES_VERSIONS

# Each model and the OpenAPI definition it keeps.
DEFINITIONS: dict[type[k8s.KubernetesObject], str] = {
    k8s.Affinity: "io.k8s.api.core.v1.Affinity",
    k8s.NodeAffinity: "io.k8s.api.core.v1.NodeAffinity",
    k8s.NodeSelector: "io.k8s.api.core.v1.NodeSelector",
    k8s.NodeSelectorTerm: "io.k8s.api.core.v1.NodeSelectorTerm",
    k8s.NodeSelectorRequirement: "io.k8s.api.core.v1.NodeSelectorRequirement",
    k8s.PreferredSchedulingTerm: "io.k8s.api.core.v1.PreferredSchedulingTerm",
    k8s.PodAffinity: "io.k8s.api.core.v1.PodAffinity",
    k8s.PodAntiAffinity: "io.k8s.api.core.v1.PodAntiAffinity",
    k8s.WeightedPodAffinityTerm: "io.k8s.api.core.v1.WeightedPodAffinityTerm",
    k8s.PodAffinityTerm: "io.k8s.api.core.v1.PodAffinityTerm",
    k8s.LabelSelector: "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
    k8s.LabelSelectorRequirement: "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement",
    k8s.TopologySpreadConstraint: "io.k8s.api.core.v1.TopologySpreadConstraint",
    k8s.NetworkPolicyPeer: "io.k8s.api.networking.v1.NetworkPolicyPeer",
    k8s.IPBlock: "io.k8s.api.networking.v1.IPBlock",
}
# Schema properties a model leaves out on purpose, with why (none today: a new
# Kubernetes field fails the test until it is added here or to the model).
LEFT_OUT: dict[tuple[str, str], str] = {}
# The types the settings use as their roots.
ROOTS = (k8s.Affinity, k8s.TopologySpreadConstraint, k8s.NetworkPolicyPeer)

SCALARS: dict[str, object] = {"string": str, "integer": int, "boolean": bool}


@cache
def definitions(version: str) -> dict[str, dict]:
    root = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    document = json.loads((root / f"v{version}-local-strict" / "_definitions.json").read_text())
    return document["$defs"]


def non_null(annotation: object) -> tuple[object, bool]:
    """(X, True) for Optional[X]; (annotation, False) otherwise."""
    if typing.get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        assert len(args) == 1, annotation
        return args[0], True
    return annotation, False


def schema_type(prop: dict) -> str:
    kind = prop.get("type", "object")
    kinds = [kind] if isinstance(kind, str) else [t for t in kind if t != "null"]
    assert len(kinds) == 1, prop
    return kinds[0]


def mismatch(annotation: object, prop: dict, where: str) -> list[str]:
    """How a field type differs from its schema property (empty when compatible)."""
    if "$ref" in prop:
        target = prop["$ref"].rsplit("/", 1)[-1]
        if not (isinstance(annotation, type) and DEFINITIONS.get(annotation) == target):  # type: ignore[call-overload]
            return [f"{where}: {annotation!r} is not the model of {target}"]
        return []
    kind = schema_type(prop)
    if kind in SCALARS:
        return [] if annotation is SCALARS[kind] else [f"{where}: {annotation!r} is not {kind}"]
    if kind == "array":
        if typing.get_origin(annotation) is not list:
            return [f"{where}: {annotation!r} is not a list"]
        (item,) = typing.get_args(annotation)
        return mismatch(item, prop["items"], f"{where}[]")
    if kind == "object" and isinstance(prop.get("additionalProperties"), dict):
        if typing.get_origin(annotation) is not dict:
            return [f"{where}: {annotation!r} is not a map"]
        key, value = typing.get_args(annotation)
        problems = [] if key is str else [f"{where}: map keys {key!r} are not str"]
        return problems + mismatch(value, prop["additionalProperties"], f"{where}{{}}")
    return [f"{where}: no comparison for schema type {kind}"]


def reachable(model: type[k8s.KubernetesObject]) -> set[type[k8s.KubernetesObject]]:
    found = {model}

    def visit(annotation: object) -> None:
        if isinstance(annotation, type) and issubclass(annotation, k8s.KubernetesObject) and annotation not in found:
            found.update(reachable(annotation))
        for argument in typing.get_args(annotation):
            visit(argument)

    for field in model.model_fields.values():
        visit(field.annotation)
    return found


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("model", list(DEFINITIONS), ids=lambda m: m.__name__)
def test_each_model_is_its_kubernetes_definition(model: type[k8s.KubernetesObject], version: str) -> None:
    name = DEFINITIONS[model]
    definition = definitions(version)[name]
    properties: dict[str, dict] = definition["properties"]
    fields = {field.alias or key: field for key, field in model.model_fields.items()}
    assert model.__name__ == name.rsplit(".", 1)[-1]  # the refusals name the Kubernetes type
    left_out = {prop for (kind, prop) in LEFT_OUT if kind == model.__name__}
    assert set(fields) == set(properties) - left_out, f"{model.__name__} fields differ from {name}"
    assert {alias for alias, field in fields.items() if field.is_required()} == set(definition.get("required", []))
    assert definition.get("additionalProperties") is False  # unknown keys are refused by both
    problems = []
    for alias, field in fields.items():
        annotation, nullable = non_null(field.annotation)
        # Optional fields take null (unset, as the API server reads it); required ones do not.
        if field.is_required() == nullable:
            problems.append(f"{alias}: required={field.is_required()} but nullable={nullable}")
        if not field.is_required() and field.default is not None:
            problems.append(f"{alias}: an optional field defaults to unset, not {field.default!r}")
        problems += mismatch(annotation, properties[alias], f"{model.__name__}.{alias}")
    assert problems == []


def test_every_model_reached_from_the_settings_is_checked_against_the_schema() -> None:
    used = set().union(*(reachable(root) for root in ROOTS))
    assert used == set(DEFINITIONS)
    assert set(k8s.KubernetesObject.__subclasses__()) == set(DEFINITIONS)


def test_the_mismatch_check_itself_catches_a_wrong_type() -> None:
    assert mismatch(Optional[str], {"type": "integer"}, "x") != []
    assert mismatch(list[int], {"type": ["array", "null"], "items": {"type": "string"}}, "x") != []
    assert mismatch(k8s.LabelSelector, {"$ref": "#/$defs/io.k8s.api.core.v1.NodeSelector"}, "x") != []
    assert mismatch(dict[str, str], {"type": "object", "additionalProperties": {"type": "string"}}, "x") == []


FULL = {
    "affinity": {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["n1"]}]}
                ]
            },
            "preferredDuringSchedulingIgnoredDuringExecution": None,
        },
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "podAffinityTerm": {
                        "topologyKey": "kubernetes.io/hostname",
                        "labelSelector": {"matchLabels": {"app": "x"}},
                        "matchLabelKeys": ["pod-template-hash"],
                    },
                }
            ]
        },
    },
    "topologySpreadConstraints": [
        {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule", "minDomains": 2}
    ],
    "networkPolicy": {"ingressFrom": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}]},
}


def test_the_objects_reach_the_program_as_the_stack_wrote_them() -> None:
    settings = parse_settings(FULL)
    assert settings.affinity is not None and settings.topology_spread_constraints is not None
    # Only the keys set, nulls included, camelCase (`except`, not `except_`).
    assert settings.affinity.as_input() == FULL["affinity"]
    assert [c.as_input() for c in settings.topology_spread_constraints] == FULL["topologySpreadConstraints"]
    assert [p.as_input() for p in settings.network_policy.ingress_from] == FULL["networkPolicy"]["ingressFrom"]
    # Typed all the way down.
    anti = settings.affinity.pod_anti_affinity
    assert anti is not None and anti.preferred_during_scheduling_ignored_during_execution is not None
    assert anti.preferred_during_scheduling_ignored_during_execution[0].pod_affinity_term.topology_key == "kubernetes.io/hostname"


REFUSED = [
    # The field names, camelCase exactly.
    ({"affinity": {"node_affinity": {}}}, "heimdall:affinity: node_affinity is not a field of Kubernetes Affinity (fields: nodeAffinity, podAffinity, podAntiAffinity)"),
    (
        {"networkPolicy": {"ingressFrom": [{"ipBlock": {"cidr": "10.0.0.0/8", "except_": []}}]}},
        "heimdall:networkPolicy.ingressFrom.0: ipBlock.except_ is not a field of Kubernetes IPBlock (fields: cidr, except)",
    ),
    # Required keys, the first missing one in name order; null is no value (the API server
    # reads it as unset).
    ({"topologySpreadConstraints": [{}]}, "heimdall:topologySpreadConstraints.0: maxSkew is required in Kubernetes TopologySpreadConstraint"),
    (
        {"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": None, "whenUnsatisfiable": "DoNotSchedule"}]},
        "heimdall:topologySpreadConstraints.0: topologyKey is required in Kubernetes TopologySpreadConstraint",
    ),
    # Types, with the path of lists ([i]) and maps (.key).
    ({"affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {}}}}, "heimdall:affinity: podAffinity.requiredDuringSchedulingIgnoredDuringExecution must be a list"),
    ({"affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": ["zone"]}}}, "heimdall:affinity: podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0] must be an object"),
    ({"topologySpreadConstraints": [{"maxSkew": True, "topologyKey": "z", "whenUnsatisfiable": "DoNotSchedule"}]}, "heimdall:topologySpreadConstraints.0: maxSkew must be an integer"),
    ({"networkPolicy": {"ingressFrom": [{"podSelector": {"matchLabels": ["a"]}}]}}, "heimdall:networkPolicy.ingressFrom.0: podSelector.matchLabels must be a map"),
    ({"networkPolicy": {"ingressFrom": [{"podSelector": {"matchLabels": {1: "a"}}}]}}, "heimdall:networkPolicy.ingressFrom.0: podSelector.matchLabels: keys must be strings"),
    ({"networkPolicy": {"ingressFrom": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": [None]}}]}}, "heimdall:networkPolicy.ingressFrom.0: ipBlock.except[0] must be a string"),
    # Not an object at all: pydantic's own words, as before.
    ({"topologySpreadConstraints": ["zone"]}, "heimdall:topologySpreadConstraints.0 = 'zone': Input should be a valid dictionary"),
    ({"affinity": 3}, "heimdall:affinity = 3: Input should be a valid dictionary"),
]


@pytest.mark.parametrize(("values", "message"), REFUSED, ids=[m for _, m in REFUSED])
def test_objects_the_api_server_would_reject_are_refused_in_one_line(values: dict, message: str) -> None:
    with pytest.raises(SettingsError) as error:
        parse_settings(values)
    assert str(error.value) == message


def test_the_first_problem_named_is_the_first_in_the_stack_file() -> None:
    # Two bad terms: the one the stack writes first is named, whatever the model's field order.
    bad = {"matchExpressions": [{"key": "k", "operator": "In"}]}
    values = {"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "z", "labelSelector": bad}]},
                           "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "", "labelSelector": {}}]}}}
    with pytest.raises(SettingsError, match=r"^heimdall:affinity: podAntiAffinity\."):
        parse_settings(values)
