"""Data safety: whatever holds data (the embedded StatefulSet, the namespace, the backup
volume, managed instances, their databases, a resource group holding them) is protected unless
database.allowDestroy is true, and nothing else is."""

from __future__ import annotations

from typing import Any

import pytest

from tests.databases import AWS_RDS, AZURE, CLOUD_SQL, render, with_settings

NAMESPACE = "kubernetes:core/v1:Namespace::heimdall-namespace"
STATEFUL: list[tuple[dict[str, Any], set[str]]] = [
    (
        {},
        {
            NAMESPACE,
            "kubernetes:apps/v1:StatefulSet::heimdall-database-statefulset",
            # The backup volume (backups are on by default for the embedded database).
            "kubernetes:core/v1:PersistentVolumeClaim::heimdall-operations-backups-volume",
        },
    ),
    (AWS_RDS, {NAMESPACE, "aws:rds/instance:Instance::heimdall-database-instance"}),
    (
        CLOUD_SQL,
        {
            NAMESPACE,
            "gcp:sql/databaseInstance:DatabaseInstance::heimdall-database-instance",
            "gcp:sql/database:Database::heimdall-database-database",
        },
    ),
    (
        AZURE,
        {
            NAMESPACE,
            "azure-native:dbforpostgresql:Server::heimdall-database-server",
            "azure-native:dbforpostgresql:Database::heimdall-database-database",
            "azure-native:resources:ResourceGroup::heimdall-database-rg",
        },
    ),
]


def _protected(values: dict[str, Any]) -> set[str]:
    return {f"{r.type}::{r.name}" for r in render(values).registrations if r.protect}


@pytest.mark.parametrize(("values", "stateful"), STATEFUL, ids=["embedded", "aws-rds", "gcp-cloudsql", "azure-postgres"])
def test_stateful_resources_and_only_they_are_protected(values: dict[str, Any], stateful: set[str]) -> None:
    assert _protected(values) == stateful


@pytest.mark.parametrize(("values", "stateful"), STATEFUL, ids=["embedded", "aws-rds", "gcp-cloudsql", "azure-postgres"])
def test_allow_destroy_protects_nothing(values: dict[str, Any], stateful: set[str]) -> None:
    assert _protected(with_settings(values, {"database": {"allowDestroy": True}})) == set()
