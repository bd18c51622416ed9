"""Kubernetes objects the settings pass through as they are (`affinity`,
`topologySpreadConstraints`, `networkPolicy.ingressFrom`), checked against the object
types of pulumi-kubernetes, the SDK that sends them to the API server.

The SDK's `*ArgsDict` types are generated from the Kubernetes OpenAPI schema of the
version it targets: every field, its type, which ones are required. Checking the
stack's dict against them refuses what the API server would (`nodeAfinity`, a missing
`topologyKey`, `maxSkew: "1"`) before any resource exists, with the core install alone
(kubernetes-validate, the render's schema check, is a development tool that `pulumi up`
never runs). The SDK's types are imported only when such a section is set.
"""

from __future__ import annotations

import collections.abc
import importlib
import sys
import typing
from functools import cache
from typing import Annotated, Any, ForwardRef

from pydantic import AfterValidator
from pydantic.alias_generators import to_camel, to_snake

# kind -> (module of pulumi_kubernetes, TypedDict name)
_KINDS = {
    "Affinity": ("core.v1", "AffinityArgsDict"),
    "TopologySpreadConstraint": ("core.v1", "TopologySpreadConstraintArgsDict"),
    "NetworkPolicyPeer": ("networking.v1", "NetworkPolicyPeerArgsDict"),
}


@cache
def _type(kind: str) -> Any:
    module, name = _KINDS[kind]
    return getattr(importlib.import_module(f"pulumi_kubernetes.{module}._inputs"), name)


@cache
def _names() -> tuple[dict[str, str], dict[str, str]]:
    from heimdall.sdk_private import kubernetes_name_tables

    return kubernetes_name_tables()


def _camel(snake: str) -> str:
    # The SDK's table lacks names that need no override (min_domains, match_label_keys):
    # those follow the plain rule.
    return _names()[1].get(snake) or to_camel(snake)


def _snake(camel: str) -> str:
    return _names()[0].get(camel) or to_snake(camel)


def _resolve(annotation: Any, owner: Any) -> Any:
    if isinstance(annotation, str):
        annotation = ForwardRef(annotation)
    if isinstance(annotation, ForwardRef):
        text = annotation.__forward_arg__
        if text.startswith("Output["):
            return None
        return eval(text, vars(sys.modules[owner.__module__]))  # noqa: S307 - SDK type names
    return annotation


def _plain_types(annotation: Any, owner: Any) -> list[Any]:
    """The types a field takes as plain data: pulumi.Input's Awaitable and Output
    alternatives, None and NotRequired dropped."""
    annotation = _resolve(annotation, owner)
    if annotation is None or annotation is type(None):
        return []
    origin = typing.get_origin(annotation)
    if origin is typing.NotRequired or origin is typing.Required:
        return _plain_types(typing.get_args(annotation)[0], owner)
    if origin is typing.Union:
        return [t for arg in typing.get_args(annotation) for t in _plain_types(arg, owner)]
    if origin is collections.abc.Awaitable:
        return []
    return [annotation]


def _describe(types: list[Any]) -> str:
    names = []
    for t in types:
        origin = typing.get_origin(t)
        if origin in (collections.abc.Sequence, list):
            names.append("a list")
        elif origin in (collections.abc.Mapping, dict):
            names.append("a map")
        elif typing.is_typeddict(t):
            names.append("an object")
        else:
            names.append({str: "a string", int: "an integer", bool: "true or false", float: "a number"}.get(t, str(t)))
    return " or ".join(dict.fromkeys(names))


def _fits(value: Any, kind: Any, owner: Any, path: str) -> str | None:
    """None when `value` fits the type `kind`, else why not (with its path)."""
    origin = typing.get_origin(kind)
    if kind is bool:
        return None if isinstance(value, bool) else ""
    if kind is int:
        return None if isinstance(value, int) and not isinstance(value, bool) else ""
    if kind is float:
        return None if isinstance(value, (int, float)) and not isinstance(value, bool) else ""
    if kind is str:
        return None if isinstance(value, str) else ""
    if kind is Any or kind is object:
        return None
    if origin in (collections.abc.Sequence, list):
        if not isinstance(value, list):
            return ""
        (item,) = typing.get_args(kind)
        for index, element in enumerate(value):
            problem = _check_value(element, item, owner, f"{path}[{index}]")
            if problem is not None:
                return problem
        return None
    if origin in (collections.abc.Mapping, dict):
        if not isinstance(value, dict):
            return ""
        _, item = typing.get_args(kind)
        for key, element in value.items():
            if not isinstance(key, str):
                return f"{path}: keys must be strings"
            problem = _check_value(element, item, owner, f"{path}.{key}")
            if problem is not None:
                return problem
        return None
    if typing.is_typeddict(kind):
        if not isinstance(value, dict):
            return ""
        return _check_object(value, kind, path)
    return None  # a type this checker does not know: leave it to the API server


def _check_value(value: Any, annotation: Any, owner: Any, path: str) -> str | None:
    types = _plain_types(annotation, owner)
    if not types:
        return None
    problems = [_fits(value, t, owner, path) for t in types]
    if any(p is None for p in problems):
        return None
    specific = [p for p in problems if p]
    if specific:
        return specific[0]
    return f"{path} must be {_describe(types)}"


def _kind_name(typed: Any) -> str:
    return str(typed.__name__).removesuffix("ArgsDict")


def _check_object(value: dict[str, Any], typed: Any, path: str) -> str | None:
    fields = typed.__annotations__
    prefix = f"{path}." if path else ""
    for key in value:
        if not isinstance(key, str) or _snake(key) not in fields or _camel(_snake(key)) != key:
            known = ", ".join(sorted(_camel(f) for f in fields))
            return f"{prefix}{key} is not a field of Kubernetes {_kind_name(typed)} (fields: {known})"
    for required in sorted(typed.__required_keys__):
        if _camel(required) not in value:
            return f"{prefix}{_camel(required)} is required in Kubernetes {_kind_name(typed)}"
    for key, item in value.items():
        if item is None:
            continue
        problem = _check_value(item, fields[_snake(key)], typed, f"{prefix}{key}")
        if problem is not None:
            return problem
    return None


def check_object(value: dict[str, Any], kind: str) -> dict[str, Any]:
    """`value` (camelCase, as kubectl takes it) if it is a valid Kubernetes `kind`."""
    problem = _check_object(value, _type(kind), "")
    if problem is not None:
        raise ValueError(problem)
    return value


def kubernetes_object(kind: str) -> Any:
    """A dict type checked as the Kubernetes object `kind` (see `_KINDS`)."""
    if kind not in _KINDS:
        raise KeyError(kind)
    return Annotated[dict[str, Any], AfterValidator(lambda value: check_object(value, kind))]


Affinity = kubernetes_object("Affinity")
TopologySpreadConstraint = kubernetes_object("TopologySpreadConstraint")
NetworkPolicyPeer = kubernetes_object("NetworkPolicyPeer")
