"""One contract suite for every database provider: the registry's and the fake provider
(tests/fake_provider), which lives outside the registry.

Each provider's component is built on its own under the offline render's mocks from a
`DatabaseRequest` (heimdall/database/contract.py) and must return a `DatabaseConnection`
that keeps the contract: host, port, database and user as asked, the password as a
reference to a Secret key, the TLS the settings decided, what clients wait for, and its
stateful resources protected unless `database.allowDestroy`. Each registered provider's
bad settings are refused with one line naming the key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pulumi
import pytest

from heimdall import sdk_private
from heimdall.database import registry
from heimdall.database.build import tls_request
from heimdall.database.contract import (
    DatabaseConnection,
    DatabaseRequest,
    PasswordSource,
    SecretKeyRef,
)
from heimdall.settings.database import DatabaseSettings
from heimdall.settings.loader import SettingsError, parse_settings
from heimdall.tooling.mocks import HeimdallMocks, RecordingMonitor, Registration
from heimdall.tooling.render import PROJECT, _language_host_env
from tests.databases import AWS_RDS, AZURE, CLOUD_SQL, EXTRA_CONFIG, SUBNETS, with_settings
from tests.fake_provider.settings import FakeSettings

# The `database` settings each provider is built with (a minimal valid stack of it).
DATABASES: dict[str, dict[str, Any]] = {
    "embedded": {},
    "external": {"provider": "external", "external": {"host": "db.example.com", "existingSecret": "db"}},
    "aws-rds": AWS_RDS["database"],
    "gcp-cloudsql": CLOUD_SQL["database"],
    "azure-postgres": AZURE["database"],
    "cloudnative-pg": {"provider": "cloudnative-pg", "username": "heimdall"},
    "fake": {"provider": "fake", "fakeDb": {"host": "db.example.test"}},
}
PROVIDERS: list[type[DatabaseSettings]] = [*registry.PROVIDERS, FakeSettings]
# Providers whose server is a resource the stack owns (and so protects).
STATEFUL = {"embedded", "aws-rds", "gcp-cloudsql", "azure-postgres", "cloudnative-pg"}


def member(provider: type[DatabaseSettings], extra: dict[str, Any] | None = None) -> Any:
    """The provider's member of the `database` union, validated as `Settings` does it: its
    own model, then its TLS rules (the fake provider is in no union)."""
    database = provider.model_validate(with_settings(DATABASES[provider.provider_name], extra))
    return database.model_copy(update={"tls": database.effective_tls()})


@dataclass
class Built:
    connection: DatabaseConnection
    resolved: dict[str, Any]
    registrations: list[Registration]


def build(database: Any) -> Built:
    """The provider's component alone, under the offline render's mocks (as
    heimdall/tooling/render.py run_stack sets them up)."""
    request: DatabaseRequest[None] = DatabaseRequest(
        section=None,
        name=database.name,
        username=database.username,
        port=database.port,
        tls=tls_request(database.tls),
        protect=not database.allow_destroy,
        namespace="heimdall",
        password=PasswordSource(),
    )
    with _language_host_env(EXTRA_CONFIG, []):
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        mocks = HeimdallMocks(provider_outputs=database.mocks())
        monitor = RecordingMonitor(mocks)
        sdk_private.reset_root_resource()
        pulumi.runtime.set_mocks(mocks, project=PROJECT, stack="test", preview=False, monitor=monitor)
        connection = database.build("heimdall-database", request, None)

        async def resolve() -> dict[str, Any]:
            found = {}
            for key in ("host", "port"):
                found[key] = await pulumi.Output.from_input(getattr(connection, key)).future()
            found["password_secret"] = await pulumi.Output.from_input(connection.password.name).future()
            return found

        resolved = loop.run_until_complete(resolve())
        loop.run_until_complete(pulumi.runtime.stack.wait_for_rpcs())
    return Built(connection, resolved, monitor.registrations)


@pytest.fixture(params=PROVIDERS, ids=lambda provider: provider.provider_name)
def provider(request: pytest.FixtureRequest) -> Iterator[type[DatabaseSettings]]:
    yield request.param


def test_every_registered_provider_has_a_case() -> None:
    assert set(DATABASES) == {p.provider_name for p in PROVIDERS}
    assert set(REFUSALS) == set(registry.BY_NAME)


def test_the_provider_is_its_member_with_its_facts_and_methods(provider: type[DatabaseSettings]) -> None:
    """What `DatabaseProvider` asks, on the member itself: the shared model has no TLS
    rules and builds nothing, so each member defines both; its name is its literal's."""
    assert {"effective_tls", "build"} <= set(vars(provider))
    assert provider.model_fields["provider"].default == provider.provider_name
    assert provider.section and provider.description
    own = {f.alias or n for n, f in provider.model_fields.items()}
    assert own - {f.alias or n for n, f in DatabaseSettings.model_fields.items()} == {provider.section}
    # A section without defaults is one the stack must give: the member says why.
    required = not provider.model_fields[next(n for n, f in provider.model_fields.items() if (f.alias or n) == provider.section)].is_required()
    assert (provider.missing_section is None) == required


def test_the_connection_keeps_the_contract(provider: type[DatabaseSettings]) -> None:
    database = member(provider)
    built = build(database)
    connection = built.connection
    assert connection.provider == provider.provider_name
    assert isinstance(built.resolved["host"], str) and built.resolved["host"]
    assert built.resolved["port"] == database.port == 5432
    assert (connection.database, connection.username) == (database.name, database.username)
    # The password is never a value in the connection's clients: a Secret key reference.
    assert isinstance(connection.password, SecretKeyRef) and connection.password.key
    assert isinstance(built.resolved["password_secret"], str) and built.resolved["password_secret"]
    assert connection.tls.mode == database.tls.mode
    assert (connection.tls.ca is not None) == (database.tls.mode == "verify" and database.tls.ca is not None)
    assert all(isinstance(r, pulumi.Resource) for r in connection.ready)
    if provider.provider_name in STATEFUL | {"fake"}:
        assert connection.ready, "clients must have something to wait for"
    # Stateful resources are protected by default.
    protected = [r.type for r in built.registrations if r.protect]
    assert bool(protected) == (provider.provider_name in STATEFUL), protected


def test_allow_destroy_lifts_the_protection(provider: type[DatabaseSettings]) -> None:
    built = build(member(provider, {"allowDestroy": True}))
    assert [r.type for r in built.registrations if r.protect] == []


def _on(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    return with_settings(base, {"database": extra})


EXISTING_ZONE = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/dns-rg/providers/"
    "Microsoft.Network/privateDnsZones/heimdall.private.postgres.database.azure.com"
)

# Per provider: (the stack's values, a part of the one-line refusal).
REFUSALS: dict[str, list[tuple[dict[str, Any], str]]] = {
    "embedded": [
        ({"database": {"tls": {"mode": "require"}}}, "the embedded PostgreSQL serves no TLS"),
        ({"database": {"embedded": {"persistence": {"enabled": False}}}}, "database.embedded.persistence.enabled is false"),
        ({"database": {"awsRds": {"vpcId": "vpc-main"}}}, "the awsRds section is set but provider is 'embedded'"),
    ],
    "external": [
        ({"database": {"provider": "external"}}, "needs the external section with at least host"),
        ({"database": {"provider": "external", "external": {"host": "db.example.com"}}}, "database.external needs a password"),
    ],
    "aws-rds": [
        (_on(AWS_RDS, {"awsRds": {"allowedCidrBlocks": ["0.0.0.0/0"]}}), "must not admit every address"),
        (_on(AWS_RDS, {"awsRds": {"allowedCidrBlocks": ["::/0"]}}), "must not admit every address"),
        (_on(AWS_RDS, {"awsRds": {"allowedCidrBlocks": ["10.0.0.1/16"]}}), "host bits zero"),
        (_on(AWS_RDS, {"awsRds": {"allowedSecurityGroupIds": []}}), "set allowedSecurityGroupIds or allowedCidrBlocks"),
        (_on(AWS_RDS, {"awsRds": {"subnetIds": SUBNETS[:1]}}), "at least two subnets"),
        (_on(AWS_RDS, {"awsRds": {"subnetIds": [SUBNETS[0], SUBNETS[0]]}}), "at least two subnets"),
        (_on(AWS_RDS, {"awsRds": {"vpcId": "vpc-main"}}), "must be an AWS id"),
        (_on(AWS_RDS, {"awsRds": {"backupRetentionPeriod": 0}}), "greater than or equal to 1"),
        (_on(AWS_RDS, {"awsRds": {"maxAllocatedStorage": 10}}), "maxAllocatedStorage"),
        (_on(AWS_RDS, {"awsRds": {"parameters": {"rds.force_ssl": "0"}}}), "rds.force_ssl"),
        (_on(AWS_RDS, {"tls": {"ca": None}}), "self signed certificate in certificate chain"),
        (_on(AWS_RDS, {"tls": {"mode": "disable", "ca": None}}), "accepts TLS connections only"),
        (_on(AWS_RDS, {"tls": {"mode": "require"}}), "tls.ca is only used with tls.mode verify"),
        (_on(AWS_RDS, {"tls": {"ca": "certs/missing.pem"}}), "does not exist"),
        (_on(AWS_RDS, {"tls": {"ca": "certs/README.md"}}), "holds no PEM certificate"),
        (_on(AWS_RDS, {"tls": {"ca": "auto"}}), "only for gcp-cloudsql"),
        (_on(AWS_RDS, {"username": "rdsadmin"}), "must start with a letter and not be rdsadmin"),
        (_on(AWS_RDS, {"username": "_app"}), "must start with a letter"),
        (_on(AWS_RDS, {"name": "heimdall-database"}), "RDS's rule for DBName"),
        ({"database": {"provider": "aws-rds"}}, "needs the awsRds section"),
        ({**AWS_RDS, "secrets": {"existingSecret": "heimdall-secrets"}}, "cannot take DATABASE_PASSWORD"),
    ],
    "gcp-cloudsql": [
        (_on(CLOUD_SQL, {"cloudSql": {"publicIp": True}}), "publicIp needs authorizedNetworks"),
        (
            _on(CLOUD_SQL, {"cloudSql": {"publicIp": True, "authorizedNetworks": ["0.0.0.0/0"]}}),
            "must not admit every address",
        ),
        (_on(CLOUD_SQL, {"cloudSql": {"authorizedNetworks": ["203.0.113.0/24"]}}), "only apply with publicIp"),
        (_on(CLOUD_SQL, {"cloudSql": {"network": None}}), "set network (private IP) or publicIp"),
        (
            _on(CLOUD_SQL, {"cloudSql": {"network": None, "publicIp": True, "authorizedNetworks": ["203.0.113.0/24"]}}),
            "a direct connection needs the private IP",
        ),
        (_on(CLOUD_SQL, {"cloudSql": {"network": "heimdall-vpc"}}), "String should match pattern"),
        (_on(CLOUD_SQL, {"cloudSql": {"tier": "db-perf-optimized-N-2"}}), "ENTERPRISE_PLUS"),
        (_on(CLOUD_SQL, {"cloudSql": {"edition": "ENTERPRISE_PLUS"}}), "ENTERPRISE_PLUS"),
        (_on(CLOUD_SQL, {"cloudSql": {"useAuthProxy": True}, "tls": {"mode": "verify"}}), "useAuthProxy"),
        (_on(CLOUD_SQL, {"cloudSql": {"useAuthProxy": True}, "tls": {"mode": "require"}}), "useAuthProxy"),
        (_on(CLOUD_SQL, {"tls": {"mode": "disable"}}), "accepts TLS connections only"),
        (
            _on(CLOUD_SQL, {"cloudSql": {"useAuthProxy": True, "authProxy": {"serviceAccount": "heimdall"}}}),
            "String should match pattern",
        ),
        ({"database": {"provider": "gcp-cloudsql"}}, "needs the cloudSql section"),
        ({**CLOUD_SQL, "secrets": {"existingSecret": "heimdall-secrets"}}, "cannot take DATABASE_PASSWORD"),
    ],
    "azure-postgres": [
        (_on(AZURE, {"azure": {"delegatedSubnetId": None}}), "private access needs delegatedSubnetId"),
        (_on(AZURE, {"azure": {"publicAccess": True}}), "not both"),
        (
            _on(AZURE, {"azure": {"delegatedSubnetId": None, "publicAccess": True}}),
            "publicAccess needs allowedIpRanges",
        ),
        (
            _on(AZURE, {"azure": {"delegatedSubnetId": None, "publicAccess": True, "allowedIpRanges": ["0.0.0.0/0"]}}),
            "must not start at 0.0.0.0",
        ),
        (
            _on(AZURE, {"azure": {"delegatedSubnetId": None, "publicAccess": True, "allowedIpRanges": ["0.0.0.0"]}}),
            "must not start at 0.0.0.0",
        ),
        (
            _on(AZURE, {"azure": {"delegatedSubnetId": None, "publicAccess": True, "allowedIpRanges": ["10.0.0.9-10.0.0.1"]}}),
            "first address is after its last",
        ),
        (_on(AZURE, {"azure": {"allowedIpRanges": ["203.0.113.0/24"]}}), "only apply with publicAccess"),
        (
            _on(AZURE, {"azure": {"delegatedSubnetId": None, "publicAccess": True, "allowedIpRanges": ["1.2.3.4"], "privateDnsZoneId": EXISTING_ZONE}}),
            "privateDnsZoneId only applies with delegatedSubnetId",
        ),
        (_on(AZURE, {"azure": {"delegatedSubnetId": "postgres-subnet"}}), "String should match pattern"),
        (_on(AZURE, {"azure": {"highAvailability": "ZoneRedundant"}}), "GeneralPurpose or MemoryOptimized"),
        (_on(AZURE, {"azure": {"storageSizeGb": 100}}), "storageSizeGb must be one of"),
        (_on(AZURE, {"azure": {"backupRetentionDays": 3}}), "greater than or equal to 7"),
        (_on(AZURE, {"username": "azure_superuser"}), "is reserved"),
        (_on(AZURE, {"username": "pg_app"}), "is reserved"),
        (_on(AZURE, {"tls": {"mode": "disable"}}), "accepts TLS connections only"),
        ({"database": {"provider": "azure-postgres"}}, "needs the azure section"),
        ({**AZURE, "secrets": {"existingSecret": "heimdall-secrets"}}, "cannot take DATABASE_PASSWORD"),
    ],
    "cloudnative-pg": [
        ({"database": {"provider": "cloudnative-pg"}}, "username 'postgres' is the operator's superuser"),
        ({"database": {"provider": "cloudnative-pg", "username": "heimdall", "port": 5433}}, "port 5433 is not served"),
    ],
}


@pytest.mark.parametrize(
    ("values", "message"),
    [pytest.param(v, m, id=f"{name}-{i}") for name, cases in REFUSALS.items() for i, (v, m) in enumerate(cases)],
)
def test_bad_settings_are_refused_with_one_line(values: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError) as error:
        parse_settings(values)
    assert message in str(error.value)
    assert "\n" not in str(error.value)
