"""Helpers for the managed-database tests: base settings per provider, and readers for
cloud resources and the database client side of Heimdall's pods in a Rendering."""

from __future__ import annotations

from typing import Any, Optional

from heimdall.engine_values import unwrap_secret
from heimdall.tooling.mocks import Registration
from heimdall.tooling.render import Rendering, _plain, run_stack
from tests.conftest import _merge, containers, env_of, stack_config

VPC = "vpc-0123456789abcdef0"
SUBNETS = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
NODES_SG = "sg-0123456789abcdef0"
GCP_NETWORK = "projects/example-project/global/networks/heimdall-vpc"
AZURE_SUBNET = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/network-rg/providers/"
    "Microsoft.Network/virtualNetworks/aks-vnet/subnets/postgres"
)
AZURE_VNET = AZURE_SUBNET.rsplit("/subnets/", 1)[0]

AWS_RDS: dict[str, Any] = {
    "database": {
        "provider": "aws-rds",
        "name": "heimdall_production",
        "username": "heimdall_app",
        "tls": {"ca": "certs/rds-global-bundle.pem"},
        "awsRds": {"vpcId": VPC, "subnetIds": SUBNETS, "allowedSecurityGroupIds": [NODES_SG]},
    }
}
CLOUD_SQL: dict[str, Any] = {
    "database": {
        "provider": "gcp-cloudsql",
        "username": "heimdall_app",
        "cloudSql": {"network": GCP_NETWORK},
    }
}
AZURE: dict[str, Any] = {
    "database": {
        "provider": "azure-postgres",
        "username": "heimdall_app",
        "azure": {"delegatedSubnetId": AZURE_SUBNET},
    }
}
EXTRA_CONFIG = {
    "aws:region": "us-east-1",
    "gcp:project": "example-project",
    "gcp:region": "us-central1",
    "azure-native:location": "westeurope",
}


def with_settings(base: dict[str, Any], extra: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    return _merge(base, extra or {})


def render(values: dict[str, Any], secrets: Optional[dict[str, Any]] = None) -> Rendering:
    """Run the program under mocks (as the `build` fixture does), for module fixtures."""
    config, secret_keys = stack_config(values, secrets)
    config.update(EXTRA_CONFIG)
    return run_stack(config, "test", secret_keys=secret_keys)


def plain(value: Any) -> Any:
    """Engine values as plain JSON: secrets unwrapped, integral floats as ints."""
    return _plain(value, True)


def one(rendering: Rendering, type_token: str) -> Registration:
    found = [r for r in rendering.registrations if r.type == type_token]
    assert len(found) == 1, f"{len(found)} resources of type {type_token}"
    return found[0]


def inputs(registration: Registration) -> dict[str, Any]:
    return plain(registration.inputs)


def is_secret(value: Any) -> bool:
    return unwrap_secret(value)[1]


def depends_on(rendering: Rendering, dependent: Registration, dependency: Registration) -> bool:
    return dependency.urn in dependent.dependencies


def app_pod(rendering: Rendering) -> dict[str, Any]:
    return rendering.manifest("StatefulSet", "heimdall")["spec"]["template"]["spec"]


def job_pod(rendering: Rendering) -> dict[str, Any]:
    return rendering.manifest("Job")["spec"]["template"]["spec"]


def app_env(rendering: Rendering) -> dict[str, Any]:
    """The plain variables of the app's ConfigMap plus the app container's own env."""
    config_map = [
        m
        for m in rendering.manifests()
        if m["kind"] == "ConfigMap" and "DATABASE_HOST" in (m.get("data") or {})
    ]
    assert len(config_map) == 1
    return {**config_map[0]["data"], **env_of(containers(app_pod(rendering), "heimdall"))}


def ca_volume(pod: dict[str, Any]) -> Optional[dict[str, Any]]:
    for volume in pod.get("volumes", []):
        if volume["name"] == "database-ca":
            return volume
    return None


def config_map(rendering: Rendering, name: str) -> dict[str, Any]:
    return rendering.manifest("ConfigMap", name)


def protected(rendering: Rendering) -> dict[str, bool]:
    return {f"{r.type}::{r.name}": r.protect for r in rendering.registrations}
