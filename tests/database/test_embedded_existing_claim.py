"""database.embedded.existingClaim: the embedded PostgreSQL on a claim it did not create
(a Helm chart's), checked before PostgreSQL starts; and the runbook's script that adopts
a Bitnami data directory. The scripts run against real PostgreSQL 15 data directories."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from heimdall.kube import pods
from heimdall.settings.loader import SettingsError, parse_settings
from tests.conftest import containers, env_of
from tests.pg import MISSING_REASON, PostgresServer, postgres_bin_dir, run_script

BIN_DIR = postgres_bin_dir()
needs_postgres = pytest.mark.skipif(BIN_DIR is None, reason=MISSING_REASON)
CLAIM = {"database": {"embedded": {"existingClaim": "heimdall-db-data"}}}


def postgres_pod(rendering: Any) -> dict[str, Any]:
    spec: dict[str, Any] = rendering.manifest("StatefulSet", "heimdall-postgres")["spec"]
    return spec


# --- the rendered StatefulSet -------------------------------------------------------------------


def test_the_existing_claim_is_mounted_instead_of_a_claim_template(build) -> None:
    spec = postgres_pod(build(CLAIM))
    assert "volumeClaimTemplates" not in spec
    pod = spec["template"]["spec"]
    (data,) = [v for v in pod["volumes"] if v["name"] == "data"]
    assert data == {"name": "data", "persistentVolumeClaim": {"claimName": "heimdall-db-data"}}
    mounts = {m["name"]: m["mountPath"] for m in containers(pod, "postgres")["volumeMounts"]}
    assert mounts["data"] == "/var/lib/postgresql/data"


def test_an_init_container_checks_the_data_directory_before_postgres_starts(build) -> None:
    pod = postgres_pod(build(CLAIM))["template"]["spec"]
    # After the data guard, which keeps the server off any other cluster on the volume.
    guard, check = pod["initContainers"]
    assert (guard["name"], check["name"]) == ("data-guard", "check-data-directory")
    assert check["image"] == "postgres:17"
    assert env_of(check) == {
        "PGDATA": "/var/lib/postgresql/data/pgdata",
        "DATA_MOUNT": "/var/lib/postgresql/data",
        "PG_MAJOR": "17",
        "EXPECTED_UID": "999",
        "CLAIM": "heimdall-db-data",
    }
    assert check["command"][2] == pods.script("check-data-directory.sh")
    assert check["volumeMounts"] == [{"name": "data", "mountPath": "/var/lib/postgresql/data", "readOnly": True}]
    assert check["securityContext"]["runAsUser"] == 999


def test_from_18_the_check_looks_where_the_stack_keeps_its_data(build) -> None:
    # One layout for every major (datadir.py): PGDATA is <volume>/pgdata for 18 too.
    values = {"database": {"clientImage": {"tag": "18"}, "embedded": {"existingClaim": "old", "image": {"repository": "postgres", "tag": "18.1"}}}}
    _, check = postgres_pod(build(values))["template"]["spec"]["initContainers"]
    assert (env_of(check)["PGDATA"], env_of(check)["PG_MAJOR"]) == ("/var/lib/postgresql/data/pgdata", "18")


def test_without_existing_claim_nothing_changes(build) -> None:
    spec = postgres_pod(build())
    assert [c["name"] for c in spec["template"]["spec"]["initContainers"]] == ["data-guard"]
    assert len(spec["volumeClaimTemplates"]) == 1


def test_existing_claim_with_persistence_settings_is_refused() -> None:
    values = {"database": {"embedded": {"existingClaim": "heimdall-db-data", "persistence": {"size": "20Gi"}}}}
    with pytest.raises(SettingsError, match="existingClaim is the data volume: its size and class are the claim's own"):
        parse_settings(values)
    with pytest.raises(SettingsError, match="DNS-1123 subdomain"):
        parse_settings({"database": {"embedded": {"existingClaim": "Bad_Claim"}}})


# --- the scripts on real data directories -------------------------------------------------------


@pytest.fixture
def volume() -> Iterator[PostgresServer]:
    """A real PostgreSQL 15 cluster with a row in it, stopped: its root stands for the
    claim's volume, and its data directory sits at <volume>/data (Bitnami's layout)."""
    assert BIN_DIR is not None
    server = PostgresServer(BIN_DIR, "s3cret-password")
    try:
        server.start()
        server.psql("CREATE TABLE evaluations (id int); INSERT INTO evaluations VALUES (42);", database="postgres")
        server.stop()
        yield server
    finally:
        server.close()


def owner_uid(path: Path) -> int:
    return path.stat().st_uid


def check(volume: Path, pgdata: Path, major: str, uid: int) -> Any:
    env = {
        "PATH": "/usr/bin:/bin",
        "PGDATA": str(pgdata),
        "DATA_MOUNT": str(volume),
        "PG_MAJOR": major,
        "EXPECTED_UID": str(uid),
        "CLAIM": "heimdall-db-data",
    }
    return run_script(pods.script("check-data-directory.sh"), env, **_as_owner(uid))


def _as_owner(uid: int) -> dict[str, Any]:
    # As the pod does: the check runs as the user it expects (the image's postgres user),
    # not as root, so it sees a directory another user owns the way the pod would.
    if os.geteuid() == 0 and uid != 0:
        return {"user": uid, "group": uid, "extra_groups": []}
    return {}


def one_line_error(result: Any) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "docs/operations.md" in lines[0]
    return lines[0]


@needs_postgres
def test_the_official_layout_passes_the_check(volume: PostgresServer) -> None:
    # The released chart's volume: the official image's layout, <mount>/pgdata.
    pgdata = volume.root / "pgdata"
    volume.data.rename(pgdata)
    result = check(volume.root, pgdata, "15", owner_uid(pgdata))
    assert result.returncode == 0, result.stderr
    assert "PostgreSQL 15 data directory at" in result.stdout


@needs_postgres
def test_the_check_refuses_what_postgres_could_not_or_should_not_start_on(volume: PostgresServer) -> None:
    root, uid = volume.root, owner_uid(volume.data)
    pgdata = root / "pgdata"
    # Bitnami's layout: the data is one level off; the check says where.
    error = one_line_error(check(root, pgdata, "15", uid))
    assert f"no data directory at {pgdata}, but one at {volume.data}: move it" in error
    volume.data.rename(pgdata)
    error = one_line_error(check(root, pgdata, "15", 12345))
    assert f"is owned by uid {uid}, not 12345" in error
    assert "chown -R 12345:12345" in error
    error = one_line_error(check(root, pgdata, "17", uid))
    assert "holds PostgreSQL 15 data but the image is PostgreSQL 17" in error
    (pgdata / "postgresql.conf").unlink()
    assert "has no postgresql.conf" in one_line_error(check(root, pgdata, "15", uid))
    shutil.rmtree(pgdata)
    # An empty claim: the image would initdb, and Heimdall start on an empty database.
    assert "no PostgreSQL data directory at" in one_line_error(check(root, pgdata, "15", uid))


@needs_postgres
def test_a_bitnami_data_directory_is_adopted_and_postgres_serves_its_data(volume: PostgresServer) -> None:
    root, uid = volume.root, owner_uid(volume.data)
    # What Bitnami leaves on the volume: the data directory without its configuration.
    (volume.data / "postgresql.conf").unlink()
    (volume.data / "pg_hba.conf").unlink()
    env = {"PATH": "/usr/bin:/bin", "VOLUME": str(root), "OWNER_UID": str(uid)}
    adopt = pods.script("adopt-bitnami-data.sh")
    result = run_script(adopt, env)
    assert result.returncode == 0, result.stderr
    pgdata = root / "pgdata"
    assert f"adopted: PostgreSQL 15 data directory at {pgdata}, owned by uid {uid}" in result.stdout
    assert oct((pgdata).stat().st_mode & 0o777) == "0o700" and owner_uid(pgdata) == uid
    # The stack's check now passes, and PostgreSQL serves the data that was there.
    passed = check(root, pgdata, "15", uid)
    assert passed.returncode == 0, passed.stderr
    volume.data = pgdata
    volume.start()
    assert volume.psql("SELECT id FROM evaluations;", database="postgres") == "42"
    volume.stop()
    # Run twice, it changes nothing and says so.
    again = run_script(adopt, env)
    assert again.returncode == 1 and "nothing changed" in again.stderr
