"""Values the Kubernetes API server would reject are refused by the settings, with one
line, before any resource exists: `pulumi up` would otherwise fail halfway, after the
database exists."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import kubernetes_validate
import pytest

from heimdall.settings.loader import SettingsError, parse_settings
from heimdall.settings.types import quantity_value

REFUSED = [
    (
        {"resources": {"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}}},
        r"^heimdall:resources: requests\.memory 2Gi is above limits\.memory 1Gi",
    ),
    # Against the default limit (1 cpu): a partial section keeps it.
    ({"resources": {"requests": {"cpu": "1500m"}}}, r"requests\.cpu 1500m is above limits\.cpu 1"),
    (
        {"database": {"embedded": {"resources": {"requests": {"memory": "1e9"}}}}},
        r"^heimdall:database\.embedded\.resources: requests\.memory 1e9 is above limits\.memory 256Mi",
    ),
    ({"migration": {"resources": {"limits": {"cpu": "0.1"}}}}, r"requests\.cpu 250m is above limits\.cpu 0\.1"),
    ({"database": {"embedded": {"persistence": {"size": "0"}}}}, r"persistence\.size = '0': must be more than zero"),
    ({"database": {"embedded": {"persistence": {"size": "0Gi"}}}}, r"must be more than zero"),
    ({"backup": {"pvc": {"size": "0.0"}}}, r"^heimdall:backup\.pvc\.size = '0\.0': must be more than zero"),
    ({"backup": {"timeZone": "Europe/Pariss"}}, r"^heimdall:backup\.timeZone = 'Europe/Pariss': must be an IANA time zone"),
    ({"backup": {"timeZone": "Local"}}, r"must be an IANA time zone"),
    ({"backup": {"timeZone": "posix/Europe/Paris"}}, r"must be an IANA time zone"),
    (
        {"image": {"repository": "mitre/heimdall2:2.13.1", "tag": "2.13.1"}},
        r"^heimdall:image\.repository = 'mitre/heimdall2:2\.13\.1': must not carry a tag \(':2\.13\.1'\)",
    ),
    (
        {"database": {"embedded": {"image": {"repository": "postgres@sha256:" + "a" * 64}}}},
        r"must not carry a digest",
    ),
    (
        {"affinity": {"nodeAfinity": {}}},
        r"^heimdall:affinity: nodeAfinity is not a field of Kubernetes Affinity \(fields: nodeAffinity, podAffinity, podAntiAffinity\)$",
    ),
    (
        {"affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1}]}}},
        r"podAntiAffinity\.preferredDuringSchedulingIgnoredDuringExecution\[0\]\.podAffinityTerm is required",
    ),
    (
        {"affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": "100", "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname"}}]}}},
        r"\.weight must be an integer",
    ),
    (
        {"affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"topologyKey": "zone", "labelSelector": {"matchLabels": {"tier": 1}}}]}}},
        r"labelSelector\.matchLabels\.tier must be a string",
    ),
    (
        {"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone"}]},
        r"^heimdall:topologySpreadConstraints\.0: whenUnsatisfiable is required in Kubernetes TopologySpreadConstraint$",
    ),
    (
        {"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule", "labelSelecter": {}}]},
        r"labelSelecter is not a field of Kubernetes TopologySpreadConstraint",
    ),
    (
        {"networkPolicy": {"ingressFrom": [{"podSelectr": {}}]}},
        r"^heimdall:networkPolicy\.ingressFrom\.0: podSelectr is not a field of Kubernetes NetworkPolicyPeer",
    ),
    ({"networkPolicy": {"ingressFrom": [{"ipBlock": {}}]}}, r"ipBlock\.cidr is required in Kubernetes IPBlock"),
    ({"tolerations": [{"key": "a", "effectt": "NoSchedule"}]}, r"^heimdall:tolerations\.0\.effectt: unknown key"),
    ({"securityContext": {"runAsUsr": 5}}, r"^heimdall:securityContext\.runAsUsr: unknown key"),
    ({"podSecurityContext": {"seccompProfile": {"typ": "RuntimeDefault"}}}, r"seccompProfile\.typ: unknown key"),
]


@pytest.mark.parametrize(("values", "message"), REFUSED, ids=[m for _, m in REFUSED])
def test_values_the_api_server_rejects_are_refused_in_one_line(values: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message) as error:
        parse_settings(values)
    assert "\n" not in str(error.value)


ACCEPTED: list[dict[str, Any]] = [
    {"resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1000m", "memory": "1024Mi"}}},
    {"resources": {"requests": {"memory": "1G"}, "limits": {"memory": "1Gi"}}},  # 10^9 < 2^30
    {"database": {"embedded": {"persistence": {"size": "1Ki"}}}},
    {"backup": {"timeZone": "America/Argentina/Buenos_Aires"}},
    {"backup": {"timeZone": "US/Eastern"}},  # a backward link: Go's embedded tzdata has it
    {"image": {"repository": "registry.example.com:5000/mitre/heimdall2", "tag": "2.13.1"}},
    {
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["apps"]}]}
                    ]
                }
            },
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "podAffinityTerm": {
                            "topologyKey": "kubernetes.io/hostname",
                            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "heimdall"}},
                        },
                    }
                ]
            },
        },
        "topologySpreadConstraints": [
            {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway",
             "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "heimdall"}}}
        ],
        "networkPolicy": {
            "ingressFrom": [
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}},
                {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}},
            ]
        },
    },
]


@pytest.mark.parametrize("values", ACCEPTED)
def test_values_the_api_server_takes_still_pass(values: dict) -> None:
    parse_settings(values)


def test_quantities_compare_as_the_api_server_compares_them() -> None:
    assert quantity_value("500m") == Decimal("0.5")
    assert quantity_value("1Ki") == 1024
    assert quantity_value("1e3") == 1000 == quantity_value("1k")
    assert quantity_value("1.5Gi") == Decimal(3 * 2**29)
    assert quantity_value("1G") < quantity_value("1Gi")


def _pod(affinity: dict) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "x"},
        "spec": {"containers": [{"name": "x", "image": "x"}], "affinity": affinity},
    }


@pytest.mark.parametrize(
    "affinity",
    [
        {"nodeAfinity": {}},
        {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": {}}]}},
        {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": "1", "podAffinityTerm": {"topologyKey": "k"}}]}},
        ACCEPTED[-1]["affinity"],
    ],
)
def test_the_settings_agree_with_the_kubernetes_schema(affinity: dict) -> None:
    # The settings check (pulumi-kubernetes' types, in the core install) and the render's
    # strict schema validation (kubernetes-validate, a development tool) agree.
    try:
        kubernetes_validate.validate(_pod(affinity), "1.34.0", strict=True)
        schema_ok = True
    except kubernetes_validate.ValidationError:
        schema_ok = False
    try:
        parse_settings({"affinity": affinity})
        settings_ok = True
    except SettingsError:
        settings_ok = False
    assert settings_ok == schema_ok
