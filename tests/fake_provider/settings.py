"""`database.fakeDb`: a pretend database server reached at `host`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from heimdall.settings.database import (
    DatabaseSettings,
    DatabaseTlsSettings,
    check_ca,
    with_default_mode,
)
from heimdall.settings.types import Hostname, Model


class FakeDatabase(Model):
    host: Hostname = Field(description="Where the pretend server listens.")
    flavour: Literal["vanilla", "chocolate"] = Field(default="vanilla", description="The pretend server's flavour.")


class FakeSettings(DatabaseSettings):
    provider: Literal["fake"] = "fake"
    fake_db: FakeDatabase


def tls_rules(database: FakeSettings) -> DatabaseTlsSettings:
    if database.username == "root":
        raise ValueError("fake: username root is not allowed")
    return check_ca(with_default_mode(database.tls, "require"))
