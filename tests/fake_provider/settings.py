"""`database.fakeDb`: a pretend database server reached at `host`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from heimdall.database.provider import ProviderSpec
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


def _rules(database: DatabaseSettings, section: Any) -> DatabaseTlsSettings:
    if database.username == "root":
        raise ValueError("fake: username root is not allowed")
    return check_ca(with_default_mode(database.tls, "require"))


PROVIDER = ProviderSpec(
    model=FakeDatabase,
    description="Settings of provider fake (a test double).",
    component="FakeDatabaseServer",
    missing_section="provider 'fake' needs the fakeDb section",
    rules=_rules,
)
