"""Heimdall's own settings in its ConfigMap: sessions, login switches, uploads, banners."""

from __future__ import annotations

import pytest

from heimdall.settings.loader import SettingsError, parse_settings


def env(rendering):
    (config_map,) = [
        m for m in rendering.manifests() if m["kind"] == "ConfigMap" and "NODE_ENV" in m["data"]
    ]
    return config_map["data"]


def test_defaults_are_explicit_and_safe(build):
    data = env(build())
    assert data["JWT_EXPIRE_TIME"] == "12h"
    assert data["REGISTRATION_DISABLED"] == "true"
    assert data["LOCAL_LOGIN_DISABLED"] == "false"
    assert data["ONE_SESSION_PER_USER"] == "false"
    assert data["MAX_FILE_UPLOAD_SIZE"] == "50"
    assert not any(k.startswith(("CLASSIFICATION_BANNER", "WARNING_BANNER")) for k in data)


def test_switches_and_banners_reach_the_config_map(build):
    data = env(
        build(
            {
                "jwtExpireTime": "2d",
                "registrationDisabled": False,
                "oneSessionPerUser": True,
                "maxFileUploadSize": 200,
                "banners": {
                    "classification": {"text": "UNCLASSIFIED", "textColor": "white", "color": "green"},
                    "warning": "Authorized use only",
                },
            }
        )
    )
    assert data["JWT_EXPIRE_TIME"] == "2d"
    assert data["REGISTRATION_DISABLED"] == "false"
    assert data["ONE_SESSION_PER_USER"] == "true"
    assert data["MAX_FILE_UPLOAD_SIZE"] == "200"
    assert data["CLASSIFICATION_BANNER_TEXT"] == "UNCLASSIFIED"
    assert data["CLASSIFICATION_BANNER_TEXT_COLOR"] == "white"
    assert data["CLASSIFICATION_BANNER_COLOR"] == "green"
    assert data["WARNING_BANNER"] == "Authorized use only"


def test_a_variable_the_program_sets_is_refused_in_env_naming_its_setting():
    # It would be silently overridden by the program's own value (heimdall/config.py).
    with pytest.raises(SettingsError, match=r"^heimdall:env: env\.JWT_EXPIRE_TIME is set by the program itself.*jwtExpireTime$"):
        parse_settings({"env": {"JWT_EXPIRE_TIME": "60s"}, "jwtExpireTime": "8h"})


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"jwtExpireTime": "3d"}, "caps sessions at 2d"),
        ({"jwtExpireTime": "49h"}, "caps sessions at 2d"),
        ({"jwtExpireTime": "1 day"}, "duration such as"),
        ({"maxFileUploadSize": 0}, "greater than or equal to 1"),
        ({"banners": {"classification": {"color": "red"}}}, "needs text"),
    ],
)
def test_bad_app_settings_fail_with_one_line(values, message):
    with pytest.raises(SettingsError, match=message):
        parse_settings(values)
