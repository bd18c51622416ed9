"""Secrets in a stack file: refused in plain text leaf by leaf, never echoed back.

Pulumi tells the program which config keys are secret only per top-level key: a
top-level object with any `secure:` leaf is secret as a whole (pulumi/pulumi
sdk/go/common/resource/config/map.go:105 `SecureKeys`, and map_test.go:290, an object
with one secure leaf listed as a secure key). So `secrets: {adminPassword: {secure: ..},
jwtSecret: plain}` reaches the program as one secret object, and only the stack file
says that `jwtSecret` sits there in plain text. `plain_secret_leaf()` reads the stack
file (when there is one) and refuses such a leaf by its own key.

What must never be repeated in a message (a URL with a password, a PEM block) is found by
`credentials.pasted_credential()`; the settings refuse it wherever a plain field takes it,
naming the key only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, SecretStr

from heimdall.settings.types import NAMESPACE, PROJECT_ROOT


def secure_leaves(config: Mapping[Any, Any]) -> frozenset[str]:
    """Dotted paths (without the `heimdall:` namespace) of the `secure:` values in a stack
    file's `config:` mapping; list items are numbered (`a.0.b`)."""
    found: set[str] = set()

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            if set(value) == {"secure"}:
                found.add(path)
                return
            for key, item in value.items():
                walk(item, f"{path}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{path}.{index}")

    for key, value in config.items():
        name = str(key)
        if name.startswith(f"{NAMESPACE}:"):
            walk(value, name.split(":", 1)[1])
        elif ":" not in name:  # unqualified keys belong to the project
            walk(value, name)
    return frozenset(found)


def file_secure_leaves(path: Path) -> Optional[frozenset[str]]:
    """`secure_leaves` of the stack file at `path`; None when it cannot be read."""
    from heimdall.tooling import stack_yaml

    try:
        document = stack_yaml.load(path.read_text(), str(path))
    except (OSError, ValueError):
        return None
    config = document.get("config") if isinstance(document, dict) else None
    return secure_leaves(config) if isinstance(config, dict) else frozenset()


def stack_file_secure_leaves(stack: str, directory: Path = PROJECT_ROOT) -> Optional[frozenset[str]]:
    """`secure_leaves` of `Pulumi.<stack>.yaml` in the project directory; None when there is
    no such file (the CLI then took the config from elsewhere)."""
    for suffix in (".yaml", ".yml"):
        path = directory / f"Pulumi.{stack}{suffix}"
        if path.is_file():
            return file_secure_leaves(path)
    return None


def secret_paths(model: BaseModel, path: str = "") -> Iterable[str]:
    """Dotted paths of the secret values set in `model`, recursively."""
    fields = type(model).model_fields
    for name, value in model:
        alias = fields[name].alias or name
        key = f"{path}.{alias}" if path else alias
        if isinstance(value, SecretStr):
            yield key
        elif isinstance(value, BaseModel):
            yield from secret_paths(value, key)


def plain_secret_leaf(settings: BaseModel, secure: frozenset[str]) -> Optional[str]:
    """One line refusing the first secret value of `settings` that the stack file holds in
    plain text (not among the `secure` leaves), or None."""
    for path in secret_paths(settings):
        if path not in secure:
            return (
                f"{NAMESPACE}:{path} is stored in plain text in the stack file (its value is "
                f"not shown); set it with `pulumi config set --secret --path {path} <value>`"
            )
    return None
