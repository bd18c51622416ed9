"""What Azure fills in for the provider's resources, for the offline render's mocks."""

from __future__ import annotations

from typing import Any

import pulumi

from heimdall.tooling.naming import auto_name


def _server(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    name = auto_name(args, "serverName")
    return {"name": name, "fullyQualifiedDomainName": f"{name}.postgres.database.azure.com"}


def _resource_group(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    return {"name": auto_name(args, "resourceGroupName")}


def _private_zone(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    return {"name": auto_name(args, "privateZoneName")}


COMPUTED = {
    "azure-native:dbforpostgresql:Server": _server,
    "azure-native:resources:ResourceGroup": _resource_group,
    "azure-native:privatedns:PrivateZone": _private_zone,
}
