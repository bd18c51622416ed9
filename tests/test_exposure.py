"""Gateway API HTTPRoute to Heimdall, alone or beside the Ingress."""

from __future__ import annotations

import copy

import pytest

from heimdall.settings.loader import SettingsError, parse_settings
from heimdall.tooling.render import validate_manifests

GATEWAY = {
    "enabled": True,
    "parentRefs": [{"name": "public", "namespace": "gateways", "sectionName": "https"}],
    "hostnames": ["heimdall.example.com"],
}


def test_route_attaches_to_the_gateway_and_sends_everything_to_the_service(build):
    rendering = build({"gateway": GATEWAY})
    route = rendering.manifest("HTTPRoute", "heimdall")
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    spec = route["spec"]
    assert spec["parentRefs"] == GATEWAY["parentRefs"]
    assert spec["hostnames"] == ["heimdall.example.com"]
    (rule,) = spec["rules"]
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/"}}]
    (backend,) = rule["backendRefs"]
    service = rendering.manifest("Service", backend["name"])
    assert backend["port"] in [p["port"] for p in service["spec"]["ports"]]
    assert rendering.outputs["url"] == "https://heimdall.example.com"


def test_route_host_becomes_external_url(build):
    rendering = build({"gateway": GATEWAY})
    (config_map,) = [
        m for m in rendering.manifests() if m["kind"] == "ConfigMap" and "NODE_ENV" in m["data"]
    ]
    assert config_map["data"]["EXTERNAL_URL"] == "https://heimdall.example.com"


def test_ingress_and_route_may_coexist_and_external_url_wins(build):
    rendering = build(
        {
            "externalUrl": "https://heimdall.example.org",
            "ingress": {"enabled": True, "host": "old.example.com"},
            "gateway": GATEWAY,
        }
    )
    assert rendering.manifest("Ingress", "heimdall")
    assert rendering.manifest("HTTPRoute", "heimdall")
    assert rendering.outputs["url"] == "https://heimdall.example.org"


def test_no_route_by_default(build):
    assert not [m for m in build().manifests() if m["kind"] == "HTTPRoute"]


def test_route_passes_its_schema_and_a_broken_route_does_not(build):
    route = build({"gateway": GATEWAY}).manifest("HTTPRoute", "heimdall")
    assert validate_manifests([route], ["1.34.0"]) == []
    broken = copy.deepcopy(route)
    broken["spec"]["rules"][0]["backendRefs"][0]["port"] = 0
    broken["spec"]["parentRefs"][0]["sectionname"] = "https"
    errors = validate_manifests([broken], ["1.34.0"])
    assert any("port" in e and "minimum" in e for e in errors)
    assert any("sectionname" in e for e in errors)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"gateway": {"enabled": True}}, "at least one parentRefs"),
        ({"gateway": {**GATEWAY, "hostnames": ["*.example.com"]}}, "wildcard"),
        ({"gateway": {**GATEWAY, "hostnames": ["Heimdall.Example.com"]}}, "lowercase DNS host name"),
    ],
)
def test_bad_gateway_settings_fail_with_one_line(values, message):
    with pytest.raises(SettingsError, match=message):
        parse_settings(values)
