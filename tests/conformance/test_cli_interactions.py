"""What the README, the docs and the workflows promise of the Pulumi CLI and of the actions
around it, against their sources: the stack outputs they name, the policy pack the CLI
loads, the CLI version the workflows install. (The inputs each action takes are checked
in tests/test_workflows.py, ACTION_INPUTS.)

Citations: P = pulumi/pulumi@v3.259.0, A = pulumi/actions@v6 (8582a9e8cc63).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from heimdall.tooling import prerun
from heimdall.tooling.render import Rendering, run_stack_file
from tests.conftest import REPO
from tests.test_workflows import all_steps, local_action

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
STACK_OUTPUT = re.compile(r"pulumi stack output ([A-Za-z]+)")


@pytest.fixture(scope="module")
def dev() -> Rendering:
    return run_stack_file(str(REPO / "Pulumi.dev.yaml"))


def test_every_stack_output_the_docs_name_is_exported(dev: Rendering) -> None:
    # `pulumi stack output NAME` reads what the program exports; a None output is dropped
    # (pulumi sdk/python/lib/pulumi/runtime/rpc.py serialize_properties: "properties that
    # serialize to None as if they don't exist").
    # Some outputs exist for some providers only (databaseInstance: a managed database;
    # databaseResourceGroup: Azure): every stack file's render counts.
    from tests.docs_checks import facts

    named = {name for path in DOCS for name in STACK_OUTPUT.findall(path.read_text())}
    assert {"url", "adminPassword", "connectionString"} <= named
    assert {k for k, v in dev.outputs.items() if v is not None} <= set(facts().outputs)
    assert named <= set(facts().outputs), sorted(named - set(facts().outputs))


def test_the_outputs_the_readme_calls_secret_are_secret(dev: Rendering) -> None:
    # README "Secrets": `adminPassword` and `connectionString` are Pulumi secrets, so
    # `pulumi stack output` masks them without --show-secrets.
    assert {"adminPassword", "connectionString"} <= dev.secret_outputs


def test_the_policy_pack_is_what_the_cli_loads_for_a_python_pack() -> None:
    # P:pkg/resource/plugin/analyzer_plugin.go:138-142 (PulumiPolicy.yaml in the directory
    # given to --policy-pack), P:sdk/go/common/workspace/project.go:929-933 (its runtime is
    # required), 200-210 there: a language plugin runs the pack (RunPlugin); P:sdk/python/cmd/
    # pulumi-language-python/main.go:1541-1560 (the runtime options, then __main__.py).
    policy = REPO / "policy"
    pack = yaml.safe_load((policy / "PulumiPolicy.yaml").read_text())
    runtime = pack["runtime"]
    assert runtime["name"] == "python"
    options = runtime.get("options", {})
    assert options.get("toolchain", "pip") in ("pip", "poetry", "uv")  # main.go:264-277
    assert (policy / "__main__.py").is_file()
    if options.get("toolchain", "pip") == "pip":
        # The pip toolchain runs the pack with the virtualenv the option names, relative to
        # the pack (main.go:241-247, 286-288): the CI setup must create exactly that one.
        venv = options.get("virtualenv", "venv")
        setup = (REPO / ".github" / "actions" / "pulumi-setup" / "action.yml").read_text()
        assert f"policy/{venv}" in setup
    if options.get("toolchain") == "uv":
        # P@v3.259.0:sdk/python/toolchain/uv.go:97-99: the virtualenv option is relative to the
        # pack; 121-158 InstallDependencies runs `uv sync` there (422-433: with
        # UV_PROJECT_ENVIRONMENT set to it), which needs a pyproject.toml with [project]
        # (478-501 checkPyprojectHasProject): the pack is a member of the root uv workspace.
        import tomllib

        venv = options["virtualenv"]
        member = tomllib.loads((policy / "pyproject.toml").read_text())
        assert "pulumi-policy" in " ".join(member["project"]["dependencies"])
        root = tomllib.loads((REPO / "pyproject.toml").read_text())
        assert "policy" in root["tool"]["uv"]["workspace"]["members"]
        setup = (REPO / ".github" / "actions" / "pulumi-setup" / "action.yml").read_text()
        assert f"(cd policy && UV_PROJECT_ENVIRONMENT={venv} uv sync --locked)" in setup


def test_the_program_venv_is_what_the_uv_toolchain_syncs() -> None:
    # P@v3.259.0:sdk/python/toolchain/uv.go:121-158 (`pulumi install`: `uv sync`, exact) and
    # 346-374 (every run: `uv sync --inexact` first), both with UV_PROJECT_ENVIRONMENT set to
    # the runtime's virtualenv (422-433). uv installs the `dev` group unless the project
    # says otherwise: it must, so a stack's venv holds the core alone (no plugin downloads
    # for the test tools' SDKs).
    import tomllib

    project = prerun.load_project(REPO / "Pulumi.yaml")
    assert project.runtime_options.get("toolchain") == "uv"
    assert project.runtime_options.get("virtualenv") == ".venv"
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert pyproject["project"]["dependencies"]
    assert pyproject["tool"]["uv"]["default-groups"] == []
    assert (REPO / "uv.lock").is_file()


def test_every_workflow_policy_pack_is_the_pack_directory() -> None:
    # A: src/config.ts policyPacks -> the automation API's `--policy-pack <path>`, run in
    # work-dir (default ./).
    for where, step in all_steps():
        if str(step.get("uses", "")).startswith("pulumi/actions@"):
            packs = step.get("with", {}).get("policyPacks")
            assert packs in (None, "policy"), where
            assert step["with"].get("work-dir", "./") == "./", where


def test_every_pulumi_step_installs_the_cli_version_the_program_is_tested_with() -> None:
    # A: src/libs/pulumi-cli.ts downloadCli: without pulumi-version(-file) the range is
    # `^3` (src/config.ts), and a CLI already on the runner that satisfies it is used.
    version = (REPO / ".pulumi.version").read_text().strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    # Resource hooks need CLI 3.182 (README, Quick start); the CLI is not older than the SDK.
    sdk_floor = re.search(r"pulumi>=(\d+\.\d+\.\d+)", (REPO / "pyproject.toml").read_text())
    assert sdk_floor is not None
    as_tuple = tuple(int(p) for p in version.split("."))
    assert as_tuple >= (3, 182, 0)
    assert as_tuple >= tuple(int(p) for p in sdk_floor.group(1).split("."))
    steps = [(w, s) for w, s in all_steps() if str(s.get("uses", "")).startswith("pulumi/actions@")]
    assert steps
    for where, step in steps:
        assert step["with"].get("pulumi-version-file") == ".pulumi.version", where
        assert "pulumi-version" not in step["with"], where  # A: config.ts, not both


def test_the_setup_action_reads_the_stack_file_the_cli_reads() -> None:
    # `pulumi preview --stack S` reads Pulumi.S.yaml next to Pulumi.yaml; the setup action
    # asks the program which SDK that stack needs, from the same file.
    setup = local_action("./.github/actions/pulumi-setup")
    text = yaml.safe_dump(setup)
    assert "Pulumi.${STACK}.yaml" in text


def test_the_repository_project_runs_the_python_runtime_the_cli_accepts() -> None:
    project = prerun.load_project(REPO / "Pulumi.yaml")  # P:main.go:241-277 parseOptions
    assert project.runtime == "python"
    assert project.runtime_options.get("virtualenv")


def test_a_project_file_path_is_where_the_cli_looks(tmp_path: Path) -> None:
    # P:sdk/go/common/workspace/paths.go:124 ("no Pulumi.yaml project file found"): the render
    # takes the Pulumi.yaml beside or above the stack file, else the program's own.
    (tmp_path / "sub").mkdir()
    (tmp_path / "Pulumi.yaml").write_text("name: other\nruntime: python\n")
    assert prerun.find_project(tmp_path / "sub" / "Pulumi.x.yaml", REPO) == tmp_path / "Pulumi.yaml"
    assert prerun.find_project(Path("/Pulumi.x.yaml"), REPO) == REPO / "Pulumi.yaml"
