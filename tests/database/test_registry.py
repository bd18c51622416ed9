"""The provider registry (heimdall/database/registry.py): the static union its one line per
provider makes, what it derives from it, the lookups, and the one line naming a missing SDK."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import typing

import pytest

from heimdall.database import registry
from heimdall.database.facts import PolicyChecks
from heimdall.settings.database import DatabaseSettings
from heimdall.settings.root import Settings
from tests.conftest import REPO

REGISTRY = REPO / "heimdall" / "database" / "registry.py"


def test_the_entries_are_the_six_providers_the_first_the_default() -> None:
    assert [p.provider_name for p in registry.PROVIDERS] == [
        "embedded", "external", "aws-rds", "gcp-cloudsql", "azure-postgres", "cloudnative-pg",
    ]
    assert registry.DEFAULT.provider_name == "embedded"
    assert registry.names() == sorted(registry.BY_NAME)
    assert len({p.section for p in registry.PROVIDERS}) == len(registry.PROVIDERS)


def test_settings_database_is_the_registrys_union_discriminated_by_provider() -> None:
    """The static type mypy and the JSON Schema see: the union itself, no run-time model."""
    field = Settings.model_fields["database"]
    assert field.annotation == registry.DatabaseChoice
    assert field.discriminator == "provider"
    assert typing.get_args(registry.DatabaseChoice) == registry.PROVIDERS
    assert "TYPE_CHECKING" not in (REPO / "heimdall" / "settings" / "root.py").read_text()


@pytest.mark.parametrize("provider", registry.PROVIDERS, ids=lambda p: p.provider_name)
def test_each_entry_is_a_member_of_the_union_with_its_facts(provider: type[DatabaseSettings]) -> None:
    assert issubclass(provider, DatabaseSettings)
    # The managed clouds need an SDK and a section; the others neither.
    assert (provider.sdk is not None) == provider.managed == (provider.extra is not None)
    policy = provider.policy()
    assert policy is None or isinstance(policy, PolicyChecks)
    assert all(isinstance(token, str) and ":" in token for token in [*provider.mocks(), *provider.plan()])


def test_the_shared_model_is_no_provider() -> None:
    assert DatabaseSettings.mocks() == {} and DatabaseSettings.plan() == {} and DatabaseSettings.policy() is None
    assert (DatabaseSettings.managed, DatabaseSettings.sdk, DatabaseSettings.extra) == (False, None, None)
    assert not hasattr(DatabaseSettings, "build") and not hasattr(DatabaseSettings, "effective_tls")


def test_a_lookup_finds_a_provider_by_name_and_refuses_an_unknown_one() -> None:
    assert registry.find("aws-rds").section == "awsRds"
    with pytest.raises(KeyError):
        registry.find("fake")


def test_each_provider_is_one_line_and_its_import() -> None:
    """A provider is named in the registry by its member class: one import, one line of
    the union."""
    tree = ast.parse(REGISTRY.read_text())
    imported = {
        alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("heimdall.database.")
        for alias in node.names
    }
    assert imported == {p.__name__ for p in registry.PROVIDERS}
    union = next(
        node.value for node in tree.body
        if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["DatabaseChoice"]
    )
    assert isinstance(union, ast.Subscript) and isinstance(union.slice, ast.Tuple)
    lines = [element.lineno for element in union.slice.elts]
    assert [e.id for e in union.slice.elts if isinstance(e, ast.Name)] == [p.__name__ for p in registry.PROVIDERS]
    assert len(set(lines)) == len(lines)  # one line each
    assert "import_module" not in REGISTRY.read_text()


def test_a_missing_sdk_is_named_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pulumi_gcp", None)  # as if it were not installed
    line = registry.missing_sdk("gcp-cloudsql")
    assert line is not None and "\n" not in line
    assert line.startswith("database provider 'gcp-cloudsql' needs the pulumi-gcp SDK, which is not installed")
    assert "`uv sync --locked --extra gcp`" in line
    assert registry.missing_sdk("embedded") is None  # no SDK beyond the core
    assert registry.missing_sdk("aws-rds") is None  # installed here


def test_the_registry_needs_only_pydantic_and_the_standard_library() -> None:
    """What the policy pack loads: the registry, every member's settings and its policy and
    plan facts, with pulumi, its providers and every cloud SDK missing (a module set to None
    in sys.modules cannot be imported). Imported first, in a fresh process: no import goes
    round in a circle."""
    blocked = ("pulumi", "pulumi_kubernetes", "pulumi_random", "pulumi_aws", "pulumi_gcp", "pulumi_azure_native", "yaml")
    result = subprocess.run(
        [sys.executable, "-c",
         f"import sys\nfor m in {blocked!r}:\n    sys.modules[m] = None\n"
         "from heimdall.database import registry\n"
         "print(sum(p.policy() is not None for p in registry.PROVIDERS), sum(bool(p.plan()) for p in registry.PROVIDERS))\n"
         "import json\n"
         "print(json.dumps(sorted({m.split('.')[0] for m, v in sys.modules.items() if v is not None and not m.startswith('_') and m.split('.')[0] not in sys.stdlib_module_names})))\n"],
        cwd=REPO, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    counts, modules = result.stdout.splitlines()
    assert counts == "4 4"
    assert set(json.loads(modules)) <= {"heimdall", "pydantic", "pydantic_core", "typing_extensions", "typing_inspection", "annotated_types"}


def test_the_contract_imports_no_settings_model() -> None:
    """The contract and the helpers every provider shares are made of their own value
    types: the program (build.py) converts the settings into them."""
    for name in ("contract.py", "tls.py", "credentials.py", "facts.py", "provider.py"):
        tree = ast.parse((REPO / "heimdall" / "database" / name).read_text())
        imported = {
            node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
        } | {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
        from_settings = {m for m in imported if m.startswith("heimdall.settings")}
        if name == "provider.py":  # type hints only: effective_tls returns the settings' TLS
            assert from_settings <= {"heimdall.settings.database"}, name
        else:
            assert from_settings == set(), name
