"""The README's configuration reference is the one generated from the settings model."""

from __future__ import annotations

from heimdall.settings.root import Settings
from heimdall.tooling.reference import readme_block, reference, rows
from tests.conftest import REPO


def test_readme_reference_is_current() -> None:
    readme = (REPO / "README.md").read_text()
    assert readme_block(readme) == reference(), "run `make reference` and commit README.md"


def test_every_key_has_a_type_a_default_and_a_description() -> None:
    found = rows(Settings)
    keys = [key for key, *_ in found]
    assert len(keys) == len(set(keys))
    for key, type_, default, description in found:
        assert type_ and default, key
        assert description.strip(), f"{key} has no description"
    assert "database.embedded.persistence.size" in keys
    assert found[
        keys.index("database.embedded.persistence.size")
    ][:3] == ("database.embedded.persistence.size", "string", "`10Gi`")
