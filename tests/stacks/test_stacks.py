"""Whole stacks from the real stack files, in update and in preview mode, and the rule
that no secret value appears anywhere it could be read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from heimdall.tooling import render
from tests.conftest import STACK_FILES

SUPPLIED = {
    "secrets": {
        "jwtSecret": "supplied-jwt-secret-value-0123456789abcdef",
        "apiKeySecret": "supplied-api-key-secret-0123456789abcdef",
        "adminPassword": "Supplied-Admin-Pass-42!",
        "databasePassword": "supplied-db-password-4711",
    }
}


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=lambda p: p.name)
def test_every_stack_file_builds_and_its_manifests_are_schema_valid(stack_file: Path) -> None:
    rendering = render.run_stack_file(str(stack_file))
    manifests = rendering.manifests(show_secrets=False)
    assert manifests
    assert render.validate_manifests(manifests) == []
    outputs = rendering.outputs
    assert set(outputs) >= {
        "url",
        "namespace",
        "databaseProvider",
        "databaseHost",
        "adminEmail",
        "adminPassword",
        "connectionString",
    }
    assert {"adminPassword", "connectionString"} <= rendering.secret_outputs or (
        outputs["adminPassword"] is None
    )
    assert "connectionString" in rendering.secret_outputs
    assert outputs["namespace"] == rendering.namespace


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=lambda p: p.name)
def test_every_stack_file_previews_with_unknown_outputs(stack_file: Path) -> None:
    # As in a pull request's `pulumi preview` of a new stack: outputs of new resources
    # are unknown, so nothing may need them to declare the rest.
    preview = render.run_stack_file(str(stack_file), preview=True)
    full = render.run_stack_file(str(stack_file))
    assert sorted((r.type, r.name) for r in preview.registrations) == sorted(
        (r.type, r.name) for r in full.registrations
    )


def test_dev_stack_is_embedded_with_one_small_replica() -> None:
    rendering = render.run_stack_file("Pulumi.dev.yaml")
    assert rendering.outputs["databaseProvider"] == "embedded"
    sts = rendering.manifest("StatefulSet", "heimdall")
    assert sts["spec"]["replicas"] == 1
    assert sts["metadata"]["namespace"] == "heimdall-dev"


def secret_values(rendering, supplied: dict) -> set[str]:
    generated = {r.state["result"] for r in rendering.resources("random:index/randomPassword")}
    return generated | set(supplied["secrets"].values())


def readable_places(rendering) -> list[tuple[str, str]]:
    """(where, text) of everything a reader of the cluster's non-Secret objects sees."""
    places = []
    for obj in rendering.manifests():
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] == "ConfigMap":
            places.append((where, json.dumps(obj.get("data", {}))))
        if obj["kind"] != "Secret":
            places.append((where, json.dumps(obj)))
    return places


@pytest.mark.parametrize(
    "values",
    [{}, {"ingress": {"enabled": True, "host": "heimdall.example.com"}}],
)
def test_no_secret_value_in_config_maps_env_values_or_commands(build, values: dict) -> None:
    rendering = build(values, secrets=SUPPLIED)
    secrets = secret_values(rendering, SUPPLIED)
    assert len(secrets) >= 4
    for where, text in readable_places(rendering):
        for value in secrets:
            assert value not in text, f"a secret value is readable in {where}"


def test_render_files_mask_secrets_unless_asked(build, tmp_path: Path) -> None:
    rendering = build(secrets=SUPPLIED)
    secrets = secret_values(rendering, SUPPLIED)
    render.write(rendering, tmp_path / "masked")
    text = "".join(p.read_text() for p in (tmp_path / "masked").rglob("*") if p.is_file())
    text += render.summary(rendering)
    assert not [v for v in secrets if v in text]
    assert "********" in text
    render.write(rendering, tmp_path / "clear", show_secrets=True)
    clear = "".join(p.read_text() for p in (tmp_path / "clear").rglob("*") if p.is_file())
    assert SUPPLIED["secrets"]["jwtSecret"] in clear
