"""The benchmark's measuring scripts (bench/): they run, count the same objects, and a
stack never imports a cloud SDK it does not use. Nothing here is timed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from heimdall.tooling.render import run_stack_file
from tests.conftest import REPO


def _run(*args: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    measurement: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return measurement


def test_the_dev_stack_imports_no_cloud_sdk_and_the_floor_declares_the_same_objects(
    tmp_path: Path,
) -> None:
    program = _run("bench/program.py", "Pulumi.dev.yaml")
    assert program["cloud_sdks_used"] == []
    assert program["cloud_sdks_imported"] == []  # the registry imports providers lazily

    rendering = run_stack_file("Pulumi.dev.yaml")
    others = [
        {"type": r.type, "name": r.name, "inputs": r.inputs}
        for r in rendering.registrations
        if r.custom and not r.type.startswith("kubernetes:")
    ]
    stack = tmp_path / "dev.json"
    stack.write_text(json.dumps({"manifests": rendering.manifests(), "others": others}))
    floor = _run("bench/floor.py", str(stack))
    assert floor["objects"] == floor["resources"] == program["objects"] > 0
    full = _run("bench/floor.py", str(stack), "--all")  # plus the random passwords
    assert (full["objects"], full["skipped"]) == (program["objects"], 0)
    assert full["resources"] == program["objects"] + len(others) > floor["resources"]
