"""HeimdallSecrets: generated, supplied as Pulumi secrets, or an existing Secret."""

from __future__ import annotations

import json

import pytest

from tests.conftest import containers, database_password_secret, env_of
from tests.databases import AWS_RDS, EXTRA_CONFIG

APP_KEYS = {"JWT_SECRET", "API_KEY_SECRET", "ADMIN_PASSWORD"}


def app_secret(rendering) -> dict:
    (secret,) = [
        m
        for m in rendering.manifests()
        if m["kind"] == "Secret" and m["metadata"]["name"].startswith("heimdall-secrets-app")
    ]
    return secret


def test_generated_by_default_with_pulumi_random(build) -> None:
    rendering = build()
    generated = {r.name: r.inputs for r in rendering.resources("random:index/randomPassword")}
    assert set(generated) == {
        "heimdall-secrets-jwt-secret",
        "heimdall-secrets-api-key-secret",
        "heimdall-secrets-admin-password",
        "heimdall-database-password",
    }
    assert generated["heimdall-secrets-jwt-secret"]["length"] >= 32
    admin = generated["heimdall-secrets-admin-password"]
    # Heimdall's password policy: long, with every character class.
    assert admin["length"] >= 15
    assert all(admin[k] >= 1 for k in ("minUpper", "minLower", "minNumeric", "minSpecial"))
    assert set(app_secret(rendering)["stringData"]) == APP_KEYS


def test_supplied_pulumi_secrets_override_the_generated_ones(build) -> None:
    jwt = "j" * 48
    rendering = build(secrets={"secrets": {"jwtSecret": jwt, "adminPassword": "Adm1n-Passw0rd!-long"}})
    names = {r.name for r in rendering.resources("random:")}
    assert "heimdall-secrets-jwt-secret" not in names
    assert "heimdall-secrets-admin-password" not in names
    assert "heimdall-secrets-api-key-secret" in names
    data = app_secret(rendering)["stringData"]
    assert data["JWT_SECRET"] == jwt
    assert rendering.outputs["adminPassword"] == "Adm1n-Passw0rd!-long"
    assert "adminPassword" in rendering.secret_outputs


def test_existing_secret_creates_nothing_and_is_referenced_with_configured_keys(build) -> None:
    rendering = build(
        {"secrets": {"existingSecret": "heimdall-managed", "keys": {"jwtSecret": "jwt"}}}
    )
    assert not rendering.resources("random:")
    assert not [m for m in rendering.manifests() if m["kind"] == "Secret"]
    pod = rendering.manifest("StatefulSet", "heimdall")["spec"]["template"]["spec"]
    env = env_of(containers(pod, "heimdall"))
    assert env["JWT_SECRET"] == {"secret": ("heimdall-managed", "jwt")}
    assert env["API_KEY_SECRET"] == {"secret": ("heimdall-managed", "API_KEY_SECRET")}
    assert env["DATABASE_PASSWORD"] == {"secret": ("heimdall-managed", "DATABASE_PASSWORD")}
    db = rendering.manifest("StatefulSet", "heimdall-postgres")["spec"]["template"]["spec"]
    assert env_of(containers(db, "postgres"))["POSTGRES_PASSWORD"] == {
        "secret": ("heimdall-managed", "DATABASE_PASSWORD")
    }
    # The password is unknown to the program: no adminPassword, no password in the URL.
    assert rendering.outputs["adminPassword"] is None
    assert rendering.outputs["connectionString"].startswith("postgres://postgres@")


def _password_refs(rendering) -> set[str]:
    """The Secret names pod templates read DATABASE_PASSWORD (or POSTGRES_PASSWORD) from."""
    names: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("name") in ("DATABASE_PASSWORD", "POSTGRES_PASSWORD") and "valueFrom" in node:
                names.add(node["valueFrom"]["secretKeyRef"]["name"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for obj in rendering.manifests():
        if obj["kind"] in ("StatefulSet", "Job", "CronJob"):
            walk(obj)
    return names


@pytest.mark.parametrize(
    "values, supplied",
    [
        ({}, {"secrets": {"databasePassword": "Password-one-0123456789"}}),
        (
            {"database": {"provider": "external", "external": {"host": "db.example.com"}}},
            {"database": {"external": {"password": "Password-one-0123456789"}}},
        ),
        (AWS_RDS, {"secrets": {"databasePassword": "Password-one-0123456789"}}),
    ],
    ids=["embedded", "external", "aws-rds"],
)
def test_a_new_database_password_is_a_new_secret_that_rolls_its_readers(build, values, supplied) -> None:
    # A Secret updated in place would leave running pods on the old password until they
    # happen to restart; a new name changes every pod template that reads it.
    before = build(values, secrets=supplied, extra_config=EXTRA_CONFIG)
    changed = json.loads(json.dumps(supplied).replace("Password-one", "Password-two"))
    after = build(values, secrets=changed, extra_config=EXTRA_CONFIG)
    old, new = database_password_secret(before), database_password_secret(after)
    assert old["metadata"]["name"] != new["metadata"]["name"]
    assert _password_refs(before) == {old["metadata"]["name"]}
    assert _password_refs(after) == {new["metadata"]["name"]}
    assert sorted(r.name for r in before.registrations if r.type == "kubernetes:core/v1:Secret") == sorted(
        r.name for r in after.registrations if r.type == "kubernetes:core/v1:Secret"
    )  # the same resources: the Secret is replaced, not added


def test_an_unchanged_password_keeps_its_secret_name(build) -> None:
    assert database_password_secret(build())["metadata"]["name"] == database_password_secret(
        build()
    )["metadata"]["name"]
