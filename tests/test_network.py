"""NetworkPolicies: default deny for the stack's pods, Heimdall on 3000, the embedded
database only from the stack's own pods."""

from __future__ import annotations

from typing import Any

import pytest

from heimdall.tooling.render import run_stack_file
from tests.conftest import STACK_FILES
from tests.pods import pod_templates

EXTERNAL_DB = {
    "database": {
        "provider": "external",
        "external": {"host": "db.example.com", "existingSecret": "db"},
    }
}


def policies(rendering: Any) -> dict[str, dict[str, Any]]:
    return {m["metadata"]["name"]: m for m in rendering.manifests() if m["kind"] == "NetworkPolicy"}


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, "only matchLabels selectors are used"
    return selector.get("matchLabels", {}).items() <= labels.items()


@pytest.mark.parametrize("stack", STACK_FILES, ids=lambda p: p.name)
def test_every_pod_of_every_stack_is_covered_by_a_default_deny(stack):
    rendering = run_stack_file(str(stack))
    deny = policies(rendering)["heimdall-default-deny-ingress"]["spec"]
    assert deny["policyTypes"] == ["Ingress"] and "ingress" not in deny
    for where, template in pod_templates(rendering):
        assert selects(deny["podSelector"], template["metadata"]["labels"]), where


def test_server_admits_port_3000_from_anywhere_by_default(build):
    rendering = build()
    spec = policies(rendering)["heimdall-server"]["spec"]
    server_labels = rendering.manifest("StatefulSet", "heimdall")["spec"]["template"]["metadata"]["labels"]
    assert selects(spec["podSelector"], server_labels)
    database_labels = rendering.manifest("StatefulSet", "heimdall-postgres")["spec"]["template"]["metadata"]["labels"]
    assert not selects(spec["podSelector"], database_labels)
    (rule,) = spec["ingress"]
    assert rule["ports"] == [{"port": 3000, "protocol": "TCP"}]
    assert "from" not in rule
    assert spec["policyTypes"] == ["Ingress"]  # egress stays open


def test_server_admits_only_the_configured_peers(build):
    peers = [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}},
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}},
        }
    ]
    rendering = build({"networkPolicy": {"ingressFrom": peers}})
    (rule,) = policies(rendering)["heimdall-server"]["spec"]["ingress"]
    assert rule["from"] == peers


def test_embedded_database_admits_only_the_stacks_pods_on_its_port(build):
    rendering = build()
    spec = policies(rendering)["heimdall-postgres"]["spec"]
    database = rendering.manifest("StatefulSet", "heimdall-postgres")["spec"]["template"]
    assert selects(spec["podSelector"], database["metadata"]["labels"])
    (rule,) = spec["ingress"]
    port = database["spec"]["containers"][0]["ports"][0]["containerPort"]
    assert rule["ports"] == [{"port": port, "protocol": "TCP"}]
    (peer,) = rule["from"]
    assert set(peer) == {"podSelector"}  # same namespace only
    for where, template in pod_templates(rendering):
        if where.startswith(("Job/", "StatefulSet/heimdall")):
            assert selects(peer["podSelector"], template["metadata"]["labels"]), where


def test_no_database_policy_without_an_embedded_database(build):
    assert set(policies(build(EXTERNAL_DB))) == {"heimdall-default-deny-ingress", "heimdall-server"}


def test_network_policies_can_be_turned_off(build):
    assert not policies(build({"networkPolicy": {"enabled": False}}))


def test_network_policies_do_not_wait_on_the_app(build):
    rendering = build()
    awaited = {
        r.urn
        for r in rendering.registrations
        if r.type in ("kubernetes:apps/v1:StatefulSet", "kubernetes:batch/v1:Job")
    }
    for registration in rendering.resources("kubernetes:networking.k8s.io/v1:NetworkPolicy"):
        assert not awaited & set(registration.dependencies), registration.name
