"""The shape of the program: a provider is its package plus one registry line; the core
imports no cloud SDK; no import cycles; no oversized modules.

The fake provider (tests/fake_provider) is added to a copy of the program with its package
and one registry line (its member in the `database` union, and its import), and nothing
else changes: a stack builds with it, its section is validated with the rest of the
settings and documented in the generated reference and JSON Schema. The copy runs in a
process of its own.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from heimdall.database import registry
from heimdall.settings.loader import SettingsError, parse_settings
from heimdall.tooling import reference
from tests.conftest import REPO

FAKE = {"provider": "fake", "fakeDb": {"host": "db.example.test", "flavour": "chocolate"}}

# Run in the copy of the program: everything the test asserts, as one JSON document.
_WITH_THE_FAKE = textwrap.dedent(
    """
    import json, sys
    from heimdall.settings.loader import SettingsError, parse_settings
    from heimdall.tooling import reference, schema
    from heimdall.tooling.render import run_stack
    from tests.conftest import env_of

    FAKE = json.loads(sys.argv[1])
    found = {}
    rendering = run_stack({"heimdall:database": json.dumps(FAKE)}, "test")
    found["outputs"] = {k: rendering.outputs[k] for k in ("databaseProvider", "databaseHost")}
    manifests = rendering.manifests()
    found["markers"] = [m["data"] for m in manifests if m["kind"] == "ConfigMap" and m.get("data") == {"flavour": "chocolate"}]
    config = next(m for m in manifests if m["kind"] == "ConfigMap" and "DATABASE_HOST" in (m.get("data") or {}))
    found["config"] = {k: config["data"][k] for k in ("DATABASE_HOST", "DATABASE_SSL_INSECURE")}
    job = rendering.manifest("Job")
    found["password_key"] = env_of(job["spec"]["template"]["spec"]["containers"][0])["DATABASE_PASSWORD"]["secret"][1]
    migration = next(r for r in rendering.registrations if r.type == "kubernetes:batch/v1:Job")
    marker = next(r.urn for r in rendering.registrations if r.type == "kubernetes:core/v1:ConfigMap" and r.name.endswith("-marker"))
    found["migration_waits_for_the_marker"] = marker in migration.dependencies
    found["flavour"] = parse_settings({"database": FAKE}).database.fake_db.flavour
    found["refusals"] = []
    for database in json.loads(sys.argv[2]):
        try:
            parse_settings({"database": database})
            found["refusals"].append(None)
        except SettingsError as error:
            found["refusals"].append(str(error))
    found["reference"] = [line for line in reference.reference().splitlines() if "database.fakeDb" in line]
    found["schema"] = json.dumps(schema.settings_schema())
    print(json.dumps(found))
    """
)

FAKE_REFUSALS = {
    "heimdall:database.fakeDb.flavour = 'mint'": {**FAKE, "fakeDb": {"host": "db.example.test", "flavour": "mint"}},
    "heimdall:database: provider 'fake' needs the fakeDb section": {"provider": "fake"},
    "heimdall:database: fake: username root is not allowed": {**FAKE, "username": "root"},
    "heimdall:database: the fakeDb section is set but provider is 'embedded'": {"fakeDb": FAKE["fakeDb"]},
}


def add_the_fake_provider(into: Path) -> None:
    """A copy of the program with the fake provider's package and its one registry line."""
    shutil.copytree(REPO / "heimdall", into / "heimdall", ignore=shutil.ignore_patterns("__pycache__"))
    (into / "tests").mkdir()
    for name in ("__init__.py", "conftest.py"):
        shutil.copy(REPO / "tests" / name, into / "tests" / name)
    shutil.copytree(REPO / "tests" / "fake_provider", into / "tests" / "fake_provider", ignore=shutil.ignore_patterns("__pycache__"))
    registry_file = into / "heimdall" / "database" / "registry.py"
    text = registry_file.read_text()
    anchor = "from heimdall.settings.database import DatabaseSettings\n"
    last = "    CloudNativePgSettings,\n]"
    assert anchor in text and last in text
    text = text.replace(anchor, anchor + "from tests.fake_provider.settings import FakeSettings\n")
    registry_file.write_text(text.replace(last, "    CloudNativePgSettings,\n    FakeSettings,\n]"))


def test_a_provider_is_its_package_plus_one_registry_line(tmp_path: Path) -> None:
    add_the_fake_provider(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", _WITH_THE_FAKE, json.dumps(FAKE), json.dumps(list(FAKE_REFUSALS.values()))],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    # A stack builds with it: its marker, its connection in the Heimdall side.
    assert found["outputs"] == {"databaseProvider": "fake", "databaseHost": "db.example.test"}
    assert found["markers"] == [{"flavour": "chocolate"}]
    # DATABASE_SSL_INSECURE true: the provider's TLS default, require.
    assert found["config"] == {"DATABASE_HOST": "db.example.test", "DATABASE_SSL_INSECURE": "true"}
    assert found["password_key"] == "password"
    # The migration Job waits for what the provider says is its readiness.
    assert found["migration_waits_for_the_marker"] is True
    # Its settings are validated, with one-line refusals naming the key.
    assert found["flavour"] == "chocolate"
    for expected, refusal in zip(FAKE_REFUSALS, found["refusals"], strict=True):
        assert refusal is not None and refusal.startswith(expected) and "\n" not in refusal, refusal
    # It is documented in the reference and the JSON Schema.
    assert "| `database.fakeDb` | object | unset | Settings of provider fake (a test double). |" in found["reference"]
    assert any(line.startswith("| `database.fakeDb.flavour` |") for line in found["reference"])
    assert '"fakeDb"' in found["schema"] and "FakeDatabase" in found["schema"]


def test_without_the_registry_line_the_provider_does_not_exist() -> None:
    with pytest.raises(SettingsError, match="provider 'fake' is not one of"):
        parse_settings({"database": {"provider": "fake"}})
    with pytest.raises(SettingsError, match=r"database\.fakeDb: unknown key"):
        parse_settings({"database": FAKE})
    assert "fakeDb" not in reference.reference()
    assert "fake" not in registry.BY_NAME


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
        "from heimdall.settings.loader import parse_settings\n"
        "for provider in registry.PROVIDERS:\n"
        "    provider.mocks(), provider.plan(), provider.policy()\n"
        "parse_settings({})\n"
        "print('ok')\n"
    )
    assert result.stdout.strip() == "ok", result.stderr


@pytest.mark.parametrize("provider", ["aws-rds", "gcp-cloudsql", "azure-postgres"])
def test_a_missing_sdk_stops_the_stack_with_one_line_naming_the_install(provider: str) -> None:
    sdk = registry.find(provider).sdk
    assert sdk is not None
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
    extra = registry.find(provider).extra
    assert extra is not None
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
        assert (provider.sdk is None) == (provider.extra is None), provider.name
        if provider.sdk is not None and provider.extra is not None:
            assert provider.sdk.replace("_", "-") in _names(extras[provider.extra]), provider.name
            named.add(provider.extra)
    # No extra that no provider names: each is one provider's SDK.
    assert set(extras) == named


# --- the shape of the package ---------------------------------------------------------------

PACKAGE = REPO / "heimdall"


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The heimdall modules `path` imports when it is imported: its module-level imports,
    those in `if TYPE_CHECKING:` blocks included (a cycle through type hints is a cycle of
    design all the same). Imports inside functions are left out: deferring one is how a
    provider (its member of the union) reaches its component (and its SDK) only when a stack builds it."""
    tree = ast.parse(path.read_text())
    deferred: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            deferred |= {id(n) for n in ast.walk(node) if n is not node}
    found: set[str] = set()
    modules = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    for node in ast.walk(tree):
        if id(node) in deferred:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("heimdall")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("heimdall"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in modules else node.module)
    # Importing a module runs its packages' __init__ first: heimdall.settings.database
    # imports heimdall.settings too (the registry's first import once went round that way).
    own = _module_name(path) if path.is_relative_to(REPO) else ""
    for module in list(found):
        parts = module.split(".")
        found |= {
            parent for i in range(2, len(parts))
            if (parent := ".".join(parts[:i])) in modules and not own.startswith(parent)
        }
    return found


def test_type_checking_imports_count_for_cycles_deferred_ones_do_not(tmp_path: Path) -> None:
    module = tmp_path / "hinted.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from heimdall.settings.root import Settings\n"
        "def build() -> None:\n"
        "    from heimdall.database.aws_rds.component import AwsRdsPostgres\n"
    )
    assert _imports(module) == {"heimdall.settings.root", "heimdall.settings"}


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


def test_the_policy_pack_needs_only_pydantic_of_the_program() -> None:
    # The pack's own virtualenv has pulumi-policy and pydantic, not pulumi-kubernetes or an SDK.
    result = _run(
        "import sys\n"
        "for m in ('pulumi_kubernetes', 'pulumi_random', 'pulumi_aws', 'pulumi_gcp', 'pulumi_azure_native'):\n"
        "    sys.modules[m] = None\n"
        "sys.path.insert(0, 'policy')\n"
        "import heimdall_policies\n"
        "print(len(heimdall_policies.provider_checks()))\n"
    )
    assert result.stdout.strip() == "4", result.stderr


def test_the_policy_pack_imports_in_its_own_locked_virtualenv(tmp_path: Path) -> None:
    """The pack's virtualenv as Pulumi makes it (`uv sync` of the heimdall-policy member,
    from uv.lock): the pack, the registry and every provider's checks import there."""
    uv = REPO / ".venv-uv" / "bin" / "uv"
    if not uv.exists():
        pytest.skip("no uv in .venv-uv (make uv)")
    venv = tmp_path / "policy-venv"
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv), "UV_OFFLINE": "1", "UV_PYTHON_DOWNLOADS": "never"}
    synced = subprocess.run(
        [str(uv), "sync", "--locked", "--package", "heimdall-policy"],
        cwd=REPO, env=env, capture_output=True, text=True, check=False,
    )
    if synced.returncode != 0:
        pytest.skip(f"the pack's virtualenv cannot be built offline here: {synced.stderr.strip().splitlines()[-1:]}")
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import sys; sys.path.insert(0, 'policy'); import heimdall_policies\n"
         "print(len(heimdall_policies.provider_checks()))\n"
         "print('pulumi_kubernetes' in sys.modules)\n"],
        cwd=REPO, capture_output=True, text=True, check=False,
    )
    assert result.stdout.split() == ["4", "False"], result.stderr


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


def test_another_providers_section_is_refused_by_its_key() -> None:
    with pytest.raises(SettingsError) as error:
        parse_settings({"database": {"awsRds": {"vpcId": "not-a-vpc"}}})
    assert str(error.value) == (
        "heimdall:database: the awsRds section is set but provider is 'embedded'; "
        "remove it or set provider accordingly"
    )
