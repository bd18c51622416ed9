"""The embedded database never starts an empty cluster over its data, across major versions.

Two things decide what the database pod does with its volume: the `data-guard` init
container (heimdall/scripts/postgres-data-guard.sh, taken from the rendered StatefulSet)
and then the postgres image's entrypoint, which runs initdb whenever PGDATA holds no
PG_VERSION. The guard runs here for real, on data directories made by Debian's PostgreSQL
15 initdb (tests/pg.py), with the image's major version given as the official image gives
it (PG_MAJOR); where the image's own major would differ from the 15 binaries here, a
cluster's PG_VERSION is rewritten. The entrypoint's decision, which needs the image, is
simulated by `entrypoint`, a transcription of docker_setup_env and _main of
docker-library/postgres's docker-entrypoint.sh (17 and 18 share it: PGDATA defaults to
/var/lib/postgresql/data up to 17 and /var/lib/postgresql/<major>/docker from 18, and only
with that 18+ default does it look for "old" databases and refuse). PostgreSQL's own refusal
of a cluster of another major is checked with the real server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import pytest

from heimdall.tooling.render import Rendering
from tests.conftest import BuildFn, containers, env_of
from tests.pg import MISSING_REASON, PostgresServer, container_script, postgres_bin_dir, run_script

BIN_DIR = postgres_bin_dir()
pytestmark = pytest.mark.skipif(BIN_DIR is None, reason=MISSING_REASON)
RUNBOOK = "docs/operations.md#a-new-postgresql-major-version-on-the-embedded-database"


# --- a real cluster to copy ------------------------------------------------------------------


@pytest.fixture(scope="module")
def template() -> Iterator[PostgresServer]:
    """A PostgreSQL 15 cluster (initdb), never started: copied into each volume."""
    assert BIN_DIR is not None
    server = PostgresServer(BIN_DIR, "unused-password")
    try:
        yield server
    finally:
        server.close()


def put_cluster(template: PostgresServer, volume: Path, where: str, version: Optional[str] = None) -> Path:
    """A copy of the real cluster at `volume/where`; `version` rewrites its PG_VERSION."""
    target = volume / where if where else volume
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.rmdir()
    shutil.copytree(template.data, target, symlinks=True)
    if template.run_as:
        for path in [target, *target.rglob("*")]:
            os.chown(path, template.run_as["user"], template.run_as["group"], follow_symlinks=False)
    if version is not None:
        (target / "PG_VERSION").write_text(version + "\n")
    return target


def tree(volume: Path) -> dict[str, str]:
    """Every path on the volume and what it is: nothing may change when the guard refuses."""
    found = {}
    for path in sorted(volume.rglob("*")):
        found[str(path.relative_to(volume))] = (
            f"-> {os.readlink(path)}" if path.is_symlink() else "dir" if path.is_dir() else str(path.stat().st_size)
        )
    return found


# --- the rendered pod ---------------------------------------------------------------------------


STACKS: dict[str, dict[str, Any]] = {
    "17": {},
    "18": {"image": {"repository": "postgres", "tag": "18"}},
    "18 in pgdata-18": {"image": {"repository": "postgres", "tag": "18"}, "dataDirectory": "pgdata-18"},
}


class Renderings(dict[str, Rendering]):
    """The embedded database's stack for each of STACKS, rendered when first used."""

    def __missing__(self, key: str) -> Rendering:
        from heimdall.tooling.render import run_stack
        from tests.conftest import stack_config

        # The dump client follows the server's major (pg_dump refuses a newer server).
        client = {"clientImage": {"tag": STACKS[key]["image"]["tag"]}} if STACKS[key] else {}
        config, keys = stack_config({"database": {**client, "embedded": STACKS[key]}})
        self[key] = run_stack(config, "test", secret_keys=keys)
        return self[key]


@pytest.fixture(scope="module")
def rendered() -> Renderings:
    return Renderings()


def pod(rendering: Rendering) -> dict[str, Any]:
    spec: dict[str, Any] = rendering.manifest("StatefulSet", "heimdall-postgres")["spec"]["template"]["spec"]
    return spec


def layout(rendering: Rendering) -> tuple[str, Optional[str]]:
    """(mount path of the data volume, PGDATA or None) of the rendered server container."""
    postgres = containers(pod(rendering), "postgres")
    mount = {m["name"]: m["mountPath"] for m in postgres["volumeMounts"]}["data"]
    return mount, env_of(postgres).get("PGDATA")


def guard(
    rendering: Rendering, volume: Path, major: Optional[int]
) -> subprocess.CompletedProcess[str]:
    """The rendered data-guard container's script on `volume`, as the pod runs it: the
    container's paths point into the volume, and the image's PG_MAJOR is `major` (None: the
    image sets none, the script asks `postgres -V`, here the 15 binaries)."""
    container = containers(pod(rendering), "data-guard")
    env = env_of(container)
    mount = env["DATA_VOLUME"]
    env["DATA_VOLUME"] = str(volume)
    env["PGDATA"] = str(volume) + env["PGDATA"].removeprefix(mount)
    env["PATH"] = f"{BIN_DIR}:/usr/bin:/bin"
    if major is not None:
        env["PG_MAJOR"] = str(major)
    return run_script(container_script(container), env, timeout=20)


def entrypoint(mount: str, pgdata: Optional[str], major: int, volume: Path) -> str:
    """What docker-entrypoint.sh does with this volume: "start" (PGDATA holds PG_VERSION),
    "refuse" (18+ default PGDATA, and an old database found) or "initdb"."""
    if pgdata is None:
        pgdata = "/var/lib/postgresql/data" if major <= 17 else f"/var/lib/postgresql/{major}/docker"

    def host(path: str) -> Optional[Path]:  # a container path on the volume, if it is
        if path == mount or path.startswith(mount + "/"):
            return volume / path[len(mount):].lstrip("/")
        return None  # the image's own files: no database there

    def has_cluster(path: str) -> bool:
        found = host(path)
        return found is not None and (found / "PG_VERSION").is_file() and (found / "PG_VERSION").stat().st_size > 0

    if has_cluster(pgdata):
        return "start"
    if pgdata == f"/var/lib/postgresql/{major}/docker":
        candidates = ["/var/lib/postgresql", "/var/lib/postgresql/data"]
        # /var/lib/postgresql/*/docker
        children: set[str] = set()
        if mount == "/var/lib/postgresql":
            children = {p.name for p in volume.iterdir() if p.is_dir()}
        elif mount.startswith("/var/lib/postgresql/"):
            children = {mount.removeprefix("/var/lib/postgresql/").split("/")[0]}
        candidates += [f"/var/lib/postgresql/{child}/docker" for child in sorted(children)]
        if any(has_cluster(c) for c in candidates):
            return "refuse"
        if major >= 18 and mount == "/var/lib/postgresql/data":  # `mountpoint -q`
            return "refuse"
    return "initdb"


def start(rendering: Rendering, volume: Path, major: int) -> tuple[str, str]:
    """What the pod does: ("guard refuses", its line) or the entrypoint's decision."""
    checked = guard(rendering, volume, major)
    if checked.returncode != 0:
        return "guard refuses", checked.stderr.strip()
    mount, pgdata = layout(rendering)
    return entrypoint(mount, pgdata, major, volume), checked.stdout.strip()


# --- the real server's own refusal -------------------------------------------------------------


def test_postgres_refuses_a_cluster_of_another_major_version(template: PostgresServer) -> None:
    # The second line of defence the stable PGDATA keeps: even without the guard, the new
    # server meets the old cluster and stops; it never initialises over it. (Under the
    # template's directory: the server's unprivileged user can reach it.)
    assert BIN_DIR is not None
    cluster = put_cluster(template, template.root / "volume", "pgdata", version="17")
    result = subprocess.run(
        [str(BIN_DIR / "postgres"), "-D", str(cluster), "-c", "listen_addresses="],
        capture_output=True, text=True, timeout=30, check=False,
        env={"PATH": f"{BIN_DIR}:/usr/bin:/bin", "LC_ALL": "C"}, **template.run_as,
    )
    assert result.returncode != 0
    assert "database files are incompatible with server" in result.stderr
    assert "initialized by PostgreSQL version 17" in result.stderr


# --- a major-version change ---------------------------------------------------------------------


def test_a_17_volume_under_an_18_image_fails_closed_and_never_initialises(
    rendered: Renderings, template: PostgresServer, tmp_path: Path
) -> None:
    volume = tmp_path / "volume"
    put_cluster(template, volume, "pgdata", version="17")  # what 17 leaves on the volume
    before = tree(volume)
    # database.embedded.image.tag 17 -> 18: the same mount and PGDATA, so the entrypoint
    # would start the old cluster (and PostgreSQL refuse it, above): never initdb.
    mount, pgdata = layout(rendered["18"])
    assert entrypoint(mount, pgdata, 18, volume) == "start"
    assert layout(rendered["18"]) == layout(rendered["17"])
    assert start(rendered["17"], volume, 17)[0] == "start"
    # Before that, the guard refuses with one line that says what to do.
    outcome, line = start(rendered["18"], volume, 18)
    assert outcome == "guard refuses"
    assert "\n" not in line
    assert line.startswith(
        "ERROR: the data volume holds a PostgreSQL 17 cluster in "
        f"{volume}/pgdata and postgres:18 runs PostgreSQL 18, which cannot open it: set "
        "database.embedded.image.tag back to 17, or upgrade the data first (dump and "
        "restore, or pg_upgrade)"
    )
    assert line.endswith(f"nothing was changed and the database stays down (see {RUNBOOK})")
    assert tree(volume) == before
    # Back to 17: it starts as before.
    assert start(rendered["17"], volume, 17)[0] == "start"


def test_the_guard_compares_real_data_with_the_images_major(
    rendered: Renderings, template: PostgresServer, tmp_path: Path
) -> None:
    volume = tmp_path / "volume"
    put_cluster(template, volume, "pgdata")  # a real PostgreSQL 15 cluster, PG_VERSION 15
    refused = guard(rendered["17"], volume, 17)
    assert refused.returncode == 1
    assert "holds a PostgreSQL 15 cluster" in refused.stderr
    assert "postgres:17 runs PostgreSQL 17" in refused.stderr
    assert "set database.embedded.image.tag back to 15" in refused.stderr
    # An image that sets no PG_MAJOR: the server binary says which major it is (15 here).
    matching = guard(rendered["17"], volume, None)
    assert matching.returncode == 0, matching.stderr
    assert f"PostgreSQL 15 cluster in {volume}/pgdata" in matching.stdout


def test_stacks_created_on_18_keep_their_data_where_it_is(
    rendered: Renderings, template: PostgresServer, tmp_path: Path
) -> None:
    # This program mounted the volume at /var/lib/postgresql for 18+, and the image kept
    # the cluster in /var/lib/postgresql/18/docker: on the volume, 18/docker.
    volume = tmp_path / "volume"
    cluster = put_cluster(template, volume, "18/docker", version="18")
    (cluster / "marker").write_text("the stack's data")
    # Without the guard, the new layout would initialise an empty database beside it.
    mount, pgdata = layout(rendered["18"])
    assert entrypoint(mount, pgdata, 18, volume) == "initdb"

    outcome, message = start(rendered["18"], volume, 18)
    assert outcome == "start", message
    assert f"{volume}/pgdata now links to it; the data stays where it is" in message
    assert os.readlink(volume / "pgdata") == "18/docker"
    assert (volume / "pgdata" / "marker").read_text() == "the stack's data"
    assert sorted(p.name for p in volume.iterdir()) == ["18", "pgdata"]
    # Every later start finds it directly; a later major change is refused as for anyone.
    again = guard(rendered["18"], volume, 18)
    assert again.returncode == 0 and f"PostgreSQL 18 cluster in {volume}/pgdata" in again.stdout
    assert start(rendered["18"], volume, 19)[0] == "guard refuses"


def test_a_linked_legacy_cluster_is_one_the_real_server_runs(rendered: Renderings) -> None:
    assert BIN_DIR is not None
    server = PostgresServer(BIN_DIR, "a-password")
    try:
        volume = server.root / "volume"
        (volume / "15").mkdir(parents=True)
        shutil.move(str(server.data), str(volume / "15" / "docker"))
        if server.run_as:
            os.chown(volume, server.run_as["user"], server.run_as["group"])
        result = guard(rendered["17"], volume, 15)
        assert result.returncode == 0, result.stderr
        server.data = volume / "pgdata"  # PGDATA as the StatefulSet sets it: now a link
        server.start()
        assert server.psql("SELECT current_setting('data_directory')", database="postgres") == str(volume / "pgdata")
    finally:
        server.close()


def test_an_18_stack_moved_to_another_major_is_refused(
    rendered: Renderings, template: PostgresServer, tmp_path: Path
) -> None:
    volume = tmp_path / "volume"
    put_cluster(template, volume, "18/docker", version="18")
    before = tree(volume)
    for image_major in (17, 19):
        outcome, line = start(rendered["18"], volume, image_major)
        assert outcome == "guard refuses"
        assert "holds a PostgreSQL 18 cluster in 18/docker/" in line
        assert "set database.embedded.image.tag back to 18" in line
        assert tree(volume) == before, "no link to a cluster of another major"


def test_a_cluster_elsewhere_on_the_volume_is_never_hidden_by_a_new_one(
    rendered: Renderings, template: PostgresServer, tmp_path: Path
) -> None:
    # A cluster at the volume's root (a volume used elsewhere before): starting would
    # initialise an empty database in pgdata/ beside it.
    volume = tmp_path / "volume"
    put_cluster(template, volume, "", version="17")
    before = tree(volume)
    outcome, line = start(rendered["17"], volume, 17)
    assert outcome == "guard refuses"
    assert f"holds a PostgreSQL 17 cluster in the volume's root, not in {volume}/pgdata" in line
    assert tree(volume) == before


def test_a_fresh_volume_gets_a_cluster(rendered: Renderings, tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    (volume / "lost+found").mkdir(parents=True)
    outcome, message = start(rendered["18"], volume, 18)
    assert (outcome, message) == (
        "initdb",
        f"no cluster on the data volume yet: postgres:18 creates a PostgreSQL 18 cluster in {volume}/pgdata",
    )


# --- the supported upgrade: a new cluster beside the old, then restore ---------------------------


def test_an_upgrade_starts_a_new_cluster_beside_the_old_one_and_keeps_it(
    rendered: Renderings, template: PostgresServer, tmp_path: Path
) -> None:
    volume = tmp_path / "volume"
    put_cluster(template, volume, "pgdata", version="17")
    before = tree(volume)
    # image.tag 18 and dataDirectory pgdata-18 in one update (with restore.from: the runbook).
    outcome, message = start(rendered["18 in pgdata-18"], volume, 18)
    assert outcome == "initdb"
    assert "leaving the PostgreSQL 17 cluster in pgdata/ as it is" in message
    assert tree(volume) == before, "the old cluster stays, untouched, for a rollback"

    # The new cluster exists: it starts; going back is a settings change.
    put_cluster(template, volume, "pgdata-18", version="18")
    assert start(rendered["18 in pgdata-18"], volume, 18)[0] == "start"
    assert start(rendered["17"], volume, 17)[0] == "start"
    # A new directory beside a cluster of the same (or a newer) major would hide it.
    same = tmp_path / "same"
    put_cluster(template, same, "pgdata", version="18")
    outcome, line = start(rendered["18 in pgdata-18"], same, 18)
    assert outcome == "guard refuses"
    assert "holds a PostgreSQL 18 cluster in pgdata/" in line
    assert "dataDirectory names a new, empty PostgreSQL 18 cluster" in line


def test_the_upgrade_runbook_uses_settings_that_exist(build: BuildFn) -> None:
    from tests.conftest import REPO

    text = (REPO / "docs" / "operations.md").read_text()
    assert "## A new PostgreSQL major version on the embedded database" in text
    section = text.split("## A new PostgreSQL major version on the embedded database")[1].split("\n## ")[0]
    for key in ("database.embedded.image.tag", "database.embedded.dataDirectory", "restore.from", "database.clientImage.tag"):
        assert key in section, key
    build({"database": {"clientImage": {"tag": "18"}, "embedded": {"image": {"repository": "postgres", "tag": "18"},
                                     "dataDirectory": "pgdata-18"}},
           "restore": {"from": "heimdall-20250101T021500Z.dump"}})
