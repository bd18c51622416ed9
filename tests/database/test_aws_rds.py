"""Provider aws-rds: Amazon RDS for PostgreSQL, its network and TLS, and what Heimdall's
pods receive from it."""

from __future__ import annotations

from typing import Any

import pytest

from heimdall.database.aws_rds.component import final_snapshot_identifier
from heimdall.settings.loader import SettingsError, parse_settings
from heimdall.settings.types import PROJECT_ROOT
from heimdall.tooling.render import Rendering
from tests.conftest import containers, env_of
from tests.databases import (
    AWS_RDS,
    NODES_SG,
    SUBNETS,
    VPC,
    app_env,
    app_pod,
    ca_volume,
    config_map,
    depends_on,
    inputs,
    is_secret,
    job_pod,
    one,
    render,
    with_settings,
)

INSTANCE = "aws:rds/instance:Instance"
BUNDLE = (PROJECT_ROOT / "certs" / "rds-global-bundle.pem").read_text()


@pytest.fixture(scope="module")
def rendering() -> Rendering:
    return render(AWS_RDS)


def test_instance_is_encrypted_private_backed_up_and_deletion_protected(rendering: Rendering) -> None:
    instance = one(rendering, INSTANCE)
    args = inputs(instance)
    assert args["engine"] == "postgres"
    assert args["engineVersion"] == "17"
    assert args["storageEncrypted"] is True
    assert args["publiclyAccessible"] is False
    assert args["backupRetentionPeriod"] == 7
    assert args["deleteAutomatedBackups"] is False
    assert args["deletionProtection"] is True
    assert args["skipFinalSnapshot"] is False
    assert args["finalSnapshotIdentifier"] == "heimdall-test-final"
    assert args["allowMajorVersionUpgrade"] is False
    assert args["enabledCloudwatchLogsExports"] == ["postgresql", "upgrade"]
    assert args["dbName"] == "heimdall_production"
    assert args["username"] == "heimdall_app"
    assert is_secret(instance.inputs["password"])
    assert instance.protect is True


def test_parameter_group_forces_tls(rendering: Rendering) -> None:
    group = one(rendering, "aws:rds/parameterGroup:ParameterGroup")
    args = inputs(group)
    assert args["family"] == "postgres17"
    assert {p["name"]: p["value"] for p in args["parameters"]} == {"rds.force_ssl": "1"}
    assert inputs(one(rendering, INSTANCE))["parameterGroupName"] == group.state["name"]


def test_security_group_admits_the_database_port_from_the_allowed_sources_only(
    rendering: Rendering,
) -> None:
    group = one(rendering, "aws:ec2/securityGroup:SecurityGroup")
    assert inputs(group)["vpcId"] == VPC
    assert "ingress" not in inputs(group)  # rules are separate resources, listed below
    rules = [inputs(r) for r in rendering.resources("aws:vpc/securityGroupIngressRule:")]
    assert rules == [
        {
            "securityGroupId": f"{group.name}-id",
            "ipProtocol": "tcp",
            "fromPort": 5432,
            "toPort": 5432,
            "referencedSecurityGroupId": NODES_SG,
            "description": f"PostgreSQL from {NODES_SG}",
            "tags": rules[0]["tags"],
        }
    ]
    assert inputs(one(rendering, INSTANCE))["vpcSecurityGroupIds"] == [f"{group.name}-id"]


def test_cidr_sources_get_one_rule_each_on_the_configured_port() -> None:
    rendering = render(
        with_settings(
            AWS_RDS,
            {
                "database": {
                    "port": 6432,
                    "awsRds": {
                        "allowedSecurityGroupIds": [],
                        "allowedCidrBlocks": ["10.0.0.0/16", "2001:db8::/56"],
                    },
                }
            },
        )
    )
    rules = sorted(
        (inputs(r) for r in rendering.resources("aws:vpc/securityGroupIngressRule:")),
        key=lambda rule: rule["description"],
    )
    assert [(r.get("cidrIpv4"), r.get("cidrIpv6")) for r in rules] == [
        ("10.0.0.0/16", None),
        (None, "2001:db8::/56"),
    ]
    assert {(r["fromPort"], r["toPort"]) for r in rules} == {(6432, 6432)}
    assert inputs(one(rendering, INSTANCE))["port"] == 6432


def test_subnet_group_holds_the_given_subnets(rendering: Rendering) -> None:
    subnets = one(rendering, "aws:rds/subnetGroup:SubnetGroup")
    assert inputs(subnets)["subnetIds"] == SUBNETS
    assert inputs(one(rendering, INSTANCE))["dbSubnetGroupName"] == subnets.state["name"]


def test_workload_and_migration_connect_to_the_instance_address_with_verified_tls(
    rendering: Rendering,
) -> None:
    address = one(rendering, INSTANCE).state["address"]
    env = app_env(rendering)
    assert env["DATABASE_HOST"] == address
    assert env["DATABASE_PORT"] == "5432"
    assert env["DATABASE_NAME"] == "heimdall_production"
    assert env["DATABASE_USERNAME"] == "heimdall_app"
    assert env["DATABASE_SSL"] == "true"
    assert env["DATABASE_SSL_INSECURE"] == "false"
    assert env["DATABASE_SSL_CA"] == "/etc/heimdall/database-ca/ca.pem"
    secret_name, key = env["DATABASE_PASSWORD"]["secret"]
    secret = rendering.manifest("Secret", secret_name)
    generated = [r for r in rendering.resources("random:") if r.name == "heimdall-database-password"]
    assert secret["stringData"][key] == generated[0].state["result"]
    assert is_secret(one(rendering, INSTANCE).inputs["password"])

    for pod, container in ((app_pod(rendering), "heimdall"), (job_pod(rendering), "migrate")):
        volume = ca_volume(pod)
        assert volume is not None
        bundle = config_map(rendering, volume["configMap"]["name"])
        assert bundle["data"]["ca.pem"] == BUNDLE
        mounts = {m["name"]: m for m in containers(pod, container)["volumeMounts"]}
        assert mounts["database-ca"]["mountPath"] == "/etc/heimdall/database-ca"
        assert mounts["database-ca"]["readOnly"] is True
    wait = env_of(containers(job_pod(rendering), "wait-for-database"))
    assert wait.get("DATABASE_HOST") in (None, address)  # from the ConfigMap when absent


def test_migration_waits_for_the_instance(rendering: Rendering) -> None:
    job = one(rendering, "kubernetes:batch/v1:Job")
    assert depends_on(rendering, job, one(rendering, INSTANCE))


def test_connection_string_output_is_secret_and_verifies_tls(rendering: Rendering) -> None:
    assert "connectionString" in rendering.secret_outputs
    assert rendering.outputs["connectionString"].endswith("/heimdall_production?sslmode=verify-full&sslrootcert=database-ca.pem")
    assert rendering.outputs["databaseProvider"] == "aws-rds"


def test_options_reach_the_instance() -> None:
    rendering = render(
        with_settings(
            AWS_RDS,
            {
                "database": {
                    "awsRds": {
                        "identifier": "heimdall-prod",
                        "engineVersion": "16.4",
                        "instanceClass": "db.m7g.large",
                        "multiAz": True,
                        "kmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/abcd",
                        "performanceInsightsEnabled": True,
                        "backupRetentionPeriod": 30,
                        "maxAllocatedStorage": 0,
                        "parameters": {"log_min_duration_statement": "1000"},
                        "tags": {"environment": "production"},
                    }
                }
            },
        )
    )
    args = inputs(one(rendering, INSTANCE))
    assert args["identifier"] == "heimdall-prod"
    assert args["finalSnapshotIdentifier"] == "heimdall-prod-final"
    assert args["instanceClass"] == "db.m7g.large"
    assert args["multiAz"] is True
    assert args["kmsKeyId"].startswith("arn:aws:kms:")
    assert args["performanceInsightsEnabled"] is True
    assert args["performanceInsightsRetentionPeriod"] == 7
    assert args["backupRetentionPeriod"] == 30
    assert args["maxAllocatedStorage"] == 0
    assert args["tags"]["environment"] == "production"
    group = inputs(one(rendering, "aws:rds/parameterGroup:ParameterGroup"))
    assert group["family"] == "postgres16"
    assert {p["name"]: p["value"] for p in group["parameters"]} == {
        "log_min_duration_statement": "1000",
        "rds.force_ssl": "1",
    }


def test_skipping_the_final_snapshot_is_explicit() -> None:
    rendering = render(with_settings(AWS_RDS, {"database": {"awsRds": {"skipFinalSnapshot": True}}}))
    args = inputs(one(rendering, INSTANCE))
    assert args["skipFinalSnapshot"] is True
    assert "finalSnapshotIdentifier" not in args


def test_final_snapshot_identifier_is_a_valid_rds_name() -> None:
    assert final_snapshot_identifier(None, "Team_A.prod") == "heimdall-team-a-prod-final"
    assert final_snapshot_identifier("db-1", "x") == "db-1-final"


def test_supplied_password_is_used_and_nothing_is_generated() -> None:
    password = "Supplied-Password-0123456789"
    rendering = render(AWS_RDS, secrets={"secrets": {"databasePassword": password}})
    generated = [r.name for r in rendering.resources("random:") if "database" in r.name]
    assert generated == []
    assert inputs(one(rendering, INSTANCE))["password"] == password
    secret_name, key = app_env(rendering)["DATABASE_PASSWORD"]["secret"]
    assert rendering.manifest("Secret", secret_name)["stringData"][key] == password


def test_generated_password_suits_rds() -> None:
    rendering = render(AWS_RDS)
    password = [r for r in rendering.resources("random:") if r.name == "heimdall-database-password"]
    assert len(password) == 1
    args = inputs(password[0])
    assert args["special"] is False  # RDS refuses / @ " and space
    assert args["length"] >= 16


def aws(extra: dict[str, Any]) -> dict[str, Any]:
    return with_settings(AWS_RDS, {"database": extra})




def test_missing_subnets_name_the_key() -> None:
    values = aws({})
    del values["database"]["awsRds"]["subnetIds"]
    with pytest.raises(SettingsError, match=r"heimdall:database.awsRds.subnetIds: required but not set"):
        parse_settings(values)


def test_tls_require_without_ca_is_allowed_and_unverified() -> None:
    rendering = render(aws({"tls": {"mode": "require", "ca": None}}))
    env = app_env(rendering)
    assert env["DATABASE_SSL"] == "true"
    assert env["DATABASE_SSL_INSECURE"] == "true"
    assert "DATABASE_SSL_CA" not in env
    assert ca_volume(app_pod(rendering)) is None


def test_provisioned_iops_reach_the_instance() -> None:
    # io1/io2 without iops are refused by the settings (RDS requires them); with them, the
    # instance gets them.
    values = with_settings(AWS_RDS, {"database": {"awsRds": {"storageType": "io1", "iops": 3000, "allocatedStorage": 100}}})
    args = inputs(one(render(values), INSTANCE))
    assert (args["storageType"], args["iops"]) == ("io1", 3000)
    assert "iops" not in inputs(one(render(AWS_RDS), INSTANCE))
