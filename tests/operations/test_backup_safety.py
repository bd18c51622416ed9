"""Backups and restores that fail early and clearly instead of waiting out a deadline or
filling a disk, and dumps kept apart per stack.

- target s3: the Secret with the access key pair is referenced as optional, so a missing
  Secret (or key) lets the container start and the script fail at once, naming it, instead
  of the pod waiting in CreateContainerConfigError until the Job's deadline (and `pulumi up`
  waiting on the restore Job for as long);
- target pvc: a backup that the volume cannot hold is refused before anything is written
  (`df` is replaced on PATH by one that reports the free space the test chooses; the rest of
  the script, and its `ls`, `wc`, `awk`, are the real ones);
- the default S3 prefix is per stack.

The scripts are taken from the rendered objects, as in test_operations_postgres.py; none of
these needs a database server: each stops, or is stopped by a stand-in pg_dump, before one.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from heimdall.tooling.render import Rendering
from tests.conftest import BuildFn, containers, env_of
from tests.pg import container_env, container_script, run_script

S3 = {"bucket": "heimdall-backups", "region": "eu-west-1", "existingSecret": "backup-s3"}
DUMP = "heimdall-20250101T021500Z.dump"


def backup_pod(rendering: Rendering) -> dict[str, Any]:
    spec = rendering.manifest("CronJob", "heimdall-database-backup")["spec"]
    pod: dict[str, Any] = spec["jobTemplate"]["spec"]["template"]["spec"]
    return pod


def restore_job(rendering: Rendering) -> dict[str, Any]:
    [job] = [
        m for m in rendering.manifests()
        if m["kind"] == "Job" and m["metadata"]["name"].startswith("heimdall-restore-")
    ]
    return job


def stub_bin(directory: Path, **programs: str) -> Path:
    """A directory of shell scripts standing in for commands (name -> script body)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, body in programs.items():
        path = directory / name
        path.write_text("#!/bin/sh\n" + body + "\n")
        path.chmod(0o755)
    return directory


# --- target s3: a missing credentials Secret --------------------------------------------------


@pytest.fixture(scope="module")
def rendered_s3() -> Rendering:
    from heimdall.tooling.render import run_stack
    from tests.conftest import stack_config

    config, secret_keys = stack_config(
        {"namespace": "scans", "backup": {"target": "s3", "s3": S3}, "restore": {"from": DUMP}}
    )
    return run_stack(config, "test", secret_keys=secret_keys)


@pytest.mark.parametrize(("where", "container_name"), [("backup", "upload"), ("restore", "download")])
def test_a_missing_s3_secret_fails_at_once_and_names_it(
    rendered_s3: Rendering, tmp_path: Path, where: str, container_name: str
) -> None:
    pod = backup_pod(rendered_s3) if where == "backup" else restore_job(rendered_s3)["spec"]["template"]["spec"]
    container = containers(pod, container_name)
    # Optional references: the kubelet starts the container without the variables when the
    # Secret or the key is missing, instead of refusing to start it.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        [ref] = [e["valueFrom"]["secretKeyRef"] for e in container["env"] if e["name"] == name]
        assert ref == {"name": "backup-s3", "key": name, "optional": True}
    assert container["terminationMessagePolicy"] == "FallbackToLogsOnError"

    calls = tmp_path / "aws-calls"
    bin_dir = stub_bin(tmp_path / "bin", aws=f'echo "$@" >> {calls}; exit 0')
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / DUMP).write_bytes(b"a dump")
    # What the kubelet gives the container with the Secret missing: the plain values only.
    env = {e["name"]: str(e["value"]) for e in container["env"] if "value" in e}
    env.update(BACKUP_DIR=str(scratch), HOME=str(tmp_path), PATH=f"{bin_dir}:/usr/bin:/bin")
    for missing in ({}, {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE"}):  # no Secret; a key missing
        result = run_script(container_script(container), {**env, **missing}, timeout=10)
        assert result.returncode == 1
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("ERROR: no S3 credentials: Secret 'backup-s3'")
        assert "keys 'AWS_ACCESS_KEY_ID' and 'AWS_SECRET_ACCESS_KEY'" in line
        assert "in namespace 'scans'" in line
        assert not calls.exists(), "nothing may be sent to the store without credentials"

    # With both keys the script goes on to the store.
    both = {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"}
    run_script(container_script(container), {**env, **both}, timeout=10)
    assert calls.read_text()


# --- target pvc: a volume too full for another dump -------------------------------------------


def fake_df(directory: Path, available_kb: int | str) -> Path:
    """A `df` that reports `available_kb` free 1K-blocks (POSIX `df -Pk` output)."""
    return stub_bin(
        directory,
        df="echo 'Filesystem 1024-blocks Used Available Capacity Mounted on'; "
        f"echo '/dev/backups 10485760 10000000 {available_kb} 99% /backups'",
        # Reached only past the check: stands in for the server this test has none of.
        pg_dump="echo 'pg_dump: reached' >&2; exit 7",
    )


def run_backup(rendering: Rendering, directory: Path, bin_dir: Path) -> subprocess.CompletedProcess[str]:
    container = containers(backup_pod(rendering), "backup")
    env = container_env(
        container,
        {"DATABASE_HOST": "127.0.0.1", "DATABASE_PASSWORD": "x", "BACKUP_DIR": str(directory)},
    )
    env["PATH"] = f"{bin_dir}:/usr/bin:/bin"
    return run_script(container_script(container), env, timeout=20)


def test_a_backup_the_volume_cannot_hold_is_refused_before_anything_is_written(
    build: BuildFn, tmp_path: Path
) -> None:
    rendering = build({})
    dumps = tmp_path / "backups"
    dumps.mkdir()
    last = dumps / "heimdall-20250102T021500Z.dump"
    last.write_bytes(b"\0" * (3 * 1024 * 1024))  # 3 MiB
    (dumps / "heimdall-20250101T021500Z.dump").write_bytes(b"\0" * 1024)
    before = sorted(p.name for p in dumps.iterdir())

    # 2 MiB free, the last dump 3 MiB: refused, nothing written, pg_dump never started.
    refused = run_backup(rendering, dumps, fake_df(tmp_path / "small", 2048))
    assert refused.returncode == 1
    (line,) = refused.stderr.strip().splitlines()
    assert line.startswith("ERROR: the backup volume has 2 MiB free and the last dump "
                           f"({last.name}) is 4 MiB: another dump would not fit")
    assert "no dump was written, older dumps are untouched" in line
    assert line.endswith("Grow backup.pvc.size or lower backup.retention")
    assert sorted(p.name for p in dumps.iterdir()) == before

    # The last dump plus a tenth must fit: 3.2 MiB free is still too little...
    assert run_backup(rendering, dumps, fake_df(tmp_path / "tight", 3300)).returncode == 1
    # ...room for it: the check passes and the dump starts.
    roomy = run_backup(rendering, dumps, fake_df(tmp_path / "roomy", 4096))
    assert "pg_dump: reached" in roomy.stderr and "pg_dump failed" in roomy.stderr
    assert sorted(p.name for p in dumps.iterdir()) == before
    # A df that says nothing useful does not stop backups.
    unknown = run_backup(rendering, dumps, fake_df(tmp_path / "odd", "-"))
    assert "cannot read the free space" in unknown.stdout
    assert "pg_dump: reached" in unknown.stderr

    # The first backup has nothing to compare with.
    empty = tmp_path / "empty"
    empty.mkdir()
    first = run_backup(rendering, empty, fake_df(tmp_path / "first", 1))
    assert "pg_dump: reached" in first.stderr


# --- the S3 prefix ----------------------------------------------------------------------------


def test_the_default_s3_prefix_is_per_stack_and_an_explicit_one_is_kept(build: BuildFn) -> None:
    def prefix(rendering: Rendering) -> str:
        value: str = env_of(backup_pod(rendering)["containers"][0])["S3_PREFIX"]
        return value

    # Two stacks sharing a bucket never prune each other's dumps (the build runs stack "test").
    default = build({"backup": {"target": "s3", "s3": S3}})
    assert prefix(default) == "heimdall/test/"
    # Dumps written before prefixes were per stack stay reachable with the old prefix.
    old = build({"backup": {"target": "s3", "s3": {**S3, "prefix": "heimdall/"}}})
    assert prefix(old) == "heimdall/"
    assert prefix(build({"backup": {"target": "s3", "s3": {**S3, "prefix": ""}}})) == ""


def test_a_restore_job_keeps_its_name_across_the_prefix_default_change(build: BuildFn) -> None:
    # A new name would be a new Job: the restore would run again. An unset prefix names the
    # Job as the former default heimdall/ did.
    def job_name(s3: dict[str, Any]) -> str:
        rendering = build({"backup": {"target": "s3", "s3": s3}, "restore": {"from": DUMP}})
        name: str = restore_job(rendering)["metadata"]["name"]
        return name

    assert job_name(S3) == job_name({**S3, "prefix": "heimdall/"})
    assert job_name(S3) != job_name({**S3, "prefix": "heimdall/test/"})
