"""Pulumi mocks that stand in for the engine and providers, for tests and the offline render.

`HeimdallMocks` fills in what the engine and providers would (Kubernetes auto-naming with
a stable suffix, `RandomPassword.result`, cloud outputs such as addresses), and records
nothing itself. `RecordingMonitor` records every registration as the engine sees it:
type, logical name, parent, dependencies, protection and inputs.

In preview mode (`preview=True`) the mocks return no computed values, so, as in a real
`pulumi preview` of a new stack, every output of a new resource is unknown.
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Optional

import pulumi
from pulumi.runtime.mocks import MockMonitor

# The wire form of a secret value in MockResourceArgs.inputs.
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def stable_token(*parts: str, length: int = 8, alphabet: str = string.ascii_lowercase + string.digits) -> str:
    """A deterministic pseudo-random string, so renders are reproducible."""
    digest = hashlib.sha256("\0".join(parts).encode()).digest()
    while len(digest) < length:
        digest += hashlib.sha256(digest).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


def unwrap_secret(value: Any) -> tuple[Any, bool]:
    """(plain value, was it secret) for a value of MockResourceArgs.inputs."""
    if isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG_VALUE:
        return value.get("value"), True
    return value, False


def _random_password(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    length = int(args.inputs.get("length", 16))
    special = args.inputs.get("special", True)
    alphabet = string.ascii_letters + string.digits
    if special:
        alphabet += args.inputs.get("overrideSpecial") or "!@#$%&*()-_=+[]{}<>:?"
    value = stable_token("password", args.name, length=length, alphabet=alphabet)
    return {"result": value, "bcryptHash": "$2a$10$" + stable_token("bcrypt", args.name, length=53)}


def _kubernetes(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    metadata = dict(args.inputs.get("metadata") or {})
    if not metadata.get("name"):
        # The provider appends a random suffix to the logical name.
        metadata["name"] = f"{args.name}-{stable_token(args.typ, args.name)}"
    return {"metadata": metadata}


# --- managed databases: what AWS, Google Cloud and Azure fill in -----------------------

# Stands in for a Cloud SQL server CA (serverCaCerts[].cert): PEM-shaped, obviously fake.
FAKE_CA_PEM = (
    "-----BEGIN CERTIFICATE-----\n"
    "TU9DSyBDTE9VRCBTUUwgU0VSVkVSIENBIChub3QgYSByZWFsIGNlcnRpZmljYXRlKQ==\n"
    "-----END CERTIFICATE-----\n"
)


def _auto_name(args: pulumi.runtime.MockResourceArgs, key: str = "name") -> str:
    """The input `key`, or what the provider's auto-naming would make of the logical name."""
    return str(args.inputs.get(key) or f"{args.name}-{stable_token(args.typ, args.name, length=7)}")


def _config(key: str, default: str) -> str:
    return pulumi.runtime.get_config(key) or default


def _named(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    return {"name": _auto_name(args)}


def _aws_rds_instance(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    identifier = _auto_name(args, "identifier")
    region = _config("aws:region", "us-east-1")
    address = f"{identifier}.c{stable_token('rds', args.name, length=12)}.{region}.rds.amazonaws.com"
    port = int(args.inputs.get("port") or 5432)
    return {
        "identifier": identifier,
        "address": address,
        "port": port,
        "endpoint": f"{address}:{port}",
        "arn": f"arn:aws:rds:{region}:123456789012:db:{identifier}",
    }


def _gcp_sql_instance(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    name = _auto_name(args)
    region = args.inputs.get("region") or _config("gcp:region", "us-central1")
    project = _config("gcp:project", "example-project")
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


def _azure_postgres_server(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    name = _auto_name(args, "serverName")
    return {"name": name, "fullyQualifiedDomainName": f"{name}.postgres.database.azure.com"}


def _azure_resource_group(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    return {"name": _auto_name(args, "resourceGroupName")}


def _azure_private_zone(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    return {"name": _auto_name(args, "privateZoneName")}


# Computed outputs by type token (or "package:" prefix). Providers add theirs here.
COMPUTED: dict[str, Callable[[pulumi.runtime.MockResourceArgs], dict[str, Any]]] = {
    "random:index/randomPassword:RandomPassword": _random_password,
    "kubernetes:": _kubernetes,
    "aws:rds/instance:Instance": _aws_rds_instance,
    "aws:rds/subnetGroup:SubnetGroup": _named,
    "aws:rds/parameterGroup:ParameterGroup": _named,
    "aws:ec2/securityGroup:SecurityGroup": _named,
    "gcp:sql/databaseInstance:DatabaseInstance": _gcp_sql_instance,
    "gcp:dns/managedZone:ManagedZone": _named,
    "azure-native:dbforpostgresql:Server": _azure_postgres_server,
    "azure-native:resources:ResourceGroup": _azure_resource_group,
    "azure-native:privatedns:PrivateZone": _azure_private_zone,
}

# Results of invokes by function token.
CALLS: dict[str, Callable[[pulumi.runtime.MockCallArgs], dict[str, Any]]] = {}


def _computed_for(token: str) -> Optional[Callable[[pulumi.runtime.MockResourceArgs], dict[str, Any]]]:
    if token in COMPUTED:
        return COMPUTED[token]
    package = token.split(":", 1)[0] + ":"
    return COMPUTED.get(package)


class HeimdallMocks(pulumi.runtime.Mocks):
    def __init__(self, preview: bool = False) -> None:
        self.preview = preview

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[Optional[str], dict]:
        state = dict(args.inputs)
        computed = _computed_for(args.typ)
        if computed is not None and not self.preview:
            state.update(computed(args))
        name = (state.get("metadata") or {}).get("name") if isinstance(state.get("metadata"), dict) else None
        resource_id = None if self.preview else f"{name or args.name}-id"
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, Optional[list[tuple[str, str]]]]:
        handler = CALLS.get(args.token)
        return (handler(args) if handler else {}), None


@dataclass
class Registration:
    """One resource as the engine sees it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: Optional[str]
    dependencies: list[str]
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    custom_timeouts: dict[str, str]
    inputs: dict[str, Any]
    state: dict[str, Any] = field(default_factory=dict)
    ignore_changes: list[str] = field(default_factory=list)


class RecordingMonitor(MockMonitor):
    """A mock monitor that keeps every registration, components included."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        registered = self.resources.get(response.urn)
        inputs = pulumi.runtime.rpc.deserialize_properties(request.object, keep_unknowns=True)
        timeouts = request.customTimeouts
        self.registrations.append(
            Registration(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=request.parent or None,
                dependencies=list(request.dependencies),
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                delete_before_replace=bool(request.deleteBeforeReplace),
                custom_timeouts={
                    k: v
                    for k, v in (
                        ("create", timeouts.create),
                        ("update", timeouts.update),
                        ("delete", timeouts.delete),
                    )
                    if v
                },
                inputs=inputs,
                state=dict(registered.state) if registered is not None else {},
                ignore_changes=list(request.ignoreChanges),
            )
        )
        return response
