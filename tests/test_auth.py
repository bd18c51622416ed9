"""Login providers: the plain variables in the ConfigMap, the secrets by reference only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from heimdall.settings.loader import SettingsError, parse_settings
from tests.conftest import containers, env_of

TEST_CA = Path(__file__).parent / "data" / "test-ca.pem"
EXTERNAL = {"externalUrl": "https://heimdall.example.com"}
OIDC = {
    "issuer": "https://idp.example.com",
    "authorizationUrl": "https://idp.example.com/auth",
    "tokenUrl": "https://idp.example.com/token",
    "userInfoUrl": "https://idp.example.com/userinfo",
    "clientId": "heimdall",
}
# Distinct values, so a leak anywhere is found by a plain substring search.
SECRET_VALUES = {
    "ldap": "ldap-bind-password-Zq8v",
    "github": "github-client-secret-Yp7u",
    "gitlab": "gitlab-client-secret-Xo6t",
    "google": "google-client-secret-Wn5s",
    "okta": "okta-client-secret-Vm4r",
    "oidc": "oidc-client-secret-Ul3q",
    "jwt": "jwt-secret-value-0123456789abcdefghijklmnopqrstuv",
    "apiKey": "api-key-secret-0123456789abcdefghijklmnopqrstuv",
    "admin": "Admin-Password-1234!x",
    "database": "database-password-Tk2p",
}


def all_providers_plain() -> dict[str, Any]:
    return {
        "ldap": {
            "host": "ldap.example.com",
            "bindDn": "cn=heimdall,dc=example,dc=com",
            "searchBase": "dc=example,dc=com",
        },
        "github": {"clientId": "gh-id"},
        "gitlab": {"clientId": "gl-id", "baseUrl": "https://gitlab.example.com"},
        "google": {"clientId": "google-id"},
        "okta": {"clientId": "okta-id", "domain": "example.okta.com"},
        "oidc": dict(OIDC),
    }


def all_provider_secrets() -> dict[str, Any]:
    return {
        "ldap": {"bindPassword": SECRET_VALUES["ldap"]},
        **{
            name: {"clientSecret": SECRET_VALUES[name]}
            for name in ("github", "gitlab", "google", "okta", "oidc")
        },
    }


def server(rendering: Any) -> dict[str, Any]:
    spec = rendering.manifest("StatefulSet", "heimdall")["spec"]["template"]["spec"]
    return containers(spec, "heimdall")


def config_env(rendering: Any) -> dict[str, str]:
    (config_map,) = [
        m
        for m in rendering.manifests()
        if m["kind"] == "ConfigMap" and "NODE_ENV" in (m.get("data") or {})
    ]
    data: dict[str, str] = config_map["data"]
    return data


def test_every_provider_secret_is_a_secret_reference_with_heimdalls_variable_name(build):
    rendering = build(
        {**EXTERNAL, "auth": all_providers_plain()}, secrets={"auth": all_provider_secrets()}
    )
    env = env_of(server(rendering))
    variables = {
        "LDAP_PASSWORD",
        "GITHUB_CLIENTSECRET",
        "GITLAB_SECRET",
        "GOOGLE_CLIENTSECRET",
        "OKTA_CLIENTSECRET",
        "OIDC_CLIENT_SECRET",
    }
    refs = {name: env[name]["secret"] for name in variables}
    (secret_name,) = {name for name, _ in refs.values()}
    assert all(key == name for name, (_, key) in refs.items())
    (secret,) = [m for m in rendering.manifests() if m["metadata"]["name"] == secret_name]
    assert secret["kind"] == "Secret"
    assert set(secret["stringData"]) == variables
    # GitLab's secret has its own name in Heimdall; the generic one would be ignored.
    assert "GITLAB_CLIENTSECRET" not in env


def test_no_secret_value_reaches_a_config_map_an_env_value_or_a_command(build):
    secrets = {
        "auth": all_provider_secrets(),
        "secrets": {
            "jwtSecret": SECRET_VALUES["jwt"],
            "apiKeySecret": SECRET_VALUES["apiKey"],
            "adminPassword": SECRET_VALUES["admin"],
            "databasePassword": SECRET_VALUES["database"],
        },
    }
    rendering = build({**EXTERNAL, "auth": all_providers_plain()}, secrets=secrets)
    values = set(SECRET_VALUES.values())
    for obj in rendering.manifests(show_secrets=True):
        if obj["kind"] == "Secret":
            continue
        text = repr(obj)
        leaked = [v for v in values if v in text]
        assert not leaked, f"{obj['kind']}/{obj['metadata']['name']} carries {leaked}"
    # ...and the Secrets really hold them, wrapped as Pulumi secrets in the engine's view.
    secret_inputs = [r for r in rendering.resources("kubernetes:core/v1:Secret")]
    held = repr([r.inputs for r in secret_inputs])
    assert all(v in held for v in values)
    # The rendered files mask them.
    assert not any(v in repr(rendering.manifests(show_secrets=False)) for v in values)


def test_config_map_holds_each_providers_plain_variables(build):
    rendering = build(
        {**EXTERNAL, "auth": all_providers_plain()}, secrets={"auth": all_provider_secrets()}
    )
    env = config_env(rendering)
    assert env["LDAP_ENABLED"] == "true"
    assert env["LDAP_HOST"] == "ldap.example.com"
    assert env["LDAP_PORT"] == "389"
    assert env["LDAP_BINDDN"] == "cn=heimdall,dc=example,dc=com"
    assert env["LDAP_SEARCHBASE"] == "dc=example,dc=com"
    assert env["LDAP_SSL"] == "false"
    assert env["GITHUB_CLIENTID"] == "gh-id"
    assert env["GITLAB_CLIENTID"] == "gl-id"
    assert env["GITLAB_BASEURL"] == "https://gitlab.example.com"
    assert env["GOOGLE_CLIENTID"] == "google-id"
    assert env["OKTA_DOMAIN"] == "example.okta.com"
    assert env["OKTA_CLIENTID"] == "okta-id"
    assert env["OIDC_ISSUER"] == "https://idp.example.com"
    assert env["OIDC_CLIENTID"] == "heimdall"
    assert env["OIDC_USES_PKCE_S256"] == "true"
    assert env["OIDC_USES_PKCE_PLAIN"] == "false"
    assert env["EXTERNAL_URL"] == "https://heimdall.example.com"
    assert not any(k in env for k in ("LDAP_PASSWORD", "OIDC_CLIENT_SECRET", "GITLAB_SECRET"))


def test_existing_secret_is_referenced_with_its_key_and_nothing_is_created(build):
    rendering = build(
        {
            **EXTERNAL,
            "auth": {
                "gitlab": {"clientId": "gl", "existingSecret": "oauth"},
                "oidc": {**OIDC, "existingSecret": "oauth", "existingSecretKey": "oidc-secret"},
            },
        }
    )
    env = env_of(server(rendering))
    assert env["GITLAB_SECRET"] == {"secret": ("oauth", "GITLAB_SECRET")}
    assert env["OIDC_CLIENT_SECRET"] == {"secret": ("oauth", "oidc-secret")}
    assert not [
        r for r in rendering.resources("kubernetes:core/v1:Secret") if "-auth-" in r.name
    ]


def test_only_the_server_gets_login_secrets_not_the_migration_job(build):
    rendering = build(
        {**EXTERNAL, "auth": {"github": {"clientId": "gh"}}},
        secrets={"auth": {"github": {"clientSecret": "s3cr3t"}}},
    )
    job_spec = rendering.manifest("Job")["spec"]["template"]["spec"]
    assert "GITHUB_CLIENTSECRET" not in env_of(containers(job_spec, "migrate"))
    assert "GITHUB_CLIENTSECRET" in env_of(server(rendering))


def test_ldap_over_tls_points_ldap_ssl_ca_at_the_mounted_bundle(build):
    rendering = build(
        {
            "caCertificates": {"files": [str(TEST_CA)]},
            "auth": {
                "ldap": {
                    "host": "ldap.example.com",
                    "port": 636,
                    "searchBase": "dc=example,dc=com",
                    "ssl": True,
                }
            },
        }
    )
    env = config_env(rendering)
    assert env["LDAP_SSL"] == "true"
    assert env["LDAP_SSL_INSECURE"] == "false"
    assert env["LDAP_SSL_CA"] == env["NODE_EXTRA_CA_CERTS"]
    mounts = {m["mountPath"] for m in server(rendering)["volumeMounts"]}
    assert any(env["LDAP_SSL_CA"].startswith(path + "/") for path in mounts)


def test_plain_text_client_secret_in_the_stack_file_is_refused(build):
    with pytest.raises(SettingsError, match="heimdall:auth.github.clientSecret is stored in plain text"):
        build({**EXTERNAL, "auth": {"github": {"clientId": "gh", "clientSecret": "oops"}}})


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"auth": {"github": {"clientId": "gh", "existingSecret": "s"}}}, "needs externalUrl"),
        ({**EXTERNAL, "auth": {"github": {"clientId": "gh"}}}, "clientSecret is required"),
        (
            {**EXTERNAL, "auth": {"oidc": {**OIDC, "existingSecret": "s", "usesPkcePlain": True}}},
            "usesPkceS256 or usesPkcePlain",
        ),
        (
            {"auth": {"ldap": {"host": "ldap.example.com", "searchBase": "dc=x", "ssl": True}}},
            "needs caCertificates",
        ),
        (
            {"auth": {"ldap": {"host": "ldap.example.com", "searchBase": "dc=x", "bindDn": "cn=a"}}},
            "bindPassword is required",
        ),
        (
            {"auth": {"ldap": {"host": "ldap.example.com", "searchBase": "dc=x", "existingSecret": "s"}}},
            "needs bindDn",
        ),
        ({"localLoginDisabled": True}, "needs an auth provider"),
        ({"auth": {"okta": {"clientId": "a", "existingSecret": "s"}}}, "domain"),
    ],
)
def test_bad_auth_settings_fail_with_one_line(values, message):
    with pytest.raises(SettingsError, match=message) as error:
        parse_settings(values)
    assert "\n" not in str(error.value)


def test_oauth_provider_takes_external_url_from_the_ingress_host():
    settings = parse_settings(
        {
            "ingress": {"enabled": True, "host": "heimdall.example.com", "tlsSecretName": "tls"},
            "auth": {"google": {"clientId": "g", "existingSecret": "s"}},
        }
    )
    assert settings.external_url_env == "https://heimdall.example.com"


def test_secret_values_never_appear_in_settings_errors():
    with pytest.raises(SettingsError) as error:
        parse_settings(
            {
                **EXTERNAL,
                "auth": {
                    "github": {"clientId": "gh", "clientSecret": "hunter2-value", "existingSecret": "s"}
                },
            }
        )
    assert "hunter2-value" not in str(error.value)
