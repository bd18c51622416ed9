"""`database.fakeDb`: a pretend database server reached at `host`; `FakeSettings` is the
provider (`heimdall.database.provider.DatabaseProvider`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal, Optional

from pydantic import Field

from heimdall.settings.database import (
    DatabaseSettings,
    DatabaseTlsSettings,
    check_ca,
    with_default_mode,
)
from heimdall.settings.types import Hostname, Model

if TYPE_CHECKING:
    import pulumi

    from heimdall.database.contract import DatabaseConnection, DatabaseRequest


class FakeDatabase(Model):
    host: Hostname = Field(description="Where the pretend server listens.")
    flavour: Literal["vanilla", "chocolate"] = Field(default="vanilla", description="The pretend server's flavour.")


class FakeSettings(DatabaseSettings):
    section: ClassVar[str] = "fakeDb"
    description: ClassVar[str] = "Settings of provider fake (a test double)."
    missing_section: ClassVar[Optional[str]] = "provider 'fake' needs the fakeDb section"
    provider: Literal["fake"] = "fake"
    fake_db: FakeDatabase

    def effective_tls(self) -> DatabaseTlsSettings:
        if self.username == "root":
            raise ValueError("fake: username root is not allowed")
        return check_ca(with_default_mode(self.tls, "require"))

    def build(
        self,
        name: str,
        request: DatabaseRequest[None],
        opts: Optional[pulumi.ResourceOptions],
    ) -> DatabaseConnection:
        from tests.fake_provider.component import FakeDatabaseServer

        return FakeDatabaseServer(name, request.with_section(self.fake_db), opts).connection
