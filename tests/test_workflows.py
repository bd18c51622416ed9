"""The users' CI workflows: their YAML, their jobs and steps, and the inputs each action
takes. The input lists come from each action's action.yml (the versions pinned below);
an action the table does not know fails the test, so every `with:` is checked."""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO, STACK_FILES

WORKFLOWS = REPO / ".github" / "workflows"
LOCAL_ACTIONS = REPO / ".github" / "actions"

# Inputs of each action, exactly as its action.yml declares them at the tag the workflows use
# (owner/repo@tag, commit: the file read).
ACTION_INPUTS: dict[str, set[str]] = {
    # actions/checkout@v4:action.yml (11d5960a3267)
    "actions/checkout@v4": {
        "repository", "ref", "token", "ssh-key", "ssh-known-hosts", "ssh-strict", "ssh-user",
        "persist-credentials", "path", "clean", "filter", "sparse-checkout",
        "sparse-checkout-cone-mode", "fetch-depth", "fetch-tags", "show-progress", "lfs",
        "submodules", "set-safe-directory", "github-server-url", "allow-unsafe-pr-checkout",
    },
    # actions/setup-python@v5:action.yml (a26af69be951)
    "actions/setup-python@v5": {
        "python-version", "python-version-file", "cache", "architecture", "check-latest",
        "token", "cache-dependency-path", "update-environment", "allow-prereleases",
        "freethreaded",
    },
    # actions/upload-artifact@v4:action.yml (ea165f8d65b6)
    "actions/upload-artifact@v4": {
        "name", "path", "if-no-files-found", "retention-days", "compression-level", "overwrite",
        "include-hidden-files",
    },
    # pulumi/actions@v6:action.yml (8582a9e8cc63)
    "pulumi/actions@v6": {
        "command", "stack-name", "pulumi-version", "pulumi-version-file", "work-dir",
        "comment-on-pr", "comment-on-pr-number", "comment-on-summary", "github-token",
        "cloud-url", "secrets-provider", "parallel", "message", "config-map",
        "expect-no-changes", "diff", "replace", "exclude", "exclude-dependents", "target",
        "target-dependents", "policyPacks", "policyPackConfigs", "refresh", "upsert", "remove",
        "edit-pr-comment", "color", "exclude-protected", "plan", "suppress-outputs",
        "suppress-progress", "always-include-summary", "continue-on-error", "log-verbosity",
        "log-flow", "debug",
    },
    # aws-actions/configure-aws-credentials@v4:action.yml (7474bc4690e2)
    "aws-actions/configure-aws-credentials@v4": {
        "aws-region", "role-to-assume", "aws-access-key-id", "aws-secret-access-key",
        "aws-session-token", "web-identity-token-file", "role-chaining", "audience",
        "http-proxy", "mask-aws-account-id", "role-duration-seconds", "role-external-id",
        "role-session-name", "role-skip-session-tagging", "inline-session-policy",
        "managed-session-policies", "output-credentials", "output-env-credentials",
        "unset-current-credentials", "disable-retry", "retry-max-attempts",
        "special-characters-workaround", "use-existing-credentials",
    },
    # google-github-actions/auth@v2:action.yml (c200f3691d83)
    "google-github-actions/auth@v2": {
        "project_id", "workload_identity_provider", "service_account", "audience",
        "credentials_json", "create_credentials_file", "export_environment_variables",
        "token_format", "delegates", "universe", "request_reason", "cleanup_credentials",
        "access_token_lifetime", "access_token_scopes", "access_token_subject", "retries",
        "backoff", "backoff_limit", "id_token_audience", "id_token_include_email",
    },
    # azure/login@v2:action.yml (7184910d9eb2)
    "azure/login@v2": {
        "creds", "client-id", "tenant-id", "subscription-id", "enable-AzPSSession",
        "environment", "allow-no-subscriptions", "audience", "auth-type",
    },
}
OIDC_ACTIONS = {
    "aws-actions/configure-aws-credentials@v4": "role-to-assume",
    "google-github-actions/auth@v2": "workload_identity_provider",
    "azure/login@v2": "client-id",
}
# Keys that the long-lived credentials of each cloud would use: never in these workflows.
STATIC_CREDENTIALS = {"aws-access-key-id", "aws-secret-access-key", "credentials_json", "creds"}
SECRET_EXPRESSION = re.compile(r"^\$\{\{ secrets\.[A-Z_]+ \}\}$")
# Every remote action is pinned to a commit (zizmor's unpinned-uses): the commit of the newest
# release of the major version above, read in the action's repository (git rev-list -n1 TAG).
PINS: dict[str, tuple[str, str]] = {
    "actions/checkout@v4": ("11d5960a326750d5838078e36cf38b85af677262", "v4.4.0"),
    "actions/setup-python@v5": ("a26af69be951a213d495a4c3e4e4022e16d87065", "v5.6.0"),
    "actions/upload-artifact@v4": ("ea165f8d65b6e75b540449e92b4886f43607fa02", "v4.6.2"),
    "pulumi/actions@v6": ("8582a9e8cc630786854029b4e09281acd6794b58", "v6.6.1"),
    "aws-actions/configure-aws-credentials@v4": ("7474bc4690e29a8392af63c5b98e7449536d5c3a", "v4.3.1"),
    "google-github-actions/auth@v2": ("c200f3691d83b41bf9bbd8638997a462592937ed", "v2.1.13"),
    "azure/login@v2": ("7184910d9eb2b1c5e48f7073824a90609bb9b6d6", "v2.3.1"),
}
_PINNED = {f"{key.split('@')[0]}@{sha}": key for key, (sha, _) in PINS.items()}


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    if True in document:  # YAML 1.1 reads the key `on` as a boolean
        document["on"] = document.pop(True)
    # A step pinned to a known commit reads as the action's major version (ACTION_INPUTS'
    # key); the comment naming the release is checked against PINS in the text.
    steps = [s for job in document.get("jobs", {}).values() for s in job.get("steps", [])]
    for step in steps + document.get("runs", {}).get("steps", []):
        if step.get("uses") in _PINNED:
            step["uses"] = _PINNED[step["uses"]]
    return document


def workflow(name: str) -> dict[str, Any]:
    return load(WORKFLOWS / name)


def local_action(uses: str) -> dict[str, Any]:
    return load(REPO / uses.removeprefix("./") / "action.yml")


def steps_of(job: dict[str, Any]) -> list[dict[str, Any]]:
    """A job's steps, with the steps of local composite actions inlined."""
    found = []
    for step in job.get("steps", []):
        found.append(step)
        if step.get("uses", "").startswith("./"):
            found.extend(local_action(step["uses"])["runs"]["steps"])
    return found


def uses_steps(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in steps_of(job) if s.get("uses") == action]


def all_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml")) + sorted(LOCAL_ACTIONS.glob("*/action.yml"))


def all_steps() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in all_files():
        document = load(path)
        if "jobs" in document:
            for job_id, job in document["jobs"].items():
                found.extend((f"{path.name}:{job_id}", s) for s in job.get("steps", []))
        else:
            found.extend((path.parent.name, s) for s in document["runs"]["steps"])
    return found


def test_workflows_exist_and_parse():
    assert {p.name for p in WORKFLOWS.glob("*.yml")} == {"pull-request.yml", "deploy.yml"}
    for path in all_files():
        document = load(path)
        assert document.get("name"), path


def test_every_remote_action_is_pinned_to_the_commit_of_a_named_release():
    for path in all_files():
        for line in path.read_text().splitlines():
            match = re.search(r"uses: ([\w./-]+)@(\S+)(.*)$", line)
            if match is None or match.group(1).startswith("./"):
                continue
            name, ref, comment = match.groups()
            assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{path.name}: pin {name} to a commit"
            key = _PINNED.get(f"{name}@{ref}")
            assert key is not None, f"{path.name}: {name}@{ref} is not in PINS"
            assert comment.strip() == f"# {PINS[key][1]}", f"{path.name}: {line.strip()}"


def test_every_step_runs_or_uses_and_every_action_is_known_and_pinned():
    for where, step in all_steps():
        assert ("run" in step) != ("uses" in step), f"{where}: {step}"
        uses = step.get("uses")
        if uses is None:
            continue
        if uses.startswith("./"):
            assert (REPO / uses.removeprefix("./") / "action.yml").is_file(), uses
            continue
        assert uses in ACTION_INPUTS, f"{where}: add {uses}'s inputs (from its action.yml) to ACTION_INPUTS"
        assert re.search(r"@(v\d+|[0-9a-f]{40})$", uses), f"{where}: pin {uses} to a major version or commit"


def test_every_with_key_is_an_input_the_action_takes():
    for where, step in all_steps():
        uses = step.get("uses")
        given = set(step.get("with") or {})
        if uses is None:
            assert not given, where
        elif uses.startswith("./"):
            inputs = local_action(uses)["inputs"]
            assert given <= set(inputs), f"{where}: {sorted(given - set(inputs))}"
            required = {k for k, v in inputs.items() if v.get("required") and "default" not in v}
            assert required <= given, f"{where}: missing {sorted(required - given)}"
        else:
            unknown = given - ACTION_INPUTS[uses]
            assert not unknown, f"{where}: {uses} takes no {sorted(unknown)}"
            assert not given & STATIC_CREDENTIALS, f"{where}: long-lived credentials; use OIDC"


def test_composite_action_inputs_are_all_used():
    action = local_action("./.github/actions/pulumi-setup")
    text = (LOCAL_ACTIONS / "pulumi-setup" / "action.yml").read_text()
    for name in action["inputs"]:
        assert f"inputs.{name}" in text, name


def test_oidc_is_used_with_id_token_permission_and_for_every_cloud():
    jobs_with_oidc = 0
    for name in ("pull-request.yml", "deploy.yml"):
        document = workflow(name)
        for job_id, job in document["jobs"].items():
            clouds = {uses for uses in OIDC_ACTIONS for _ in uses_steps(job, uses)}
            if not clouds:
                continue
            jobs_with_oidc += 1
            assert clouds == set(OIDC_ACTIONS), f"{name}:{job_id} lacks {set(OIDC_ACTIONS) - clouds}"
            assert job["permissions"]["id-token"] == "write", f"{name}:{job_id}"
            for uses, key in OIDC_ACTIONS.items():
                (step,) = uses_steps(job, uses)
                assert step["with"][key], f"{name}:{job_id} {uses} has no {key}"
                assert step.get("if"), f"{name}:{job_id} {uses} should run only when configured"
    assert jobs_with_oidc == 3  # preview, up-dev, up-prod


def pulumi_step(job: dict[str, Any]) -> dict[str, Any]:
    """The job's last pulumi/actions step (a deploy job previews first, then updates)."""
    return uses_steps(job, "pulumi/actions@v6")[-1]


def test_pulumi_steps_take_their_secrets_from_repository_secrets():
    for name in ("pull-request.yml", "deploy.yml"):
        for job_id, job in workflow(name)["jobs"].items():
            for step in uses_steps(job, "pulumi/actions@v6"):
                env = step["env"]
                assert set(env) == {"PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE"}, job_id
                assert all(SECRET_EXPRESSION.match(v) for v in env.values()), job_id
                assert step["with"]["policyPacks"] == "policy", job_id
    for where, step in all_steps():
        with_values = [str(v) for v in (step.get("with") or {}).values()]
        for value in with_values:
            if "kubeconfig" in value.lower() or "token" in value.lower():
                assert "secrets." in value or "inputs." in value, f"{where}: {value}"


def test_policy_pack_named_by_the_workflows_is_a_pack():
    assert (REPO / "policy" / "PulumiPolicy.yaml").is_file()
    assert (REPO / "policy" / "__main__.py").is_file()
    # Its venv (policy/venv, PulumiPolicy.yaml) is synced from the workspace's uv.lock.
    assert (REPO / "policy" / "pyproject.toml").is_file()


def listed_stacks(directory: Path, tmp_path: Path) -> list[str]:
    """What the pull-request workflow's `stacks` job puts in its output, run in `directory`."""
    job = workflow("pull-request.yml")["jobs"]["stacks"]
    (step,) = [s for s in job["steps"] if s.get("id") == "list"]
    output = tmp_path / "github-output"
    output.write_text("")
    result = subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=directory,
        env={"PATH": "/usr/bin:/bin", "GITHUB_OUTPUT": str(output)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (line,) = output.read_text().splitlines()
    key, _, value = line.partition("=")
    assert key == "stacks" and job["outputs"]["stacks"] == "${{ steps.list.outputs.stacks }}"
    stacks: list[str] = json.loads(value)
    return stacks


def test_pull_request_runs_tests_render_scan_then_previews_every_stack(tmp_path):
    document = workflow("pull-request.yml")
    assert document["on"]["pull_request"]["branches"] == ["main"]
    assert document["permissions"] == {"contents": "read"}
    jobs = document["jobs"]
    # The tests job installs from the lock and runs what .ci/run runs: make test, whose
    # recipe holds the lock check, the linters, mypy and pytest.
    test_commands = [s.get("run", "") for s in jobs["tests"]["steps"]]
    assert "make venv checkov-venv" in test_commands and "make test" in test_commands
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^test: lock-check lint lint-workflows typecheck unit$", makefile, re.M)
    for command in ("pytest", "ruff check", "mypy", "uv lock --check", "zizmor", "check-jsonschema"):
        assert command in makefile.replace("$(UV) lock", "uv lock"), command
    preview = jobs["preview"]
    assert set(preview["needs"]) == {"tests", "render", "stacks"}
    assert preview["permissions"]["pull-requests"] == "write"
    # The matrix is every stack file of the repository, read when the workflow runs.
    assert preview["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.stacks) }}"
    assert "needs.stacks.outputs.stacks != '[]'" in preview["if"]
    root_stacks = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in REPO.glob("Pulumi.*.yaml"))
    assert {"dev", "prod"} <= set(root_stacks)
    assert listed_stacks(REPO, tmp_path) == root_stacks
    # A stack file a pull request adds is previewed too; examples/ and Pulumi.yaml are not stacks.
    project = tmp_path / "project"
    (project / "examples" / "stacks").mkdir(parents=True)
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml", "Pulumi.staging-eu.yaml",
                 "examples/stacks/Pulumi.external.yaml", "README.md"):
        (project / name).write_text("config: {}\n")
    assert listed_stacks(project, tmp_path) == ["dev", "prod", "staging-eu"]
    step = pulumi_step(preview)
    assert step["with"]["command"] == "preview"
    assert step["with"]["stack-name"] == "${{ matrix.stack }}"
    # A stack that does not exist in the backend yet is created, not a failed preview.
    assert step["with"]["upsert"] is True
    assert step["with"]["comment-on-pr"] is True
    for job in (preview, jobs["stacks"]):
        assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]


def test_render_job_renders_and_scans_every_stack_file():
    steps = workflow("pull-request.yml")["jobs"]["render"]["steps"]
    render = next(s["run"] for s in steps if "heimdall render" in s.get("run", ""))
    (loop,) = re.findall(r"for file in ([^;]+);", render)
    patterns = loop.split()
    for path in STACK_FILES:
        relative = str(path.relative_to(REPO))
        assert any(fnmatch.fnmatch(relative, p) for p in patterns), relative
    scan = next(s["run"] for s in steps if "checkov -d" in s.get("run", ""))
    assert "--config-file .checkov.yaml" in scan


def test_deploy_goes_dev_then_prod_behind_an_approval():
    document = workflow("deploy.yml")
    assert document["on"]["push"]["branches"] == ["main"]
    assert document["concurrency"]["cancel-in-progress"] is False
    jobs = document["jobs"]
    assert jobs["checks"]["uses"] == "./.github/workflows/pull-request.yml"
    assert "workflow_call" in workflow("pull-request.yml")["on"]
    # A called workflow may not ask for more than its caller grants.
    preview_permissions = workflow("pull-request.yml")["jobs"]["preview"]["permissions"]
    assert preview_permissions.items() <= jobs["checks"]["permissions"].items()
    dev, prod = jobs["up-dev"], jobs["up-prod"]
    assert dev["needs"] == "checks" and prod["needs"] == "up-dev"
    assert prod["environment"] == "production"
    for job, stack in ((dev, "dev"), (prod, "prod")):
        # `command: up` is `pulumi up --yes --skip-preview` (pulumi/actions): a preview
        # with the policy pack comes first, so that a refusal stops the job before any step.
        preview, up = uses_steps(job, "pulumi/actions@v6")
        assert preview["with"]["command"] == "preview" and up["with"]["command"] == "up"
        assert preview["with"]["stack-name"] == up["with"]["stack-name"] == stack
        assert preview["with"]["policyPacks"] == up["with"]["policyPacks"] == "policy"
        assert preview.get("if") is None and preview.get("continue-on-error") is None
        steps = job["steps"]
        assert steps.index(preview) == steps.index(up) - 1


@pytest.mark.parametrize("name", ["pull-request.yml", "deploy.yml"])
def test_checkouts_do_not_persist_the_token(name):
    for job in workflow(name)["jobs"].values():
        for step in uses_steps(job, "actions/checkout@v4"):
            assert step["with"]["persist-credentials"] is False


def test_each_pulumi_job_installs_the_sdk_of_its_own_stack_only():
    action = yaml.safe_load((REPO / ".github" / "actions" / "pulumi-setup" / "action.yml").read_text())
    assert action["inputs"]["stack"]["required"] is True
    install = next(s["run"] for s in action["runs"]["steps"] if "virtualenv" in s.get("name", "").lower())
    # The pinned uv, then the core and the stack's provider's extra from the lock, no dev group.
    assert "--require-hashes --no-deps -r tools/uv-requirements.txt" in install
    assert "uv sync --locked\n" in install
    assert 'extra="$(.venv/bin/python -m heimdall requirements "Pulumi.${STACK}.yaml")"' in install
    assert "uv sync --locked $extra" in install
    assert "--group" not in install and "--all-extras" not in install
    for name in ("pull-request.yml", "deploy.yml"):
        for job in workflow(name)["jobs"].values():
            steps = job.get("steps", [])
            setup = [s for s in steps if s.get("uses") == "./.github/actions/pulumi-setup"]
            if not setup:
                continue
            assert setup[0]["with"]["stack"] == pulumi_step(job)["with"]["stack-name"]
    # The checks install everything: every provider's SDK (the extras) and the dev group.
    makefile = (REPO / "Makefile").read_text()
    assert "sync --locked --all-extras --group dev" in makefile


def test_the_requirements_command_names_each_stack_files_provider_sdk():
    import contextlib
    import io

    from heimdall.database import registry
    from heimdall.tooling.cli import main
    from heimdall.tooling.render import load_stack_file

    for path in STACK_FILES:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["requirements", str(path)]) == 0
        provider = json.loads(load_stack_file(str(path)).config.get("heimdall:database", "{}")).get(
            "provider", "embedded"
        )
        extra = registry.find(provider).extra
        printed = out.getvalue().split()
        assert printed == ([] if extra is None else ["--extra", extra])


def test_every_run_script_passes_shellcheck(tmp_path):
    """What actionlint does for `run:` blocks (actionlint itself does not install here: its
    PyPI package downloads the binary at build time): each bash script, with every `${{ }}`
    expression replaced by a word as the runner would substitute it, passes shellcheck."""
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (.ci/run installs Debian's shellcheck)")
    scripts = []
    for where, step in all_steps():
        if "run" in step and step.get("shell", "bash") == "bash":
            script = re.sub(r"\$\{\{[^}]*\}\}", "EXPRESSION", step["run"])
            path = tmp_path / f"{len(scripts)}.sh"
            path.write_text("#!/usr/bin/env bash\nset -e\n" + script)
            scripts.append((where, path))
    assert len(scripts) >= 5
    for where, path in scripts:
        result = subprocess.run([shellcheck, "-s", "bash", str(path)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{where}:\n{result.stdout}"
