"""The settings model: defaults, and one clear line for every kind of bad value."""

from __future__ import annotations

import pytest

from heimdall.settings.loader import SettingsError, parse_settings, settings_from_config
from heimdall.settings.root import Settings
from tests.conftest import stack_config


def error_of(values: dict) -> str:
    with pytest.raises(SettingsError) as caught:
        parse_settings(values)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_defaults_follow_the_issue_and_the_image_contract() -> None:
    settings = parse_settings({})
    assert settings.namespace == "heimdall"
    assert settings.create_namespace is True
    assert settings.image.reference == "mitre/heimdall2:2.13.1"
    assert settings.image.pull_policy == "IfNotPresent"
    assert settings.replicas == 1
    assert settings.resources.requests.cpu and settings.resources.limits.memory
    assert settings.database.provider == "embedded"
    assert (settings.database.name, settings.database.username, settings.database.port) == (
        "heimdall",
        "postgres",
        5432,
    )
    assert settings.secrets.existing_secret is None
    assert settings.admin.email == "admin@heimdall.local"
    assert settings.migration.commands == [
        "yarn backend sequelize db:migrate",
        "yarn backend sequelize db:seed:all",
    ]
    assert settings.probes.path == "/server"
    assert (settings.probes.startup.period_seconds, settings.probes.startup.failure_threshold) == (
        10,
        36,
    )
    assert settings.probes.liveness.timeout_seconds == 5
    assert settings.ingress.enabled is False


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"namespce": "x"}, "heimdall:namespce: unknown key"),
        ({"replicas": "many"}, "heimdall:replicas = 'many': Input should be a valid integer"),
        ({"replicas": -1}, "heimdall:replicas = -1: Input should be greater than or equal to 0"),
        ({"database": {"provider": "mysql"}}, "heimdall:database: provider"),
        ({"database": {"provider": "mysql"}}, "provider 'mysql' is not one of: aws-rds, azure-postgres, cloudnative-pg, embedded, external, gcp-cloudsql"),
        ({"database": {"provider": "external"}}, "needs the external section"),
        (
            {"database": {"provider": "external", "external": {}}},
            "heimdall:database.external.host: required but not set",
        ),
        ({"namespace": "Heimdall_Prod"}, "heimdall:namespace = 'Heimdall_Prod': must be a DNS-1123 label"),
        (
            {"database": {"embedded": {"persistence": {"size": "ten gigs"}}}},
            "heimdall:database.embedded.persistence.size = 'ten gigs': must be a Kubernetes quantity",
        ),
        ({"database": {"port": 70000}}, "heimdall:database.port = 70000: Input should be less than or equal to 65535"),
        ({"database": {"name": "heimdall; drop"}}, "must be a PostgreSQL database name"),
        ({"database": {"name": "host=evil"}}, "must be a PostgreSQL database name"),
        ({"database": {"username": "heimdall-app"}}, "must be a PostgreSQL identifier"),
        ({"ingress": {"enabled": True}}, "enabled ingress needs a host"),
        ({"env": {"JWT_SECRET": "x"}}, "env.JWT_SECRET is set by the program itself"),
        ({"env": {"1BAD": "x"}}, "must be an environment variable name"),
        (
            {"database": {"external": {"host": "db.example.com"}}},
            "the external section is set but provider is 'embedded'",
        ),
        ({"image": {"repository": "mitre/heimdall2", "tag": "2.13.1", "pullPolicy": "Sometimes"}}, "'Always', 'IfNotPresent' or 'Never'"),
        ({"externalUrl": "heimdall.example.com"}, "must be an http:// or https:// URL"),
        # heimdall2#7542: a path is doubled in OAuth redirects; EXTERNAL_URL is an origin.
        (
            {"externalUrl": "https://h.example.com/authn"},
            "heimdall:externalUrl = 'https://h.example.com/authn': must be a bare origin such as "
            "https://h.example.com, without '/authn'",
        ),
        ({"externalUrl": "https://h.example.com/heimdall"}, "without '/heimdall'"),
        ({"externalUrl": "https://h.example.com/"}, "must not end with '/': write https://h.example.com"),
        (
            {"secrets": {"existingSecret": "mine", "jwtSecret": "x" * 40}},
            "existingSecret holds every secret; do not also set jwtSecret",
        ),
        ({"secrets": {"jwtSecret": "short"}}, "jwtSecret must be at least 32 characters long"),
    ],
)
def test_bad_values_give_one_line_naming_key_value_and_rule(values: dict, expected: str) -> None:
    assert expected in error_of(values)


def test_secret_values_are_never_echoed_in_errors() -> None:
    message = error_of({"secrets": {"jwtSecret": "hunter2-hunter2"}})
    assert "hunter2" not in message


def test_external_database_needs_a_password_source() -> None:
    message = error_of({"database": {"provider": "external", "external": {"host": "db.example.com"}}})
    assert "database.external needs a password" in message
    # Any one of the sources is enough.
    for values in (
        {"external": {"host": "db.example.com", "existingSecret": "db"}},
        {"external": {"host": "db.example.com", "password": "s3cret"}},
    ):
        parse_settings({"database": {"provider": "external", **values}})
    parse_settings(
        {
            "database": {"provider": "external", "external": {"host": "db.example.com"}},
            "secrets": {"existingSecret": "heimdall"},
        }
    )


def test_plain_text_secret_in_a_stack_file_is_refused() -> None:
    config, _ = stack_config({"secrets": {"adminPassword": "Very-Secret-Password-1"}})
    with pytest.raises(SettingsError) as caught:
        settings_from_config(config, secret_keys=set())
    assert "heimdall:secrets.adminPassword is stored in plain text" in str(caught.value)
    assert "pulumi config set --secret --path secrets.adminPassword" in str(caught.value)
    # The same value, held encrypted by Pulumi, is accepted.
    settings = settings_from_config(config, secret_keys={"heimdall:secrets"})
    assert settings.secrets.admin_password is not None


def test_config_values_arrive_as_strings_and_json_as_pulumi_passes_them() -> None:
    settings = settings_from_config(
        {
            "heimdall:replicas": "3",
            "heimdall:createNamespace": "false",
            "heimdall:database": '{"port": 6543, "embedded": {"image": {"repository": "postgres", "tag": 16}}}',
            "kubernetes:context": "ignored-other-namespace",
        }
    )
    assert settings.replicas == 3
    assert settings.create_namespace is False
    assert settings.database.port == 6543
    assert settings.database.embedded is not None
    assert settings.database.embedded.image.tag == "16"


def test_url_is_external_url_else_ingress_else_in_cluster() -> None:
    assert parse_settings({}).url == "http://heimdall.heimdall.svc.cluster.local:3000"
    assert parse_settings({}).external_url_env is None
    ingress = {"enabled": True, "host": "heimdall.example.com"}
    assert parse_settings({"ingress": ingress}).url == "http://heimdall.example.com"
    tls = {**ingress, "tlsSecretName": "heimdall-tls"}
    assert parse_settings({"ingress": tls}).external_url_env == "https://heimdall.example.com"
    explicit = parse_settings({"externalUrl": "https://scans.example.org", "ingress": tls})
    assert explicit.url == "https://scans.example.org"


def test_settings_are_immutable() -> None:
    settings = parse_settings({})
    with pytest.raises(Exception, match="frozen"):
        settings.replicas = 5  # type: ignore[misc]
    assert isinstance(settings, Settings)


def test_trailing_newlines_and_odd_map_keys_are_refused_on_one_line() -> None:
    assert "must be a DNS-1123 label" in error_of({"namespace": "heimdall\n"})
    message = error_of({"env": {"\n": ""}})
    assert message.startswith('heimdall:env."\\n"."[key]" = \'\\n\':')
    assert "must be an environment variable name" in message


# --- the database union: provider, sections, and the order of the refusals ---------------------


@pytest.mark.parametrize(
    ("database", "line"),
    [
        ({"provider": "x"}, "heimdall:database: provider 'x' is not one of: aws-rds, azure-postgres, cloudnative-pg, embedded, external, gcp-cloudsql"),
        ({"provider": 5}, "heimdall:database: provider '5' is not one of: "),
        ({"provider": None}, "heimdall:database.provider = null: Input should be a valid string"),
        ("embedded", "heimdall:database = 'embedded': Input should be a valid dictionary or instance of Database"),
        # A key the provider takes is named before what is wrong with the provider or a section.
        ({"provider": "x", "name": "bad name!"}, "heimdall:database.name = 'bad name!': must be a PostgreSQL database name"),
        ({"provider": "aws-rds", "name": "bad name!"}, "heimdall:database.name = 'bad name!'"),
        ({"provider": "x", "foo": 1}, "heimdall:database.foo: unknown key"),
        # An error inside the chosen member names the key, not the union's tag.
        ({"embedded": {"persistence": {"size": "10"}}}, "heimdall:database.embedded.persistence.size = '10'"),
        ({"provider": "external", "external": {"host": "db.example.com"}, "cloudSql": {}}, "heimdall:database: the cloudSql section is set but provider is 'external'"),
    ],
)
def test_the_database_union_refuses_with_one_line_naming_the_key(database: object, line: str) -> None:
    with pytest.raises(SettingsError) as error:
        parse_settings({"database": database})
    assert str(error.value).startswith(line)
    assert "\n" not in str(error.value)


def test_a_pasted_credential_as_the_provider_is_refused_without_echo() -> None:
    with pytest.raises(SettingsError) as error:
        parse_settings({"database": {"provider": "https://user:Zq9PasteD@host.example.com"}})
    assert str(error.value).startswith("heimdall:database: provider holds a URL with a password (not shown)")
    assert "Zq9PasteD" not in str(error.value)


def test_each_provider_gets_its_own_model_and_the_effective_tls() -> None:
    from heimdall.database.aws_rds.settings import AwsRdsSettings
    from heimdall.database.embedded.settings import EmbeddedSettings
    from tests.databases import AWS_RDS

    default = parse_settings({}).database
    assert isinstance(default, EmbeddedSettings) and default.embedded.image.tag == "17"
    aws = parse_settings(AWS_RDS).database
    assert isinstance(aws, AwsRdsSettings) and aws.managed and aws.server_major == 17
    # The provider's default mode, set by its TLS rules; the stack set only the CA.
    assert (aws.tls.mode, aws.tls.ca) == ("verify", "certs/rds-global-bundle.pem")
