"""Shared fixtures: build the program under Pulumi mocks with given settings.

`build(values, secrets=..., preview=...)` runs the real program (heimdall.stack.deploy)
with `values` as the `heimdall:` config (top-level keys, plain Python values) and returns a
`heimdall.tooling.render.Rendering`. `secrets` are merged into `values` the way
`pulumi config set --secret --path` stores them: their top-level keys become secret.
Each call sets fresh mocks and config, so tests never share Pulumi state.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

import pytest

from heimdall.tooling.render import Rendering, config_value, run_stack

REPO = Path(__file__).resolve().parents[1]
STACK_FILES = sorted(REPO.glob("Pulumi.*.yaml")) + sorted(
    (REPO / "examples" / "stacks").glob("Pulumi.*.yaml")
)


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def stack_config(
    values: Optional[dict[str, Any]] = None, secrets: Optional[dict[str, Any]] = None
) -> tuple[dict[str, str], list[str]]:
    """(config, secret keys) as Pulumi holds them for these settings."""
    merged = _merge(values or {}, secrets or {})
    config = {
        f"heimdall:{key}": config_value(value) for key, value in merged.items() if value is not None
    }
    return config, [f"heimdall:{key}" for key in (secrets or {})]


BuildFn = Callable[..., Rendering]


@pytest.fixture
def build() -> BuildFn:
    def _build(
        values: Optional[dict[str, Any]] = None,
        secrets: Optional[dict[str, Any]] = None,
        preview: bool = False,
        extra_config: Optional[dict[str, str]] = None,
    ) -> Rendering:
        config, secret_keys = stack_config(values, secrets)
        config.update(extra_config or {})
        return run_stack(config, "test", secret_keys=secret_keys, preview=preview)

    return _build


def containers(pod_spec: dict[str, Any], name: str) -> dict[str, Any]:
    """The container (or init container) called `name` in a pod spec."""
    for container in pod_spec.get("containers", []) + pod_spec.get("initContainers", []):
        if container["name"] == name:
            return container
    raise LookupError(f"no container {name!r}")


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    """name -> value, or name -> {"secret": (name, key)} for Secret references."""
    found: dict[str, Any] = {}
    for item in container.get("env", []):
        ref = (item.get("valueFrom") or {}).get("secretKeyRef")
        found[item["name"]] = {"secret": (ref["name"], ref["key"])} if ref else item.get("value")
    return found


def database_password_secret(rendering: Rendering) -> dict[str, Any]:
    """The Secret the stack writes the database password to (auto-named)."""
    (secret,) = [
        m
        for m in rendering.manifests()
        if m["kind"] == "Secret"
        and set(m.get("stringData") or {}) == {"password"}
        and m["metadata"]["labels"]["app.kubernetes.io/name"] == "postgres"
    ]
    return secret


def env_config_map(rendering: Rendering) -> dict[str, Any]:
    """The ConfigMap with Heimdall's environment (auto-named)."""
    (found,) = [
        m for m in rendering.manifests() if m["kind"] == "ConfigMap" and "NODE_ENV" in (m.get("data") or {})
    ]
    return found
