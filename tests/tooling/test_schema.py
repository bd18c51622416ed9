"""`python -m heimdall schema`: the settings' JSON Schema, from the model itself (for
editors; Pulumi.yaml declares no config, see README "Configuration")."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from heimdall.settings.loader import SettingsError, settings_from_config
from heimdall.settings.root import Settings
from heimdall.tooling.cli import main
from tests.conftest import REPO, STACK_FILES


def schema_from_cli(capsys, *args: str) -> dict:
    assert main(["schema", *args]) == 0
    document: dict = json.loads(capsys.readouterr().out)
    return document


def top_level_keys() -> set[str]:
    return {field.alias or name for name, field in Settings.model_fields.items()}


def test_schema_is_the_models_schema_with_camel_case_keys(capsys):
    schema = schema_from_cli(capsys)
    assert set(schema["properties"]) == top_level_keys()
    assert schema["additionalProperties"] is False
    assert "jwtExpireTime" in schema["properties"]
    assert schema["properties"]["jwtExpireTime"]["default"] == "12h"
    assert "description" in schema["properties"]["jwtExpireTime"]
    auth = schema["$defs"]["GithubAuth"]["properties"]
    assert auth["clientSecret"]["anyOf"][0]["format"] == "password"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_schema_accepts_valid_settings_and_refuses_unknown_keys(capsys):
    validator = jsonschema.Draft202012Validator(schema_from_cli(capsys))
    assert not list(validator.iter_errors({"replicas": 2, "gateway": {"enabled": False}}))
    assert list(validator.iter_errors({"replica": 2}))


def test_database_is_exactly_one_providers_model(capsys):
    """`database` is a union discriminated by `provider`: each provider's own keys, one
    member matching a given stack value, as the model reads it (the default provider when
    `provider` is unset)."""
    from heimdall.database import registry
    from tests.databases import AWS_RDS

    schema = schema_from_cli(capsys)
    members = [option["$ref"].rsplit("/", 1)[-1] for option in schema["properties"]["database"]["oneOf"]]
    assert members == [provider.__name__ for provider in registry.PROVIDERS]
    # No OpenAPI discriminator: an editor reading it would refuse `database: {}` (embedded).
    assert "discriminator" not in schema["properties"]["database"]
    aws = schema["$defs"]["AwsRdsSettings"]["properties"]
    assert aws["provider"]["const"] == "aws-rds" and "$ref" in aws["awsRds"]
    assert aws["awsRds"]["description"] == registry.find("aws-rds").description
    validator = jsonschema.Draft202012Validator(schema)
    for database in ({}, {"embedded": {"image": {"tag": "16"}}}, {"provider": "cloudnative-pg"}, AWS_RDS["database"]):
        assert not list(validator.iter_errors({"database": database})), database
    for database in ({"provider": "x"}, {"provider": "aws-rds"}, {"awsRds": AWS_RDS["database"]["awsRds"]}):
        assert list(validator.iter_errors({"database": database})), database


@pytest.mark.parametrize("stack", STACK_FILES, ids=lambda p: p.name)
def test_stack_file_schema_accepts_every_stack_file(capsys, stack):
    validator = jsonschema.Draft202012Validator(schema_from_cli(capsys, "--stack-file"))
    errors = [e.message for e in validator.iter_errors(yaml.safe_load(stack.read_text()))]
    assert errors == []


def test_stack_file_schema_takes_secure_values_and_other_namespaces(capsys):
    validator = jsonschema.Draft202012Validator(schema_from_cli(capsys, "--stack-file"))
    document = {
        "config": {
            "aws:region": "us-east-1",
            "heimdall:externalUrl": "https://heimdall.example.com",
            "heimdall:auth": {"github": {"clientId": "x", "clientSecret": {"secure": "AAAB..."}}},
        }
    }
    assert not list(validator.iter_errors(document))
    document["config"]["heimdall:replica"] = 2
    (error,) = validator.iter_errors(document)
    assert "heimdall:replica" in error.message


def test_pulumi_yaml_declares_no_config_so_the_cli_requires_nothing():
    # Every declared key without `default`/`value` is required by `pulumi preview`
    # (tests/conformance/test_cli_config.py); the model is the one source of the keys.
    project = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    assert "config" not in project


def test_schema_takes_a_partial_section_as_the_model_does(capsys):
    # A section set in part merges over its default: the schema must not call the
    # default's keys required (editors would flag the most common upgrade edit).
    validator = jsonschema.Draft202012Validator(schema_from_cli(capsys))
    partial = {"image": {"tag": "2.13.2"}, "database": {"embedded": {"image": {"tag": "16"}}}}
    assert not list(validator.iter_errors(partial))
    Settings.model_validate(partial)
    assert list(validator.iter_errors({"image": {"tga": "2.13.2"}}))


def test_stack_file_schema_takes_what_pulumi_config_set_writes(capsys):
    # `pulumi config set` stores a top-level value as a string, `--path` an integer as a
    # number (pkg/cmd/pulumi/config/config.go, `config set`'s help, pulumi/pulumi v3.259.0):
    # the docs' own lines `pulumi config set replicas 0` and
    # `pulumi config set --path database.embedded.image.tag 18` write these.
    validator = jsonschema.Draft202012Validator(schema_from_cli(capsys, "--stack-file"))
    written = {
        "config": {
            "heimdall:replicas": "0",
            "heimdall:createNamespace": "false",
            # The dump client follows the server's major (pg_dump refuses a newer server).
            "heimdall:database": {"embedded": {"image": {"tag": 18}}, "clientImage": {"tag": 18},
                                  "allowDestroy": True},
        }
    }
    assert not list(validator.iter_errors(written))
    settings_from_config(
        {key: value if isinstance(value, str) else json.dumps(value)
         for key, value in written["config"].items()}
    )
    for wrong in ({"heimdall:replicas": "two"}, {"heimdall:createNamespace": "yes"}):
        assert list(validator.iter_errors({"config": wrong})), wrong


def test_stack_file_schema_refuses_a_plain_text_secret_as_the_program_does(capsys):
    validator = jsonschema.Draft202012Validator(schema_from_cli(capsys, "--stack-file"))
    plain = {"config": {"heimdall:secrets": {"adminPassword": "Long-Admin-Passw0rd!"}}}
    assert list(validator.iter_errors(plain))
    with pytest.raises(SettingsError, match="stored in plain text"):
        settings_from_config(
            {"heimdall:secrets": json.dumps(plain["config"]["heimdall:secrets"])}, secret_keys=set()
        )
    secure = {"config": {"heimdall:secrets": {"adminPassword": {"secure": "v1:AAAB"}}}}
    assert not list(validator.iter_errors(secure))
