"""The benchmark behind `make bench`: program overhead, cloud SDK imports, test suite time.

For every stack file (Pulumi.*.yaml and examples/stacks/Pulumi.*.yaml) it measures, each
in a fresh Python process, the program run under mocks (bench/program.py, which calls
heimdall.tooling.render.run_stack_file), the floor (bench/floor.py: the same Kubernetes objects
declared directly with pulumi-kubernetes under the same mocks) and the full floor (the
floor plus the stack's other resources declared directly), rotating the three, `--runs`
times each; it reports the medians of wall time (imports included) and peak RSS and the
ratios. Each program run also records which cloud SDKs were imported next to those the
stack uses. Then it times the whole test suite once (as `make test` runs it); with `--ci`,
a fresh clone's `CI=true bash .ci/run`, beside the figure from before the lock.

Prints a table, writes build/bench.json. Exit status 0, or with --check 1 when a target is
missed. Targets: program time at most 1.3x the floor for every stack; no cloud SDK imported
that the stack does not use; the core install (a fresh venv synced from uv.lock with cold
caches, by uv as `pulumi install` does and by pip for comparison; it must render the dev
stack) under 250 MB, measured beside the full install; the test suite under 180 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
MAX_RATIO = 1.3
MAX_SUITE_SECONDS = 180.0
MAX_CORE_INSTALL_MB = 250.0
MAX_CI_SECONDS = 240.0
# A fresh clone's `CI=true bash .ci/run` before the lock (d6029b3: pip installs, one checkov
# process per stack, pytest on one core), as measured on this 2-core machine for issue 17.
CI_SECONDS_BEFORE = 7.6 * 60


def stack_files() -> list[Path]:
    """The same stack files the tests build (tests/conftest.py STACK_FILES)."""
    return sorted(REPO.glob("Pulumi.*.yaml")) + sorted(
        (REPO / "examples" / "stacks").glob("Pulumi.*.yaml")
    )


def _stack_path(stack: str) -> Path:
    """A stack file path, or a stack name such as `dev` for Pulumi.dev.yaml."""
    path = Path(stack)
    if not path.exists() and (REPO / f"Pulumi.{stack}.yaml").exists():
        path = REPO / f"Pulumi.{stack}.yaml"
    return path.resolve()


def _name(path: Path) -> str:
    return path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else str(path)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def _child(script: str, *arguments: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, str(BENCH / script), *arguments],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{script} {' '.join(arguments)} failed:\n{result.stderr}")
    measurement: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return measurement


def _stack_json(stack: Path, into: Path) -> Path:
    """The stack's Kubernetes objects and its other custom resources, for the floor."""
    code = (
        "import json, sys\n"
        "from heimdall.tooling.render import _plain, run_stack_file\n"
        "r = run_stack_file(sys.argv[1])\n"
        "others = [{'type': x.type, 'name': x.name, 'inputs': _plain(x.inputs, True)}\n"
        "          for x in r.registrations if x.custom and not x.type.startswith('kubernetes:')]\n"
        "json.dump({'manifests': r.manifests(show_secrets=True), 'others': others}, sys.stdout)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(stack)],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    path = into / f"{stack.stem}.json"
    path.write_text(result.stdout)
    return path


def _instructions(script: str, *arguments: str) -> int:
    """Instructions one run executes, counted by valgrind's callgrind: the same for the
    same code and inputs whatever else the machine does (wall time on a shared machine
    varies by tens of percent)."""
    result = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         sys.executable, str(BENCH / script), *arguments],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"Collected : (\d+)", result.stderr)
    if found is None:
        raise RuntimeError(f"callgrind reported no count for {script}:\n{result.stderr}")
    return int(found.group(1))


def measure_stack(stack: Path, runs: int, scratch: Path, instructions: bool = False) -> dict[str, Any]:
    data = str(_stack_json(stack, scratch))
    program: list[dict[str, Any]] = []
    floor: list[dict[str, Any]] = []
    full: list[dict[str, Any]] = []
    sides = [
        (["program.py", str(stack)], program),
        (["floor.py", data], floor),
        (["floor.py", data, "--all"], full),
    ]
    for run in range(runs):
        # Rotate which side goes first, so a slow moment does not always hit the same one.
        for arguments, results in sides[run % 3 :] + sides[: run % 3]:
            results.append(_child(*arguments))
    median = statistics.median
    program_s = median(m["seconds"] for m in program)
    floor_s = median(m["seconds"] for m in floor)
    full_s = median(m["seconds"] for m in full)
    imported = set(program[0]["cloud_sdks_imported"])
    used = set(program[0]["cloud_sdks_used"])
    return {
        "stack": _name(stack),
        "kubernetes_objects": program[0]["objects"],
        "floor_objects": floor[0]["objects"],
        "resources": program[0]["resources"],
        "program_seconds": program_s,
        "floor_seconds": floor_s,
        "ratio": program_s / floor_s,
        "full_floor_seconds": full_s,
        "full_floor_resources": full[0]["resources"],
        "full_floor_skipped": full[0]["skipped"],
        "full_ratio": program_s / full_s,
        "settings_import_seconds": median(m["settings_import_seconds"] for m in program),
        "program_peak_rss_mb": median(m["peak_rss_kb"] for m in program) / 1024,
        "floor_peak_rss_mb": median(m["peak_rss_kb"] for m in floor) / 1024,
        "full_floor_peak_rss_mb": median(m["peak_rss_kb"] for m in full) / 1024,
        "memory_ratio": median(m["peak_rss_kb"] for m in program)
        / median(m["peak_rss_kb"] for m in floor),
        "cloud_sdks_imported": sorted(imported),
        "cloud_sdks_used": sorted(used),
        "unused_cloud_sdks": sorted(imported - used),
        "runs": runs,
        **(_instruction_ratio(stack, data) if instructions else {}),
        "program_seconds_all": [m["seconds"] for m in program],
        "floor_seconds_all": [m["seconds"] for m in floor],
        "full_floor_seconds_all": [m["seconds"] for m in full],
    }


def _instruction_ratio(stack: Path, data: str) -> dict[str, Any]:
    program = _instructions("program.py", str(stack))
    floor = _instructions("floor.py", data)
    return {
        "program_instructions": program,
        "floor_instructions": floor,
        "instruction_ratio": program / floor,
    }


def _gc_thresholds() -> list[int]:
    """The collector's thresholds in the measured processes (their entry points tune them)."""
    code = (
        "import gc, json; from heimdall.startup import tune_gc; tune_gc(); "
        "print(json.dumps(gc.get_threshold()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=_env(), capture_output=True, text=True, check=True
    )
    thresholds: list[int] = json.loads(result.stdout)
    return thresholds


def _disk_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def _uv() -> str:
    """The pinned uv the Makefile installs (.venv-uv), else the one on PATH."""
    pinned = REPO / ".venv-uv" / "bin" / "uv"
    return str(pinned) if pinned.exists() else "uv"


def _cold_install(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=REPO, env={**os.environ, **env})
    return time.perf_counter() - started


def measure_install(scratch: Path) -> dict[str, Any]:
    """The core install as a stack gets it, from uv.lock, with cold caches: `uv sync --locked`
    (what `pulumi install` runs with `toolchain: uv`) beside pip installing the same locked
    set (`uv export`, --require-hashes, no cache), each timed into a fresh venv; disk sizes;
    whether the core renders the dev stack (without schema validation, a development tool);
    and the full development venv's size (this one)."""
    uv_venv, pip_venv = scratch / "core-uv", scratch / "core-pip"
    uv_seconds = _cold_install(
        [_uv(), "sync", "--locked", "--quiet"],
        {"UV_PROJECT_ENVIRONMENT": str(uv_venv), "UV_CACHE_DIR": str(scratch / "uv-cache"),
         "UV_PYTHON_DOWNLOADS": "never"},
    )
    locked = scratch / "core-requirements.txt"
    subprocess.run(
        [_uv(), "export", "--locked", "--quiet", "--no-dev", "--no-emit-workspace",
         "--format", "requirements-txt", "--output-file", str(locked)],
        check=True, capture_output=True, cwd=REPO,
    )
    subprocess.run([sys.executable, "-m", "venv", str(pip_venv)], check=True)
    pip_seconds = _cold_install(
        [str(pip_venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-cache-dir",
         "--disable-pip-version-check", "--require-hashes", "--no-deps", "-r", str(locked)],
        {},
    )
    render = subprocess.run(
        [str(uv_venv / "bin" / "python"), "-m", "heimdall", "render", "Pulumi.dev.yaml",
         "--no-validate", "--out", str(scratch / "core-render")],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    return {
        "core_mb": _disk_bytes(uv_venv) / 2**20,
        "core_uv_seconds": uv_seconds,
        "core_pip_mb": _disk_bytes(pip_venv) / 2**20,
        "core_pip_seconds": pip_seconds,
        "full_mb": _disk_bytes(Path(sys.prefix)) / 2**20,
        "core_renders_dev": render.returncode == 0,
        "core_render_error": render.stderr.strip().splitlines()[-1:] if render.returncode else [],
    }


def timed_misses(what: str, run: dict[str, Any], limit: float) -> list[str]:
    """A timed run's misses: over its time target, or failed."""
    misses = []
    if run["seconds"] > limit:
        misses.append(f"{what} took {run['seconds']:.0f}s (target < {limit:.0f}s)")
    if run["exit_code"] != 0:
        misses.append(f"{what} failed: {run['summary']}")
    return misses


def time_ci(scratch: Path) -> dict[str, Any]:
    """`CI=true bash .ci/run` in a fresh clone of HEAD, as CI runs it (the caches that a new
    machine lacks: uv's and mypy's are emptied; Debian packages stay installed)."""
    clone = scratch / "ci-clone"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    env = {**_env(), "CI": "true", "UV_CACHE_DIR": str(scratch / "ci-uv-cache")}
    started = time.perf_counter()
    result = subprocess.run(["bash", ".ci/run"], cwd=clone, env=env, capture_output=True,
                            text=True, check=False)
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    return {"seconds": time.perf_counter() - started, "exit_code": result.returncode,
            "summary": lines[-1] if lines else ""}


def time_test_suite() -> dict[str, Any]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "auto", "--dist", "loadfile", "tests"],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    summary = next(
        (line.strip("= ") for line in reversed(lines) if re.search(r"\d+ (passed|failed)", line)),
        lines[-1] if lines else "",
    )
    return {"seconds": seconds, "exit_code": result.returncode, "summary": summary}


def table(stacks: list[dict[str, Any]]) -> str:
    width = max([len("stack")] + [len(s["stack"]) for s in stacks])
    header = (
        f"{'stack':<{width}} {'k8s':>4} {'all':>4} {'program':>8} {'floor':>7} {'ratio':>6} "
        f"{'full':>7} {'ratio':>6} {'settings':>8} {'MB':>6} {'floor MB':>8}  cloud SDKs imported"
    )
    lines = [header, "-" * len(header)]
    for s in stacks:
        clouds = ", ".join(s["cloud_sdks_imported"]) or "none"
        if s["unused_cloud_sdks"]:
            clouds += f" (UNUSED: {', '.join(s['unused_cloud_sdks'])})"
        lines.append(
            f"{s['stack']:<{width}} {s['kubernetes_objects']:>4} {s['resources']:>4} "
            f"{s['program_seconds']:>7.3f}s {s['floor_seconds']:>6.3f}s {s['ratio']:>5.2f}x "
            f"{s['full_floor_seconds']:>6.3f}s {s['full_ratio']:>5.2f}x "
            f"{s['settings_import_seconds']:>7.3f}s {s['program_peak_rss_mb']:>6.1f} "
            f"{s['floor_peak_rss_mb']:>8.1f}  {clouds}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of each side per stack")
    parser.add_argument("--stack", action="append", help="only these stack files (repeatable)")
    parser.add_argument("--no-tests", action="store_true", help="do not time the test suite")
    parser.add_argument("--ci", action="store_true",
                        help="also time a fresh clone's `CI=true bash .ci/run` (minutes)")
    parser.add_argument(
        "--no-install", action="store_true", help="do not measure the core install (a fresh venv)"
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count instructions of one program and one floor run per stack (valgrind; "
        "about a minute per stack): a ratio a busy machine does not disturb",
    )
    parser.add_argument("--out", default=str(REPO / "build" / "bench.json"))
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()

    files = [_stack_path(s) for s in args.stack] if args.stack else stack_files()
    with tempfile.TemporaryDirectory() as scratch:
        stacks = [
            measure_stack(path, args.runs, Path(scratch), args.instructions) for path in files
        ]
        install = None if args.no_install else measure_install(Path(scratch))
        ci = time_ci(Path(scratch)) if args.ci else None
    suite = None if args.no_tests else time_test_suite()

    print(f"program under mocks vs floors (median of {args.runs} runs, imports included)")
    print("  floor: the same Kubernetes objects declared directly; full: the floor plus the")
    print("  stack's other resources (cloud, random) declared directly; settings: the")
    print("  program's time importing pydantic and the settings model")
    print(table(stacks))
    for s in stacks:
        if "instruction_ratio" in s:
            print(
                f"  {s['stack']}: {s['program_instructions']:,} instructions vs the floor's "
                f"{s['floor_instructions']:,}: {s['instruction_ratio']:.2f}x"
            )
    misses = [
        f"{s['stack']}: program {s['ratio']:.2f}x the floor (target <= {MAX_RATIO}x)"
        for s in stacks
        if s["ratio"] > MAX_RATIO
    ] + [
        f"{s['stack']}: imports cloud SDKs it does not use: {', '.join(s['unused_cloud_sdks'])}"
        for s in stacks
        if s["unused_cloud_sdks"]
    ]
    if install is not None:
        print(
            f"install: core from uv.lock, cold cache: uv sync {install['core_mb']:.0f} MB in "
            f"{install['core_uv_seconds']:.1f}s, pip (the same locked set) "
            f"{install['core_pip_mb']:.0f} MB in {install['core_pip_seconds']:.1f}s; renders dev: "
            f"{'yes' if install['core_renders_dev'] else 'NO'}; full (every SDK, tests) "
            f"{install['full_mb']:.0f} MB"
        )
        if install["core_mb"] > MAX_CORE_INSTALL_MB:
            misses.append(f"core install {install['core_mb']:.0f} MB (target < {MAX_CORE_INSTALL_MB:.0f} MB)")
        if not install["core_renders_dev"]:
            misses.append(f"the core install does not render dev: {install['core_render_error']}")
    if suite is not None:
        print(
            f"test suite: {suite['seconds']:.1f}s ({suite['summary']}; exit {suite['exit_code']}) "
            f"on {os.cpu_count()} cores"
        )
        misses += timed_misses("test suite", suite, MAX_SUITE_SECONDS)
    if ci is not None:
        print(
            f"CI (fresh clone, CI=true bash .ci/run): {ci['seconds']:.0f}s, exit {ci['exit_code']} "
            f"({ci['summary']}); before the lock (d6029b3): {CI_SECONDS_BEFORE:.0f}s"
        )
        misses += timed_misses("CI", ci, MAX_CI_SECONDS)
    print("targets: " + ("all met" if not misses else "MISSED"))
    for miss in misses:
        print(f"  - {miss}")

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "targets": {
            "max_ratio": MAX_RATIO,
            "max_suite_seconds": MAX_SUITE_SECONDS,
            "max_core_install_mb": MAX_CORE_INSTALL_MB,
            "max_ci_seconds": MAX_CI_SECONDS,
        },
        "met": not misses,
        "misses": misses,
        "stacks": stacks,
        "install": install,
        "test_suite": suite,
        "ci": ci,
        "machine": {
            "gc_thresholds": _gc_thresholds(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
    }
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {_name(out)}")
    return 1 if args.check and misses else 0


if __name__ == "__main__":
    sys.exit(main())
