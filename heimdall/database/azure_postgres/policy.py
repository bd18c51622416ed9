"""The policy pack's checks of the provider's Azure resources (standard library only: the
pack runs without the program's dependencies)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any, Optional

from heimdall.database.facts import PolicyChecks

# azure-native tokens, with or without an explicit API version module.
SERVER = re.compile(r"^azure-native:dbforpostgresql(/v[0-9a-z]+)?:Server$")
CONFIGURATION = re.compile(r"^azure-native:dbforpostgresql(/v[0-9a-z]+)?:Configuration$")
FIREWALL_RULE = re.compile(r"^azure-native:dbforpostgresql(/v[0-9a-z]+)?:FirewallRule$")
Report = Callable[[str], None]


def _ipv4(address: Any) -> Optional[int]:
    try:
        return int(ipaddress.IPv4Address(str(address)))
    except ValueError:
        return None


def _private(token: str, props: Mapping[str, Any], report: Report) -> None:
    if SERVER.match(token):
        # Private access (a delegated subnet, or public access Disabled) is private; public
        # access Enabled admits only the firewall rules' ranges, checked one by one below.
        # Neither said: Azure picks public access, which nobody chose.
        network = props.get("network") or {}
        if not network.get("delegatedSubnetResourceId") and network.get("publicNetworkAccess") not in (
            "Disabled",
            "Enabled",
        ):
            report(
                "choose the Azure server's network access: a delegated subnet (private), or "
                "network.publicNetworkAccess Disabled, or Enabled with firewall rules"
            )
    elif FIREWALL_RULE.match(token):
        start, end = _ipv4(props.get("startIpAddress")), _ipv4(props.get("endIpAddress"))
        if start == 0 and end == 0:
            # Azure's "allow Azure services" rule: any tenant's services, not just yours.
            report("the firewall rule 0.0.0.0-0.0.0.0 admits every Azure service of every tenant")
        elif start is not None and end is not None and end - start >= 2**31:
            report(
                f"the firewall rule {props.get('startIpAddress')}-{props.get('endIpAddress')} "
                "admits half the internet or more"
            )


def _tls(token: str, props: Mapping[str, Any], report: Report) -> None:
    if (
        CONFIGURATION.match(token)
        and props.get("configurationName") == "require_secure_transport"
        and str(props.get("value", "")).lower() not in ("on", "true", "1")
    ):
        report("require_secure_transport must stay on (TLS forced)")


def _backups(token: str, props: Mapping[str, Any], report: Report) -> None:
    if SERVER.match(token):
        days = (props.get("backup") or {}).get("backupRetentionDays")
        if days is not None and days < 7:
            report("Azure backup retention must be at least 7 days")


def _deletion_protection(token: str, props: Mapping[str, Any], protect: bool, report: Report) -> None:
    if SERVER.match(token) and not protect:
        report("a production database must be protected in Pulumi (protect: true)")


CHECKS = PolicyChecks(
    private=_private, tls=_tls, backups=_backups, deletion_protection=_deletion_protection
)
