"""Helpers for tests that look at every pod the program renders."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from heimdall.tooling.render import Rendering

TEMPLATE_PATHS = {
    "StatefulSet": ("spec", "template"),
    "Deployment": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}


def pod_templates(rendering: Rendering) -> Iterator[tuple[str, dict[str, Any]]]:
    """("Kind/name", pod template) for every workload object."""
    for obj in rendering.manifests():
        path = TEMPLATE_PATHS.get(obj["kind"])
        if path is None:
            continue
        template: Any = obj
        for key in path:
            template = template[key]
        yield f"{obj['kind']}/{obj['metadata']['name']}", template


def all_containers(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    return list(pod_spec.get("initContainers", [])) + list(pod_spec.get("containers", []))


def template_of(rendering: Rendering, kind: str, name: str | None = None) -> dict[str, Any]:
    """The pod template of the one `kind` object (named `name`, when given)."""
    found = [
        t
        for where, t in pod_templates(rendering)
        if where.split("/", 1)[0] == kind and (name is None or where.split("/", 1)[1] == name)
    ]
    assert len(found) == 1, f"{len(found)} {kind} objects named {name!r}"
    return found[0]
