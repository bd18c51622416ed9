"""What AWS fills in for the provider's resources, for the offline render's mocks."""

from __future__ import annotations

from typing import Any

import pulumi

from heimdall.tooling.naming import auto_name, named, stable_token, stack_config


def _instance(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    identifier = auto_name(args, "identifier")
    region = stack_config("aws:region", "us-east-1")
    address = f"{identifier}.c{stable_token('rds', args.name, length=12)}.{region}.rds.amazonaws.com"
    port = int(args.inputs.get("port") or 5432)
    return {
        "identifier": identifier,
        "address": address,
        "port": port,
        "endpoint": f"{address}:{port}",
        "arn": f"arn:aws:rds:{region}:123456789012:db:{identifier}",
    }


COMPUTED = {
    "aws:rds/instance:Instance": _instance,
    "aws:rds/subnetGroup:SubnetGroup": named,
    "aws:rds/parameterGroup:ParameterGroup": named,
    "aws:ec2/securityGroup:SecurityGroup": named,
}
