"""The shape of the program: a provider is its package plus one registry line; the core
imports no cloud SDK; no import cycles; no oversized modules.

The fake provider (tests/fake_provider) is registered here with one line and nothing else
in the program changes: its section is validated with the rest of the settings, documented
in the generated reference and JSON Schema, and a stack builds with it.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from heimdall.database import registry
from heimdall.settings import SettingsError, parse_settings
from heimdall.tooling import reference, schema
from tests.conftest import REPO, env_of

FAKE = {"provider": "fake", "fakeDb": {"host": "db.example.test", "flavour": "chocolate"}}


@pytest.fixture
def fake_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.PROVIDERS, "fake", registry.Entry("tests.fake_provider", "fakeDb"))


def test_a_registered_provider_builds_a_stack(fake_provider, build) -> None:
    rendering = build({"database": FAKE})
    assert rendering.outputs["databaseProvider"] == "fake"
    assert rendering.outputs["databaseHost"] == "db.example.test"
    marker = [m for m in rendering.manifests() if m["kind"] == "ConfigMap" and m.get("data") == {"flavour": "chocolate"}]
    assert len(marker) == 1
    job = rendering.manifest("Job")
    config = next(
        m for m in rendering.manifests()
        if m["kind"] == "ConfigMap" and "DATABASE_HOST" in (m.get("data") or {})
    )
    assert config["data"]["DATABASE_HOST"] == "db.example.test"
    assert config["data"]["DATABASE_SSL_INSECURE"] == "true"  # the provider's default: require
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert env_of(container)["DATABASE_PASSWORD"]["secret"][1] == "password"
    # The migration Job waits for what the provider says is its readiness.
    migration = next(r for r in rendering.registrations if r.type == "kubernetes:batch/v1:Job")
    marker_urn = next(
        r.urn for r in rendering.registrations
        if r.type == "kubernetes:core/v1:ConfigMap" and r.name.endswith("-marker")
    )
    assert marker_urn in migration.dependencies


def test_a_registered_provider_has_its_settings_validated(fake_provider) -> None:
    assert parse_settings({"database": FAKE}).database.section.flavour == "chocolate"
    cases = {
        "heimdall:database.fakeDb.flavour = 'mint'": {**FAKE, "fakeDb": {"host": "db.example.test", "flavour": "mint"}},
        "provider 'fake' needs the fakeDb section": {"provider": "fake"},
        "fake: username root is not allowed": {**FAKE, "username": "root"},
        "the fakeDb section is set but provider is 'embedded'": {"fakeDb": FAKE["fakeDb"]},
    }
    for expected, database in cases.items():
        with pytest.raises(SettingsError) as error:
            parse_settings({"database": database})
        assert expected in str(error.value)
        assert "\n" not in str(error.value)


def test_a_registered_provider_is_documented_in_the_reference_and_schema(fake_provider) -> None:
    text = reference.reference()
    assert "| `database.fakeDb` | object | unset | Settings of provider fake (a test double). |" in text
    assert "| `database.fakeDb.flavour` |" in text
    document = json.dumps(schema.settings_schema())
    assert '"fakeDb"' in document and "FakeDatabase" in document


def test_without_the_registry_line_the_provider_does_not_exist() -> None:
    with pytest.raises(SettingsError, match="provider 'fake' is not one of"):
        parse_settings({"database": {"provider": "fake"}})
    with pytest.raises(SettingsError, match=r"database\.fakeDb: unknown key"):
        parse_settings({"database": FAKE})
    assert "fakeDb" not in reference.reference()


# --- the core install ----------------------------------------------------------------------

CLOUD_SDKS = ("pulumi_aws", "pulumi_gcp", "pulumi_azure_native")


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )


def test_every_provider_settings_module_imports_without_its_sdk() -> None:
    # A module set to None in sys.modules cannot be imported: as if it were not installed.
    blocked = "; ".join(f"sys.modules[{m!r}] = None" for m in CLOUD_SDKS)
    result = _run(
        f"import sys; {blocked}\n"
        "from heimdall.database import registry\n"
        "from heimdall.settings import parse_settings\n"
        "for name in registry.PROVIDERS:\n"
        "    registry.spec(name)\n"
        "    for part in ('mocks', 'plan', 'policy'):\n"
        "        registry.part(name, part)\n"
        "parse_settings({})\n"
        "print('ok')\n"
    )
    assert result.stdout.strip() == "ok", result.stderr


@pytest.mark.parametrize("provider", ["aws-rds", "gcp-cloudsql", "azure-postgres"])
def test_a_missing_sdk_stops_the_stack_with_one_line_naming_the_install(provider: str) -> None:
    sdk = registry.spec(provider).sdk
    stack = {
        "aws-rds": "Pulumi.prod.yaml",
        "gcp-cloudsql": "examples/stacks/Pulumi.gcp-cloudsql.yaml",
        "azure-postgres": "examples/stacks/Pulumi.azure-postgres.yaml",
    }[provider]
    result = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.modules[{sdk!r}] = None\n"
         "from heimdall.tooling.cli import main\n"
         f"sys.exit(main(['render', {stack!r}, '--out', sys.argv[1]]))", "build/missing-sdk"],
        cwd=REPO, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"database provider {provider!r} needs the {sdk.replace('_', '-')} SDK" in lines[0]
    extra = registry.spec(provider).extra
    assert f"`uv sync --locked --extra {extra}`" in lines[0]
    assert _pyproject()["project"]["optional-dependencies"][extra], extra


def _pyproject() -> dict[str, Any]:
    import tomllib

    return tomllib.loads((REPO / "pyproject.toml").read_text())


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=\[; ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


def test_the_core_holds_no_cloud_sdk() -> None:
    core = _names(_pyproject()["project"]["dependencies"])
    assert sorted(core) == ["pulumi", "pulumi-kubernetes", "pulumi-random", "pydantic", "pyyaml", "tzdata"]


def test_each_cloud_provider_names_the_extra_that_installs_its_sdk() -> None:
    extras = _pyproject()["project"]["optional-dependencies"]
    named = set()
    for provider in registry.PROVIDERS:
        spec = registry.spec(provider)
        assert (spec.sdk is None) == (spec.extra is None), provider
        if spec.sdk is not None:
            assert spec.sdk.replace("_", "-") in _names(extras[spec.extra]), provider
            named.add(spec.extra)
    # No extra that no provider names: each is one provider's SDK.
    assert set(extras) == named


# --- the shape of the package ---------------------------------------------------------------

PACKAGE = REPO / "heimdall"


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The heimdall modules `path` imports at run time (TYPE_CHECKING blocks excluded)."""
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for n in ast.walk(node)}
    found: set[str] = set()
    modules = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("heimdall")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("heimdall"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in modules else node.module)
    return found


def test_no_import_cycle_among_the_package_modules() -> None:
    graph = {_module_name(p): _imports(p) for p in PACKAGE.rglob("*.py")}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target):], target] if target in path else [module, target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_no_module_is_over_about_500_lines() -> None:
    long = {
        str(p.relative_to(REPO)): n
        for p in [*PACKAGE.rglob("*.py"), *(REPO / "policy").glob("*.py")]
        if (n := len(p.read_text().splitlines())) > 500
    }
    assert long == {}


def test_the_offline_tooling_is_off_the_pulumi_up_path() -> None:
    result = _run(
        "import sys\n"
        "import heimdall.program, heimdall.stack\n"
        "print(sorted(m for m in sys.modules if m.startswith('heimdall.tooling')))\n"
    )
    assert result.stdout.strip() == "[]", result.stderr
    assert "import" not in "".join(
        line for line in (PACKAGE / "__init__.py").read_text().splitlines() if not line.startswith((" ", '"'))
    )


def test_the_policy_pack_needs_only_the_standard_library_of_the_program() -> None:
    # The pack's own virtualenv has pulumi-policy, not pydantic or pulumi-kubernetes.
    result = _run(
        "import sys\n"
        "for m in ('pydantic', 'pulumi_kubernetes', 'pulumi_random'):\n"
        "    sys.modules[m] = None\n"
        "sys.path.insert(0, 'policy')\n"
        "import heimdall_policies\n"
        "print(len(heimdall_policies.provider_checks()))\n"
    )
    assert result.stdout.strip() == "4", result.stderr


def test_the_lock_pins_every_declared_dependency_with_hashes() -> None:
    """Every package uv.lock holds for the core, the extras, the dev group and the two other
    workspace members comes from the registry with a sha256 for each file (sdist and
    wheels); `make lock-check` (uv lock --check) proves the lock matches the declarations."""
    import tomllib

    lock = tomllib.loads((REPO / "uv.lock").read_text())
    members = {"heimdall-pulumi", "heimdall-policy", "heimdall-checkov"}
    packages = [p for p in lock["package"] if p["name"] not in members]
    assert {p["name"] for p in lock["package"]} >= members
    for package in packages:
        files = [package.get("sdist")] if package.get("sdist") else []
        files += package.get("wheels", [])
        assert files, package["name"]
        assert all(f["hash"].startswith("sha256:") for f in files), package["name"]
    locked = {p["name"] for p in packages}
    declared = _names(_pyproject()["project"]["dependencies"])
    declared |= {n for extra in _pyproject()["project"]["optional-dependencies"].values() for n in _names(extra)}
    declared |= _names(_pyproject()["dependency-groups"]["dev"])
    assert declared <= locked, sorted(declared - locked)


def test_a_stack_loads_only_its_own_providers_settings() -> None:
    result = _run(
        "import sys\n"
        "from heimdall.settings import parse_settings\n"
        "parse_settings({'database': {'provider': 'external', 'external': {'host': 'db.example.com', "
        "'existingSecret': 'db'}}})\n"
        "print(sorted(m for m in sys.modules if m.startswith('heimdall.database.') and m.endswith('.settings')))\n"
    )
    assert result.stdout.strip() == "['heimdall.database.external.settings']", result.stderr


def test_another_providers_section_is_refused_without_loading_it() -> None:
    with pytest.raises(SettingsError) as error:
        parse_settings({"database": {"awsRds": {"vpcId": "not-a-vpc"}}})
    assert str(error.value) == (
        "heimdall:database: the awsRds section is set but provider is 'embedded'; "
        "remove it or set provider accordingly"
    )
