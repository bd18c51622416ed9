"""A restore is applied to a database at most once, on a real PostgreSQL (tests/pg.py).

The restore Job's script records the restore in the database (heimdall_restore.applied) in
the same transaction as the restore, and checks that record first: a Job recreated after
`pulumi up --refresh` (the completed Job deleted outside Pulumi), or a new Job after the
backup target changed while `restore.from` stayed set, restores nothing over newer data.
A failure anywhere leaves neither a data change nor the record. The script is the one the
rendered Job runs (helpers from test_operations_postgres.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from heimdall.tooling.render import Rendering
from tests.conftest import containers
from tests.operations.test_operations_postgres import (
    BIN_DIR,
    PASSWORD,
    SEED_SQL,
    backup,
    db_env,
    dumps,
    fingerprint,
    render,
    restore_pod,
)
from tests.pg import (
    MISSING_REASON,
    PostgresServer,
    container_env,
    container_script,
    run_script,
    seeded_server,
)

pytestmark = pytest.mark.skipif(BIN_DIR is None, reason=MISSING_REASON)

FROM = "heimdall-20250101T000000Z.dump"


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresServer]:
    assert BIN_DIR is not None
    with seeded_server(BIN_DIR, PASSWORD, "heimdall", SEED_SQL) as server:
        yield server


@pytest.fixture(scope="module")
def rendered() -> Rendering:
    return render({"database": {"provider": "embedded"}, "restore": {"from": FROM}})


@pytest.fixture(scope="module")
def dump_dir(pg: PostgresServer, rendered: Rendering, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A verified dump of the seeded database, under the name restore.from gives."""
    directory = tmp_path_factory.mktemp("dumps")
    done = backup(rendered, pg, directory)
    assert done.returncode == 0, done.stderr
    [name] = dumps(directory)
    (directory / name).rename(directory / FROM)
    return directory


def copy_of_heimdall(pg: PostgresServer, name: str) -> str:
    pg.psql(f'DROP DATABASE IF EXISTS "{name}"; CREATE DATABASE "{name}" TEMPLATE heimdall',
            database="postgres")
    return name


def run_restore(
    rendered: Rendering, pg: PostgresServer, directory: Path, database: str, **env: str
) -> Any:
    container = containers(restore_pod(rendered), "restore")
    overrides = {**db_env(pg, database), "BACKUP_DIR": str(directory), **env}
    return run_script(container_script(container), pg.client_env(container_env(container, overrides)))


def history(pg: PostgresServer, database: str) -> list[str]:
    """(dump, run id) rows of the restore history; [] when there is none."""
    if pg.psql("SELECT to_regclass('heimdall_restore.applied') IS NULL", database=database) == "t":
        return []
    rows = pg.psql("SELECT dump || '|' || run_id FROM heimdall_restore.applied ORDER BY 1",
                   database=database)
    return rows.splitlines()


def newer_data(pg: PostgresServer, database: str) -> None:
    """What users write after a restore: the rows a second restore would destroy."""
    pg.psql("INSERT INTO blobs VALUES (99, 'x', 'written after the restore')", database=database)


def test_a_restore_runs_once_and_a_second_run_leaves_newer_data_alone(
    rendered: Rendering, pg: PostgresServer, dump_dir: Path
) -> None:
    original = fingerprint(pg, "heimdall")
    database = copy_of_heimdall(pg, "heimdall_once")
    newer_data(pg, database)  # differs from the dump: the restore must replace it
    assert fingerprint(pg, database) != original

    first = run_restore(rendered, pg, dump_dir, database)
    assert first.returncode == 0, first.stderr
    assert f"restored {FROM} into {database}" in first.stdout
    assert fingerprint(pg, database) == original
    assert history(pg, database) == [f"{FROM}|"]

    # Heimdall writes; then the completed Job is deleted outside Pulumi and `pulumi up
    # --refresh` creates it again (or the target changed and a new Job is made): the same
    # script, the same dump.
    newer_data(pg, database)
    after_use = fingerprint(pg, database)
    again = run_restore(rendered, pg, dump_dir, database)
    assert again.returncode == 0, again.stderr
    assert f"{FROM} was already restored into database {database} at " in again.stdout
    assert "nothing was done" in again.stdout
    assert "set restore.runId" in again.stdout
    assert fingerprint(pg, database) == after_use
    assert history(pg, database) == [f"{FROM}|"]

    # On purpose, with a new restore.runId: restored again, and recorded with its id.
    on_purpose = run_restore(rendered, pg, dump_dir, database, RESTORE_RUN_ID="again-1")
    assert on_purpose.returncode == 0, on_purpose.stderr
    assert f"restored {FROM} (restore.runId again-1) into {database}" in on_purpose.stdout
    assert fingerprint(pg, database) == original
    assert history(pg, database) == [f"{FROM}|", f"{FROM}|again-1"]


def test_a_failed_restore_leaves_neither_a_change_nor_the_record(
    rendered: Rendering, pg: PostgresServer, dump_dir: Path, tmp_path: Path
) -> None:
    database = copy_of_heimdall(pg, "heimdall_failing")
    newer_data(pg, database)
    before = fingerprint(pg, database)

    # A dump cut short: its table of contents is intact, so the restore starts, drops and
    # recreates tables, then pg_restore meets the missing data midway through the SQL.
    content = (dump_dir / FROM).read_bytes()
    (tmp_path / FROM).write_bytes(content[: len(content) * 2 // 3])
    cut = run_restore(rendered, pg, tmp_path, database)
    assert cut.returncode == 1
    assert "the transaction was rolled back, the database is as it was" in cut.stderr
    assert fingerprint(pg, database) == before
    assert history(pg, database) == []
    assert pg.psql("SELECT count(*) FROM pg_namespace WHERE nspname = 'heimdall_restore'",
                   database=database) == "0"

    # Cut anywhere else (inside the table of contents, between tables, inside a table's
    # COPY data): never a partial restore, never a record.
    for eighth in range(1, 8):
        (tmp_path / FROM).write_bytes(content[: len(content) * eighth // 8])
        result = run_restore(rendered, pg, tmp_path, database)
        assert result.returncode == 1, (eighth, result.stdout)
        assert fingerprint(pg, database) == before, eighth
        assert history(pg, database) == [], eighth

    # An SQL error on the server's side, after much of the restore ran: a view outside the
    # dump depends on a table the restore drops.
    pg.psql('CREATE SCHEMA reports; CREATE VIEW reports.users AS SELECT email FROM public."Users"',
            database=database)
    refused = run_restore(rendered, pg, dump_dir, database)
    assert refused.returncode == 1
    assert "cannot drop table" in refused.stderr
    assert fingerprint(pg, database) == before
    assert history(pg, database) == []

    # Fixed, it runs: the failures recorded nothing that would make it skip.
    pg.psql("DROP SCHEMA reports CASCADE", database=database)
    fixed = run_restore(rendered, pg, dump_dir, database)
    assert fixed.returncode == 0, fixed.stderr
    assert history(pg, database) == [f"{FROM}|"]


def test_the_history_belongs_to_the_database_not_to_the_dump(
    rendered: Rendering, pg: PostgresServer, dump_dir: Path, tmp_path: Path
) -> None:
    source = copy_of_heimdall(pg, "heimdall_source")
    assert run_restore(rendered, pg, dump_dir, source).returncode == 0
    assert history(pg, source) == [f"{FROM}|"]

    # The stack's backups leave the history out...
    ours = tmp_path / "ours"
    ours.mkdir()
    assert backup(rendered, pg, ours, DATABASE_NAME=source).returncode == 0
    [name] = dumps(ours)
    assert BIN_DIR is not None
    toc = run_script(f"{BIN_DIR}/pg_restore --list {ours / name}", {"PATH": "/usr/bin:/bin"})
    assert toc.returncode == 0 and "heimdall_restore" not in toc.stdout

    # ...and a dump made by hand that has it restores without it: --clean never drops the
    # target's own history, and the dump's rows are not taken over.
    by_hand = tmp_path / "by-hand"
    by_hand.mkdir()
    dumped = run_script(
        f"{BIN_DIR}/pg_dump -Fc -h {pg.root} -p {pg.port} -U postgres -d {source} "
        f"-f {by_hand / 'hand.dump'}",
        pg.client_env(),
    )
    assert dumped.returncode == 0, dumped.stderr
    target = copy_of_heimdall(pg, "heimdall_target")
    pg.psql("CREATE SCHEMA heimdall_restore; CREATE TABLE heimdall_restore.applied "
            "(dump text NOT NULL, run_id text NOT NULL DEFAULT '', "
            "restored_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (dump, run_id)); "
            "INSERT INTO heimdall_restore.applied (dump) VALUES ('earlier.dump')",
            database=target)
    restored = run_restore(rendered, pg, by_hand, target, RESTORE_FROM="hand.dump")
    assert restored.returncode == 0, restored.stderr
    assert history(pg, target) == ["earlier.dump|", "hand.dump|"]
    assert fingerprint(pg, target) == fingerprint(pg, source)
