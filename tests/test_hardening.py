"""Hardened pods: security contexts and their overrides, resources on every container,
scheduling options, extra labels and annotations."""

from __future__ import annotations

import pytest

from heimdall.settings.loader import SettingsError, parse_settings
from heimdall.tooling.render import run_stack_file, validate_manifests
from tests.conftest import STACK_FILES, containers
from tests.pods import all_containers, pod_templates, template_of


def is_heimdall_pod(where: str) -> bool:
    return where == "StatefulSet/heimdall" or where.startswith("Job/")


@pytest.mark.parametrize("stack", STACK_FILES, ids=lambda p: p.name)
def test_every_container_of_every_stack_is_hardened_and_bounded(stack):
    rendering = run_stack_file(str(stack))
    templates = list(pod_templates(rendering))
    assert templates
    for where, template in templates:
        spec = template["spec"]
        assert spec["automountServiceAccountToken"] is False, where
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True, where
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, where
        for container in all_containers(spec):
            label = f"{where} {container['name']}"
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, label
            assert context["privileged"] is False, label
            assert context["readOnlyRootFilesystem"] is True, label
            assert context["capabilities"] == {"drop": ["ALL"]}, label
            assert context["runAsNonRoot"] is True, label
            resources = container["resources"]
            for kind in ("requests", "limits"):
                assert set(resources[kind]) >= {"cpu", "memory"}, label
        # Scratch space is bounded too: a runaway writer gets its own pod evicted instead
        # of filling the node's disk under every other pod on it.
        for volume in spec.get("volumes", []):
            if "emptyDir" in volume:
                assert volume["emptyDir"].get("sizeLimit"), f"{where} volume {volume['name']}"


def test_read_only_root_filesystem_leaves_tmp_writable(build):
    rendering = build()
    for where, template in pod_templates(rendering):
        volumes = {v["name"]: v for v in template["spec"]["volumes"]}
        for container in template["spec"]["containers"]:
            tmp = [m for m in container.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
            assert tmp, f"{where} {container['name']} has no /tmp"
            assert "emptyDir" in volumes[tmp[0]["name"]]


def test_security_context_overrides_replace_and_remove_keys(build):
    rendering = build(
        {
            # OpenShift: the platform picks the uid, so the program must not set one.
            "podSecurityContext": {"runAsUser": None, "runAsGroup": None, "fsGroup": None},
            "securityContext": {
                "runAsUser": None,
                "runAsGroup": None,
                "readOnlyRootFilesystem": False,
                "capabilities": {"add": ["NET_BIND_SERVICE"]},
            },
        }
    )
    for kind in ("StatefulSet", "Job"):
        spec = template_of(rendering, kind, "heimdall" if kind == "StatefulSet" else None)["spec"]
        pod = spec["securityContext"]
        assert pod == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
        for container in all_containers(spec):
            context = container["securityContext"]
            assert "runAsUser" not in context and "runAsGroup" not in context
            assert context["readOnlyRootFilesystem"] is False
            assert context["capabilities"] == {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}
            assert context["allowPrivilegeEscalation"] is False  # untouched default
    # The embedded database keeps its own hardened context.
    database = template_of(rendering, "StatefulSet", "heimdall-postgres")["spec"]
    assert database["securityContext"]["runAsUser"] == 999
    assert containers(database, "postgres")["securityContext"]["readOnlyRootFilesystem"] is True


def test_scheduling_options_reach_the_right_pods(build):
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["apps"]}]}
                ]
            }
        }
    }
    rendering = build(
        {
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "tolerations": [{"key": "dedicated", "value": "heimdall", "effect": "NoSchedule"}],
            "affinity": affinity,
        }
    )
    for where, template in pod_templates(rendering):
        spec = template["spec"]
        assert spec["nodeSelector"] == {"kubernetes.io/os": "linux"}, where
        assert spec["tolerations"] == [
            {"key": "dedicated", "operator": "Equal", "value": "heimdall", "effect": "NoSchedule"}
        ], where
        if is_heimdall_pod(where):
            assert spec["affinity"] == affinity, where
        else:
            assert "affinity" not in spec, where


def test_more_than_one_pod_spreads_softly_over_nodes_by_default(build):
    one = template_of(build(), "StatefulSet", "heimdall")["spec"]
    assert "topologySpreadConstraints" not in one
    two = template_of(build({"replicas": 2}), "StatefulSet", "heimdall")
    (constraint,) = two["spec"]["topologySpreadConstraints"]
    assert constraint["whenUnsatisfiable"] == "ScheduleAnyway"
    assert constraint["topologyKey"] == "kubernetes.io/hostname"
    selected = constraint["labelSelector"]["matchLabels"]
    assert selected.items() <= two["metadata"]["labels"].items()
    none = template_of(build({"replicas": 2, "topologySpreadConstraints": []}), "StatefulSet", "heimdall")
    assert "topologySpreadConstraints" not in none["spec"]
    custom = [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
               "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "heimdall"}}}]
    zones = template_of(build({"replicas": 3, "topologySpreadConstraints": custom}), "StatefulSet", "heimdall")
    assert zones["spec"]["topologySpreadConstraints"] == custom


def test_extra_labels_and_annotations_reach_every_object_but_no_selector(build):
    rendering = build(
        {
            "replicas": 2,
            "labels": {"team": "secops"},
            "annotations": {"example.com/owner": "secops"},
            "podLabels": {"sidecar.istio.io/inject": "false"},
            "podAnnotations": {"example.com/scrape": "no"},
        }
    )
    for obj in rendering.manifests():
        metadata = obj["metadata"]
        assert metadata["labels"]["team"] == "secops", obj["kind"]
        assert metadata["annotations"]["example.com/owner"] == "secops", obj["kind"]
        selector = (obj.get("spec") or {}).get("selector") or {}
        assert "team" not in (selector.get("matchLabels") or {}), obj["kind"]
    for where, template in pod_templates(rendering):
        labels = template["metadata"]["labels"]
        assert labels["team"] == "secops", where
        if is_heimdall_pod(where):
            assert labels["sidecar.istio.io/inject"] == "false", where
            assert template["metadata"]["annotations"]["example.com/scrape"] == "no", where
        else:
            assert "sidecar.istio.io/inject" not in labels, where
    # The Job's own annotation survives the user's.
    job = rendering.manifest("Job")
    assert job["metadata"]["annotations"]["pulumi.com/replaceUnready"] == "true"


def test_a_later_stack_does_not_inherit_extra_labels(build):
    build({"labels": {"team": "secops"}})
    plain = build()
    assert "team" not in plain.manifest("Service", "heimdall")["metadata"]["labels"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"labels": {"app.kubernetes.io/name": "x"}}, "managed by the program"),
        ({"podLabels": {"bad key!": "x"}}, "not a valid label"),
        ({"labels": {"team": "not valid!"}}, "label value"),
        ({"securityContext": {"capabilities": {"add": "NET_ADMIN"}}}, "valid list"),
        ({"tolerations": [{"operator": "Sometimes"}]}, "Equal"),
    ],
)
def test_bad_hardening_settings_fail_with_one_line(values, message):
    with pytest.raises(SettingsError, match=message):
        parse_settings(values)


@pytest.mark.parametrize("key", ["annotations", "podAnnotations"])
@pytest.mark.parametrize(
    "annotation", ["pulumi.com/skipAwait", "pulumi.com/timeoutSeconds", "pulumi.com/replaceUnready"]
)
def test_pulumi_annotations_are_refused_where_they_would_reach_the_jobs_and_statefulsets(
    key, annotation
):
    # On the migration Job and the StatefulSets, pulumi.com/skipAwait would let Heimdall
    # roll while migrations run and report a failed migration as a success.
    with pytest.raises(SettingsError) as caught:
        parse_settings({key: {"example.com/owner": "secops", annotation: "true"}})
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"heimdall:{key}: annotation '{annotation}' is read by Pulumi")
    # The leaf objects keep taking them (docs/upgrades.md: skipAwait on an Ingress whose
    # controller publishes no address).
    parse_settings({"ingress": {"enabled": True, "host": "h.example.com", "annotations": {"pulumi.com/skipAwait": "true"}}})
    parse_settings({"gateway": {"annotations": {"pulumi.com/waitFor": "condition=Accepted"}}})


def test_image_digest_pins_the_exact_image(build):
    digest = "sha256:" + "a" * 64
    rendering = build({"image": {"repository": "mitre/heimdall2", "tag": "2.13.1", "digest": digest}})
    server = containers(template_of(rendering, "StatefulSet", "heimdall")["spec"], "heimdall")
    assert server["image"] == f"mitre/heimdall2:2.13.1@{digest}"


def test_every_option_on_renders_objects_valid_against_the_kubernetes_schemas(build):
    rendering = build(
        {
            "externalUrl": "https://heimdall.example.com",
            "autoscaling": {"enabled": True, "targetMemoryUtilization": 80},
            "gateway": {"enabled": True, "parentRefs": [{"name": "public", "port": 443}], "hostnames": ["heimdall.example.com"]},
            "ingress": {"enabled": True, "host": "heimdall.example.com", "tlsSecretName": "tls"},
            "caCertificates": {"existingConfigMap": "corp-ca"},
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30}],
            "affinity": {
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
                }
            },
            "podSecurityContext": {"fsGroupChangePolicy": "OnRootMismatch", "supplementalGroups": [2000]},
            "securityContext": {"seccompProfile": {"type": "Localhost", "localhostProfile": "heimdall.json"}},
            "networkPolicy": {"ingressFrom": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]},
            "labels": {"team": "secops"},
            "podAnnotations": {"example.com/scrape": "no"},
        }
    )
    kinds = {m["kind"] for m in rendering.manifests()}
    assert {"HorizontalPodAutoscaler", "PodDisruptionBudget", "HTTPRoute", "NetworkPolicy"} <= kinds
    assert validate_manifests(rendering.manifests(show_secrets=False)) == []
