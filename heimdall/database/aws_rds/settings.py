"""`database.awsRds`: an Amazon RDS for PostgreSQL instance in your VPC (provider aws-rds).

The settings and rules only: importable without pulumi-aws, which the component
(`component.py`) needs and `requirements.txt` installs.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Optional

from pydantic import AfterValidator, Field, model_validator

from heimdall.database.provider import ProviderSpec
from heimdall.settings.database import (
    DatabaseSettings,
    DatabaseTlsSettings,
    check_ca,
    require_encryption,
    with_default_mode,
)
from heimdall.settings.types import CidrSet, Model, Tags


def _aws_id(prefix: str) -> Any:
    pattern = re.compile(rf"^{prefix}-[0-9a-f]{{8,17}}$")

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"must be an AWS id such as {prefix}-0123456789abcdef0")
        return value

    return AfterValidator(check)


AwsVpcId = Annotated[str, _aws_id("vpc")]
AwsSubnetId = Annotated[str, _aws_id("subnet")]
AwsSecurityGroupId = Annotated[str, _aws_id("sg")]


class AwsRdsDatabase(Model):
    """`database.awsRds`: an Amazon RDS for PostgreSQL instance in your VPC."""

    vpc_id: AwsVpcId = Field(description="VPC of the instance and its security group (vpc-...).")
    subnet_ids: list[AwsSubnetId] = Field(
        description="Private subnets of the DB subnet group, in at least two Availability Zones."
    )
    allowed_security_group_ids: list[AwsSecurityGroupId] = Field(
        default=[],
        description="Security groups admitted to the database port (for example the EKS nodes' or pods').",
    )
    allowed_cidr_blocks: CidrSet = Field(
        default=[],
        description="CIDR blocks admitted to the database port (for example the pod network); "
        "never 0.0.0.0/0, nor blocks that together admit more public addresses than a /8.",
    )
    identifier: Optional[Annotated[str, Field(max_length=63, pattern=r"^[a-z](-?[a-z0-9])*$")]] = Field(
        default=None,
        description="RDS instance identifier; default: the Pulumi name with a random suffix.",
    )
    engine_version: str = Field(
        default="17",
        pattern=r"^\d{2}(\.\d+)?$",
        description="PostgreSQL version: a major version (minor upgrades are automatic) or major.minor.",
    )
    instance_class: str = Field(
        default="db.t4g.micro",
        pattern=r"^db\.[a-z0-9-]+\.[a-z0-9]+$",
        description="Instance class, such as db.t4g.micro or db.m7g.large.",
    )
    allocated_storage: int = Field(default=20, ge=20, le=65536, description="Storage in GiB.")
    max_allocated_storage: int = Field(
        default=100,
        ge=0,
        le=65536,
        description="Storage autoscaling ceiling in GiB; 0 turns autoscaling off.",
    )
    storage_type: Literal["gp3", "gp2", "io1", "io2"] = Field(
        default="gp3", description="EBS storage type."
    )
    kms_key_id: Optional[Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:kms:")]] = Field(
        default=None,
        description="ARN of the KMS key that encrypts the storage; default: the AWS-managed key. Storage is always encrypted.",
    )
    multi_az: bool = Field(default=False, description="A standby in a second Availability Zone.")
    backup_retention_period: int = Field(
        default=7, ge=1, le=35, description="Days of automated backups (point-in-time recovery); at least 1."
    )
    backup_window: Optional[Annotated[str, Field(pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$")]] = Field(
        default=None, description="Daily backup window in UTC, such as 03:00-04:00; default: AWS chooses."
    )
    maintenance_window: Optional[
        Annotated[str, Field(pattern=r"^[a-z]{3}:\d{2}:\d{2}-[a-z]{3}:\d{2}:\d{2}$")]
    ] = Field(default=None, description="Weekly maintenance window in UTC, such as sun:04:30-sun:05:30.")
    deletion_protection: bool = Field(
        default=True, description="AWS refuses to delete the instance while this is true."
    )
    skip_final_snapshot: bool = Field(
        default=False, description="Delete the instance without a final snapshot (never in production)."
    )
    performance_insights_enabled: bool = Field(
        default=False, description="Turn on Performance Insights (7 days retention)."
    )
    ca_cert_identifier: Optional[str] = Field(
        default=None,
        description="Server certificate CA, such as rds-ca-rsa2048-g1; default: the AWS default. Keep it covered by tls.ca.",
    )
    parameters: dict[Annotated[str, Field(pattern=r"^[a-z_.]+$")], str] = Field(
        default={},
        description="Extra parameters of the instance's parameter group (rds.force_ssl is always 1).",
    )
    tags: Tags = Field(default={}, description="Tags on every AWS resource the provider creates.")

    @property
    def server_major(self) -> int:
        return int(self.engine_version.split(".")[0])

    @model_validator(mode="after")
    def _network(self) -> AwsRdsDatabase:
        if len(set(self.subnet_ids)) < 2:
            raise ValueError(
                "subnetIds needs at least two subnets in different Availability Zones "
                "(an RDS DB subnet group requires them)"
            )
        if not self.allowed_security_group_ids and not self.allowed_cidr_blocks:
            raise ValueError(
                "set allowedSecurityGroupIds or allowedCidrBlocks: without them no client "
                "can reach the database"
            )
        if 0 < self.max_allocated_storage < self.allocated_storage:
            raise ValueError("maxAllocatedStorage must be 0 (off) or at least allocatedStorage")
        if "rds.force_ssl" in self.parameters:
            raise ValueError("parameters must not set rds.force_ssl: TLS is always forced")
        return self


def _rules(database: DatabaseSettings, section: Any) -> DatabaseTlsSettings:
    # Names RDS refuses, refused here before anything is created.
    if not database.username[0].isalpha() or database.username == "rdsadmin":
        raise ValueError(
            f"aws-rds: username {database.username!r} must start with a letter and not be rdsadmin"
        )
    if not database.name[0].isalpha():
        raise ValueError(f"aws-rds: name {database.name!r} must start with a letter")
    tls = with_default_mode(database.tls, "verify")
    require_encryption("aws-rds", tls)
    check_ca(tls)
    if tls.mode == "verify" and tls.ca is None:
        raise ValueError(
            "aws-rds with tls.mode verify needs tls.ca: the RDS CA is not in Node's trust "
            "store, so Heimdall would fail with 'self signed certificate in certificate "
            "chain'; set tls.ca to certs/rds-global-bundle.pem"
        )
    return tls


PROVIDER = ProviderSpec(
    model=AwsRdsDatabase,
    description="Settings of provider aws-rds (Amazon RDS for PostgreSQL).",
    component="AwsRdsPostgres",
    managed=True,
    missing_section="provider 'aws-rds' needs the awsRds section",
    sdk="pulumi_aws",
    rules=_rules,
)
