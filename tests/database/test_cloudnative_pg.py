"""Provider cloudnative-pg: the settings and their rules, the operator's chart, the Cluster
spec, TLS against the operator's CA, continuous backups and recovery, the await and the
protection, the NetworkPolicy; and that the provider was added as its package plus one
registry line, with nothing on the Heimdall side or in the other providers naming it."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pulumi
import pytest

from heimdall.database.cloudnative_pg.settings import six_field_schedule
from heimdall.settings.loader import SettingsError, parse_settings
from heimdall.tooling import deploy_plan as dp
from heimdall.tooling.render import Rendering, summary, validate_manifests, write
from tests.conftest import REPO, containers, env_of
from tests.databases import app_env, app_pod, ca_volume, inputs, job_pod, one, render, with_settings

CLUSTER = "kubernetes:postgresql.cnpg.io/v1:Cluster"
SCHEDULED_BACKUP = "kubernetes:postgresql.cnpg.io/v1:ScheduledBackup"
OBJECT_STORE = "kubernetes:barmancloud.cnpg.io/v1:ObjectStore"
CHART = "kubernetes:helm.sh/v4:Chart"
CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"

CNPG: dict[str, Any] = {
    "database": {"provider": "cloudnative-pg", "name": "heimdall", "username": "heimdall"}
}
S3 = {
    "backup": {
        "target": "s3",
        "s3": {"bucket": "heimdall-backups", "prefix": "prod/", "existingSecret": "backup-s3"},
    }
}
ARCHIVING = with_settings(
    with_settings(CNPG, {"database": {"cloudNativePg": {"backup": {"enabled": True}}}}), S3
)


@pytest.fixture(scope="module")
def rendering() -> Rendering:
    return render(CNPG)


@pytest.fixture(scope="module")
def archiving() -> Rendering:
    return render(ARCHIVING)


def spec_of(rendering: Rendering, token: str = CLUSTER) -> dict[str, Any]:
    spec: dict[str, Any] = inputs(one(rendering, token))["spec"]
    return spec


def error_of(values: dict[str, Any]) -> str:
    with pytest.raises(SettingsError) as error:
        parse_settings(values)
    message = str(error.value)
    assert "\n" not in message
    return message


# --- settings --------------------------------------------------------------------------------


def test_defaults_three_instances_tls_verified_against_the_operator_ca() -> None:
    database = parse_settings(CNPG).database
    section = database.cloud_native_pg
    assert (section.instances, section.cluster_name, section.operator.install) == (3, "heimdall-db", True)
    assert section.image.reference == "ghcr.io/cloudnative-pg/postgresql:17.11-standard-trixie"
    assert section.backup.enabled is False and section.pdb is True
    assert (database.tls.mode, database.tls.ca) == ("verify", "auto")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"database": {"cloudNativePg": {"instances": 0}}}, "instances = 0: Input should be greater than or equal to 1"),
        ({"database": {"username": "postgres"}}, "username 'postgres' is the operator's superuser"),
        ({"database": {"tls": {"mode": "disable"}}}, "accepts TLS connections only"),
        ({"database": {"tls": {"ca": "certs/rds-global-bundle.pem"}}}, "leave tls.ca unset"),
        ({"database": {"port": 6432}}, "port 6432 is not served"),
        ({"database": {"cloudNativePg": {"clusterName": "Heimdall"}}}, "DNS-1035 label of at most 50"),
        ({"database": {"cloudNativePg": {"clusterName": "h" * 51}}}, "DNS-1035 label of at most 50"),
        ({"database": {"cloudNativePg": {"image": {"repository": "ghcr.io/cloudnative-pg/postgresql", "tag": "latest"}}}}, "must start with the PostgreSQL major version"),
        ({"database": {"cloudNativePg": {"affinity": {"podAntiAffinity": "sometimes"}}}}, "'preferred', 'required' or 'off'"),
        ({"database": {"cloudNativePg": {"backup": {"schedule": "0 0 3 * * *"}}}}, "five fields"),
        ({"database": {"cloudNativePg": {"backup": {"retentionPolicy": "30 days"}}}}, "retentionPolicy"),
        ({"database": {"cloudNativePg": {"backup": {"enabled": True}}}}, "needs the object store: set backup.target s3"),
        ({"database": {"cloudNativePg": {"recovery": {"sourceServerName": "old-db"}}}}, "recovery needs the object store"),
        ({"secrets": {"existingSecret": "mine"}}, "cannot take DATABASE_PASSWORD from secrets.existingSecret"),
    ],
)
def test_settings_the_operator_or_kubernetes_would_refuse_are_refused_in_one_line(
    extra: dict[str, Any], expected: str
) -> None:
    assert expected in error_of(with_settings(CNPG, extra))


def test_a_restore_into_the_folder_it_archives_to_is_refused() -> None:
    same = with_settings(ARCHIVING, {"database": {"cloudNativePg": {"recovery": {"sourceServerName": "heimdall-db"}}}})
    assert "a new cluster must archive into an empty one" in error_of(same)
    renamed = with_settings(same, {"database": {"cloudNativePg": {"clusterName": "heimdall-db-r1"}}})
    assert parse_settings(renamed).database.cloud_native_pg.server_name == "heimdall-db-r1"


def test_schedules_get_the_seconds_field_the_operator_reads_first() -> None:
    # robfig/cron reads "15 2 * * *" as second 15, minute 2: every hour.
    assert six_field_schedule("15 2 * * *") == "0 15 2 * * *"
    assert six_field_schedule("@daily") == "@daily"


# --- the operator ------------------------------------------------------------------------------


def test_the_operator_chart_is_pinned_into_its_namespace_and_rendered_as_the_chart(
    rendering: Rendering, tmp_path: Path
) -> None:
    chart = one(rendering, CHART)
    args = inputs(chart)
    assert (args["chart"], args["version"], args["namespace"], args["name"]) == (
        "cloudnative-pg", "0.29.0", "cnpg-system", "cnpg"
    )
    assert args["repositoryOpts"] == {"repo": "https://cloudnative-pg.github.io/charts"}
    # The policy pack checks the chart's Deployment on `pulumi up`: it needs resources.
    assert args["values"]["resources"]["limits"] == {"cpu": "1", "memory": "512Mi"}
    namespace = rendering.manifest("Namespace", "cnpg-system")
    assert namespace["metadata"]["name"] == "cnpg-system"
    # Not a Kubernetes object: neither a manifest nor validated as one, but in the files.
    assert all(m["kind"] != "Chart" for m in rendering.manifests())
    write(rendering, tmp_path)
    listed = [r for r in json.loads((tmp_path / "resources.json").read_text()) if r["type"] == CHART]
    assert listed[0]["inputs"]["version"] == "0.29.0"
    assert "chart heimdall-database-operator: cloudnative-pg 0.29.0 from https://cloudnative-pg.github.io/charts" in summary(rendering)


def test_the_charts_crds_are_retained_and_protected(rendering: Rendering) -> None:
    chart = one(rendering, CHART)
    (transform,) = chart.transforms  # the engine applies it to every object of the chart

    def apply(token: str) -> Any:
        return transform(pulumi.ResourceTransformArgs(True, token, "x", {}, pulumi.ResourceOptions()))

    crd = apply(CRD)
    assert (crd.opts.protect, crd.opts.retain_on_delete) == (True, True)
    assert apply("kubernetes:apps/v1:Deployment") is None
    destroyable = one(render(with_settings(CNPG, {"database": {"allowDestroy": True}})), CHART)
    crd = destroyable.transforms[0](pulumi.ResourceTransformArgs(True, CRD, "x", {}, pulumi.ResourceOptions()))
    # Shared by the whole Kubernetes cluster: kept even when the stack may be destroyed.
    assert (crd.opts.protect, crd.opts.retain_on_delete) == (False, True)


def test_an_existing_operator_is_used_as_it_is() -> None:
    rendering = render(with_settings(CNPG, {"database": {"cloudNativePg": {"operator": {"install": False, "namespace": "operators"}}}}))
    assert rendering.charts() == []
    assert [m for m in rendering.manifests() if m["kind"] == "Namespace"] == [rendering.manifest("Namespace", "heimdall")]
    policy = rendering.manifest("NetworkPolicy", "heimdall-postgres")
    peers = [p for rule in policy["spec"]["ingress"] for p in rule["from"]]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "operators"}}} in peers


# --- the Cluster -------------------------------------------------------------------------------


def test_cluster_bootstraps_the_shared_database_owned_by_the_user(rendering: Rendering) -> None:
    spec = spec_of(rendering)
    secret_name = spec["bootstrap"]["initdb"]["secret"]["name"]
    assert spec["bootstrap"]["initdb"] == {"database": "heimdall", "owner": "heimdall", "secret": {"name": secret_name}}
    secret = rendering.manifest("Secret", secret_name)
    assert secret["type"] == "kubernetes.io/basic-auth"
    assert secret["stringData"]["username"] == "heimdall" and len(secret["stringData"]["password"]) == 32
    # The clients read the same Secret: one password, and a new one rolls them all.
    assert env_of(containers(app_pod(rendering), "heimdall"))["DATABASE_PASSWORD"] == {"secret": (secret_name, "password")}


def test_cluster_spec_instances_image_storage_spread_and_tls_only(rendering: Rendering) -> None:
    spec = spec_of(rendering)
    assert spec["instances"] == 3 and spec["enablePDB"] is True
    assert spec["imageName"] == "ghcr.io/cloudnative-pg/postgresql:17.11-standard-trixie"
    assert spec["storage"] == {"size": "10Gi"}
    assert spec["affinity"] == {"enablePodAntiAffinity": True, "podAntiAffinityType": "preferred", "topologyKey": "kubernetes.io/hostname"}
    (zones,) = spec["topologySpreadConstraints"]
    assert (zones["topologyKey"], zones["whenUnsatisfiable"]) == ("topology.kubernetes.io/zone", "ScheduleAnyway")
    assert zones["labelSelector"] == {"matchLabels": {"cnpg.io/cluster": "heimdall-db"}}
    assert spec["postgresql"]["pg_hba"] == ["hostnossl all all all reject"]
    assert "plugins" not in spec and "externalClusters" not in spec
    assert spec["inheritedMetadata"] == {"labels": {"app.kubernetes.io/part-of": "heimdall"}}


def test_one_instance_has_no_pdb_and_placement_follows_the_stack() -> None:
    rendering = render(
        with_settings(
            CNPG,
            {
                "database": {"cloudNativePg": {"instances": 1, "parameters": {"max_connections": "200"}, "affinity": {"podAntiAffinity": "off"}}},
                "nodeSelector": {"pool": "db"},
                "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"}],
                "imagePullSecrets": ["registry"],
            },
        )
    )
    spec = spec_of(rendering)
    assert spec["enablePDB"] is False and "topologySpreadConstraints" not in spec
    assert spec["affinity"] == {
        "enablePodAntiAffinity": False,
        "nodeSelector": {"pool": "db"},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"}],
    }
    assert spec["imagePullSecrets"] == [{"name": "registry"}]
    assert spec["postgresql"]["parameters"] == {"max_connections": "200"}
    assert validate_manifests(rendering.manifests(show_secrets=False), ["1.34.0"]) == []


def test_the_cluster_schema_is_strict() -> None:
    rendering = render(CNPG)
    cluster = next(m for m in rendering.manifests() if m["kind"] == "Cluster")
    cluster["spec"]["instance"] = cluster["spec"].pop("instances")
    errors = validate_manifests([cluster], ["1.34.0"])
    assert any("'instances' is a required property" in e for e in errors)
    assert any("'instance' was unexpected" in e for e in errors)


# --- await and protection ----------------------------------------------------------------------


def test_cluster_is_awaited_ready_after_the_operator_and_before_the_migrations(rendering: Rendering) -> None:
    cluster = one(rendering, CLUSTER)
    assert inputs(cluster)["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=Ready"
    assert cluster.custom_timeouts == {"create": "30m", "update": "30m"}
    assert one(rendering, CHART).urn in cluster.dependencies
    migration = next(r for r in rendering.registrations if r.type == "kubernetes:batch/v1:Job")
    assert cluster.urn in migration.dependencies
    plan = dp.deploy_plan(rendering)
    assert plan.path_labels()[:2] == ["Chart/heimdall-database-operator", "Cluster/heimdall-database-cluster-heimdall-db"]


def test_cluster_is_protected_unless_allow_destroy(rendering: Rendering) -> None:
    assert one(rendering, CLUSTER).protect is True
    assert one(render(with_settings(CNPG, {"database": {"allowDestroy": True}})), CLUSTER).protect is False


# --- TLS ----------------------------------------------------------------------------------------


def test_clients_verify_the_server_against_the_operator_ca_secret(rendering: Rendering) -> None:
    env = app_env(rendering)
    assert env["DATABASE_HOST"] == "heimdall-db-rw.heimdall.svc"  # on the server's certificate
    assert (env["DATABASE_SSL"], env["DATABASE_SSL_INSECURE"]) == ("true", "false")
    assert env["DATABASE_SSL_CA"] == "/etc/heimdall/database-ca/ca.crt"
    expected = {"name": "database-ca", "secret": {"secretName": "heimdall-db-ca", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}
    assert ca_volume(app_pod(rendering)) == expected
    assert ca_volume(job_pod(rendering)) == expected
    backup = rendering.manifest("CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert ca_volume(backup) == expected
    assert rendering.outputs["connectionString"].endswith("@heimdall-db-rw.heimdall.svc:5432/heimdall?sslmode=verify-full&sslrootcert=database-ca.pem")


def test_tls_require_encrypts_without_a_ca() -> None:
    rendering = render(with_settings(CNPG, {"database": {"tls": {"mode": "require"}}, "backup": {"enabled": False}}))
    assert app_env(rendering)["DATABASE_SSL_INSECURE"] == "true"
    assert ca_volume(app_pod(rendering)) is None


def test_the_policy_pack_wants_tls_only_and_protection_in_production(rendering: Rendering) -> None:
    from heimdall.database.cloudnative_pg.policy import CHECKS

    assert CHECKS.tls is not None and CHECKS.deletion_protection is not None
    cluster = inputs(one(rendering, CLUSTER))
    found: list[str] = []
    CHECKS.tls(CLUSTER, cluster, found.append)
    CHECKS.deletion_protection(CLUSTER, cluster, True, found.append)
    assert found == []
    cluster["spec"]["postgresql"]["pg_hba"] = []
    CHECKS.tls(CLUSTER, cluster, found.append)
    CHECKS.deletion_protection(CLUSTER, cluster, False, found.append)
    assert len(found) == 2
    assert "accepts plain TCP" in found[0] and "must be protected" in found[1]


# --- network ------------------------------------------------------------------------------------


def test_network_policy_admits_clients_the_operator_and_the_instances(rendering: Rendering) -> None:
    policy = rendering.manifest("NetworkPolicy", "heimdall-postgres")["spec"]
    assert policy["podSelector"] == {"matchLabels": {"cnpg.io/cluster": "heimdall-db"}}
    clients, operator, instances = policy["ingress"]
    assert clients["ports"] == [{"port": 5432, "protocol": "TCP"}]
    assert clients["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/instance": "heimdall", "app.kubernetes.io/part-of": "heimdall"}}}]
    assert operator == {
        "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "cnpg-system"}}}],
        "ports": [{"port": 8000, "protocol": "TCP"}, {"port": 5432, "protocol": "TCP"}],
    }
    assert instances == {"from": [{"podSelector": {"matchLabels": {"cnpg.io/cluster": "heimdall-db"}}}]}


# --- backups and recovery -----------------------------------------------------------------------


def test_continuous_archiving_uses_the_stacks_own_prefix_by_default() -> None:
    # backup.s3.prefix unset: heimdall/<stack>/, as the dumps, so stacks sharing a bucket
    # never archive into each other's folders.
    unset = json.loads(json.dumps(ARCHIVING))
    del unset["backup"]["s3"]["prefix"]
    store = spec_of(render(unset), OBJECT_STORE)
    assert store["configuration"]["destinationPath"] == "s3://heimdall-backups/heimdall/test/cnpg/"


def test_continuous_archiving_goes_through_the_plugin_into_backup_s3(archiving: Rendering) -> None:
    plugin = [c for c in archiving.charts() if inputs(c)["chart"] == "plugin-barman-cloud"]
    assert len(plugin) == 1 and inputs(plugin[0])["namespace"] == "cnpg-system"
    store = spec_of(archiving, OBJECT_STORE)
    configuration = store["configuration"]
    assert configuration["destinationPath"] == "s3://heimdall-backups/prod/cnpg/"
    credentials = configuration["s3Credentials"]
    assert credentials["accessKeyId"] == {"name": "backup-s3", "key": "AWS_ACCESS_KEY_ID"}
    assert credentials["secretAccessKey"] == {"name": "backup-s3", "key": "AWS_SECRET_ACCESS_KEY"}
    region = archiving.manifest("Secret", credentials["region"]["name"])
    assert region["stringData"] == {"AWS_REGION": "us-east-1"}
    assert store["retentionPolicy"] == "30d"
    (wal,) = spec_of(archiving)["plugins"]
    assert wal == {
        "name": "barman-cloud.cloudnative-pg.io",
        "isWALArchiver": True,
        "parameters": {"barmanObjectName": "heimdall-backup-store", "serverName": "heimdall-db"},
    }
    scheduled = spec_of(archiving, SCHEDULED_BACKUP)
    assert scheduled["schedule"] == "0 0 3 * * *"
    assert (scheduled["method"], scheduled["pluginConfiguration"]) == ("plugin", {"name": "barman-cloud.cloudnative-pg.io"})
    assert scheduled["cluster"] == {"name": "heimdall-db"} and scheduled["immediate"] is True
    # The logical dumps stay, beside it, in the same bucket.
    assert archiving.manifest("CronJob")["metadata"]["name"] == "heimdall-database-backup"
    assert validate_manifests(archiving.manifests(show_secrets=False), ["1.34.0"]) == []


def test_cluster_waits_for_the_plugin_and_the_store(archiving: Rendering) -> None:
    cluster = one(archiving, CLUSTER)
    urns = {r.urn for r in archiving.registrations if r.type in (CHART, OBJECT_STORE)}
    assert len(urns) == 3 and urns <= set(cluster.dependencies)


def test_an_s3_compatible_endpoint_gets_the_checksum_workaround() -> None:
    rendering = render(with_settings(ARCHIVING, {"backup": {"s3": {"endpoint": "https://minio.example.internal:9000"}}}))
    store = spec_of(rendering, OBJECT_STORE)
    assert store["configuration"]["endpointURL"] == "https://minio.example.internal:9000"
    assert {"name": "AWS_REQUEST_CHECKSUM_CALCULATION", "value": "when_required"} in store["instanceSidecarConfiguration"]["env"]


def test_recovery_bootstraps_a_new_cluster_from_the_store() -> None:
    values = with_settings(
        ARCHIVING,
        {
            "database": {
                "cloudNativePg": {
                    "clusterName": "heimdall-db-r1",
                    "recovery": {"sourceServerName": "heimdall-db", "targetTime": "2026-08-01T12:00:00Z"},
                }
            }
        },
    )
    rendering = render(values)
    spec = spec_of(rendering)
    recovery = spec["bootstrap"]["recovery"]
    assert "initdb" not in spec["bootstrap"]
    assert (recovery["source"], recovery["database"], recovery["owner"]) == ("origin", "heimdall", "heimdall")
    assert recovery["recoveryTarget"] == {"targetTime": "2026-08-01T12:00:00Z"}
    (origin,) = spec["externalClusters"]
    assert origin["plugin"]["parameters"] == {"barmanObjectName": "heimdall-backup-store", "serverName": "heimdall-db"}
    # The new cluster archives into a folder of its own.
    assert spec["plugins"][0]["parameters"]["serverName"] == "heimdall-db-r1"
    cluster = one(rendering, CLUSTER)
    assert cluster.name == "heimdall-database-cluster-heimdall-db-r1"  # beside the old, not replacing it
    assert app_env(rendering)["DATABASE_HOST"] == "heimdall-db-r1-rw.heimdall.svc"
    assert validate_manifests(rendering.manifests(show_secrets=False), ["1.34.0"]) == []


def test_recovery_without_archiving_still_reads_the_store() -> None:
    values = with_settings(with_settings(CNPG, S3), {"database": {"cloudNativePg": {"recovery": {"sourceServerName": "heimdall-db"}}}})
    rendering = render(values)
    assert len(rendering.resources(OBJECT_STORE)) == 1
    assert rendering.resources(SCHEDULED_BACKUP) == []
    assert "plugins" not in spec_of(rendering)
    assert [inputs(c)["chart"] for c in rendering.charts()] == ["cloudnative-pg"]


# --- added as a package plus one registry line --------------------------------------------------

PACKAGE = REPO / "heimdall" / "database" / "cloudnative_pg"
NAMES = re.compile(r"cloudnative|cnpg|cloudNativePg|CloudNativePg", re.IGNORECASE)


def test_only_the_registry_line_names_the_provider_outside_its_package() -> None:
    """The workload, the migration Job, the operations, the network policies, the other
    providers and the tooling never name it: they see its connection, nothing else."""
    mentions = {}
    for path in [*(REPO / "heimdall").rglob("*.py"), *(REPO / "policy").glob("*.py")]:
        if PACKAGE in path.parents:
            continue
        lines = [line for line in path.read_text().splitlines() if NAMES.search(line)]
        if lines:
            mentions[path.relative_to(REPO).as_posix()] = lines
    assert mentions == {
        "heimdall/database/registry.py": [
            "from heimdall.database.cloudnative_pg.settings import CloudNativePgSettings",
            "    CloudNativePgSettings,",
        ]
    }


def test_the_package_uses_only_the_provider_contract_and_shared_shapes() -> None:
    allowed = re.compile(
        r"^heimdall\.(database\.(cloudnative_pg(\..+)?|contract|credentials|facts|provider)|kube|settings\.\w+)$"
    )
    imported = set()
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "heimdall":
                imported |= {f"heimdall.{a.name}" for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("heimdall"):
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported |= {a.name for a in node.names if a.name.startswith("heimdall")}
    assert imported and all(allowed.match(m) for m in imported), sorted(imported)
    # Not the Heimdall side: workload, migration Job, pods, operations, network, stack.
    assert not {m for m in imported if re.match(r"^heimdall\.(workload|migration|pod|operations|network|stack)", m)}
