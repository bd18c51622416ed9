"""The policy pack's checks of the provider's AWS resources (standard library only: the
pack runs without the program's dependencies)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Optional

from heimdall.database.facts import PolicyChecks

INSTANCE = "aws:rds/instance:Instance"
PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
Report = Callable[[str], None]


def _is_postgres(props: Mapping[str, Any]) -> bool:
    return str(props.get("engine") or "").startswith("postgres")


def _major(version: Any) -> Optional[int]:
    match = re.match(r"^\D*(\d+)", str(version or ""))
    return int(match.group(1)) if match else None


def _encrypted(token: str, props: Mapping[str, Any], report: Report) -> None:
    if token == INSTANCE and props.get("storageEncrypted") is not True:
        report("RDS storage must be encrypted: set storageEncrypted: true")


def _private(token: str, props: Mapping[str, Any], report: Report) -> None:
    if token == INSTANCE and props.get("publiclyAccessible") is True:
        report("the RDS instance must not be publicly accessible (publiclyAccessible: false)")


def _tls(token: str, props: Mapping[str, Any], report: Report) -> None:
    if token == PARAMETER_GROUP:
        family = str(props.get("family") or "")
        if not family.startswith("postgres"):
            return
        values = {p.get("name"): str(p.get("value")) for p in props.get("parameters") or []}
        force = values.get("rds.force_ssl")
        if force is not None and force != "1":
            report("rds.force_ssl must be 1 (TLS forced)")
        elif force is None and (_major(family) or 0) < 15:
            report(f"{family} does not force TLS by default: set rds.force_ssl=1")
    elif (
        token == INSTANCE
        and _is_postgres(props)
        # Without a parameter group the default group applies; it forces TLS from 15 on.
        and not props.get("parameterGroupName")
        and (_major(props.get("engineVersion")) or 0) < 15
    ):
        report("PostgreSQL before 15 on RDS needs a parameter group with rds.force_ssl=1")


def _backups(token: str, props: Mapping[str, Any], report: Report) -> None:
    if token == INSTANCE:
        retention = props.get("backupRetentionPeriod")
        if not isinstance(retention, (int, float)) or retention < 1:
            report("RDS automated backups must be on: set backupRetentionPeriod to 1 or more days")


def _deletion_protection(token: str, props: Mapping[str, Any], protect: bool, report: Report) -> None:
    if token != INSTANCE:
        return
    if not protect:
        report("a production database must be protected in Pulumi (protect: true)")
    if props.get("deletionProtection") is not True:
        report("a production RDS instance needs deletionProtection: true")
    if props.get("skipFinalSnapshot") is True:
        report("a production RDS instance must take a final snapshot (skipFinalSnapshot: false)")


CHECKS = PolicyChecks(
    encrypted=_encrypted,
    private=_private,
    tls=_tls,
    backups=_backups,
    deletion_protection=_deletion_protection,
)
