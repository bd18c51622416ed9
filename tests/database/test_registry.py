"""The provider registry (heimdall/database/registry.py): its entries, the lookups, and
the one line naming a missing SDK."""

from __future__ import annotations

import ast
import sys

import pytest

from heimdall.database import registry
from heimdall.database.provider import DatabaseProvider, PolicyChecks
from heimdall.settings.database import DatabaseSettings
from tests.conftest import REPO


def test_the_entries_are_the_six_providers_the_first_the_default() -> None:
    assert [p.name for p in registry.PROVIDERS] == [
        "embedded", "external", "aws-rds", "gcp-cloudsql", "azure-postgres", "cloudnative-pg",
    ]
    assert registry.DEFAULT.name == "embedded"
    assert registry.names() == sorted(registry.BY_NAME)
    assert len({p.section for p in registry.PROVIDERS}) == len(registry.PROVIDERS)


@pytest.mark.parametrize("provider", registry.PROVIDERS, ids=lambda p: p.name)
def test_each_entry_is_a_provider_with_its_own_member_of_the_union(provider: DatabaseProvider) -> None:
    member = provider.settings()
    assert issubclass(member, DatabaseSettings)
    # Its `provider` literal is its name, and its section sits under the registry's key.
    assert member.model_fields["provider"].default == provider.name
    aliases = {f.alias or n for n, f in member.model_fields.items()}
    assert provider.section in aliases
    assert aliases - {f.alias or n for n, f in DatabaseSettings.model_fields.items()} == {provider.section}
    assert member.managed is provider.managed
    # The managed clouds need an SDK and a section; the others neither.
    assert (provider.sdk is not None) == provider.managed == (provider.extra is not None)
    policy = provider.policy()
    assert policy is None or isinstance(policy, PolicyChecks)
    assert all(isinstance(token, str) and ":" in token for token in [*provider.mocks(), *provider.plan()])


def test_a_lookup_finds_a_provider_by_name_and_refuses_an_unknown_one() -> None:
    assert registry.find("aws-rds").section == "awsRds"
    with pytest.raises(KeyError):
        registry.find("fake")


def test_each_provider_is_one_line_and_its_import() -> None:
    """A provider is named in the registry by its class: one import, one entry."""
    tree = ast.parse((REPO / "heimdall" / "database" / "registry.py").read_text())
    imported = {
        alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("heimdall.database.")
        for alias in node.names
    } - {"DatabaseProvider"}
    assert imported == {type(p).__name__ for p in registry.PROVIDERS}
    assert "importlib.import_module" not in (REPO / "heimdall" / "database" / "registry.py").read_text()


def test_a_missing_sdk_is_named_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pulumi_gcp", None)  # as if it were not installed
    line = registry.missing_sdk("gcp-cloudsql")
    assert line is not None and "\n" not in line
    assert line.startswith("database provider 'gcp-cloudsql' needs the pulumi-gcp SDK, which is not installed")
    assert "`uv sync --locked --extra gcp`" in line
    assert registry.missing_sdk("embedded") is None  # no SDK beyond the core
    assert registry.missing_sdk("aws-rds") is None  # installed here


def test_a_provider_handed_another_providers_settings_says_so() -> None:
    from heimdall.settings.loader import parse_settings

    embedded = parse_settings({}).database
    with pytest.raises(TypeError, match="database provider 'aws-rds' got the settings of EmbeddedSettings"):
        registry.find("aws-rds").tls(embedded)


def test_the_contract_imports_no_settings_model() -> None:
    """The contract and the helpers every provider shares are made of their own value
    types: the program (build.py) converts the settings into them."""
    for name in ("contract.py", "tls.py", "credentials.py", "provider.py", "registry.py"):
        tree = ast.parse((REPO / "heimdall" / "database" / name).read_text())
        imported = {
            node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
        } | {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
        from_settings = {m for m in imported if m.startswith("heimdall.settings")}
        if name == "provider.py":  # type hints only (the policy pack has no pydantic)
            assert from_settings <= {"heimdall.settings.database"}, name
        else:
            assert from_settings == set(), name
