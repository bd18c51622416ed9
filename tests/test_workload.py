"""HeimdallWorkload and the Heimdall contract: env, commands, probes, order."""

from __future__ import annotations

import pytest

from tests.conftest import containers, env_config_map, env_of


def app_pod(rendering) -> dict:
    return rendering.manifest("StatefulSet", "heimdall")["spec"]["template"]["spec"]


def test_app_runs_only_the_server_with_secrets_by_reference(build) -> None:
    rendering = build()
    heimdall = containers(app_pod(rendering), "heimdall")
    assert heimdall["command"] == ["yarn", "backend", "start"]
    assert heimdall["ports"] == [{"containerPort": 3000, "name": "http"}]
    env = env_of(heimdall)
    for name in ("DATABASE_PASSWORD", "JWT_SECRET", "API_KEY_SECRET"):
        assert "secret" in env[name], name
    assert "ADMIN_PASSWORD" not in env  # only the seeders need it


def test_config_map_holds_the_plain_contract(build) -> None:
    rendering = build(
        {
            "env": {"HTTPS_PROXY": "http://proxy.example.com:3128"},
            "banners": {"classification": {"text": "UNCLASSIFIED"}},
            "ingress": {"enabled": True, "host": "heimdall.example.com", "tlsSecretName": "tls"},
        }
    )
    heimdall = containers(app_pod(rendering), "heimdall")
    config = rendering.manifest("ConfigMap", heimdall["envFrom"][0]["configMapRef"]["name"])
    assert config["data"] == {
        "NODE_ENV": "production",
        "PORT": "3000",
        "ADMIN_EMAIL": "admin@heimdall.local",
        "DATABASE_HOST": "heimdall-postgres.heimdall.svc",
        "DATABASE_PORT": "5432",
        "DATABASE_NAME": "heimdall",
        "DATABASE_USERNAME": "postgres",
        "EXTERNAL_URL": "https://heimdall.example.com",
        "HTTPS_PROXY": "http://proxy.example.com:3128",
        "CLASSIFICATION_BANNER_TEXT": "UNCLASSIFIED",
        "JWT_EXPIRE_TIME": "12h",
        "LOCAL_LOGIN_DISABLED": "false",
        "REGISTRATION_DISABLED": "true",
        "ONE_SESSION_PER_USER": "false",
        "MAX_FILE_UPLOAD_SIZE": "50",
    }


def test_managed_keys_win_over_extra_env(build) -> None:
    # An env entry for a variable the program sets would be silently ignored: refused,
    # naming it (heimdall/settings/env.py); the program's own values stand.
    from heimdall.settings.loader import SettingsError, parse_settings

    for name in ("NODE_ENV", "DATABASE_HOST"):
        with pytest.raises(SettingsError, match=rf"^heimdall:env: env\.{name} is set by the program itself"):
            parse_settings({"env": {name: "elsewhere"}})
    data = env_config_map(build({}))["data"]
    assert data["NODE_ENV"] == "production"
    assert data["DATABASE_HOST"] == "heimdall-postgres.heimdall.svc"


@pytest.mark.parametrize("probe", ["startupProbe", "readinessProbe", "livenessProbe"])
def test_probes_use_a_route_heimdall_really_has(build, probe: str) -> None:
    heimdall = containers(app_pod(build()), "heimdall")
    assert heimdall[probe]["httpGet"] == {"path": "/server", "port": "http"}
    assert "/health_check" not in str(heimdall)


def test_probe_timings_from_the_chart(build) -> None:
    heimdall = containers(app_pod(build()), "heimdall")
    assert heimdall["startupProbe"]["periodSeconds"] == 10
    assert heimdall["startupProbe"]["failureThreshold"] == 36
    for probe in ("readinessProbe", "livenessProbe"):
        assert (heimdall[probe]["periodSeconds"], heimdall[probe]["timeoutSeconds"]) == (10, 5)
        assert heimdall[probe]["failureThreshold"] == 3


def test_same_wait_for_database_init_container_as_the_job(build) -> None:
    rendering = build()
    app_wait = containers(app_pod(rendering), "wait-for-database")
    job_wait = containers(rendering.manifest("Job")["spec"]["template"]["spec"], "wait-for-database")
    assert app_wait == job_wait


def test_order_database_then_job_then_app(build) -> None:
    rendering = build()
    by_name = {r.name: r for r in rendering.registrations}
    job = rendering.resources("kubernetes:batch/v1:Job")[0]
    app = by_name["heimdall-app-statefulset"]
    assert job.urn in app.dependencies
    assert by_name["heimdall-database-statefulset"].urn in job.dependencies


def test_service_and_optional_ingress(build) -> None:
    rendering = build()
    service = rendering.manifest("Service", "heimdall")
    assert service["spec"]["ports"] == [{"name": "http", "port": 3000, "targetPort": "http"}]
    assert not [m for m in rendering.manifests() if m["kind"] == "Ingress"]
    with_ingress = build(
        {
            "ingress": {
                "enabled": True,
                "className": "nginx",
                "host": "heimdall.example.com",
                "tlsSecretName": "heimdall-tls",
                "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt"},
            }
        }
    )
    ingress = with_ingress.manifest("Ingress", "heimdall")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"hosts": ["heimdall.example.com"], "secretName": "heimdall-tls"}]
    assert ingress["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt"}
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "heimdall", "port": {"name": "http"}}
    assert with_ingress.outputs["url"] == "https://heimdall.example.com"


def test_replicas_image_pull_secrets_and_service_account(build) -> None:
    rendering = build({"replicas": 3, "imagePullSecrets": ["registry-cred"]})
    sts = rendering.manifest("StatefulSet", "heimdall")
    assert sts["spec"]["replicas"] == 3
    pod = sts["spec"]["template"]["spec"]
    assert pod["imagePullSecrets"] == [{"name": "registry-cred"}]
    assert pod["serviceAccountName"] == "heimdall"
    assert pod["automountServiceAccountToken"] is False
    account = rendering.manifest("ServiceAccount", "heimdall")
    assert account["automountServiceAccountToken"] is False


@pytest.mark.parametrize("class_name", ["gce", "gce-internal"])
def test_gke_ingress_classes_become_the_annotation_gke_reads(build, class_name: str) -> None:
    rendering = build(
        {"ingress": {"enabled": True, "className": class_name, "host": "heimdall.example.com"}}
    )
    ingress = rendering.manifest("Ingress", "heimdall")
    assert "ingressClassName" not in ingress["spec"]
    assert ingress["metadata"]["annotations"]["kubernetes.io/ingress.class"] == class_name
