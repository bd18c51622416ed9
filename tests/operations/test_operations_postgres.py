"""The scripts the program renders, run against a real PostgreSQL server (tests/pg.py).

Every script is taken from the rendered objects (CronJob, Job, their containers'
commands), never from heimdall/scripts/ directly: what runs here is what the cluster gets.
Only environment values that point at this machine (host, port, directories, the password
the cluster would read from a Secret) are replaced.

Target s3: the upload and download containers' scripts run the real AWS CLI against a real
S3 API, moto's server on loopback with authentication on (tests/s3.py). The stack is
rendered with backup.s3.endpoint set to that server, so the endpoint is not replaced
either; only the access key pair (the Secret's values) and HOME are supplied.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from heimdall.tooling.render import Rendering, run_stack
from tests.conftest import REPO, containers, stack_config
from tests.pg import (
    MISSING_REASON,
    PostgresServer,
    container_env,
    container_script,
    free_port,
    make_tls_files,
    postgres_bin_dir,
    run_script,
    seeded_server,
    start_script,
)
from tests.s3 import S3Server, cli_bin
from tests.s3 import missing_reason as s3_missing_reason

BIN_DIR = postgres_bin_dir()
pytestmark = pytest.mark.skipif(BIN_DIR is None, reason=MISSING_REASON)

# The characters a connection URL must escape, plus a space.
PASSWORD = "Hd@ll:/?#%p w1"
DUMP = re.compile(r"^heimdall-[0-9]{8}T[0-9]{6}Z\.dump$")


def render(values: dict[str, Any]) -> Rendering:
    config, secret_keys = stack_config(
        values, {"secrets": {"databasePassword": PASSWORD}}
    )
    return run_stack(config, "test", secret_keys=secret_keys)


@pytest.fixture(scope="module")
def rendered() -> Rendering:
    """The embedded-database stack with a restore configured: backup CronJob and restore Job."""
    return render(
        {
            "namespace": "heimdall",
            "database": {"provider": "embedded"},
            "backup": {"retention": 2},
            "restore": {"from": "heimdall-20250101T000000Z.dump"},
        }
    )


def backup_pod(rendering: Rendering) -> dict[str, Any]:
    cron_job = rendering.manifest("CronJob", "heimdall-database-backup")
    pod: dict[str, Any] = cron_job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return pod


def restore_pod(rendering: Rendering) -> dict[str, Any]:
    [job] = [
        m for m in rendering.manifests()
        if m["kind"] == "Job" and m["metadata"]["name"].startswith("heimdall-restore-")
    ]
    pod: dict[str, Any] = job["spec"]["template"]["spec"]
    return pod


# --- the server and its data ---------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tls")


@pytest.fixture(scope="module")
def pg(tls_dir: Path) -> Iterator[PostgresServer]:
    assert BIN_DIR is not None
    with seeded_server(BIN_DIR, PASSWORD, "heimdall", SEED_SQL, tls=make_tls_files(tls_dir, "server")) as server:
        yield server


# Several tables, thousands of rows, non-ASCII text, large text and binary values, a
# foreign key and sequences.
SEED_SQL = """
CREATE TABLE "Users" (
  id bigserial PRIMARY KEY, email text UNIQUE NOT NULL, "firstName" text,
  role text NOT NULL DEFAULT 'user', "encryptedPassword" text NOT NULL,
  "forcePasswordChange" boolean, "passwordChangedAt" timestamptz,
  "createdAt" timestamptz NOT NULL DEFAULT now(), "updatedAt" timestamptz NOT NULL DEFAULT now());
CREATE TABLE "Evaluations" (
  id bigserial PRIMARY KEY, filename text NOT NULL, data jsonb NOT NULL,
  "userId" bigint REFERENCES "Users"(id));
CREATE TABLE "EvaluationTags" (
  id serial PRIMARY KEY, "evaluationId" bigint REFERENCES "Evaluations"(id), value text);
CREATE TABLE blobs (id int PRIMARY KEY, payload bytea, note text);
INSERT INTO "Users" (email, "firstName", role, "encryptedPassword")
  SELECT 'user' || g || '@example.com', 'Jürgen 名前 Ελένη ' || g || ' 🚀',
         CASE WHEN g = 1 THEN 'admin' ELSE 'user' END, '$2a$14$' || md5(g::text)
  FROM generate_series(1, 2000) g;
INSERT INTO "Evaluations" (filename, data, "userId")
  SELECT 'scan-' || g || '.json',
         jsonb_build_object('n', g, 'title', 'Προφίλ ελέγχου ✓ ' || g,
                            'results', repeat('passed,', g % 400)),
         (g % 2000) + 1
  FROM generate_series(1, 3000) g;
INSERT INTO "EvaluationTags" ("evaluationId", value)
  SELECT (g % 3000) + 1, 'tag-' || g || '-δοκιμή-テスト' FROM generate_series(1, 5000) g;
INSERT INTO blobs VALUES
  (1, (SELECT decode(string_agg(md5(g::text), ''), 'hex') FROM generate_series(1, 65536) g),
   repeat('Heimdall ✓ große Werte ', 200000)),
  (2, '\\x00ff00ff'::bytea, '');
"""

TABLES = ('"Users"', '"Evaluations"', '"EvaluationTags"', "blobs")


def fingerprint(pg: PostgresServer, database: str) -> dict[str, str]:
    """Row count and content checksum of every table, and the sequences' positions."""
    found = {}
    for table in TABLES:
        found[table] = pg.psql(
            f"SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, E'\\n' ORDER BY id)), '-') "
            f"FROM {table} t",
            database=database,
        )
    found["sequences"] = pg.psql(
        "SELECT string_agg(sequencename || '=' || coalesce(last_value, 0), ',' "
        "ORDER BY sequencename) FROM pg_sequences",
        database=database,
    )
    return found


def fresh_database(pg: PostgresServer, name: str) -> str:
    pg.psql(f'DROP DATABASE IF EXISTS "{name}"; CREATE DATABASE "{name}"', database="postgres")
    return name


def db_env(pg: PostgresServer, database: str = "heimdall", password: str = PASSWORD) -> dict[str, str]:
    """What points the rendered pods at this server: host, port, database, the Secret's value."""
    return {
        "DATABASE_HOST": pg.host,
        "DATABASE_PORT": str(pg.port),
        "DATABASE_NAME": database,
        "DATABASE_PASSWORD": password,
    }


def dumps(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if DUMP.match(p.name))


def backup(
    rendering: Rendering, pg: PostgresServer, directory: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    container = containers(backup_pod(rendering), "backup")
    overrides = {**db_env(pg), "BACKUP_DIR": str(directory), **env}
    return run_script(
        container_script(container), pg.client_env(container_env(container, overrides))
    )


def restore(
    rendering: Rendering, pg: PostgresServer, directory: Path, name: str, database: str, **env: str
) -> subprocess.CompletedProcess[str]:
    container = containers(restore_pod(rendering), "restore")
    overrides = {
        **db_env(pg, database),
        "BACKUP_DIR": str(directory),
        "RESTORE_FROM": name,
        **env,
    }
    return run_script(
        container_script(container), pg.client_env(container_env(container, overrides))
    )


# --- wait-for-database -----------------------------------------------------------------------


def wait_script(rendering: Rendering) -> tuple[str, dict[str, Any]]:
    container = containers(backup_pod(rendering), "wait-for-database")
    return container_script(container), container


def test_wait_for_database_succeeds_soon_after_the_database_comes_up(
    rendered: Rendering, pg: PostgresServer
) -> None:
    script, container = wait_script(rendered)
    pg.stop()
    try:
        env = container_env(container, {**db_env(pg), "WAIT_TIMEOUT_SECONDS": "30"})
        waiting = start_script(script, pg.client_env(env))
        time.sleep(2.5)
        assert waiting.poll() is None, "the script must keep waiting while the database is down"
        pg.start()
        up_at = time.monotonic()
        stdout, stderr = waiting.communicate(timeout=30)
        waited_after_up = time.monotonic() - up_at
    finally:
        if pg.process is None or pg.process.poll() is not None:
            pg.start()
    assert waiting.returncode == 0, stderr
    assert f"PostgreSQL at {pg.host}:{pg.port} accepts connections" in stdout
    # The script polls every 2 seconds.
    assert waited_after_up < 6, f"took {waited_after_up:.1f}s after the database was up"


def test_wait_for_database_fails_by_its_deadline_when_the_database_never_comes_up(
    rendered: Rendering,
) -> None:
    script, container = wait_script(rendered)
    port = free_port()  # nothing listens there
    env = container_env(
        container,
        {"DATABASE_HOST": "127.0.0.1", "DATABASE_PORT": str(port), "WAIT_TIMEOUT_SECONDS": "3"},
    )
    started = time.monotonic()
    assert BIN_DIR is not None
    result = run_script(script, {"PATH": f"{BIN_DIR}:/usr/bin:/bin", **env}, timeout=30)
    elapsed = time.monotonic() - started
    assert result.returncode == 1
    assert "did not accept connections within 3s" in result.stderr
    assert 3 <= elapsed < 8, f"failed after {elapsed:.1f}s, deadline 3s"


# --- backup and restore ----------------------------------------------------------------------


def test_backup_then_restore_into_a_fresh_database_brings_back_every_row(
    rendered: Rendering, pg: PostgresServer, tmp_path: Path
) -> None:
    original = fingerprint(pg, "heimdall")
    assert original['"Users"'].startswith("2000 ")
    assert original['"EvaluationTags"'].startswith("5000 ")

    done = backup(rendered, pg, tmp_path)
    assert done.returncode == 0, done.stderr
    [name] = dumps(tmp_path)
    assert f"backup {name} written and verified" in done.stdout
    assert not list(tmp_path.glob(".*")), "no temporary file may remain"
    assert (tmp_path / name).stat().st_mode & 0o077 == 0, "dumps are readable by their owner only"

    target = fresh_database(pg, "heimdall_restored")
    restored = restore(rendered, pg, tmp_path, name, target)
    assert restored.returncode == 0, restored.stderr
    assert f"restored {name}" in restored.stdout
    assert fingerprint(pg, target) == original


def test_restore_over_existing_data_replaces_it_with_the_dump(
    rendered: Rendering, pg: PostgresServer, tmp_path: Path
) -> None:
    done = backup(rendered, pg, tmp_path)
    assert done.returncode == 0, done.stderr
    [name] = dumps(tmp_path)
    original = fingerprint(pg, "heimdall")

    # A copy of the database that then diverges: rows deleted, changed and added.
    target = "heimdall_diverged"
    pg.psql(f'DROP DATABASE IF EXISTS {target}; CREATE DATABASE {target} TEMPLATE heimdall',
            database="postgres")
    pg.psql(
        'DELETE FROM "EvaluationTags" WHERE id % 7 = 0; '
        "UPDATE \"Users\" SET \"firstName\" = 'changed' WHERE id < 100; "
        "INSERT INTO blobs VALUES (3, 'x', 'added after the backup')",
        database=target,
    )
    assert fingerprint(pg, target) != original

    restored = restore(rendered, pg, tmp_path, name, target)
    assert restored.returncode == 0, restored.stderr
    assert fingerprint(pg, target) == original


@pytest.fixture
def diverged(pg: PostgresServer) -> tuple[str, dict[str, str]]:
    """A database whose content differs from every dump, and its fingerprint."""
    name = fresh_database(pg, "heimdall_existing")
    pg.psql(
        'CREATE TABLE "Users" (id bigserial PRIMARY KEY, email text); '
        "INSERT INTO \"Users\" (email) SELECT 'kept' || g || '@example.com' FROM generate_series(1, 50) g; "
        'CREATE TABLE "Evaluations" (id bigserial PRIMARY KEY, filename text, data jsonb, "userId" bigint); '
        "INSERT INTO \"Evaluations\" (filename, data) VALUES ('kept.json', '{\"kept\": true}'); "
        'CREATE TABLE "EvaluationTags" (id serial PRIMARY KEY, value text); '
        "CREATE TABLE blobs (id int PRIMARY KEY, payload bytea, note text)",
        database=name,
    )
    return name, fingerprint(pg, name)


def test_restore_of_a_missing_dump_fails_clearly_and_changes_nothing(
    rendered: Rendering, pg: PostgresServer, tmp_path: Path, diverged: tuple[str, dict[str, str]]
) -> None:
    database, before = diverged
    assert backup(rendered, pg, tmp_path).returncode == 0
    [existing] = dumps(tmp_path)

    result = restore(rendered, pg, tmp_path, "heimdall-19990101T000000Z.dump", database)
    assert result.returncode == 1
    assert "dump 'heimdall-19990101T000000Z.dump' not found" in result.stderr
    assert "the database was not changed" in result.stderr
    assert existing in result.stderr, "the error lists the dumps that are there"
    assert fingerprint(pg, database) == before


def test_restore_of_a_corrupt_dump_fails_clearly_and_changes_nothing(
    rendered: Rendering, pg: PostgresServer, tmp_path: Path, diverged: tuple[str, dict[str, str]]
) -> None:
    database, before = diverged
    assert backup(rendered, pg, tmp_path).returncode == 0
    [good] = dumps(tmp_path)
    (tmp_path / "garbage.dump").write_bytes(os.urandom(4096))

    result = restore(rendered, pg, tmp_path, "garbage.dump", database)
    assert result.returncode == 1
    assert "'garbage.dump' is not a readable pg_dump archive" in result.stderr
    assert fingerprint(pg, database) == before

    # A dump cut short: its table of contents is intact, so the restore starts, drops and
    # recreates tables, then meets the missing data: the one transaction rolls back.
    content = (tmp_path / good).read_bytes()
    (tmp_path / "truncated.dump").write_bytes(content[: len(content) * 2 // 3])
    result = restore(rendered, pg, tmp_path, "truncated.dump", database)
    assert result.returncode == 1
    assert f"restoring truncated.dump into database {database}" in result.stdout
    assert "the transaction was rolled back, the database is as it was" in result.stderr
    assert fingerprint(pg, database) == before


# --- interrupted backups and retention -------------------------------------------------------


def _hold_lock(pg: PostgresServer) -> subprocess.Popen[str]:
    """A session holding a lock pg_dump must wait for: the dump stops midway, on purpose."""
    assert BIN_DIR is not None
    holder = subprocess.Popen(
        [str(BIN_DIR / "psql"), "-X", "-h", str(pg.root), "-p", str(pg.port), "-U", "postgres",
         "-d", "heimdall", "-c",
         "BEGIN; LOCK TABLE blobs IN ACCESS EXCLUSIVE MODE; "
         "SELECT set_config('application_name', 'lock-holder', true), pg_sleep(60);"],
        env=pg.client_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _until(lambda: pg.psql(
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "WHERE c.relname = 'blobs' AND l.mode = 'AccessExclusiveLock' AND l.granted") == "1")
    return holder


def _release(pg: PostgresServer, holder: subprocess.Popen[str]) -> None:
    pg.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'lock-holder'")
    holder.wait(timeout=10)


def _until(condition: Any, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def _start_backup(
    rendered: Rendering, pg: PostgresServer, directory: Path
) -> subprocess.Popen[str]:
    container = containers(backup_pod(rendered), "backup")
    env = container_env(container, {**db_env(pg), "BACKUP_DIR": str(directory)})
    running = start_script(container_script(container), pg.client_env(env))
    # Midway: the temporary file exists and pg_dump is connected, waiting on the lock.
    _until(lambda: list(directory.glob(".heimdall-*.partial")) and pg.psql(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'heimdall-backup' "
        "AND wait_event_type = 'Lock'") == "1")
    return running


def test_an_interrupted_backup_leaves_no_dump_behind(
    rendered: Rendering, pg: PostgresServer, tmp_path: Path
) -> None:
    assert backup(rendered, pg, tmp_path).returncode == 0
    before = dumps(tmp_path)
    holder = _hold_lock(pg)
    try:
        # A deadline or a deleted pod: the kubelet sends TERM to the container's shell.
        running = _start_backup(rendered, pg, tmp_path)
        running.send_signal(signal.SIGTERM)
        _, stderr = running.communicate(timeout=10)
        assert running.returncode == 143
        assert "backup interrupted; the unfinished dump was removed" in stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == before
        _until(lambda: pg.psql("SELECT count(*) FROM pg_stat_activity "
                               "WHERE application_name = 'heimdall-backup'") == "0")

        # Killed outright (node lost, OOM): no trap runs; what is left is not a dump.
        running = _start_backup(rendered, pg, tmp_path)
        os.killpg(running.pid, signal.SIGKILL)
        running.wait(timeout=10)
        [leftover] = tmp_path.glob(".heimdall-*.partial")
        assert dumps(tmp_path) == before
    finally:
        _release(pg, holder)

    # A restore refuses it by name, and the next run removes it.
    refused = restore(rendered, pg, tmp_path, leftover.name, "heimdall")
    assert refused.returncode == 1 and "must be the file name of a dump" in refused.stderr
    time.sleep(1.1)  # a new second, so the next dump gets its own name
    done = backup(rendered, pg, tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"removing {leftover.name}, left by an earlier run" in done.stdout
    assert not leftover.exists()
    assert len(dumps(tmp_path)) == len(before) + 1


def test_retention_prunes_only_after_a_verified_new_dump(
    rendered: Rendering, pg: PostgresServer, tmp_path: Path
) -> None:
    # The rendered CronJob keeps 2 dumps (backup.retention).
    container = containers(backup_pod(rendered), "backup")
    assert container_env(container, {"DATABASE_PASSWORD": ""})["BACKUP_RETENTION"] == "2"
    assert backup(rendered, pg, tmp_path).returncode == 0
    [real] = dumps(tmp_path)
    old = ["heimdall-20200101T000000Z.dump", "heimdall-20200102T000000Z.dump",
           "heimdall-20200103T000000Z.dump"]
    content = (tmp_path / real).read_bytes()
    (tmp_path / real).unlink()
    for name in old:
        (tmp_path / name).write_bytes(content)
    (tmp_path / "copied-by-hand.dump").write_bytes(b"not ours to prune")
    everything = sorted(p.name for p in tmp_path.iterdir())

    # pg_dump fails (a wrong password): nothing is pruned.
    failed = backup(rendered, pg, tmp_path, DATABASE_PASSWORD="wrong")
    assert failed.returncode == 1
    assert "pg_dump failed" in failed.stderr and "older dumps are untouched" in failed.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == everything

    # The dump is written but does not verify (pg_restore fails): discarded, nothing pruned.
    fake_bin = tmp_path.parent / f"{tmp_path.name}-bin"
    fake_bin.mkdir()
    (fake_bin / "pg_restore").write_text("#!/bin/sh\necho 'pg_restore: error: corrupt' >&2\nexit 1\n")
    (fake_bin / "pg_restore").chmod(0o755)
    env_path = f"{fake_bin}:{BIN_DIR}:/usr/bin:/bin"
    container_vars = container_env(
        container, {**db_env(pg), "BACKUP_DIR": str(tmp_path)}
    )
    unverified = run_script(
        container_script(container), pg.client_env({**container_vars, "PATH": env_path})
    )
    assert unverified.returncode == 1
    assert "verification failed" in unverified.stderr and "discarded" in unverified.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == everything

    # A good dump: then, and only then, the oldest go; other files are never touched.
    done = backup(rendered, pg, tmp_path)
    assert done.returncode == 0, done.stderr
    remaining = dumps(tmp_path)
    assert len(remaining) == 2 and remaining[0] == old[-1] and remaining[1] > old[-1]
    assert (tmp_path / "copied-by-hand.dump").exists()
    assert "pruned heimdall-20200101T000000Z.dump" in done.stdout


# --- passwords, the connection string, TLS ---------------------------------------------------


def test_a_wrong_password_fails_fast_with_a_clear_error(
    rendered: Rendering, pg: PostgresServer, tmp_path: Path
) -> None:
    started = time.monotonic()
    result = backup(rendered, pg, tmp_path, DATABASE_PASSWORD="not-the-password")
    assert time.monotonic() - started < 10
    assert result.returncode == 1
    assert 'password authentication failed for user "postgres"' in result.stderr
    assert dumps(tmp_path) == []

    # No password at all: an error, never a prompt that waits for ever.
    result = backup(rendered, pg, tmp_path, DATABASE_PASSWORD="")
    assert result.returncode == 1
    assert "no password supplied" in result.stderr

    url = f"postgresql://postgres:wrong@{pg.host}:{pg.port}/heimdall"
    started = time.monotonic()
    assert BIN_DIR is not None
    psql = subprocess.run([str(BIN_DIR / "psql"), "-X", url, "-c", "SELECT 1"],
                          capture_output=True, text=True, timeout=20,
                          stdin=subprocess.DEVNULL, env=pg.client_env())
    assert time.monotonic() - started < 10
    assert psql.returncode == 2
    assert "password authentication failed" in psql.stderr


def test_the_connection_string_output_connects_with_psql(
    rendered: Rendering, pg: PostgresServer
) -> None:
    url = rendered.outputs["connectionString"]
    assert "connectionString" in rendered.secret_outputs
    assert PASSWORD not in url, "the password must be URL-encoded"
    # The same URL, pointed at this machine instead of the in-cluster Service.
    local_url, replaced = re.subn(r"@[^@/]+:5432/", f"@{pg.host}:{pg.port}/", url)
    assert replaced == 1, url
    assert BIN_DIR is not None
    result = subprocess.run(
        [str(BIN_DIR / "psql"), "-X", "-At", local_url, "-c",
         "SELECT current_user || ' ' || current_database()"],
        capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL,
        env=pg.client_env(),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "postgres heimdall"


def _tls_backup(
    rendered: Rendering, pg: PostgresServer, directory: Path, **tls: str
) -> subprocess.CompletedProcess[str]:
    directory.mkdir()
    return backup(rendered, pg, directory, DATABASE_SSL="true", **tls)


def _last_backup_used_tls(pg: PostgresServer) -> bool:
    """The server logs each connection (log_connections), with its TLS protocol if any."""
    lines = [
        line for line in pg.connection_log().splitlines()
        if "connection authorized" in line and "application_name=heimdall-backup" in line
    ]
    return bool(lines) and "SSL enabled" in lines[-1]


def test_tls_settings_reach_pg_dump(
    rendered: Rendering, pg: PostgresServer, tmp_path: Path, tls_dir: Path
) -> None:
    if pg.tls is None:
        pytest.skip("openssl is not installed: no certificate for a TLS server")
    ca = tls_dir / "server.crt"  # self-signed: its own CA

    # DATABASE_SSL_CA as a file (as the stack mounts it): verify-full against it.
    verified = _tls_backup(rendered, pg, tmp_path / "file", DATABASE_SSL_INSECURE="false",
                           DATABASE_SSL_CA=str(ca))
    assert verified.returncode == 0, verified.stderr
    assert _last_backup_used_tls(pg)

    # DATABASE_SSL_CA as PEM text, which Heimdall also accepts.
    pem_text = _tls_backup(rendered, pg, tmp_path / "pem", DATABASE_SSL_INSECURE="false",
                           DATABASE_SSL_CA=ca.read_text())
    assert pem_text.returncode == 0, pem_text.stderr
    assert _last_backup_used_tls(pg)

    # DATABASE_SSL_INSECURE: encrypted, certificate not checked.
    insecure = _tls_backup(rendered, pg, tmp_path / "insecure", DATABASE_SSL_INSECURE="true")
    assert insecure.returncode == 0, insecure.stderr
    assert _last_backup_used_tls(pg)

    # A CA that did not sign the server's certificate: refused, no dump.
    other = make_tls_files(tls_dir, "other-ca")
    assert other is not None
    untrusted = _tls_backup(rendered, pg, tmp_path / "untrusted", DATABASE_SSL_INSECURE="false",
                            DATABASE_SSL_CA=str(other.cert))
    assert untrusted.returncode == 1
    assert "certificate verify failed" in untrusted.stderr
    assert dumps(tmp_path / "untrusted") == []


# --- target s3: the real AWS CLI against a real S3 API on loopback (tests/s3.py) ---------------

# The values of docs/operations.md's example, so that its IAM policy applies as written.
S3_BUCKET = "my-heimdall-backups"
S3_PREFIX = "heimdall/prod/"
S3_REGION = "eu-west-1"
S3_SECRET_NAME = "heimdall-backup-s3"


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    reason = s3_missing_reason()
    if reason is not None:
        pytest.skip(reason)
    server = S3Server(S3_REGION)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def rendered_s3(s3_server: S3Server) -> Rendering:
    """Target s3 with backup.s3.endpoint set to the S3 server here: no value is overridden."""
    return render(
        {
            "database": {"provider": "embedded"},
            "backup": {
                "target": "s3",
                "retention": 2,
                "s3": {
                    "bucket": S3_BUCKET,
                    "prefix": S3_PREFIX,
                    "region": S3_REGION,
                    "endpoint": s3_server.endpoint,
                    "forcePathStyle": True,
                    "existingSecret": S3_SECRET_NAME,
                },
            },
            "restore": {"from": "heimdall-20250101T000000Z.dump"},
        }
    )


@pytest.fixture
def s3(s3_server: S3Server) -> S3Server:
    """The server, with the bucket empty."""
    s3_server.fresh_bucket(S3_BUCKET)
    return s3_server


@pytest.fixture
def aws(tmp_path: Path) -> tuple[Path, Path]:
    """(directory with the logging `aws` for PATH, the log of its command lines)."""
    log = tmp_path / "aws-argv.log"
    log.touch()
    return cli_bin(tmp_path / "aws-bin", log), log


def documented_policy() -> dict[str, Any]:
    """The IAM policy docs/operations.md tells users to grant the backup key."""
    text = (REPO / "docs" / "operations.md").read_text()
    match = re.search(r"<!-- s3-backup-policy -->\s*```json\n(.*?)```", text, re.S)
    assert match, "docs/operations.md has no marked s3-backup-policy JSON block"
    policy: dict[str, Any] = json.loads(match.group(1))
    return policy


def s3_env(
    container: dict[str, Any], aws_bin: Path, home: Path, key: tuple[str, str], **extra: str
) -> dict[str, str]:
    """The container's rendered environment; the key pair is what the Secret would hold."""
    secret_refs = {
        item["name"]: item["valueFrom"]["secretKeyRef"]
        for item in container["env"] if "valueFrom" in item
    }
    assert secret_refs == {
        "AWS_ACCESS_KEY_ID": {"name": S3_SECRET_NAME, "key": "AWS_ACCESS_KEY_ID", "optional": True},
        "AWS_SECRET_ACCESS_KEY": {
            "name": S3_SECRET_NAME, "key": "AWS_SECRET_ACCESS_KEY", "optional": True,
        },
    }
    env = container_env(
        container,
        {"AWS_ACCESS_KEY_ID": key[0], "AWS_SECRET_ACCESS_KEY": key[1], "HOME": str(home), **extra},
    )
    env["PATH"] = f"{aws_bin}:/usr/bin:/bin"
    return env


def seed_old_dumps(s3: S3Server) -> dict[str, int]:
    """Three old dumps under the prefix, and objects pruning must never touch."""
    for day in ("01", "02", "03"):
        s3.put(S3_BUCKET, f"{S3_PREFIX}heimdall-202001{day}T000000Z.dump", b"old")
    s3.put(S3_BUCKET, f"{S3_PREFIX}notes.txt", b"not a dump")
    s3.put(S3_BUCKET, f"{S3_PREFIX}archive/heimdall-20190101T000000Z.dump", b"kept by hand")
    s3.put(S3_BUCKET, "heimdall/staging/heimdall-20200101T000000Z.dump", b"another stack")
    return s3.objects(S3_BUCKET)


def assert_no_secret_on_a_command_line(log: Path, secret: str, endpoint: str) -> None:
    calls = log.read_text().splitlines()
    assert calls, "the script never ran aws"
    for call in calls:
        assert secret not in call
        # backup.s3.endpoint reaches every call.
        assert call.startswith(f"--endpoint-url {endpoint} "), call


def test_s3_backup_uploads_a_verified_dump_then_prunes_and_restores(
    rendered_s3: Rendering, pg: PostgresServer, s3: S3Server, aws: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    aws_bin, argv_log = aws
    key = s3.access_key(documented_policy())
    before = seed_old_dumps(s3)
    home = tmp_path / "home"
    home.mkdir()

    # The dump runs in an init container into the pod's emptyDir; the upload follows.
    pod = backup_pod(rendered_s3)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    dump = containers(pod, "backup")
    dumped = run_script(container_script(dump), pg.client_env(container_env(
        dump, {**db_env(pg), "BACKUP_DIR": str(scratch)})))
    assert dumped.returncode == 0, dumped.stderr
    [name] = dumps(scratch)

    upload = containers(pod, "upload")
    env = s3_env(upload, aws_bin, home, key, BACKUP_DIR=str(scratch))
    assert env["S3_ENDPOINT"] == s3.endpoint and env["BACKUP_RETENTION"] == "2"
    uploaded = run_script(container_script(upload), env)
    assert uploaded.returncode == 0, uploaded.stderr
    assert f"uploaded and checked s3://{S3_BUCKET}/{S3_PREFIX}{name}" in uploaded.stdout
    assert s3.get(S3_BUCKET, f"{S3_PREFIX}{name}") == (scratch / name).read_bytes()
    # The newest 2 dumps stay; what is not a dump of this prefix is never touched.
    kept = {k: v for k, v in before.items()
            if not re.fullmatch(rf"{S3_PREFIX}heimdall-2020010[12]T000000Z\.dump", k)}
    assert s3.objects(S3_BUCKET) == {**kept, f"{S3_PREFIX}{name}": (scratch / name).stat().st_size}
    assert (f"pruned s3://{S3_BUCKET}/{S3_PREFIX}heimdall-20200101T000000Z.dump "
            "(keeping the newest 2)") in uploaded.stdout
    assert "addressing_style = path" in (home / ".aws" / "config").read_text()
    assert key[1] not in uploaded.stdout + uploaded.stderr
    assert_no_secret_on_a_command_line(argv_log, key[1], s3.endpoint)

    # Restore: the download init container, then pg_restore, into a fresh database.
    rpod = restore_pod(rendered_s3)
    restore_scratch = tmp_path / "restore"
    restore_scratch.mkdir()
    download = containers(rpod, "download")
    fetched = run_script(container_script(download), s3_env(
        download, aws_bin, home, key, BACKUP_DIR=str(restore_scratch), RESTORE_FROM=name))
    assert fetched.returncode == 0, fetched.stderr
    assert (restore_scratch / name).read_bytes() == (scratch / name).read_bytes()
    target = fresh_database(pg, "heimdall_from_s3")
    restored = restore(rendered_s3, pg, restore_scratch, name, target)
    assert restored.returncode == 0, restored.stderr
    assert fingerprint(pg, target) == fingerprint(pg, "heimdall")

    # A dump that is not in the bucket: a clear error that lists what is there.
    missing = run_script(container_script(download), s3_env(
        download, aws_bin, home, key, BACKUP_DIR=str(restore_scratch),
        RESTORE_FROM="heimdall-19990101T000000Z.dump"))
    assert missing.returncode == 1
    assert (f"cannot download s3://{S3_BUCKET}/{S3_PREFIX}heimdall-19990101T000000Z.dump"
            in missing.stderr)
    assert "the database was not changed" in missing.stderr
    assert f"  {S3_PREFIX}{name}" in missing.stderr, "the error lists what is there"
    assert not (restore_scratch / "heimdall-19990101T000000Z.dump").exists()
    assert_no_secret_on_a_command_line(argv_log, key[1], s3.endpoint)


def test_s3_prunes_only_after_the_upload_is_stored_and_read_back(
    rendered_s3: Rendering, s3: S3Server, aws: tuple[Path, Path], tmp_path: Path
) -> None:
    aws_bin, argv_log = aws
    before = seed_old_dumps(s3)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    # Over the CLI's 8 MiB threshold: a multipart upload, whose size is checked all the same.
    name = "heimdall-20250101T000000Z.dump"
    size = 9 * 1024 * 1024 + 7
    (scratch / name).write_bytes(os.urandom(size))
    upload = containers(backup_pod(rendered_s3), "upload")

    def run(key: tuple[str, str]) -> subprocess.CompletedProcess[str]:
        return run_script(container_script(upload),
                          s3_env(upload, aws_bin, tmp_path, key, BACKUP_DIR=str(scratch)))

    good = s3.access_key(documented_policy())

    # A wrong secret: the store refuses the signature; nothing is pruned.
    result = run((good[0], "not-the-secret"))
    assert result.returncode == 1
    assert "SignatureDoesNotMatch" in result.stderr and "no dump was pruned" in result.stderr
    assert s3.objects(S3_BUCKET) == before

    # A key that may write but not read: the upload cannot be checked, so nothing is pruned.
    write_only = documented_policy()
    for statement in write_only["Statement"]:
        if isinstance(statement["Action"], list):
            statement["Action"] = [a for a in statement["Action"] if a != "s3:GetObject"]
    result = run(s3.access_key(write_only))
    assert result.returncode == 1
    assert f"cannot read back s3://{S3_BUCKET}/{S3_PREFIX}{name}" in result.stderr
    assert "no dump was pruned" in result.stderr
    assert s3.objects(S3_BUCKET) == {**before, f"{S3_PREFIX}{name}": size}

    # The documented key: stored, checked, then the oldest pruned.
    result = run(good)
    assert result.returncode == 0, result.stderr
    assert f"uploading {name} ({size} bytes)" in result.stdout
    remaining = sorted(k for k in s3.objects(S3_BUCKET)
                       if re.fullmatch(rf"{S3_PREFIX}heimdall-\d{{8}}T\d{{6}}Z\.dump", k))
    assert remaining == [f"{S3_PREFIX}heimdall-20200103T000000Z.dump", f"{S3_PREFIX}{name}"]
    assert s3.objects(S3_BUCKET)[f"{S3_PREFIX}{name}"] == size
    assert_no_secret_on_a_command_line(argv_log, good[1], s3.endpoint)


# --- the admin password runbook --------------------------------------------------------------


def runbook_sql() -> str:
    """The SQL block of docs/operations.md's admin password reset, as users will run it."""
    text = (REPO / "docs" / "operations.md").read_text()
    match = re.search(r"<!-- reset-admin-password -->\s*```sql\n(.*?)```", text, re.S)
    assert match, "docs/operations.md has no marked reset-admin-password SQL block"
    return match.group(1)


def test_the_runbook_resets_a_lost_admin_password(pg: PostgresServer, tmp_path: Path) -> None:
    database = fresh_database(pg, "heimdall_admin")
    pg.psql(
        SEED_SQL.split('CREATE TABLE "Evaluations"')[0]
        + "INSERT INTO \"Users\" (email, role, \"encryptedPassword\", \"forcePasswordChange\") "
        "VALUES ('admin@heimdall.local', 'admin', 'lost', false), "
        "('someone@example.com', 'user', 'unchanged', false)",
        database=database,
    )
    sql_file = tmp_path / "reset.sql"
    sql_file.write_text(runbook_sql())
    new_password = "N3w-admin-Passw0rd!"
    assert BIN_DIR is not None
    # psql -f: \prompt reads the new password from standard input.
    result = subprocess.run(
        [str(BIN_DIR / "psql"), "-X", "-v", "ON_ERROR_STOP=1", "-h", str(pg.root),
         "-p", str(pg.port), "-U", "postgres", "-d", database, "-f", str(sql_file)],
        input=new_password + "\n", capture_output=True, text=True, timeout=60,
        env=pg.client_env(), start_new_session=True,
    )
    assert result.returncode == 0, result.stderr
    assert "UPDATE 1" in result.stdout
    hashed, force = pg.psql(
        'SELECT "encryptedPassword", "forcePasswordChange" FROM "Users" '
        "WHERE email = 'admin@heimdall.local'", database=database).split("|")
    assert hashed.startswith("$2a$14$") and force == "t"
    assert pg.psql(f"SELECT crypt('{new_password}', '{hashed}') = '{hashed}'",
                   database=database) == "t"
    assert pg.psql("""SELECT "encryptedPassword" FROM "Users" WHERE email = 'someone@example.com'""",
                   database=database) == "unchanged"
    # An independent bcrypt (the C library's; Heimdall uses bcryptjs) accepts the hash too,
    # where this Python still has the crypt module.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import crypt
        except ImportError:
            return
    assert crypt.crypt(new_password, hashed) == hashed
