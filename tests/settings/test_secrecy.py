"""Plain-text secrets are refused leaf by leaf; no refusal repeats a pasted credential.

Pulumi marks secret only whole top-level config keys (pulumi/pulumi
sdk/go/common/resource/config/map.go:105 `SecureKeys`; map_test.go:290 lists an object with
one `secure:` leaf as a secure key), so the program reads the stack file to find which
leaves are encrypted (heimdall/settings/secrecy.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from heimdall.settings.env import env_name_problem
from heimdall.settings.loader import SettingsError, parse_settings
from heimdall.settings.secrecy import file_secure_leaves, plain_secret_leaf, secure_leaves
from heimdall.tooling.render import run_stack_file

JWT = "j" * 40


def test_secure_leaves_are_found_in_nested_objects_and_lists() -> None:
    config = {
        "heimdall:secrets": {"adminPassword": {"secure": "v1:abc"}, "jwtSecret": JWT},
        "heimdall:auth": {"oidc": {"clientSecret": {"secure": "v1:x"}}},
        "heimdall:list": [{"a": {"secure": "v1:y"}}],
        "other:key": {"secure": "v1:z"},
    }
    assert secure_leaves(config) == {"secrets.adminPassword", "auth.oidc.clientSecret", "list.0.a"}


@pytest.mark.parametrize(
    ("values", "plain"),
    [
        ({"secrets": {"adminPassword": "p" * 12, "jwtSecret": JWT}}, "secrets.jwtSecret"),
        (
            {"externalUrl": "https://h.example.com", "auth": {
                "oidc": {"clientId": "a", "clientSecret": "s1", "issuer": "https://i.example.com",
                         "authorizationUrl": "https://i.example.com/a", "tokenUrl": "https://i.example.com/t",
                         "userInfoUrl": "https://i.example.com/u"},
                "github": {"clientId": "b", "clientSecret": "PLAIN-GH"}}},
            "auth.github.clientSecret",
        ),
    ],
)
def test_a_plain_leaf_beside_an_encrypted_one_is_refused_by_its_own_key(values: dict, plain: str) -> None:
    settings = parse_settings(values)
    secure = frozenset({"secrets.adminPassword", "auth.oidc.clientSecret"})
    line = plain_secret_leaf(settings, secure)
    assert line is not None and line.startswith(f"heimdall:{plain} is stored in plain text")
    assert "PLAIN-GH" not in line and JWT not in line
    assert plain_secret_leaf(settings, secure | {plain}) is None


def test_the_render_of_a_stack_file_refuses_the_plain_leaf(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.mixed.yaml"
    stack.write_text(
        "config:\n"
        "  heimdall:secrets:\n"
        "    adminPassword:\n"
        "      secure: v1:AAAAAAAAAAAAAAAA\n"
        f"    jwtSecret: {JWT}\n"
    )
    assert file_secure_leaves(stack) == {"secrets.adminPassword"}
    with pytest.raises(SettingsError, match=r"^heimdall:secrets\.jwtSecret is stored in plain text") as error:
        run_stack_file(str(stack))
    assert JWT not in str(error.value)


@pytest.mark.parametrize(
    ("name", "refused"),
    [
        ("GITLAB_CLIENTSECRET", "auth.gitlab"),
        ("AWS_SECRET_ACCESS_KEY", "looks like a secret"),
        ("GITHUB_TOKEN", "looks like a secret"),
        ("GOOGLE_APPLICATION_CREDENTIALS", "looks like a secret"),  # not Heimdall's: no auth.google hint
        ("NPM_TOKEN", "looks like a secret"),
        ("SMTP_PASSWORD", "looks like a secret"),
        ("api_key", "looks like a secret"),
        ("MY_CREDENTIALS", "looks like a secret"),
        ("PORT", "set by the program"),
        ("NODE_ENV", "set by the program"),
        ("DATABASE_SSL", "set by the program"),
        ("DATABASE_URL", "set by the program"),
        ("EXTERNAL_URL", "externalUrl"),
        ("NODE_EXTRA_CA_CERTS", "caCertificates"),
        ("ADMIN_USES_EXTERNAL_AUTH", "admin.usesExternalAuth"),
    ],
)
def test_env_refuses_program_owned_and_secret_looking_names(name: str, refused: str) -> None:
    problem = env_name_problem(name)
    assert problem is not None and refused in problem and f"env.{name}" in problem


@pytest.mark.parametrize("name", ["HTTPS_PROXY", "NO_PROXY", "TZ", "KEYCLOAK_REALM", "LOG_LEVEL", "TURNKEY"])
def test_env_takes_ordinary_names(name: str) -> None:
    assert env_name_problem(name) is None


PEM = "-----BEGIN CERTIFICATE-----\nMIIBsecretbody\n-----END CERTIFICATE-----\n"


@pytest.mark.parametrize(
    ("values", "where", "pasted"),
    [
        ({"env": {"HTTPS_PROXY": "http://user:Pr0xyPw@proxy:3128"}}, "heimdall: env.HTTPS_PROXY holds a URL", "Pr0xyPw"),
        ({"database": {"provider": "external", "external": {"host": "postgres://app:DbPw99@db:5432/h"}}},
         "heimdall:database.external: host holds a URL", "DbPw99"),
        ({"database": {"tls": {"mode": "verify", "ca": PEM}}}, "heimdall:database.tls: ca holds a PEM block", "MIIBsecretbody"),
        ({"caCertificates": {"files": [PEM]}}, "heimdall:caCertificates: files.0 holds a PEM block", "MIIBsecretbody"),
        ({"backup": {"target": "s3", "s3": {"bucket": "b-1", "existingSecret": "s",
                                              "endpoint": "https://AKIA:S3cr3t@minio:9000"}}},
         "heimdall:backup.s3: endpoint holds a URL", "S3cr3t"),
    ],
)
def test_a_pasted_credential_is_refused_by_its_key_and_never_repeated(values: dict, where: str, pasted: str) -> None:
    with pytest.raises(SettingsError) as error:
        parse_settings(values)
    line = str(error.value)
    assert line.startswith(where) and pasted not in line and "\n" not in line


def test_an_unknown_key_is_named_before_the_required_keys_it_hides() -> None:
    with pytest.raises(SettingsError, match=r"^heimdall:auth\.github: enabled is not a key of this section: a section is on when it is set"):
        parse_settings({"auth": {"github": {"enabled": False}}})


def _text_leaves(model: type, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every key path of the settings model whose value is text (SecretStr left out)."""
    import typing

    from pydantic import BaseModel

    found: list[tuple[str, ...]] = []
    for name, field in model.model_fields.items():
        key = prefix + (field.alias or name,)
        text = str(field.annotation)
        kinds = [a for a in typing.get_args(field.annotation) or (field.annotation,) if isinstance(a, type) and issubclass(a, BaseModel)]
        if kinds:
            found.extend(_text_leaves(kinds[0], key))
        elif "SecretStr" not in text and "str" in text and "dict" not in text and "list" not in text and "int" not in text:
            found.append(key)
    return found


PROVIDER_BASES = {
    "embedded": {},
    "external": {"provider": "external", "external": {"host": "db.example.com", "existingSecret": "db"}},
    "cloudnative-pg": {"provider": "cloudnative-pg", "username": "heimdall"},
}


def _leaves() -> list[tuple[str, tuple[str, ...]]]:
    from heimdall.database import registry
    from heimdall.settings.root import Settings

    cases = []
    for provider in PROVIDER_BASES:
        # The settings, with under `database` the provider's own member of the union.
        paths = [p for p in _text_leaves(Settings) if p[0] != "database"]
        paths += [("database", *p) for p in _text_leaves(registry.find(provider))]
        for path in paths:
            if path[0] == "database" and len(path) > 2 and path[1] not in ("tls", "clientImage") and path[1] != {
                "embedded": "embedded", "external": "external", "cloudnative-pg": "cloudNativePg"}[provider]:
                continue
            cases.append((provider, path))
    return sorted(set(cases))


@pytest.mark.parametrize(("provider", "path"), _leaves(), ids=lambda v: ".".join(v) if isinstance(v, tuple) else v)
def test_a_url_with_a_password_in_any_text_field_is_refused_without_the_password(provider: str, path: tuple[str, ...]) -> None:
    values: dict = {"database": dict(PROVIDER_BASES[provider])}
    node = values
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = "https://user:Zq9PasteD@host.example.com"
    with pytest.raises(SettingsError) as error:
        parse_settings(values)
    assert "Zq9PasteD" not in str(error.value)


def test_pulumi_up_reads_the_running_stacks_file_for_its_secure_leaves(tmp_path: Path) -> None:
    # heimdall/program.py main(): the stack file of pulumi.get_stack() in the project
    # directory; no file (config from elsewhere): only the top-level check applies.
    (tmp_path / "Pulumi.prod.yaml").write_text(
        "config:\n  heimdall:secrets:\n    jwtSecret:\n      secure: v1:AAAA\n    adminPassword: plain\n"
    )
    from heimdall.settings.secrecy import stack_file_secure_leaves

    assert stack_file_secure_leaves("prod", tmp_path) == {"secrets.jwtSecret"}
    assert stack_file_secure_leaves("dev", tmp_path) is None


def test_the_render_command_refuses_the_plain_leaf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from heimdall.tooling.cli import main

    stack = tmp_path / "Pulumi.mixed.yaml"
    stack.write_text(
        "config:\n  heimdall:secrets:\n    adminPassword:\n      secure: v1:AAAA\n"
        f"    jwtSecret: {JWT}\n"
    )
    assert main(["render", str(stack), "--out", str(tmp_path / "out"), "--no-validate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: heimdall:secrets.jwtSecret is stored in plain text") and JWT not in err
