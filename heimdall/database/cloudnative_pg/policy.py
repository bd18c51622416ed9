"""The policy pack's checks of the provider's `Cluster` (standard library only: the pack
runs without the program's dependencies)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from heimdall.database.facts import PolicyChecks

CLUSTER = "kubernetes:postgresql.cnpg.io/v1:Cluster"
REJECT_PLAIN_TCP = "hostnossl all all all reject"
Report = Callable[[str], None]


def _tls(token: str, props: Mapping[str, Any], report: Report) -> None:
    if token != CLUSTER:
        return
    rules = ((props.get("spec") or {}).get("postgresql") or {}).get("pg_hba") or []
    if REJECT_PLAIN_TCP not in [" ".join(str(rule).split()) for rule in rules]:
        report(
            "a CloudNativePG cluster accepts plain TCP by default: add the pg_hba rule "
            f"'{REJECT_PLAIN_TCP}'"
        )


def _deletion_protection(token: str, props: Mapping[str, Any], protect: bool, report: Report) -> None:
    if token == CLUSTER and not protect:
        report(
            "a production CloudNativePG cluster must be protected in Pulumi (protect: true): "
            "deleting it deletes its volumes"
        )


CHECKS = PolicyChecks(tls=_tls, deletion_protection=_deletion_protection)
