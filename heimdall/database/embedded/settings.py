"""`database.embedded`: PostgreSQL in the cluster, from the official `postgres` image."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from heimdall.database.provider import ProviderSpec
from heimdall.settings.database import (
    DatabaseSettings,
    DatabaseTlsSettings,
    check_ca,
    with_default_mode,
)
from heimdall.settings.types import (
    Image,
    Model,
    Resources,
    VolumeSize,
    dns_subdomain,
    requests_and_limits,
)


class Persistence(Model):
    enabled: bool = Field(default=True, description="Keep the data on a PersistentVolumeClaim; false keeps it in an emptyDir (lost with the pod: tests only).")
    size: VolumeSize = Field(default="10Gi", description="Size of the data volume.")
    storage_class: str = Field(default="", description="StorageClass of the data volume; empty uses the cluster's default.")

    @model_validator(mode="after")
    def _storage_class_name(self) -> Persistence:
        if self.storage_class:
            dns_subdomain(self.storage_class)
        return self


class EmbeddedDatabase(Model):
    image: Image = Field(default=Image(repository="postgres", tag="17"), description="The official PostgreSQL image (17 by default; 18+ changes the data layout, handled).")
    persistence: Persistence = Field(default=Persistence(), description="The data volume.")
    resources: Resources = Field(default=requests_and_limits("100m", "128Mi", "200m", "256Mi"), description="Requests and limits of the PostgreSQL container (as the original chart).")
    allow_rename: bool = Field(
        default=False,
        description="Let an update change database.name or database.username of a database that "
        "already holds data; only after renaming them inside PostgreSQL (docs/operations.md, "
        "\"Renaming the embedded database or its user\"), and set back to false afterwards.",
    )


def _rules(database: DatabaseSettings, section: Any) -> DatabaseTlsSettings:
    tls = with_default_mode(database.tls, "disable")
    if tls.mode != "disable":
        raise ValueError("the embedded PostgreSQL serves no TLS: tls.mode must be disable")
    return check_ca(tls)


PROVIDER = ProviderSpec(
    section="embedded",
    model=EmbeddedDatabase,
    description="Settings of the embedded PostgreSQL (provider embedded).",
    component="EmbeddedPostgres",
    rules=_rules,
)
