"""JSON Schema of the settings, from the settings model itself.

`settings_schema()` is the model's schema (camelCase keys, as a stack file writes them).
`stack_file_schema()` wraps it for a whole `Pulumi.<stack>.yaml`: each top-level setting
as `heimdall:<key>` (or the bare `<key>`), other namespaces (`aws:region`,
`kubernetes:context`) left free, unknown `heimdall:` keys refused, and secret settings
accepting the `{secure: ...}` form `pulumi config set --secret` writes.
"""

from __future__ import annotations

import copy
from typing import Any

from heimdall.settings import NAMESPACE, settings_model

SECURE_VALUE: dict[str, Any] = {
    "type": "object",
    "description": "A value encrypted by `pulumi config set --secret`.",
    "properties": {"secure": {"type": "string"}},
    "required": ["secure"],
    "additionalProperties": False,
}


def settings_schema() -> dict[str, Any]:
    schema = settings_model().model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def _accept_secure(node: Any) -> Any:
    """Every secret string (pydantic's SecretStr: format password) may also be secure."""
    if isinstance(node, dict):
        if node.get("format") == "password":
            return {"anyOf": [node, SECURE_VALUE]}
        return {key: _accept_secure(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_accept_secure(item) for item in node]
    return node


def stack_file_schema() -> dict[str, Any]:
    settings = _accept_secure(copy.deepcopy(settings_schema()))
    config: dict[str, Any] = {}
    for key, value in settings["properties"].items():
        config[f"{NAMESPACE}:{key}"] = value
        config[key] = value  # Pulumi reads an unqualified key as the project's
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
