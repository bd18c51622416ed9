"""The policy pack's checks of the provider's Google Cloud resources (standard library
only: the pack runs without the program's dependencies)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from typing import Any

from heimdall.database.facts import PolicyChecks
from heimdall.engine_values import get_path

INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
Report = Callable[[str], None]


def _is_open_network(cidr: str) -> bool:
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen == 0
    except ValueError:
        return False


def _private(token: str, props: Mapping[str, Any], report: Report) -> None:
    if token != INSTANCE:
        return
    ip = get_path(props, "settings", "ipConfiguration") or {}
    # Cloud SQL gives an instance a public IPv4 address unless told not to.
    if ip.get("ipv4Enabled") is not False:
        networks = [n.get("value", "") for n in ip.get("authorizedNetworks") or []]
        if not networks:
            report(
                "the Cloud SQL instance has a public IP without authorizedNetworks: "
                "set ipv4Enabled: false (private IP) or list the networks allowed"
            )
        for network in networks:
            if _is_open_network(network):
                report(f"Cloud SQL authorized network {network!r} admits the whole internet")


def _tls(token: str, props: Mapping[str, Any], report: Report) -> None:
    if token != INSTANCE:
        return
    ip = get_path(props, "settings", "ipConfiguration") or {}
    forced = ip.get("sslMode") in ("ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED")
    if not forced and ip.get("requireSsl") is not True:
        report("Cloud SQL must force TLS: set settings.ipConfiguration.sslMode ENCRYPTED_ONLY")


def _backups(token: str, props: Mapping[str, Any], report: Report) -> None:
    if token == INSTANCE and get_path(props, "settings", "backupConfiguration", "enabled") is not True:
        report("Cloud SQL backups must be on: set settings.backupConfiguration.enabled")


def _deletion_protection(token: str, props: Mapping[str, Any], protect: bool, report: Report) -> None:
    if token != INSTANCE:
        return
    if not protect:
        report("a production database must be protected in Pulumi (protect: true)")
    # deletionProtection (Pulumi-side) defaults to true; refuse only an explicit false.
    if props.get("deletionProtection") is False:
        report("a production Cloud SQL instance needs deletionProtection: true")
    if get_path(props, "settings", "deletionProtectionEnabled") is not True:
        report("a production Cloud SQL instance needs settings.deletionProtectionEnabled: true")


CHECKS = PolicyChecks(
    private=_private, tls=_tls, backups=_backups, deletion_protection=_deletion_protection
)
