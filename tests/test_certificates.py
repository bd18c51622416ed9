"""Extra CA certificates: one ConfigMap bundle, mounted for NODE_EXTRA_CA_CERTS."""

from __future__ import annotations

from pathlib import Path

import pytest

from heimdall.settings.loader import SettingsError, parse_settings
from tests.conftest import containers
from tests.pods import template_of

TEST_CA = Path(__file__).parent / "data" / "test-ca.pem"


def env(rendering):
    (config_map,) = [
        m for m in rendering.manifests() if m["kind"] == "ConfigMap" and "NODE_ENV" in m["data"]
    ]
    return config_map["data"]


def mounted_file(rendering, kind, container, name=None):
    """(ConfigMap name, key) mounted at NODE_EXTRA_CA_CERTS in that container."""
    path = env(rendering)["NODE_EXTRA_CA_CERTS"]
    spec = template_of(rendering, kind, name)["spec"]
    mounts = containers(spec, container)["volumeMounts"]
    (mount,) = [m for m in mounts if path.startswith(m["mountPath"] + "/")]
    assert mount["readOnly"] is True
    (volume,) = [v for v in spec["volumes"] if v["name"] == mount["name"]]
    file_name = path.removeprefix(mount["mountPath"] + "/")
    (item,) = [i for i in volume["configMap"]["items"] if i["path"] == file_name]
    return volume["configMap"]["name"], item["key"]


def test_files_become_one_bundle_mounted_in_the_server_and_the_job(build, tmp_path):
    second = tmp_path / "second.pem"
    second.write_text(TEST_CA.read_text())
    rendering = build({"caCertificates": {"files": [str(TEST_CA), str(second)]}})
    server = mounted_file(rendering, "StatefulSet", "heimdall", "heimdall")
    job = mounted_file(rendering, "Job", "migrate")
    assert server == job
    bundle = rendering.manifest("ConfigMap", server[0])["data"][server[1]]
    assert bundle.count("-----BEGIN CERTIFICATE-----") == 2
    assert TEST_CA.read_text().strip() in bundle


def test_existing_config_map_is_mounted_and_nothing_is_created(build):
    rendering = build({"caCertificates": {"existingConfigMap": "corp-ca", "existingConfigMapKey": "bundle.pem"}})
    assert mounted_file(rendering, "StatefulSet", "heimdall", "heimdall") == ("corp-ca", "bundle.pem")
    # Only the app's environment (and the stack's namespace claim): no CA bundle.
    assert [m["metadata"]["name"] for m in rendering.manifests() if m["kind"] == "ConfigMap"] == [
        m["metadata"]["name"]
        for m in rendering.manifests()
        if m["kind"] == "ConfigMap" and ("NODE_ENV" in m["data"] or "stack" in m["data"])
    ]


def test_no_bundle_no_variable(build):
    rendering = build()
    assert "NODE_EXTRA_CA_CERTS" not in env(rendering)


def test_a_private_key_is_refused(tmp_path):
    leaky = tmp_path / "leaky.pem"
    leaky.write_text(TEST_CA.read_text() + "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n")
    with pytest.raises(SettingsError, match="holds a private key"):
        parse_settings({"caCertificates": {"files": [str(leaky)]}})


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"caCertificates": {"files": ["/nonexistent/ca.pem"]}}, "cannot read"),
        ({"caCertificates": {"files": [str(Path(__file__).parent / "conftest.py")]}}, "no PEM certificate"),
        ({"caCertificates": {"files": [str(TEST_CA)], "existingConfigMap": "x"}}, "not both"),
    ],
)
def test_bad_ca_settings_fail_with_one_line(values, message):
    with pytest.raises(SettingsError, match=message):
        parse_settings(values)
