"""The documented commands and names that reach PostgreSQL, run against a real server with
TLS (tests/pg.py):

- the `<!-- run: tls-database -->` block (docs/databases.md): the CA saved from the
  `databaseCaCertificate` output, then psql on the `connectionString` output, verify-full;
- a database named like the Helm chart's, `heimdall-database`: accepted by the settings,
  and waited for, dumped and restored by the stack's own scripts, and reached by psql and
  pg_dump as the runbooks write them;
- the `<!-- run: rename -->` SQL block (docs/operations.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from heimdall.tooling.render import Rendering, run_stack
from tests.conftest import stack_config
from tests.docs import blocks
from tests.operations.test_operations_postgres import (
    SEED_SQL,
    backup,
    dumps,
    fingerprint,
    fresh_database,
    restore,
    wait_script,
)
from tests.pg import (
    MISSING_REASON,
    PostgresServer,
    container_env,
    make_tls_files,
    postgres_bin_dir,
    run_script,
    seeded_server,
)

BIN_DIR = postgres_bin_dir()
pytestmark = pytest.mark.skipif(BIN_DIR is None, reason=MISSING_REASON)

PASSWORD = "Hd@ll:/?#%p w1"
CHART_DATABASE = "heimdall-database"  # mitre/heimdall-helm 3.x's default database name


def block(marker: str) -> str:
    [found] = [b.text for b in blocks() if b.markers.get("run") == marker]
    return found


@pytest.fixture(scope="module")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tls")


@pytest.fixture(scope="module")
def pg(tls_dir: Path) -> Iterator[PostgresServer]:
    assert BIN_DIR is not None
    tls = make_tls_files(tls_dir, "server")
    if tls is None:
        pytest.skip("openssl is not installed: no certificate for a TLS server")
    with seeded_server(BIN_DIR, PASSWORD, CHART_DATABASE, SEED_SQL, tls=tls) as server:
        yield server


def pulumi_shim(directory: Path, rendering: Rendering) -> Path:
    """A `pulumi` that answers `pulumi stack output NAME [--show-secrets]` from a render,
    as the CLI does: a secret output only with --show-secrets."""
    outputs = directory / "outputs.json"
    outputs.write_text(json.dumps({"values": rendering.outputs, "secret": sorted(rendering.secret_outputs)}))
    shim = directory / "bin" / "pulumi"
    shim.parent.mkdir(parents=True, exist_ok=True)
    shim.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"data = json.load(open({str(outputs)!r}))\n"
        "args = sys.argv[1:]\n"
        "assert args[:2] == ['stack', 'output'], args\n"
        "name = args[2]\n"
        "value = data['values'][name]\n"
        "print('[secret]' if name in data['secret'] and '--show-secrets' not in args else value)\n"
    )
    shim.chmod(0o755)
    return shim.parent


def external_tls_stack(pg: PostgresServer, ca: Path) -> Rendering:
    assert pg.tls is not None
    config, secret_keys = stack_config(
        {
            "database": {
                "provider": "external",
                "name": CHART_DATABASE,
                "username": "postgres",
                "port": pg.port,
                "tls": {"mode": "verify", "ca": str(ca)},
                "external": {"host": pg.host},
            },
            "backup": {"enabled": False},
        },
        {"database": {"external": {"password": PASSWORD}}},
    )
    return run_stack(config, "docs", secret_keys=secret_keys)


def run_block(text: str, cwd: Path, bin_dirs: list[Path], pg: PostgresServer) -> subprocess.CompletedProcess[str]:
    path = ":".join(str(d) for d in [*bin_dirs, BIN_DIR]) + ":/usr/bin:/bin"
    return subprocess.run(
        ["bash", "-e", "-c", text], cwd=cwd, capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL, env=pg.client_env({"PATH": path}),
    )


def test_the_connection_string_verifies_tls_with_the_saved_ca(pg: PostgresServer, tmp_path: Path) -> None:
    assert pg.tls is not None
    rendering = external_tls_stack(pg, pg.tls.cert)
    assert "sslmode=verify-full&sslrootcert=database-ca.pem" in rendering.outputs["connectionString"]
    assert "connectionString" in rendering.secret_outputs
    assert "databaseCaCertificate" not in rendering.secret_outputs
    shims = pulumi_shim(tmp_path, rendering)
    work = tmp_path / "work"
    work.mkdir()

    ran = run_block(block("tls-database"), work, [shims], pg)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["current_database", "-------------------", CHART_DATABASE, "(1", "row)"]
    authorized = [line for line in pg.connection_log().splitlines() if "connection authorized" in line]
    assert "SSL enabled" in authorized[-1]

    # Without the file, or with a CA that did not sign the server's certificate, libpq
    # refuses: the URL really verifies.
    psql_line = block("tls-database").splitlines()[-1]
    (work / "database-ca.pem").unlink()
    missing = run_block(psql_line, work, [shims], pg)
    assert missing.returncode != 0 and "root certificate file" in missing.stderr
    other = make_tls_files(tmp_path, "other-ca")
    assert other is not None
    (work / "database-ca.pem").write_text(other.cert.read_text())
    wrong = run_block(psql_line, work, [shims], pg)
    assert wrong.returncode != 0 and "certificate verify failed" in wrong.stderr


@pytest.fixture(scope="module")
def chart_named() -> Rendering:
    """The embedded stack with the Helm chart's database name, as operations.md's path 2
    sets it, and a restore configured (backup CronJob and restore Job)."""
    config, secret_keys = stack_config(
        {"database": {"provider": "embedded", "name": CHART_DATABASE, "username": "postgres"},
         "restore": {"from": "heimdall-20250101T000000Z.dump"}},
        {"secrets": {"databasePassword": PASSWORD}},
    )
    return run_stack(config, "test", secret_keys=secret_keys)


def test_the_scripts_wait_for_dump_and_restore_a_database_named_like_the_charts(
    chart_named: Rendering, pg: PostgresServer, tmp_path: Path
) -> None:
    config_map = next(
        o for o in chart_named.manifests() if o["kind"] == "ConfigMap" and "DATABASE_NAME" in o.get("data", {})
    )
    assert config_map["data"]["DATABASE_NAME"] == CHART_DATABASE
    script, container = wait_script(chart_named)
    env = container_env(container, {"DATABASE_HOST": pg.host, "DATABASE_PORT": str(pg.port),
                                    "DATABASE_NAME": CHART_DATABASE, "WAIT_TIMEOUT_SECONDS": "10"})
    waited = run_script(script, pg.client_env(env))
    assert waited.returncode == 0, waited.stderr
    assert f"(database {CHART_DATABASE}," in waited.stdout

    original = fingerprint(pg, CHART_DATABASE)
    done = backup(chart_named, pg, tmp_path, DATABASE_NAME=CHART_DATABASE)
    assert done.returncode == 0, done.stderr
    [name] = dumps(tmp_path)
    target = fresh_database(pg, f"{CHART_DATABASE}-restored")
    restored = restore(chart_named, pg, tmp_path, name, target)
    assert restored.returncode == 0, restored.stderr
    assert fingerprint(pg, target) == original


def test_psql_and_pg_dump_take_the_name_as_the_runbooks_write_it(pg: PostgresServer, tmp_path: Path) -> None:
    # operations.md, path 1 step 3: `pg_dump -U <username> -Fc <database>`, and its psql.
    assert BIN_DIR is not None
    env = pg.client_env({"PGHOST": str(pg.root), "PGPORT": str(pg.port)})
    dump = tmp_path / "heimdall-helm.dump"
    subprocess.run([str(BIN_DIR / "pg_dump"), "-U", "postgres", "-Fc", CHART_DATABASE, "-f", str(dump)],
                   check=True, env=env, capture_output=True, timeout=60)
    listed = subprocess.run([str(BIN_DIR / "pg_restore"), "--list", str(dump)], check=True,
                            env=env, capture_output=True, text=True, timeout=60)
    assert f"dbname: {CHART_DATABASE}" in listed.stdout
    count = subprocess.run([str(BIN_DIR / "psql"), "-X", "-At", "-U", "postgres", CHART_DATABASE, "-c",
                            'SELECT count(*) FROM "Users"'], check=True, env=env, capture_output=True,
                           text=True, timeout=60)
    assert count.stdout.strip() == "2000"


def test_the_rename_sql_runs_as_documented(pg: PostgresServer) -> None:
    pg.psql("DROP DATABASE IF EXISTS heimdall_prod; DROP DATABASE IF EXISTS heimdall; "
            "DROP ROLE IF EXISTS heimdall_app; CREATE DATABASE heimdall", database="postgres")
    pg.psql(block("rename"), database="postgres")
    owner = pg.psql("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'heimdall_prod'",
                    database="postgres")
    assert owner == "heimdall_app"
    assert pg.psql("SELECT rolsuper AND rolcanlogin FROM pg_roles WHERE rolname = 'heimdall_app'",
                   database="postgres") == "t"
