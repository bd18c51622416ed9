"""The policy pack: every policy passes on the program's stacks and fires on a violation.

Policies get resources the way the Pulumi analyzer hands them over: the engine's inputs
(camelCase, numbers as floats) through pulumi_policy's own deserializer and unknown-value
proxy. Managed-database resources are declared with the real cloud SDKs under mocks, so
the property names are the SDKs', not guesses.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

pytest.importorskip(
    "pulumi_policy",
    reason="pulumi-policy is not installed here: the dev group has it (make venv)",
)

from pulumi_policy import (  # noqa: E402
    PolicyCustomTimeouts,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties  # noqa: E402
from pulumi_policy.proxy import unknown_checking_proxy  # noqa: E402

from heimdall import sdk_private  # noqa: E402
from heimdall.database import registry  # noqa: E402
from heimdall.database.aws_rds.policy import INSTANCE as RDS_INSTANCE  # noqa: E402
from heimdall.tooling.mocks import HeimdallMocks, RecordingMonitor, Registration  # noqa: E402
from heimdall.tooling.render import run_stack, run_stack_file  # noqa: E402
from policy import heimdall_policies as hp  # noqa: E402
from tests.conftest import REPO, STACK_FILES, stack_config  # noqa: E402

# --- feeding resources to policies ----------------------------------------------------------


def args_for(
    resource_type: str,
    props: dict[str, Any],
    *,
    name: str = "resource",
    stack: str = "dev",
    protect: bool = False,
    config: dict[str, Any] | None = None,
) -> ResourceValidationArgs:
    urn = f"urn:pulumi:{stack}::heimdall::{resource_type}::{name}"
    opts = PolicyResourceOptions(
        protect=protect,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
    )
    analyzer_props = unknown_checking_proxy(deserialize_properties(copy.deepcopy(props)))
    return ResourceValidationArgs(resource_type, analyzer_props, urn, name, opts, None, config)


def from_registration(registration: Registration, stack: str) -> ResourceValidationArgs:
    return args_for(
        registration.type,
        registration.inputs,
        name=registration.name,
        stack=stack,
        protect=registration.protect,
    )


def violations(policy: ResourceValidationPolicy, args: ResourceValidationArgs) -> list[str]:
    found: list[str] = []
    result = policy.validate(args, lambda message, urn=None: found.append(message))
    assert result is None  # every policy is synchronous
    return found


def all_violations(args: ResourceValidationArgs) -> dict[str, list[str]]:
    return {p.name: v for p in hp.POLICIES if (v := violations(p, args))}


def declare(program: Callable[[], None], stack: str = "prod") -> list[Registration]:
    """Run `program` under the mocks and return what it registered."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # Every provider's computed outputs: the programs here declare any provider's resources.
    mocks = HeimdallMocks(provider_outputs={k: v for p in registry.PROVIDERS for k, v in p.mocks().items()})
    monitor = RecordingMonitor(mocks)
    sdk_private.reset_root_resource()
    pulumi.runtime.set_mocks(mocks, project="heimdall", stack=stack, monitor=monitor)
    program()
    loop.run_until_complete(pulumi.runtime.stack.wait_for_rpcs())
    return monitor.registrations


# --- on the program's own stacks --------------------------------------------------------------


def test_the_pack_lists_every_policy_once_and_all_are_mandatory():
    names = [p.name for p in hp.POLICIES]
    assert len(names) == len(set(names)) == 11
    assert all(p.enforcement_level == hp.MANDATORY for p in hp.POLICIES)


@pytest.mark.parametrize("stack", STACK_FILES, ids=lambda p: p.name)
def test_every_policy_passes_on_every_stack_file(stack):
    rendering = run_stack_file(str(stack))
    name = stack.name.removeprefix("Pulumi.").removesuffix(".yaml")
    checked = 0
    for registration in rendering.registrations:
        if registration.custom:
            found = all_violations(from_registration(registration, name))
            assert not found, f"{registration.type} {registration.name}: {found}"
            checked += 1
    assert checked


def test_every_policy_passes_with_every_optional_object_on():
    values = {
        "externalUrl": "https://heimdall.example.com",
        "autoscaling": {"enabled": True},
        "gateway": {"enabled": True, "parentRefs": [{"name": "public"}]},
        "caCertificates": {"files": [str(REPO / "tests" / "data" / "test-ca.pem")]},
        # LDAP only: an OAuth login with an autoscaler behind a gateway route is refused
        # (sessions cannot be made sticky there; tests/test_sticky_sessions.py).
        "auth": {
            "ldap": {"host": "ldap.example.com", "searchBase": "dc=x", "bindDn": "cn=h", "ssl": True},
        },
        "banners": {"warning": "Authorized use only"},
    }
    secrets = {"auth": {"ldap": {"bindPassword": "pw"}}}
    config, secret_keys = stack_config(values, secrets)
    rendering = run_stack(config, "prod", secret_keys=secret_keys)
    for registration in rendering.registrations:
        if registration.custom:
            found = all_violations(from_registration(registration, "prod"))
            assert not found, f"{registration.type} {registration.name}: {found}"


# --- Kubernetes workloads ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Registration:
    config, _ = stack_config({})
    rendering = run_stack(config, "dev")
    (stateful_set,) = [
        r for r in rendering.resources("kubernetes:apps/v1:StatefulSet") if r.name.endswith("app-statefulset")
    ]
    return stateful_set


def mutated(registration: Registration, change: Callable[[dict[str, Any]], None]) -> ResourceValidationArgs:
    props = copy.deepcopy(registration.inputs)
    change(props["spec"]["template"]["spec"])
    return args_for(registration.type, props)


def init(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["initContainers"][0]


def main(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["containers"][0]


def test_resources_policy_fires_on_an_init_container_without_limits(server):
    args = mutated(server, lambda spec: init(spec)["resources"].pop("limits"))
    (message,) = violations(hp.kubernetes_resources, args)
    assert "wait-for-database" in message and "limits.cpu" in message and "limits.memory" in message


def test_resources_policy_fires_on_a_container_without_requests(server):
    args = mutated(server, lambda spec: main(spec).pop("resources"))
    (message,) = violations(hp.kubernetes_resources, args)
    assert "requests.cpu" in message


def test_non_root_policy_fires_when_nothing_forbids_root(server):
    def allow_root(spec: dict[str, Any]) -> None:
        spec["securityContext"].pop("runAsNonRoot")
        main(spec)["securityContext"].pop("runAsNonRoot")

    assert violations(hp.kubernetes_run_as_non_root, mutated(server, allow_root))
    # The pod-level setting alone is enough.
    assert not violations(
        hp.kubernetes_run_as_non_root,
        mutated(server, lambda spec: main(spec)["securityContext"].pop("runAsNonRoot")),
    )
    uid_zero = mutated(server, lambda spec: main(spec)["securityContext"].update(runAsUser=0))
    assert violations(hp.kubernetes_run_as_non_root, uid_zero)


def test_privilege_escalation_policy_fires(server):
    args = mutated(server, lambda spec: main(spec)["securityContext"].update(allowPrivilegeEscalation=True))
    assert violations(hp.kubernetes_no_privilege_escalation, args)
    unset = mutated(server, lambda spec: init(spec)["securityContext"].pop("allowPrivilegeEscalation"))
    assert violations(hp.kubernetes_no_privilege_escalation, unset)


def test_privileged_policy_fires_on_privileged_containers_and_host_namespaces(server):
    assert violations(
        hp.kubernetes_no_privileged,
        mutated(server, lambda spec: init(spec)["securityContext"].update(privileged=True)),
    )
    assert violations(hp.kubernetes_no_privileged, mutated(server, lambda spec: spec.update(hostNetwork=True)))


@pytest.mark.parametrize(
    ("image", "fires"),
    [
        ("mitre/heimdall2:latest", True),
        ("mitre/heimdall2:release-latest", True),
        ("mitre/heimdall2", True),
        ("registry.example.com:5000/mitre/heimdall2", True),  # a port is not a tag
        ("mitre/heimdall2:nightly", True),
        ("mitre/heimdall2:2.13.1", False),
        ("postgres:17", False),
        ("registry.example.com:5000/mitre/heimdall2:2.13.1", False),
        ("mitre/heimdall2@sha256:" + "0" * 64, False),
        ("mitre/heimdall2:latest@sha256:" + "0" * 64, False),
    ],
)
def test_pinned_images_policy(server, image, fires):
    args = mutated(server, lambda spec: main(spec).update(image=image))
    assert bool(violations(hp.kubernetes_pinned_images, args)) is fires


def test_workload_policies_read_cron_job_pod_specs_too():
    pod_spec = {
        "containers": [
            {"name": "backup", "image": "postgres", "securityContext": {"privileged": True}}
        ]
    }
    args = args_for(
        "kubernetes:batch/v1:CronJob",
        {"spec": {"jobTemplate": {"spec": {"template": {"spec": pod_spec}}}}},
    )
    found = all_violations(args)
    assert set(found) == {
        "kubernetes-resources",
        "kubernetes-run-as-non-root",
        "kubernetes-no-privilege-escalation",
        "kubernetes-no-privileged",
        "kubernetes-pinned-images",
    }


@pytest.mark.parametrize(
    ("data", "fires"),
    [
        ({"LDAP_PASSWORD": "x"}, True),
        ({"GITLAB_SECRET": "x"}, True),
        ({"api-key": "x"}, True),
        ({"CERT": "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----"}, True),
        ({"OKTA_TOKEN_URL": "https://example.okta.com/token", "JWT_EXPIRE_TIME": "12h"}, False),
        ({"ca-bundle.pem": "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----"}, False),
        ({"DATABASE_PASSWORD_FILE": "/etc/secret/password"}, False),
    ],
)
def test_no_secrets_in_config_maps_policy(data, fires):
    args = args_for("kubernetes:core/v1:ConfigMap", {"apiVersion": "v1", "kind": "ConfigMap", "data": data})
    assert bool(violations(hp.kubernetes_no_secrets_in_config_maps, args)) is fires


def test_policies_ignore_kinds_they_do_not_govern():
    args = args_for("kubernetes:core/v1:Service", {"spec": {"ports": [{"port": 80}]}})
    assert all_violations(args) == {}


# --- managed databases ------------------------------------------------------------------------


def good_rds() -> dict[str, Any]:
    return {
        "engine": "postgres",
        "engine_version": "17",
        "instance_class": "db.t4g.micro",
        "allocated_storage": 20,
        "storage_encrypted": True,
        "publicly_accessible": False,
        "deletion_protection": True,
        "backup_retention_period": 7,
        "skip_final_snapshot": False,
        "final_snapshot_identifier": "heimdall-final",
    }


def good_cloud_sql_settings() -> dict[str, Any]:
    return {
        "tier": "db-custom-1-3840",
        "deletion_protection_enabled": True,
        "ip_configuration": {"ipv4_enabled": False, "private_network": "projects/p/global/networks/n", "ssl_mode": "ENCRYPTED_ONLY"},
        "backup_configuration": {"enabled": True, "point_in_time_recovery_enabled": True},
    }


def rds(overrides: dict[str, Any], protect: bool = True, stack: str = "prod") -> ResourceValidationArgs:
    import pulumi_aws as aws

    (registration,) = declare(
        lambda: aws.rds.Instance("db", **{**good_rds(), **overrides}, opts=pulumi.ResourceOptions(protect=protect)),
        stack,
    )
    return from_registration(registration, stack)


def rds_parameter_group(family: str, parameters: dict[str, str]) -> ResourceValidationArgs:
    import pulumi_aws as aws

    (registration,) = declare(
        lambda: aws.rds.ParameterGroup(
            "pg",
            family=family,
            parameters=[aws.rds.ParameterGroupParameterArgs(name=k, value=v) for k, v in parameters.items()],
        )
    )
    return from_registration(registration, "prod")


def cloud_sql(
    settings: dict[str, Any] | None = None, protect: bool = True, stack: str = "prod", **extra: Any
) -> ResourceValidationArgs:
    import pulumi_gcp as gcp

    def program() -> None:
        gcp.sql.DatabaseInstance(
            "sql",
            database_version="POSTGRES_17",
            settings=settings if settings is not None else good_cloud_sql_settings(),
            opts=pulumi.ResourceOptions(protect=protect),
            **extra,
        )

    (registration,) = declare(program, stack)
    return from_registration(registration, stack)


def azure(kind: str, stack: str = "prod", protect: bool = True, **inputs: Any) -> ResourceValidationArgs:
    from pulumi_azure_native import dbforpostgresql

    (registration,) = declare(
        lambda: getattr(dbforpostgresql, kind)("az", **inputs, opts=pulumi.ResourceOptions(protect=protect)),
        stack,
    )
    return from_registration(registration, stack)


def good_azure_server(**network: Any) -> dict[str, Any]:
    return {
        "resource_group_name": "rg",
        "version": "17",
        "sku": {"name": "Standard_B1ms", "tier": "Burstable"},
        "storage": {"storage_size_gb": 32},
        "backup": {"backup_retention_days": 7, "geo_redundant_backup": "Enabled"},
        "network": network or {"delegated_subnet_resource_id": "/subscriptions/s/subnets/db", "public_network_access": "Disabled"},
    }


def test_secure_managed_databases_pass_every_policy():
    for args in (
        rds({}),
        rds_parameter_group("postgres17", {"rds.force_ssl": "1"}),
        cloud_sql(),
        azure("Server", **good_azure_server()),
        azure("Configuration", configuration_name="require_secure_transport", value="on",
              resource_group_name="rg", server_name="s", source="user-override"),
        azure("FirewallRule", firewall_rule_name="office", resource_group_name="rg", server_name="s",
              start_ip_address="203.0.113.0", end_ip_address="203.0.113.255"),
    ):
        assert all_violations(args) == {}, args.resource_type


def test_encryption_policy_fires_on_unencrypted_rds():
    assert all_violations(rds({"storage_encrypted": False})).keys() == {"managed-database-encrypted"}


def test_private_policy_fires_on_public_databases():
    assert violations(hp.managed_database_private, rds({"publicly_accessible": True}))
    public_ip = good_cloud_sql_settings()
    public_ip["ip_configuration"] = {"ipv4_enabled": True, "ssl_mode": "ENCRYPTED_ONLY"}
    assert violations(hp.managed_database_private, cloud_sql(public_ip))
    public_ip["ip_configuration"]["authorized_networks"] = [{"value": "0.0.0.0/0"}]
    (message,) = violations(hp.managed_database_private, cloud_sql(public_ip))
    assert "whole internet" in message
    public_ip["ip_configuration"]["authorized_networks"] = [{"value": "198.51.100.0/24"}]
    assert not violations(hp.managed_database_private, cloud_sql(public_ip))
    implicit = azure("Server", **{**good_azure_server(), "network": None})
    assert violations(hp.managed_database_private, implicit)
    explicit_public = azure("Server", **good_azure_server(public_network_access="Enabled"))
    assert not violations(hp.managed_database_private, explicit_public)
    for start, end in (("0.0.0.0", "0.0.0.0"), ("0.0.0.0", "255.255.255.255"), ("1.0.0.0", "200.0.0.0")):
        rule = azure("FirewallRule", firewall_rule_name="r", resource_group_name="rg", server_name="s",
                     start_ip_address=start, end_ip_address=end)
        assert violations(hp.managed_database_private, rule), (start, end)


def test_tls_policy_fires_when_tls_is_not_forced():
    assert violations(hp.managed_database_tls, rds_parameter_group("postgres17", {"rds.force_ssl": "0"}))
    assert violations(hp.managed_database_tls, rds_parameter_group("postgres14", {}))
    assert not violations(hp.managed_database_tls, rds_parameter_group("postgres16", {}))
    assert violations(hp.managed_database_tls, rds({"engine_version": "14.12"}))
    no_ssl = good_cloud_sql_settings()
    no_ssl["ip_configuration"]["ssl_mode"] = "ALLOW_UNENCRYPTED_AND_ENCRYPTED"
    assert violations(hp.managed_database_tls, cloud_sql(no_ssl))
    off = azure("Configuration", configuration_name="require_secure_transport", value="off",
                resource_group_name="rg", server_name="s", source="user-override")
    assert violations(hp.managed_database_tls, off)


def test_backup_policy_fires_when_backups_are_off():
    assert violations(hp.managed_database_backups, rds({"backup_retention_period": 0}))
    assert violations(hp.managed_database_backups, rds({"backup_retention_period": None}))
    off = good_cloud_sql_settings()
    off["backup_configuration"] = {"enabled": False}
    assert violations(hp.managed_database_backups, cloud_sql(off))


def test_deletion_protection_policy_applies_to_production_stacks_only():
    unprotected = {"deletion_protection": False, "skip_final_snapshot": True}
    found = violations(hp.managed_database_deletion_protection, rds(unprotected, protect=False))
    assert len(found) == 3  # Pulumi protect, deletionProtection, final snapshot
    assert not violations(hp.managed_database_deletion_protection, rds(unprotected, protect=False, stack="dev"))
    assert violations(hp.managed_database_deletion_protection, rds(unprotected, stack="eu-prod"))
    settings = good_cloud_sql_settings()
    settings["deletion_protection_enabled"] = False
    assert violations(hp.managed_database_deletion_protection, cloud_sql(settings, deletion_protection=False))
    assert violations(hp.managed_database_deletion_protection, azure("Server", protect=False, **good_azure_server()))
    assert not violations(hp.managed_database_deletion_protection, azure("Server", stack="staging", protect=False,
                                                                         **good_azure_server()))


def test_production_pattern_is_configurable():
    args = args_for(RDS_INSTANCE, {"deletionProtection": False}, stack="live", config={"productionStacks": "^live$"})
    assert hp.is_production(args)
    assert not hp.is_production(args_for(RDS_INSTANCE, {}, stack="live"))
    for stack in ("prod", "production", "eu-prod", "prod_2"):
        assert hp.is_production(args_for(RDS_INSTANCE, {}, stack=stack)), stack
    for stack in ("dev", "product", "preprod"):
        assert not hp.is_production(args_for(RDS_INSTANCE, {}, stack=stack)), stack


def test_azure_tokens_with_an_api_version_are_governed_too():
    args = args_for("azure-native:dbforpostgresql/v20240801:FirewallRule",
                    {"startIpAddress": "0.0.0.0", "endIpAddress": "255.255.255.255"})
    assert violations(hp.managed_database_private, args)
