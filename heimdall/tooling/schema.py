"""JSON Schema of the settings, from the settings model itself.

`settings_schema()` is the model's schema (camelCase keys, as a stack file writes them).
`stack_file_schema()` wraps it for a whole `Pulumi.<stack>.yaml`: each top-level setting
as `heimdall:<key>` (or the bare `<key>`), other namespaces (`aws:region`,
`kubernetes:context`) left free, unknown `heimdall:` keys refused, and secret settings
only in the `{secure: ...}` form `pulumi config set --secret` writes (the program refuses
them in plain text). It accepts what the Pulumi CLI writes: `pulumi config set` stores a
top-level value as a string (`replicas: "0"`), and `--path` stores `true`/`false` as
booleans and integers as numbers below the top level (`tag: 18`); the program reads both
(pkg/cmd/pulumi/config/config.go, `config set`'s help, pulumi/pulumi v3.259.0).
"""

from __future__ import annotations

import copy
import typing
from typing import Any

from pydantic import BaseModel

from heimdall.database import registry
from heimdall.settings.root import Settings
from heimdall.settings.types import NAMESPACE

SECURE_VALUE: dict[str, Any] = {
    "type": "object",
    "description": "A value encrypted by `pulumi config set --secret`.",
    "properties": {"secure": {"type": "string"}},
    "required": ["secure"],
    "additionalProperties": False,
}


def settings_schema() -> dict[str, Any]:
    schema = Settings.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    _relax_defaulted(Settings, schema)
    # `database` is one of the providers' models: each section described as the reference
    # describes it, and `provider` required but for the default provider's (which is what
    # a stack without `provider` gets), so that exactly one member matches.
    defs = schema.get("$defs", {})
    for member in registry.PROVIDERS:
        definition = defs[member.__name__]
        definition["properties"][member.section]["description"] = member.description
        if member is not registry.DEFAULT:
            definition["required"] = ["provider", *definition.get("required", [])]
    # OpenAPI's `discriminator` (pydantic writes it for the tagged union) would make an
    # editor that reads it refuse a `database` without `provider`, which the default takes.
    schema["properties"]["database"].pop("discriminator", None)
    return schema


def _defaulted_fields(root: type[BaseModel]) -> list[tuple[type[BaseModel], str, BaseModel]]:
    """(model, field, default) for every field whose default is a section that sets keys."""
    found: list[tuple[type[BaseModel], str, BaseModel]] = []
    seen: set[type[BaseModel]] = set()

    def models(annotation: Any) -> list[type[BaseModel]]:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return [annotation]
        return [m for argument in typing.get_args(annotation) for m in models(argument)]

    def walk(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, field in model.model_fields.items():
            if isinstance(field.default, BaseModel) and field.default.model_fields_set:
                found.append((model, name, field.default))
            for inner in models(field.annotation):
                walk(inner)

    walk(root)
    return found


def _relax_defaulted(root: type[BaseModel], schema: dict[str, Any]) -> None:
    """A section set in part merges over its default (settings.types.Model), so a key the
    default sets is not required there: `image: {tag: 2.13.2}` is a valid stack value."""
    defs = schema.get("$defs", {})
    for model, name, default in _defaulted_fields(root):
        parent = schema if model is root else defs.get(model.__name__)
        field = model.model_fields[name]
        prop = (parent or {}).get("properties", {}).get(field.alias or name)
        if not prop or "$ref" not in prop:
            continue
        ref = prop["$ref"].rsplit("/", 1)[-1]
        required = defs[ref].get("required", [])
        covered = {type(default).model_fields[n].alias or n for n in default.model_fields_set}
        left = [key for key in required if key not in covered]
        if left == required:
            continue
        relaxed_name = f"{ref}WithDefaults" if not left else f"{ref}Requiring{''.join(left)}"
        relaxed = {k: v for k, v in defs[ref].items() if k != "required"}
        if left:
            relaxed["required"] = left
        defs[relaxed_name] = relaxed
        prop["$ref"] = f"#/$defs/{relaxed_name}"


# A top-level scalar as the Pulumi CLI stores it: a string.
_AS_STRING = {
    "integer": {"type": "string", "pattern": r"^[+-]?[0-9]+$"},
    "number": {"type": "string", "pattern": r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"},
    "boolean": {"type": "string", "enum": ["true", "false"]},
}


def _secure_only(node: Any) -> Any:
    """Every secret string (pydantic's SecretStr: format password) must be secure; every
    plain string also takes an integer (`pulumi config set --path KEY 18` writes 18)."""
    if isinstance(node, dict):
        if node.get("format") == "password":
            return SECURE_VALUE
        if node.get("type") == "string" and "enum" not in node and "pattern" not in node:
            return {**node, "type": ["string", "integer"]}
        return {key: _secure_only(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_secure_only(item) for item in node]
    return node


def _top_level(node: dict[str, Any]) -> dict[str, Any]:
    """A top-level value, also as the string `pulumi config set KEY VALUE` stores."""
    kinds = [node.get("type")] + [option.get("type") for option in node.get("anyOf", [])]
    strings = [_AS_STRING[kind] for kind in kinds if isinstance(kind, str) and kind in _AS_STRING]
    return {"anyOf": [node, *strings]} if strings else node


def stack_file_schema() -> dict[str, Any]:
    settings = _secure_only(copy.deepcopy(settings_schema()))
    config: dict[str, Any] = {}
    for key, value in settings["properties"].items():
        config[f"{NAMESPACE}:{key}"] = _top_level(value)
        config[key] = _top_level(value)  # Pulumi reads an unqualified key as the project's
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Pulumi.<stack>.yaml of the {NAMESPACE} project",
        "type": "object",
        "properties": {
            "config": {
                "type": "object",
                "properties": config,
                # Other packages' keys (aws:region, kubernetes:context, ...) are theirs.
                "patternProperties": {f"^(?!{NAMESPACE}:)[^:]+:.+$": {}},
                "additionalProperties": False,
            },
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
            "encryptionsalt": {"type": "string"},
            "environment": {},
        },
        "$defs": settings.get("$defs", {}),
    }
