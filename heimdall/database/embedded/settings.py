"""`database.embedded`: PostgreSQL in the cluster, from the official `postgres` image."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal, Optional

from pydantic import Field, model_validator

from heimdall.settings.database import (
    DatabaseSettings,
    DatabaseTlsSettings,
    StackFacts,
    check_ca,
    with_default_mode,
)
from heimdall.settings.types import (
    DnsSubdomain,
    Image,
    Model,
    Resources,
    StorageClassName,
    VolumeSize,
    requests_and_limits,
)

if TYPE_CHECKING:
    import pulumi

    from heimdall.database.contract import DatabaseConnection, DatabaseRequest


class Persistence(Model):
    enabled: bool = Field(default=True, description="Keep the data on a PersistentVolumeClaim; false keeps it in an emptyDir (lost with the pod: tests only), refused unless database.allowDestroy is true and Heimdall runs one replica.")
    size: VolumeSize = Field(default="10Gi", description="Size of the data volume, with a unit (10Gi); a bare number (bytes), 1e3 or 10m is refused.")
    storage_class: StorageClassName = Field(default="", description="StorageClass of the data volume; empty uses the cluster's default.")


DEFAULT_DATA_DIRECTORY = "pgdata"


class EmbeddedDatabase(Model):
    image: Image = Field(default=Image(repository="postgres", tag="17"), description="The official PostgreSQL image (17 by default). The data stays in one place for every major version: a change to another major is refused until the data is upgraded (docs/operations.md).")
    data_directory: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")] = Field(
        default=DEFAULT_DATA_DIRECTORY,
        description="Directory of the PostgreSQL cluster on the data volume. Change it only "
        "to start a new cluster beside an older one, in a major-version upgrade "
        "(docs/operations.md); the old one is left as it is.",
    )
    persistence: Persistence = Field(default=Persistence(), description="The data volume.")
    resources: Resources = Field(default=requests_and_limits("100m", "128Mi", "200m", "256Mi"), description="Requests and limits of the PostgreSQL container (as the original chart).")
    existing_claim: Optional[DnsSubdomain] = Field(
        default=None,
        description="Use this PersistentVolumeClaim (in the stack's namespace, e.g. the Helm "
        "chart's) for the data instead of a new one. An init container checks that it holds "
        "a data directory of the image's major version at PGDATA, owned by uid 999, and stops "
        "the pod with one line otherwise; see docs/operations.md, taking over a Helm install.",
    )

    @property
    def server_major(self) -> int | None:
        """The PostgreSQL major of the image tag (17, 17.6-alpine), None when it does not say."""
        digits = re.match(r"^(\d+)", self.image.tag)
        return int(digits.group(1)) if digits else None

    @model_validator(mode="after")
    def _one_volume(self) -> EmbeddedDatabase:
        if self.existing_claim and "persistence" in self.model_fields_set:
            raise ValueError(
                "existingClaim is the data volume: its size and class are the claim's own; "
                "remove the persistence section"
            )
        return self
    allow_rename: bool = Field(
        default=False,
        description="Let an update change database.name or database.username of a database that "
        "already holds data; only after renaming them inside PostgreSQL (docs/operations.md, "
        "\"Renaming the embedded database or its user\"), and set back to false afterwards.",
    )


class EmbeddedSettings(DatabaseSettings):
    """`database` with provider embedded: the shared settings and `database.embedded`."""

    section: ClassVar[str] = "embedded"
    description: ClassVar[str] = "Settings of the embedded PostgreSQL (provider embedded)."
    provider: Literal["embedded"] = "embedded"
    embedded: EmbeddedDatabase = Field(default=EmbeddedDatabase())

    @property
    def server_major(self) -> Optional[int]:
        return self.embedded.server_major

    def check_stack(self, stack: StackFacts) -> None:
        section = self.embedded
        if section.persistence.enabled or section.existing_claim:
            return
        if not self.allow_destroy or stack.min_replicas > 1:
            why = (
                "database.allowDestroy is false (a stack whose data is protected)"
                if not self.allow_destroy
                else f"Heimdall runs {stack.min_replicas} replicas (a stack people rely on)"
            )
            raise ValueError(
                "database.embedded.persistence.enabled is false while "
                f"{why}: the data would live in an emptyDir and be lost with the pod; set "
                "persistence.enabled true, or database.allowDestroy true (and one replica) for a "
                "throwaway stack"
            )

    def effective_tls(self) -> DatabaseTlsSettings:
        tls = with_default_mode(self.tls, "disable")
        if tls.mode != "disable":
            raise ValueError("the embedded PostgreSQL serves no TLS: tls.mode must be disable")
        return check_ca(tls)

    def build(
        self,
        name: str,
        request: DatabaseRequest[None],
        opts: Optional[pulumi.ResourceOptions],
    ) -> DatabaseConnection:
        from heimdall.database.embedded.component import EmbeddedPostgres

        return EmbeddedPostgres(name, request.with_section(self.embedded), opts).connection
