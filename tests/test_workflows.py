"""The users' CI workflows: their YAML, their jobs and steps, and the inputs each action
takes. The input lists come from each action's action.yml (the versions pinned below);
an action the table does not know fails the test, so every `with:` is checked."""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO, STACK_FILES

WORKFLOWS = REPO / ".github" / "workflows"
LOCAL_ACTIONS = REPO / ".github" / "actions"

# Inputs of each action, from its action.yml at the major version used.
ACTION_INPUTS: dict[str, set[str]] = {
    "actions/checkout@v4": {
        "repository", "ref", "token", "ssh-key", "ssh-known-hosts", "ssh-strict", "ssh-user",
        "persist-credentials", "path", "clean", "filter", "sparse-checkout",
        "sparse-checkout-cone-mode", "fetch-depth", "fetch-tags", "show-progress", "lfs",
        "submodules", "set-safe-directory", "github-server-url",
    },
    "actions/setup-python@v5": {
        "python-version", "python-version-file", "cache", "architecture", "check-latest",
        "token", "cache-dependency-path", "update-environment", "allow-prereleases",
        "freethreaded", "pip-version", "pip-install",
    },
    "actions/upload-artifact@v4": {
        "name", "path", "if-no-files-found", "retention-days", "compression-level",
        "overwrite", "include-hidden-files",
    },
    # pulumi/actions action.yml (v6).
    "pulumi/actions@v6": {
        "command", "stack-name", "pulumi-version", "pulumi-version-file", "work-dir",
        "comment-on-pr", "comment-on-pr-number", "comment-on-summary", "github-token",
        "cloud-url", "secrets-provider", "parallel", "message", "config-map",
        "expect-no-changes", "diff", "replace", "target", "target-dependents", "policyPacks",
        "policyPackConfigs", "refresh", "upsert", "remove", "edit-pr-comment", "color",
        "exclude-protected", "plan", "suppress-outputs", "suppress-progress",
        "always-include-summary",
    },
    "aws-actions/configure-aws-credentials@v4": {
        "audience", "aws-access-key-id", "aws-secret-access-key", "aws-session-token",
        "aws-region", "mask-aws-account-id", "role-to-assume", "web-identity-token-file",
        "role-duration-seconds", "role-session-name", "role-external-id",
        "role-skip-session-tagging", "http-proxy", "inline-session-policy",
        "managed-session-policies", "output-credentials", "unset-current-credentials",
        "disable-retry", "retry-max-attempts", "special-characters-workaround",
    },
    "google-github-actions/auth@v2": {
        "project_id", "workload_identity_provider", "service_account", "audience",
        "credentials_json", "create_credentials_file", "export_environment_variables",
        "token_format", "delegates", "universe", "request_reason", "cleanup_credentials",
        "access_token_lifetime", "access_token_scopes", "access_token_subject",
        "retries", "backoff", "backoff_limit", "id_token_audience", "id_token_include_email",
    },
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


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    if True in document:  # YAML 1.1 reads the key `on` as a boolean
        document["on"] = document.pop(True)
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
    (step,) = uses_steps(job, "pulumi/actions@v6")
    return step


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
    assert (REPO / "policy" / "requirements.txt").is_file()


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
    test_commands = " ".join(s.get("run", "") for s in jobs["tests"]["steps"])
    for command in ("pytest", "ruff check", "mypy", "requirements-checkov.txt"):
        assert command in test_commands, command
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
        step = pulumi_step(job)
        assert step["with"]["command"] == "up"
        assert step["with"]["stack-name"] == stack


@pytest.mark.parametrize("name", ["pull-request.yml", "deploy.yml"])
def test_checkouts_do_not_persist_the_token(name):
    for job in workflow(name)["jobs"].values():
        for step in uses_steps(job, "actions/checkout@v4"):
            assert step["with"]["persist-credentials"] is False


def test_each_pulumi_job_installs_the_sdk_of_its_own_stack_only():
    action = yaml.safe_load((REPO / ".github" / "actions" / "pulumi-setup" / "action.yml").read_text())
    assert action["inputs"]["stack"]["required"] is True
    install = next(s["run"] for s in action["runs"]["steps"] if "virtualenv" in s.get("name", "").lower())
    assert "pip install -r requirements.txt" in install
    assert 'python -m heimdall requirements "Pulumi.${STACK}.yaml"' in install
    assert "requirements-dev" not in install
    for name in ("pull-request.yml", "deploy.yml"):
        for job in workflow(name)["jobs"].values():
            steps = job.get("steps", [])
            setup = [s for s in steps if s.get("uses") == "./.github/actions/pulumi-setup"]
            if not setup:
                continue
            assert setup[0]["with"]["stack"] == pulumi_step(job)["with"]["stack-name"]
    # The checks install everything: every provider's SDK and the test tools.
    tests_install = " ".join(
        s.get("run", "") for s in workflow("pull-request.yml")["jobs"]["tests"]["steps"]
    )
    assert "heimdall/database/*/requirements.txt" in tests_install


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
        expected = REPO / registry.package_path(provider) / "requirements.txt"
        printed = out.getvalue().split()
        if expected.exists():
            assert printed == ["-r", str(expected.relative_to(REPO))]
        else:
            # No SDK: the core, so the documented `pip install $(...)` is never a bare
            # `pip install` (an error).
            assert printed == ["-r", "requirements.txt"]
