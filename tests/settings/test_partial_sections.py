"""A section set in part merges over its defaults, for every section that has defaults.

The sections are found by walking the settings model (every provider's section
included), so a new section with a default is covered without touching this file.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from heimdall.settings.loader import parse_settings
from heimdall.settings.root import Settings
from heimdall.settings.types import Model
from tests.databases import AWS_RDS


def _models(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for argument in typing.get_args(annotation):
        yield from _models(argument)


def sections_with_defaults() -> list[tuple[str, type[Model], str]]:
    """(path, model, field) for every field whose default is a section that sets keys."""
    found: list[tuple[str, type[Model], str]] = []
    seen: set[type[BaseModel]] = set()

    def walk(model: type[BaseModel], path: str) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, field in model.model_fields.items():
            key = f"{path}.{field.alias or name}" if path else (field.alias or name)
            default = field.default
            if isinstance(default, BaseModel) and default.model_fields_set:
                assert issubclass(model, Model)
                found.append((key, model, name))
            for inner in _models(field.annotation):
                walk(inner, key)

    walk(Settings, "")
    return found


SECTIONS = sections_with_defaults()


def test_the_walk_finds_the_sections_users_edit_most() -> None:
    paths = {path for path, _, _ in SECTIONS}
    assert {
        "image",
        "resources",
        "database.embedded.image",
        "database.embedded.resources",
        "database.clientImage",
        "migration.resources",
        "probes.startup",
        "backup.resources",
        "backup.s3.image",
    } <= paths


@pytest.mark.parametrize(("path", "model", "name"), SECTIONS, ids=[s[0] for s in SECTIONS])
def test_each_key_a_section_leaves_out_keeps_its_default(
    path: str, model: type[Model], name: str
) -> None:
    field = model.model_fields[name]
    default = field.default
    assert isinstance(default, BaseModel)
    alias = field.alias or name
    dumped = default.model_dump(by_alias=True, exclude_unset=True)
    for left_out in dumped:
        partial = {key: value for key, value in dumped.items() if key != left_out}
        merged = model._merge_defaults({alias: partial})  # type: ignore[operator]
        section = type(default).model_validate(merged[alias])
        assert section == default, f"{path}.{left_out}"
        assert section.model_fields_set == default.model_fields_set


def test_a_new_tag_keeps_the_default_repository() -> None:
    settings = parse_settings(
        {"image": {"tag": "2.13.2"}, "database": {"embedded": {"image": {"tag": "16"}}}}
    )
    assert settings.image.reference == "mitre/heimdall2:2.13.2"
    assert settings.database.embedded.image.reference == "postgres:16"


def test_a_new_memory_limit_keeps_the_requests_and_the_cpu_limit() -> None:
    resources = parse_settings({"resources": {"limits": {"memory": "2Gi"}}}).resources
    assert (resources.requests.cpu, resources.requests.memory) == ("250m", "512Mi")
    assert (resources.limits.cpu, resources.limits.memory) == ("1", "2Gi")


def test_null_still_removes_a_default_and_snake_case_keys_merge_too() -> None:
    resources = parse_settings({"resources": {"requests": {"cpu": None}}}).resources
    assert resources.requests.cpu is None and resources.requests.memory == "512Mi"
    image = parse_settings({"image": {"pull_policy": "Always"}}).image
    assert (image.repository, image.tag, image.pull_policy) == ("mitre/heimdall2", "2.13.1", "Always")


def test_unset_keys_still_read_as_unset_where_that_matters() -> None:
    settings = parse_settings(
        {
            **AWS_RDS,  # tls.ca only: the mode follows the provider (verify)
            "podSecurityContext": {"runAsUser": None},
            # With the containers' own: the pod-level one alone has no effect (rules.py).
            "securityContext": {"runAsUser": None},
            "backup": {"schedule": "@daily"},
        }
    )
    assert settings.database.tls.mode == "verify"
    assert settings.pod_security_context.model_fields_set == {"run_as_user"}
    assert "pvc" not in settings.backup.model_fields_set
    assert settings.backup.enabled is None and not settings.backup_enabled  # follows the provider


def test_unknown_keys_in_a_partial_section_are_still_refused() -> None:
    from heimdall.settings.loader import SettingsError

    with pytest.raises(SettingsError, match=r"^heimdall:image\.tga: unknown key"):
        parse_settings({"image": {"tga": "2.13.2"}})
