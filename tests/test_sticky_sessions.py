"""Sticky sessions: with an OAuth provider (or Tenable) and more than one pod, every place
the program routes traffic keeps a browser on one pod, or the stack is refused.

Heimdall signs the express-session cookie of an OAuth login with a secret random per
process (apps/backend/src/main.ts, `generateDefault()`; CONTEXT.md section 8), so a callback
that reaches another pod than the one that started the login fails.
"""

from __future__ import annotations

from typing import Any

import pytest

from heimdall.settings.loader import SettingsError, parse_settings
from heimdall.tooling import render
from heimdall.workload import NGINX_STICKY_ANNOTATIONS, TRAEFIK_STICKY_ANNOTATIONS

GITHUB = {"github": {"clientId": "gh-client", "existingSecret": "github-oauth"}}
OAUTH = {"externalUrl": "https://heimdall.example.com", "auth": GITHUB}


def ingress(class_name: str | None, **extra: Any) -> dict[str, Any]:
    section = {"enabled": True, "host": "heimdall.example.com", "tlsSecretName": "heimdall-tls", **extra}
    if class_name is not None:
        section["className"] = class_name
    return {"ingress": section}


def test_two_replicas_with_oauth_behind_ingress_nginx_get_cookie_affinity(build):
    rendering = build({**OAUTH, "replicas": 2, **ingress("nginx")})
    annotations = rendering.manifest("Ingress", "heimdall")["metadata"]["annotations"]
    assert {k: annotations[k] for k in NGINX_STICKY_ANNOTATIONS} == NGINX_STICKY_ANNOTATIONS
    service = rendering.manifest("Service", "heimdall")
    assert service["spec"]["sessionAffinity"] == "ClientIP"
    assert not set(TRAEFIK_STICKY_ANNOTATIONS) & set(service["metadata"].get("annotations", {}))
    # spec.sessionAffinity checked against the Kubernetes schemas the render validates with.
    assert render.validate_manifests(rendering.manifests(show_secrets=False)) == []


def test_traefik_reads_its_sticky_cookie_from_the_service(build):
    rendering = build({**OAUTH, "replicas": 3, **ingress("traefik")})
    service = rendering.manifest("Service", "heimdall")
    annotations = service["metadata"]["annotations"]
    assert {k: annotations[k] for k in TRAEFIK_STICKY_ANNOTATIONS} == TRAEFIK_STICKY_ANNOTATIONS
    assert not set(NGINX_STICKY_ANNOTATIONS) & set(
        rendering.manifest("Ingress", "heimdall")["metadata"].get("annotations", {})
    )


def test_traefiks_cookie_goes_on_the_service_even_if_the_ingress_names_it(build):
    # heimdall-helm 3.3.3's values.yaml shows traefik.ingress.kubernetes.io/service.sticky.cookie
    # among the Ingress annotations, where Traefik does not read it.
    on_ingress = {"traefik.ingress.kubernetes.io/service.sticky.cookie": "true"}
    rendering = build({**OAUTH, "replicas": 2, **ingress("traefik", annotations=on_ingress)})
    annotations = rendering.manifest("Service", "heimdall")["metadata"]["annotations"]
    assert annotations["traefik.ingress.kubernetes.io/service.sticky.cookie"] == "true"


def test_an_autoscaler_that_can_grow_past_one_pod_counts(build):
    rendering = build({**OAUTH, "autoscaling": {"enabled": True, "minReplicas": 1, "maxReplicas": 3}})
    assert rendering.manifest("Service", "heimdall")["spec"]["sessionAffinity"] == "ClientIP"


def test_tenable_needs_them_too():
    settings = parse_settings({"replicas": 2, "env": {"TENABLE_HOST_URL": "https://tenable.example.com"}})
    assert settings.sticky_sessions


@pytest.mark.parametrize(
    "values",
    [
        {**OAUTH, "replicas": 1, **ingress("nginx")},  # one pod: nothing to stick to
        {"replicas": 2, **ingress("nginx")},  # no login session: local logins use the JWT only
        {"replicas": 2, "auth": {"ldap": {"host": "ldap.example.com", "searchBase": "dc=example"}}},
    ],
)
def test_no_affinity_where_no_session_can_be_lost(build, values):
    rendering = build(values)
    assert "sessionAffinity" not in rendering.manifest("Service", "heimdall")["spec"]
    if values.get("ingress"):
        annotations = rendering.manifest("Ingress", "heimdall")["metadata"].get("annotations", {})
        assert not set(NGINX_STICKY_ANNOTATIONS) & set(annotations)


def test_the_users_own_annotations_win(build):
    mine = {"nginx.ingress.kubernetes.io/affinity": "cookie", "nginx.ingress.kubernetes.io/session-cookie-name": "mine"}
    rendering = build({**OAUTH, "replicas": 2, **ingress("nginx", annotations=mine)})
    annotations = rendering.manifest("Ingress", "heimdall")["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/session-cookie-name"] == "mine"
    assert "nginx.ingress.kubernetes.io/affinity-mode" not in annotations


def error_of(values: dict[str, Any]) -> str:
    with pytest.raises(SettingsError) as raised:
        parse_settings(values)
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_an_ingress_class_the_program_cannot_make_sticky_is_refused_in_one_line():
    message = error_of({**OAUTH, "replicas": 2, **ingress("gce")})
    assert "auth.github with replicas 2 needs sticky sessions" in message
    assert "className nginx or traefik only (className is gce)" in message
    assert "replicas: 1" in message
    assert "className is unset" in error_of({**OAUTH, "replicas": 2, **ingress(None)})


def test_an_affinity_annotation_of_the_users_controller_is_accepted():
    values = {**OAUTH, "replicas": 2, **ingress("haproxy", annotations={"haproxy-ingress.github.io/affinity": "cookie"})}
    assert parse_settings(values).sticky_sessions


def test_a_gateway_route_cannot_ask_for_session_persistence_and_is_refused():
    # HTTPRoute's sessionPersistence is `<gateway:experimental>` (kubernetes-sigs/gateway-api
    # apis/v1/httproute_types.go:313 at v1.2.0, :327 at v1.6.0): the standard-channel v1
    # CRD the program's route is validated against (heimdall/schemas/) does not have it.
    gateway = {"gateway": {"enabled": True, "parentRefs": [{"name": "public"}], "hostnames": ["heimdall.example.com"]}}
    message = error_of({**OAUTH, **gateway, "autoscaling": {"enabled": True, "maxReplicas": 4}})
    assert "auth.github with autoscaling.maxReplicas 4 needs sticky sessions" in message
    assert "sessionPersistence is experimental-channel only" in message
    assert parse_settings({**OAUTH, **gateway, "replicas": 1}).gateway.enabled
