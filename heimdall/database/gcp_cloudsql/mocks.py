"""What Google Cloud fills in for the provider's resources, for the offline render's mocks."""

from __future__ import annotations

from typing import Any

import pulumi

from heimdall.tooling.naming import auto_name, named, stable_token, stack_config

# Stands in for a Cloud SQL server CA (serverCaCerts[].cert): PEM-shaped, obviously fake.
FAKE_CA_PEM = (
    "-----BEGIN CERTIFICATE-----\n"
    "TU9DSyBDTE9VRCBTUUwgU0VSVkVSIENBIChub3QgYSByZWFsIGNlcnRpZmljYXRlKQ==\n"
    "-----END CERTIFICATE-----\n"
)


def _instance(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    name = auto_name(args)
    region = args.inputs.get("region") or stack_config("gcp:region", "us-central1")
    project = stack_config("gcp:project", "example-project")
    ip = ((args.inputs.get("settings") or {}).get("ipConfiguration")) or {}
    uid = stable_token("cloudsql", args.name, length=12)
    state: dict[str, Any] = {
        "name": name,
        "connectionName": f"{project}:{region}:{name}",
        "dnsName": f"{uid}.{stable_token('dns', args.name, length=12)}.{region}.sql.goog.",
        "serverCaCerts": [
            {"cert": FAKE_CA_PEM, "commonName": "C=US,O=Google\\, Inc,CN=Mock Server CA", "sha1Fingerprint": uid}
        ],
        "selfLink": f"https://sqladmin.googleapis.com/sql/v1beta4/projects/{project}/instances/{name}",
    }
    if ip.get("privateNetwork"):
        state["privateIpAddress"] = "10.20.0.3"
    if ip.get("ipv4Enabled"):
        state["publicIpAddress"] = "203.0.113.10"
    return state


COMPUTED = {
    "gcp:sql/databaseInstance:DatabaseInstance": _instance,
    "gcp:dns/managedZone:ManagedZone": named,
}
