"""A database provider that lives in the test suite: proof that a provider is its package
plus one registry line (tests/test_provider_packages.py copies the program, adds this
package and the line `Fake(),` to heimdall/database/registry.py, and runs a stack with it).

`Fake` is the provider; settings.py: `database.fakeDb`; component.py: `FakeDatabaseServer`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from heimdall.database.provider import DatabaseProvider, wrong_member

if TYPE_CHECKING:
    import pulumi

    from heimdall.database.contract import DatabaseConnection, DatabaseRequest
    from heimdall.settings.database import DatabaseSettings, DatabaseTlsSettings


class Fake(DatabaseProvider):
    name = "fake"
    section = "fakeDb"
    description = "Settings of provider fake (a test double)."
    missing_section = "provider 'fake' needs the fakeDb section"

    def settings(self) -> type[DatabaseSettings]:
        from tests.fake_provider.settings import FakeSettings

        return FakeSettings

    def tls(self, database: DatabaseSettings) -> DatabaseTlsSettings:
        from tests.fake_provider.settings import FakeSettings, tls_rules

        if not isinstance(database, FakeSettings):
            raise wrong_member(self.name, database)
        return tls_rules(database)

    def build(
        self,
        name: str,
        database: DatabaseSettings,
        request: DatabaseRequest[None],
        opts: Optional[pulumi.ResourceOptions],
    ) -> DatabaseConnection:
        from tests.fake_provider.component import FakeDatabaseServer
        from tests.fake_provider.settings import FakeSettings

        if not isinstance(database, FakeSettings):
            raise wrong_member(self.name, database)
        return FakeDatabaseServer(name, request.with_section(database.fake_db), opts).connection
