"""The stack files: every one renders under mocks and passes strict schema validation;
the production stack is an RDS stack with its secure defaults; a stack never imports a
cloud SDK it does not use."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from heimdall.tooling.render import run_stack_file, validate_manifests
from tests.conftest import REPO, STACK_FILES
from tests.databases import app_env, inputs, one

CLOUD_SDKS = ("pulumi_aws", "pulumi_gcp", "pulumi_azure_native")
EXAMPLES = REPO / "examples" / "stacks"


def test_the_example_stacks_are_there() -> None:
    names = {path.name for path in STACK_FILES}
    assert {
        "Pulumi.dev.yaml",
        "Pulumi.prod.yaml",
        "Pulumi.gcp-cloudsql.yaml",
        "Pulumi.gcp-cloudsql-proxy.yaml",
        "Pulumi.azure-postgres.yaml",
        "Pulumi.external.yaml",
    } <= names


@pytest.mark.parametrize("path", STACK_FILES, ids=[p.name for p in STACK_FILES])
def test_every_stack_renders_and_passes_strict_schema_validation(path: Path) -> None:
    rendering = run_stack_file(str(path))
    assert rendering.manifests()
    assert validate_manifests(rendering.manifests(show_secrets=False)) == []


@pytest.mark.parametrize(
    ("name", "provider"),
    [
        ("Pulumi.gcp-cloudsql.yaml", "gcp-cloudsql"),
        ("Pulumi.gcp-cloudsql-proxy.yaml", "gcp-cloudsql"),
        ("Pulumi.azure-postgres.yaml", "azure-postgres"),
        ("Pulumi.external.yaml", "external"),
    ],
)
def test_each_example_uses_its_provider(name: str, provider: str) -> None:
    rendering = run_stack_file(str(EXAMPLES / name))
    assert rendering.outputs["databaseProvider"] == provider


def test_prod_is_rds_multi_az_deletion_protected_with_verified_tls() -> None:
    rendering = run_stack_file(str(REPO / "Pulumi.prod.yaml"))
    instance = one(rendering, "aws:rds/instance:Instance")
    args = inputs(instance)
    assert (args["dbName"], args["username"]) == ("heimdall_production", "heimdall_app")
    assert args["multiAz"] is True
    assert args["deletionProtection"] is True
    assert args["skipFinalSnapshot"] is False
    assert args["storageEncrypted"] is True
    assert args["publiclyAccessible"] is False
    assert instance.protect is True
    env = app_env(rendering)
    assert env["DATABASE_HOST"] == instance.state["address"]
    assert (env["DATABASE_SSL"], env["DATABASE_SSL_INSECURE"]) == ("true", "false")
    assert env["DATABASE_SSL_CA"].endswith("/ca.pem")


def _cloud_modules_after_rendering(stack: Path) -> list[str]:
    code = (
        "import json, sys\n"
        "from heimdall.tooling.render import run_stack_file\n"
        f"run_stack_file({str(stack)!r})\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({CLOUD_SDKS!r}))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        (REPO / "Pulumi.dev.yaml", []),
        (REPO / "Pulumi.prod.yaml", ["pulumi_aws"]),
        (EXAMPLES / "Pulumi.gcp-cloudsql.yaml", ["pulumi_gcp"]),
        (EXAMPLES / "Pulumi.azure-postgres.yaml", ["pulumi_azure_native"]),
    ],
    ids=["dev", "prod", "gcp", "azure"],
)
def test_a_stack_imports_only_the_cloud_sdk_it_uses(stack: Path, expected: list[str]) -> None:
    assert _cloud_modules_after_rendering(stack) == expected
