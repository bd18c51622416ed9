"""The embedded database's password rotation, proven on a real PostgreSQL server.

The official image applies POSTGRES_PASSWORD only when it initialises an empty volume. The
rendered postStart hook of the postgres container sets the user's password from the Secret
at every start, over the local unix socket (trusted, as in the image's pg_hba.conf); here
it runs against a real server whose host connections need the password (scram-sha-256),
and the password must never appear on any command line or in the server's log.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BuildFn, containers
from tests.pg import MISSING_REASON, PostgresServer, postgres_bin_dir, run_script, start_script

BIN_DIR = postgres_bin_dir()
pytestmark = pytest.mark.skipif(BIN_DIR is None, reason=MISSING_REASON)

OLD = "old-password-0123456789"
# Quotes, a backslash, shell and psql metacharacters: all must reach ALTER ROLE intact.
NEW = "n3w 'pass\"word' \\ $HOME `id` ; :x -- %s"


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresServer]:
    assert BIN_DIR is not None
    server = PostgresServer(BIN_DIR, OLD)
    try:
        server.start()
        # Every statement logged: the hook's own must still not show the password.
        server.psql("ALTER SYSTEM SET log_statement = 'all'; SELECT pg_reload_conf();", database="postgres")
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def hook_script(tmp_path_factory: pytest.TempPathFactory) -> str:
    from heimdall.tooling.render import run_stack
    from tests.conftest import stack_config

    config, secret_keys = stack_config({})
    rendering = run_stack(config, "password", secret_keys=secret_keys)
    pod = rendering.manifest("StatefulSet", "heimdall-postgres")["spec"]["template"]["spec"]
    command = containers(pod, "postgres")["lifecycle"]["postStart"]["exec"]["command"]
    assert command[:2] == ["/bin/sh", "-c"]
    script: str = command[2]
    return script


def _spy(directory: Path, log: Path) -> Path:
    """psql, pg_isready and sed that record their command lines, then run the real ones."""
    assert BIN_DIR is not None
    directory.mkdir(exist_ok=True)
    real = {"psql": BIN_DIR / "psql", "pg_isready": BIN_DIR / "pg_isready", "sed": Path("/bin/sed")}
    for name, target in real.items():
        wrapper = directory / name
        wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "{name} $*" >> "{log}"\nexec "{target}" "$@"\n')
        wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return directory


def _env(pg: PostgresServer, spy: Path, password: str) -> dict[str, str]:
    return pg.client_env(
        {
            "PATH": f"{spy}:{pg.bin_dir}:/usr/bin:/bin",
            "POSTGRES_USER": "postgres",
            "POSTGRES_PASSWORD": password,
            "POSTGRES_SOCKET_DIR": str(pg.root),
            "PGPORT": str(pg.port),
            "PASSWORD_SYNC_TIMEOUT": "30",
        }
    )


def _login(pg: PostgresServer, password: str) -> bool:
    """A password login over TCP, as Heimdall connects."""
    result = subprocess.run(
        [str(pg.bin_dir / "psql"), "-X", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres",
         "-d", "postgres", "-c", "SELECT 1"],
        env=pg.client_env({"PGPASSWORD": password, "PGCONNECT_TIMEOUT": "5"}),
        capture_output=True, text=True, check=False,
    )
    return result.returncode == 0


def test_the_hook_sets_the_new_password_and_the_old_one_stops_working(
    pg: PostgresServer, hook_script: str, tmp_path: Path
) -> None:
    assert _login(pg, OLD) and not _login(pg, NEW)
    log = tmp_path / "argv.log"
    result = run_script(hook_script, _env(pg, _spy(tmp_path / "spy", log), NEW), timeout=60)
    assert result.returncode == 0, result.stderr
    assert _login(pg, NEW) and not _login(pg, OLD)
    # Never on a command line, never in the server's log (log_statement = all).
    command_lines = log.read_text()
    assert "psql" in command_lines and "sed" in command_lines
    assert "pass" not in command_lines and NEW not in command_lines
    assert "statement: SELECT 1" in pg.connection_log()  # the log does show statements
    assert "n3w" not in pg.connection_log()
    # Again (the next start): the same password, nothing else changes.
    assert run_script(hook_script, _env(pg, tmp_path / "spy", NEW), timeout=60).returncode == 0
    assert _login(pg, NEW)


def test_the_hook_waits_for_the_server_to_start(pg: PostgresServer, hook_script: str, tmp_path: Path) -> None:
    pg.stop()
    process = start_script(hook_script, _env(pg, _spy(tmp_path / "spy", tmp_path / "argv.log"), OLD))
    try:
        pg.start()
        assert process.wait(timeout=60) == 0, process.stderr.read() if process.stderr else ""
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 9)
    assert _login(pg, OLD)


def test_the_hook_fails_after_its_deadline_when_there_is_no_server(
    pg: PostgresServer, hook_script: str, tmp_path: Path
) -> None:
    env = {**_env(pg, tmp_path, OLD), "POSTGRES_SOCKET_DIR": str(tmp_path), "PASSWORD_SYNC_TIMEOUT": "1"}
    result = run_script(hook_script, env, timeout=30)
    assert result.returncode == 1
    assert "could not set the password of postgres" in result.stderr


def test_every_embedded_stack_applies_its_password_at_start(build: BuildFn) -> None:
    pod = build({}).manifest("StatefulSet", "heimdall-postgres")["spec"]["template"]["spec"]
    postgres = containers(pod, "postgres")
    assert "lifecycle" in postgres and "postStart" in postgres["lifecycle"]
    assert {"name": "run", "mountPath": "/var/run/postgresql"} in postgres["volumeMounts"]
