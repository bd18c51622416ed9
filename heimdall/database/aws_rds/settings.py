"""`database.awsRds`: an Amazon RDS for PostgreSQL instance in your VPC (provider aws-rds).

The settings and rules only: importable without pulumi-aws, which the component
(`component.py`) needs and the pyproject extra installs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Optional

from pydantic import AfterValidator, Field, model_validator

from heimdall.settings.database import (
    DatabaseSettings,
    DatabaseTlsSettings,
    check_ca,
    require_encryption,
    with_default_mode,
)
from heimdall.settings.types import CidrSet, Model, Tags

if TYPE_CHECKING:
    import pulumi

    from heimdall.database.contract import DatabaseConnection, DatabaseRequest
    from heimdall.database.facts import Computed, PolicyChecks


def _aws_id(prefix: str) -> Any:
    pattern = re.compile(rf"^{prefix}-[0-9a-f]{{8,17}}$")

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"must be an AWS id such as {prefix}-0123456789abcdef0")
        return value

    return AfterValidator(check)


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEK = 7 * 1440


def _minute(text: str, what: str) -> int:
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(hours) == 2 and len(minutes) == 2):
        raise ValueError(f"{what} {text!r} must be hh24:mi, such as 03:00")
    if int(hours) > 23 or int(minutes) > 59:
        raise ValueError(f"{what} {text!r} is not a time of day (00:00 to 23:59)")
    return int(hours) * 60 + int(minutes)


def _span(start: int, end: int, period: int) -> int:
    return (end - start) % period


def _backup_window(value: str) -> str:
    """RDS CreateDBInstance PreferredBackupWindow: hh24:mi-hh24:mi in UTC, at least 30
    minutes (AWS RDS API Reference)."""
    first, sep, last = value.partition("-")
    if not sep:
        raise ValueError("must be hh24:mi-hh24:mi in UTC, such as 03:00-04:00")
    if _span(_minute(first, "start"), _minute(last, "end"), 1440) < 30:
        raise ValueError("must be at least 30 minutes long (RDS refuses a shorter window), such as 03:00-03:30")
    return value


def _week_minute(text: str, what: str) -> int:
    day, sep, time = text.partition(":")
    if not sep or day.lower() not in _DAYS:
        raise ValueError(f"{what} {text!r} must be ddd:hh24:mi with a day mon..sun, such as sun:04:30")
    return _DAYS.index(day.lower()) * 1440 + _minute(time, what)


def _maintenance_window(value: str) -> str:
    """RDS PreferredMaintenanceWindow: ddd:hh24:mi-ddd:hh24:mi in UTC, at least 30 minutes."""
    parts = value.split("-")
    if len(parts) != 2:
        raise ValueError("must be ddd:hh24:mi-ddd:hh24:mi in UTC, such as sun:04:30-sun:05:30")
    if _span(_week_minute(parts[0], "start"), _week_minute(parts[1], "end"), _WEEK) < 30:
        raise ValueError("must be at least 30 minutes long (RDS refuses a shorter window), such as sun:04:30-sun:05:00")
    return value


def windows_overlap(backup: str, maintenance: str) -> bool:
    """Whether the daily backup window meets the weekly maintenance window ("must not
    conflict with the preferred maintenance window")."""
    first, last = backup.split("-")
    start, length = _minute(first, "start"), _span(_minute(first, "start"), _minute(last, "end"), 1440)
    m_first, m_last = maintenance.split("-")
    m_start = _week_minute(m_first, "start")
    m_length = _span(m_start, _week_minute(m_last, "end"), _WEEK)
    for day in range(8):  # the eighth covers a window that wraps past Sunday midnight
        b = day * 1440 + start
        for shift in (-_WEEK, 0, _WEEK):
            m = m_start + shift
            if b < m + m_length and m < b + length:
                return True
    return False


def _aws_tags(value: dict[str, str]) -> dict[str, str]:
    # AWS tagging rules ("Tag naming limits and requirements"): at most 50 tags, keys up to
    # 128 characters and never starting with the reserved aws: prefix, values up to 256.
    if len(value) > 50:
        raise ValueError(f"has {len(value)} tags; AWS takes at most 50 per resource")
    for key in value:
        if key.lower().startswith("aws:"):
            raise ValueError(f"key {key!r} uses the aws: prefix, which AWS reserves for itself")
    return value


def _identifier(value: str) -> str:
    # RDS CreateDBInstance DBInstanceIdentifier constraints (AWS RDS API Reference).
    if len(value) > 63 or not re.fullmatch(r"^[a-z](-?[a-z0-9])*$", value):
        raise ValueError(
            "must be an RDS identifier: 1-63 lowercase letters, digits and '-', starting with a "
            "letter, without '--' or a trailing '-', such as heimdall-prod"
        )
    return value


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
    identifier: Optional[Annotated[str, AfterValidator(_identifier)]] = Field(
        default=None,
        description="RDS instance identifier: 1-63 lowercase letters, digits and '-', starting "
        "with a letter, no '--', not ending with '-'; default: the Pulumi name with a random suffix.",
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
    allocated_storage: int = Field(default=20, ge=20, le=65536, description="Storage in GiB (at least 100 with io1 or io2).")
    max_allocated_storage: int = Field(
        default=100,
        ge=0,
        le=65536,
        description="Storage autoscaling ceiling in GiB; 0 turns autoscaling off.",
    )
    storage_type: Literal["gp3", "gp2", "io1", "io2"] = Field(
        default="gp3", description="EBS storage type; io1 and io2 need iops."
    )
    iops: Optional[int] = Field(
        default=None,
        ge=1000,
        le=256000,
        description="Provisioned IOPS, required with storageType io1 or io2 (RDS: 1000-256000, "
        "0.5 to 50 IOPS per GiB for io1, up to 500 for io2); unset for gp2 and gp3 (their baseline).",
    )
    kms_key_id: Optional[Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:kms:")]] = Field(
        default=None,
        description="ARN of the KMS key that encrypts the storage; default: the AWS-managed key. Storage is always encrypted.",
    )
    multi_az: bool = Field(default=False, description="A standby in a second Availability Zone.")
    backup_retention_period: int = Field(
        default=7, ge=1, le=35, description="Days of automated backups (point-in-time recovery); at least 1."
    )
    backup_window: Optional[Annotated[str, AfterValidator(_backup_window)]] = Field(
        default=None,
        description="Daily backup window in UTC, such as 03:00-04:00 (hh24:mi-hh24:mi, at least "
        "30 minutes, not meeting maintenanceWindow); default: AWS chooses.",
    )
    maintenance_window: Optional[Annotated[str, AfterValidator(_maintenance_window)]] = Field(
        default=None,
        description="Weekly maintenance window in UTC, such as sun:04:30-sun:05:30 "
        "(ddd:hh24:mi-ddd:hh24:mi, at least 30 minutes).",
    )
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
    tags: Annotated[Tags, AfterValidator(_aws_tags)] = Field(
        default={},
        description="Tags on every AWS resource the provider creates: at most 50, keys up to 128 "
        "characters and not aws:*, values up to 256.",
    )

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
        if self.storage_type in ("io1", "io2") and self.iops is None:
            raise ValueError(
                f"iops is required with storageType {self.storage_type} (RDS refuses provisioned "
                "storage without it): set iops, such as 3000, or use storageType gp3"
            )
        if self.storage_type in ("io1", "io2") and self.allocated_storage < 100:
            raise ValueError(
                f"allocatedStorage {self.allocated_storage} is under the 100 GiB RDS needs for "
                f"storageType {self.storage_type}; set at least 100, or use gp3"
            )
        if self.iops is not None and self.storage_type in ("io1", "io2"):
            most = 50 if self.storage_type == "io1" else 500
            if not self.allocated_storage * 0.5 <= self.iops <= self.allocated_storage * most:
                raise ValueError(
                    f"iops {self.iops} with allocatedStorage {self.allocated_storage} GiB is outside "
                    f"RDS's ratio for {self.storage_type} (0.5 to {most} IOPS per GiB)"
                )
        if self.iops is not None and self.storage_type in ("gp2",):
            raise ValueError("iops does not apply to storageType gp2: remove it, or use io1, io2 or gp3")
        if self.backup_window and self.maintenance_window and windows_overlap(self.backup_window, self.maintenance_window):
            raise ValueError(
                f"backupWindow {self.backup_window} meets maintenanceWindow "
                f"{self.maintenance_window} (RDS refuses windows that conflict); move one of them"
            )
        if "rds.force_ssl" in self.parameters:
            raise ValueError("parameters must not set rds.force_ssl: TLS is always forced")
        return self


class AwsRdsSettings(DatabaseSettings):
    """`database` with provider aws-rds: the shared settings and `database.aws_rds`."""

    section: ClassVar[str] = "awsRds"
    description: ClassVar[str] = "Settings of provider aws-rds (Amazon RDS for PostgreSQL)."
    missing_section: ClassVar[Optional[str]] = "provider 'aws-rds' needs the awsRds section"
    sdk: ClassVar[Optional[str]] = "pulumi_aws"
    extra: ClassVar[Optional[str]] = "aws"
    managed: ClassVar[bool] = True
    provider: Literal["aws-rds"] = "aws-rds"
    aws_rds: AwsRdsDatabase

    @property
    def server_major(self) -> Optional[int]:
        return self.aws_rds.server_major

    def effective_tls(self) -> DatabaseTlsSettings:
        # Names RDS refuses, refused here before anything is created.
        if not self.username[0].isalpha() or self.username == "rdsadmin":
            raise ValueError(
                f"aws-rds: username {self.username!r} must start with a letter and not be rdsadmin"
            )
        if not self.name[0].isalpha() or not self.name.replace("_", "").isalnum():
            raise ValueError(
                f"aws-rds: name {self.name!r} must start with a letter and hold only letters, "
                "digits and '_' (RDS's rule for DBName), such as heimdall_database"
            )
        tls = with_default_mode(self.tls, "verify")
        require_encryption("aws-rds", tls)
        check_ca(tls)
        if tls.mode == "verify" and tls.ca is None:
            raise ValueError(
                "aws-rds with tls.mode verify needs tls.ca: the RDS CA is not in Node's trust "
                "store, so Heimdall would fail with 'self signed certificate in certificate "
                "chain'; set tls.ca to certs/rds-global-bundle.pem"
            )
        return tls

    def build(
        self,
        name: str,
        request: DatabaseRequest[None],
        opts: Optional[pulumi.ResourceOptions],
    ) -> DatabaseConnection:
        from heimdall.database.aws_rds.component import AwsRdsPostgres

        return AwsRdsPostgres(name, request.with_section(self.aws_rds), opts).connection

    @classmethod
    def mocks(cls) -> Mapping[str, Computed]:
        from heimdall.database.aws_rds.mocks import COMPUTED

        return COMPUTED

    @classmethod
    def plan(cls) -> Mapping[str, str]:
        from heimdall.database.aws_rds.plan import AWAITED

        return AWAITED

    @classmethod
    def policy(cls) -> Optional[PolicyChecks]:
        from heimdall.database.aws_rds.policy import CHECKS

        return CHECKS
