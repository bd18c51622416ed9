"""`AwsRdsPostgres`: Amazon RDS for PostgreSQL in your VPC (provider `aws-rds`).

Creates:
- the database password (pulumi-random unless `secrets.databasePassword` is given) and the
  Kubernetes Secret clients read it from;
- a security group in `awsRds.vpcId` admitting the database port only, one ingress rule
  per `allowedSecurityGroupIds` / `allowedCidrBlocks` entry (the settings refuse
  0.0.0.0/0);
- a DB subnet group from `awsRds.subnetIds`;
- a parameter group for the engine family with `rds.force_ssl=1` (plus `parameters`);
- the instance: engine postgres, storage encrypted (optionally with `kmsKeyId`), not
  publicly accessible, automated backups kept `backupRetentionPeriod` days (and kept
  after deletion), deletion protection, a final snapshot unless `skipFinalSnapshot`,
  PostgreSQL logs to CloudWatch, automatic minor upgrades only. Its master user is the
  user Heimdall connects as (`database.username`), owning `database.name`;
- with `database.tls.ca` a file (certs/rds-global-bundle.pem), a ConfigMap with the CA
  bundle that clients mount as DATABASE_SSL_CA.

The instance is protected (`protect=True`) unless `database.allowDestroy` is true. The
AWS region and credentials come from the stack's `aws:region` and the ambient AWS setup.
"""

from __future__ import annotations

from typing import Optional

import pulumi
from pulumi_aws import ec2 as aws_ec2
from pulumi_aws import rds as aws_rds
from pulumi_aws import vpc as aws_vpc

from heimdall.database.aws_rds.settings import AwsRdsDatabase
from heimdall.database.cloud import cloud_tags, slug
from heimdall.database.contract import DatabaseConnection, DatabaseRequest
from heimdall.database.credentials import managed_password
from heimdall.database.tls import client_tls

CLOUDWATCH_LOGS = ["postgresql", "upgrade"]


def final_snapshot_identifier(identifier: Optional[str], stack: str) -> str:
    """A stable name for the final snapshot: letters, digits and single hyphens."""
    base = identifier or "heimdall-" + slug(stack)
    return f"{base}-final"[:255]


class AwsRdsPostgres(pulumi.ComponentResource):
    connection: DatabaseConnection
    instance: aws_rds.Instance

    def __init__(
        self,
        name: str,
        request: DatabaseRequest[AwsRdsDatabase],
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("heimdall:database:AwsRdsPostgres", name, None, opts)
        rds = request.section
        child = pulumi.ResourceOptions(parent=self)
        tags = cloud_tags(rds.tags)

        password, password_value = managed_password(name, request, self, "aws-rds")

        security_group = aws_ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=rds.vpc_id,
            description=f"Heimdall PostgreSQL: port {request.port} from the allowed sources only",
            tags=tags,
            opts=child,
        )
        # One rule per source, named after it, so that removing one replaces nothing else.
        def ingress(source: str, group: Optional[str] = None) -> None:
            cidr = None if group else source
            aws_vpc.SecurityGroupIngressRule(
                f"{name}-ingress-{slug(source)}",
                security_group_id=security_group.id,
                ip_protocol="tcp",
                from_port=request.port,
                to_port=request.port,
                referenced_security_group_id=group,
                cidr_ipv4=cidr if cidr and ":" not in cidr else None,
                cidr_ipv6=cidr if cidr and ":" in cidr else None,
                description=f"PostgreSQL from {source}",
                tags=tags,
                opts=child,
            )

        for group in rds.allowed_security_group_ids:
            ingress(group, group)
        for block in rds.allowed_cidr_blocks:
            ingress(block)

        subnet_group = aws_rds.SubnetGroup(
            f"{name}-subnets",
            subnet_ids=rds.subnet_ids,
            description="Heimdall PostgreSQL subnets",
            tags=tags,
            opts=child,
        )
        major = rds.engine_version.split(".")[0]
        parameter_group = aws_rds.ParameterGroup(
            f"{name}-parameters",
            family=f"postgres{major}",
            description="Heimdall PostgreSQL: TLS only",
            parameters=[
                aws_rds.ParameterGroupParameterArgs(name=key, value=value)
                for key, value in {**rds.parameters, "rds.force_ssl": "1"}.items()
            ],
            tags=tags,
            opts=child,
        )

        self.instance = aws_rds.Instance(
            f"{name}-instance",
            _instance_args(rds, request, password_value, security_group, subnet_group, parameter_group, tags),
            opts=pulumi.ResourceOptions(parent=self, protect=request.protect),
        )

        self.connection = DatabaseConnection(
            provider="aws-rds",
            host=self.instance.address,
            port=request.port,
            database=request.name,
            username=request.username,
            password=password,
            password_value=password_value,
            tls=client_tls(name, request, self),
            ready=[self.instance],
            instance_name=self.instance.identifier,
        )
        self.register_outputs(
            {"address": self.instance.address, "identifier": self.instance.identifier}
        )


def _instance_args(
    rds: AwsRdsDatabase,
    request: DatabaseRequest[AwsRdsDatabase],
    password: pulumi.Output[str],
    security_group: aws_ec2.SecurityGroup,
    subnet_group: aws_rds.SubnetGroup,
    parameter_group: aws_rds.ParameterGroup,
    tags: dict[str, str],
) -> aws_rds.InstanceArgs:
    return aws_rds.InstanceArgs(
        identifier=rds.identifier,
        engine="postgres",
        engine_version=rds.engine_version,
        # A major upgrade is a deliberate act: change engineVersion and set this by hand.
        allow_major_version_upgrade=False,
        auto_minor_version_upgrade=True,
        instance_class=rds.instance_class,
        allocated_storage=rds.allocated_storage,
        max_allocated_storage=rds.max_allocated_storage,
        storage_type=rds.storage_type,
        iops=rds.iops,
        storage_encrypted=True,
        kms_key_id=rds.kms_key_id,
        db_name=request.name,
        username=request.username,
        password=password,
        port=request.port,
        db_subnet_group_name=subnet_group.name,
        vpc_security_group_ids=[security_group.id],
        parameter_group_name=parameter_group.name,
        publicly_accessible=False,
        multi_az=rds.multi_az,
        backup_retention_period=rds.backup_retention_period,
        backup_window=rds.backup_window,
        maintenance_window=rds.maintenance_window,
        delete_automated_backups=False,
        copy_tags_to_snapshot=True,
        deletion_protection=rds.deletion_protection,
        skip_final_snapshot=rds.skip_final_snapshot,
        final_snapshot_identifier=None
        if rds.skip_final_snapshot
        else final_snapshot_identifier(rds.identifier, pulumi.get_stack()),
        performance_insights_enabled=rds.performance_insights_enabled,
        performance_insights_retention_period=7 if rds.performance_insights_enabled else None,
        enabled_cloudwatch_logs_exports=CLOUDWATCH_LOGS,
        ca_cert_identifier=rds.ca_cert_identifier,
        apply_immediately=False,
        tags=tags,
    )
