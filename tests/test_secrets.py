"""HeimdallSecrets: generated, supplied as Pulumi secrets, or an existing Secret."""

from __future__ import annotations

from tests.conftest import containers, env_of

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
