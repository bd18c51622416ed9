"""heimdall/config.py: Heimdall's plain environment from `ConfigArgs` (and, end to end,
the ConfigMap and ServiceAccount the pods share)."""

from __future__ import annotations

import dataclasses

from heimdall.certificates import BUNDLE_PATH
from heimdall.config import ConfigArgs, application_env
from heimdall.settings.app import Banners
from heimdall.settings.auth import Auth
from tests.conftest import BuildFn, env_config_map

ARGS = ConfigArgs(
    admin_email="admin@example.com",
    jwt_expire_time="12h",
    local_login_disabled=False,
    registration_disabled=True,
    one_session_per_user=False,
    max_file_upload_size=50,
    banners=Banners(),
    auth=Auth(),
)


def test_heimdalls_switches_are_always_set_explicitly() -> None:
    assert application_env(ARGS) == {
        "JWT_EXPIRE_TIME": "12h",
        "LOCAL_LOGIN_DISABLED": "false",
        "REGISTRATION_DISABLED": "true",
        "ONE_SESSION_PER_USER": "false",
        "MAX_FILE_UPLOAD_SIZE": "50",
    }


def test_banners_and_the_ca_bundle_when_set() -> None:
    banners = Banners.model_validate({"classification": {"text": "UNCLASSIFIED", "color": "green"}, "warning": "Authorized use only"})
    env = application_env(dataclasses.replace(ARGS, banners=banners, ca_certificates=True))
    assert env["CLASSIFICATION_BANNER_TEXT"] == "UNCLASSIFIED"
    assert env["CLASSIFICATION_BANNER_COLOR"] == "green"
    assert "CLASSIFICATION_BANNER_TEXT_COLOR" not in env
    assert env["WARNING_BANNER"] == "Authorized use only"
    assert env["NODE_EXTRA_CA_CERTS"] == BUNDLE_PATH


def test_the_users_env_beside_the_managed_keys_and_no_secret(build: BuildFn) -> None:
    # End to end: heimdall_env's DATABASE_PORT is an Output, made only inside a program.
    # (A managed key in `env` is refused by the settings, heimdall/settings/env.py.)
    rendering = build({"env": {"TZ": "UTC"}, "externalUrl": "https://h.example.com"})
    data = env_config_map(rendering)["data"]
    assert data["NODE_ENV"] == "production"
    assert data["TZ"] == "UTC"
    assert data["EXTERNAL_URL"] == "https://h.example.com"
    assert data["DATABASE_PORT"] == "5432"
    assert "DATABASE_PASSWORD" not in data


def test_no_external_url_when_the_stack_does_not_know_it(build: BuildFn) -> None:
    assert "EXTERNAL_URL" not in env_config_map(build({}))["data"]


def test_the_config_map_carries_the_settings_end_to_end(build: BuildFn) -> None:
    rendering = build({"env": {"TZ": "UTC"}, "registrationDisabled": True, "admin": {"email": "root@example.com"}})
    data = env_config_map(rendering)["data"]
    assert data["TZ"] == "UTC"
    assert data["REGISTRATION_DISABLED"] == "true"
    assert data["ADMIN_EMAIL"] == "root@example.com"
    account = rendering.manifest("ServiceAccount", "heimdall")
    assert account["automountServiceAccountToken"] is False
