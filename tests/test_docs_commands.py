"""Every fenced block of README.md and docs/*.md is true to the program.

- A shell block with no marker is **run**, as written, in a copy of the repository (with
  `python` the test's interpreter and checkov the tests' one): offline commands, the
  render, `make` targets.
- A shell block marked `<!-- needs: cluster -->` (or `cloud`, `pulumi`, `network`,
  `time`) cannot run here; each of its commands is **checked**: kubectl's own argument
  parsing (against a closed port: what it refuses before connecting), the objects,
  containers and labels it names against the render of every stack file, the Pulumi CLI's
  commands and flags against its source, `pulumi config set` keys against the settings
  model and their values through the settings and the stack-file schema as the CLI writes
  them, `pulumi stack output` names against the stacks' outputs, the PostgreSQL tools'
  flags against their --help, `make` targets with `make -n`.
- A YAML block's `config:` keys are settings keys; a quoted refusal (`<!-- refuses: ... -->`)
  is the program's message, word for word.
- In the prose: inline `kubectl ...` and `pulumi ...` commands are checked as above,
  backticked setting keys (`database.tls.mode`) are keys of the model, the settings
  tables' defaults are the model's, and no `env.NAME` sets what the program sets itself.

The blocks that talk to PostgreSQL are run against a real server in
tests/test_docs_postgres.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from heimdall.settings.loader import SettingsError, parse_settings, settings_from_config
from heimdall.settings.root import Settings
from heimdall.tooling import render
from heimdall.tooling.reference import rows
from heimdall.tooling.schema import stack_file_schema
from tests import docs_checks
from tests.docs import NEEDS, PAGES, REPO, SHELL, Block, blocks, commands

BLOCKS = list(blocks())
# Quotes of upstream source, outputs and messages: no command in them.
QUOTES = ("js", "ts", "")
# Blocks other tests run, by their marker.
TESTED_ELSEWHERE = {
    "s3-backup-policy": "tests/operations/test_operations_postgres.py",
    "reset-admin-password": "tests/operations/test_operations_postgres.py",
    "run": "tests/test_docs_postgres.py",
}


def _id(block: Block) -> str:
    return block.where


def _runnable(block: Block) -> bool:
    return block.lang in SHELL and not block.needs and "run" not in block.markers


def test_kubectl_is_here_to_check_the_documented_commands() -> None:
    if docs_checks.KUBECTL is None:
        pytest.skip("kubectl is not installed: the documented kubectl commands' arguments are "
                    "not checked (Debian: kubernetes-client)")


def test_every_block_is_found_and_classified() -> None:
    assert len(BLOCKS) > 60
    for block in BLOCKS:
        assert block.needs <= NEEDS, f"{block.where}: unknown needs {block.needs - NEEDS}"
        known = block.lang in (*SHELL, "yaml", *QUOTES) or set(block.markers) & set(TESTED_ELSEWHERE)
        assert known or block.lang == "json", f"{block.where}: a {block.lang} block nobody checks"


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.lang in SHELL], ids=_id)
def test_every_shell_command_is_checked(block: Block, tmp_path: Path) -> None:
    parsed = commands(block.text)
    created: set[str] = set()
    for command in parsed.commands:
        if command.words[0] == "kubectl":
            created |= docs_checks.kubectl_created(command.words, command.stdin)
    found = []
    nested = [c for inner in parsed.substitutions for c in commands(inner).commands]
    for command in [*parsed.commands, *nested]:
        found += [f"{' '.join(command.words)[:90]}: {p}"
                  for p in docs_checks.problems(command, parsed.substitutions, created, tmp_path)
                  # An install block (needs: network) may use any installer (uv, pip, apt-get).
                  if not ("network" in block.needs and "not a command this project checks" in p)]
        tool = command.words[0]
        if tool in ("kubectl",) and not {"cluster"} & block.needs and "--dry-run=client" not in command.words:
            found.append(f"{tool} needs a cluster: mark the block <!-- needs: cluster -->")
        if tool in docs_checks.CLOUD_TOOLS and "cloud" not in block.needs:
            found.append(f"{tool} needs a cloud account: mark the block <!-- needs: cloud -->")
        if tool == "pulumi" and not block.needs and "run" not in block.markers:
            found.append("pulumi needs a backend: mark the block <!-- needs: pulumi --> (or cluster)")
    assert not found, f"{block.where}:\n  " + "\n  ".join(found)


def test_pulumi_config_set_lines_write_values_the_program_and_the_schema_take() -> None:
    """Each block's `pulumi config set` lines, applied in order to Pulumi.dev.yaml's config
    as the CLI writes them, give a stack file the stack-file schema accepts after each line
    (`replicas 0` is the string "0", `tag 18` the number 18), and settings the program
    accepts wherever the program runs: at each `pulumi up`/`preview` of the block and at its
    end (`config set` only writes the file; lines meant for one update are read together)."""
    base = render.load_stack_file("dev").config
    validator = jsonschema.Draft202012Validator(stack_file_schema())
    checked = 0

    def program_takes(config: dict[str, Any], where: str) -> None:
        try:
            settings_from_config({k: render.config_value(v) for k, v in config.items()})
        except SettingsError as error:
            pytest.fail(f"{where}: the program refuses it: {error}")

    for block in (b for b in BLOCKS if b.lang in SHELL):
        config: dict[str, Any] = {
            k: json.loads(v) if isinstance(v, str) and v[:1] in "{[" else v for k, v in base.items()
        }
        pending: list[str] = []
        for command in commands(block.text).commands:
            if command.words[:2] in (["pulumi", "up"], ["pulumi", "preview"]) and pending:
                program_takes(config, f"{block.where}: `{'`, `'.join(pending)}`")
                pending = []
            if command.words[:3] != ["pulumi", "config", "set"]:
                continue
            written = docs_checks.config_set_value(command.words)
            if written is None:
                continue
            key, value = f"heimdall:{written[0]}", written[1]
            config[key] = _merge(config.get(key), value)
            line = " ".join(command.words)
            errors = [e.message for e in validator.iter_errors({"config": config})]
            assert not errors, f"{block.where}: `{line}`: the stack-file schema refuses it: {errors[0]}"
            pending.append(line)
            checked += 1
        if pending:
            program_takes(config, f"{block.where}: `{'`, `'.join(pending)}`")
    assert checked >= 10


def _merge(old: Any, new: Any) -> Any:
    if isinstance(old, dict) and isinstance(new, dict):
        return {**old, **{k: _merge(old.get(k), v) for k, v in new.items()}}
    return new


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.lang == "yaml"], ids=_id)
def test_yaml_blocks_use_settings_keys(block: Block) -> None:
    document = yaml.safe_load(block.text)
    if not isinstance(document, dict) or "config" not in document:
        return  # a fragment of a block above it (an `existingSecret:` line) or a comment
    found = docs_checks.settings_problems(document["config"] or {})
    assert not found, f"{block.where}: " + "; ".join(found)


@pytest.mark.parametrize("block", [b for b in BLOCKS if "refuses" in b.markers], ids=_id)
def test_a_quoted_refusal_is_the_programs_message(block: Block) -> None:
    with pytest.raises(SettingsError) as error:
        parse_settings(json.loads(block.markers["refuses"]))
    assert str(error.value) == block.text.strip()


def test_the_policy_config_example_names_a_policy_and_its_option() -> None:
    policies = (REPO / "policy" / "heimdall_policies.py").read_text()
    for block in (b for b in BLOCKS if b.lang == "json" and not set(b.markers) & set(TESTED_ELSEWHERE)):
        for name, options in json.loads(block.text).items():
            assert f'"{name}"' in policies, f"{block.where}: no policy {name}"
            assert all(option in policies for option in options), block.where


FILE_SUFFIXES = (".py", ".json", ".yaml", ".yml", ".md", ".sh", ".txt", ".pem", ".js")
_PROSE_KEY = re.compile(r"`(?:heimdall:)?([a-z][A-Za-z0-9]*(?:\.[a-z*][A-Za-z0-9*]*)+)(?::[^`]*)?`")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_setting_keys_in_the_prose_are_keys_of_the_model(page: Path) -> None:
    top = {key.split(".")[0] for key in docs_checks.settings_keys()}
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    unknown = sorted({
        key for key in _PROSE_KEY.findall(text)
        if key.split(".")[0] in top and not key.endswith(FILE_SUFFIXES)
        and not docs_checks.is_settings_key(key.replace(".*", ""))
    })
    assert not unknown, f"{page.name} names keys the settings model does not have: {unknown}"
    # `env` adds variables; one the program sets itself from a setting is not the way to
    # set it (env.LOCAL_LOGIN_DISABLED is the setting localLoginDisabled).
    own = sorted(set(re.findall(r"`env\.([A-Z][A-Z0-9_]*)", text)) & docs_checks.facts().config_map_keys)
    assert not own, f"{page.name} tells users to set through env what the program sets: {own}"


# --- the blocks that run ---------------------------------------------------------------------------


def _checkov() -> str:
    for candidate in (os.environ.get("CHECKOV"), REPO / ".venv-checkov/bin/checkov",
                      "/tmp/checkov-venv/bin/checkov"):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    pytest.skip("checkov is not installed (make checkov-venv)")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository whose `python`, `.venv/bin/python` and `.venv-checkov/bin/
    checkov` are the tests' own, and a `pulumi` that refuses (no backend here)."""
    copy = tmp_path_factory.mktemp("docs") / "repo"
    shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(
        ".git", "build", ".venv*", "__pycache__", ".*_cache", ".hypothesis"))
    bin_dir = copy.parent / "bin"
    # The pinned uv the Makefile's venv rule depends on: the repository's, else the one on PATH.
    uv = REPO / ".venv-uv" / "bin" / "uv"
    uv_target = str(uv) if uv.exists() else (shutil.which("uv") or "false")
    for path, target in ((bin_dir / "python", sys.executable), (copy / ".venv/bin/python", sys.executable),
                         (copy / ".venv-checkov/bin/checkov", _checkov()),
                         (copy / ".venv-uv/bin/uv", uv_target)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'#!/bin/sh\nexec "{target}" "$@"\n')
        path.chmod(0o755)
    (copy / ".venv/.installed").touch()  # make's venv rule (newer than uv): the tests' interpreter is the venv
    (bin_dir / "pulumi").write_text("#!/bin/sh\necho 'no Pulumi CLI here: mark the block' >&2\nexit 1\n")
    (bin_dir / "pulumi").chmod(0o755)
    return copy


@pytest.mark.parametrize("block", [b for b in BLOCKS if _runnable(b)], ids=_id)
def test_an_unmarked_shell_block_runs_as_written(block: Block, workspace: Path) -> None:
    env = {**os.environ, "PATH": f"{workspace.parent / 'bin'}:{os.environ['PATH']}",
           "PYTHONPATH": str(workspace)}
    result = subprocess.run(
        ["bash", "-e", "-c", block.text], cwd=workspace, env=env,
        capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, f"{block.where} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"


def test_the_render_is_applyable_as_the_readme_says(workspace: Path, tmp_path: Path) -> None:
    out = tmp_path / "dev"
    subprocess.run([sys.executable, "-m", "heimdall", "render", "dev", "--out", str(out),
                    "--no-validate"], cwd=workspace, check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(workspace)})
    readme = (REPO / "README.md").read_text()
    assert "`kubectl apply -f build/STACK/manifests/`" in readme
    if docs_checks.KUBECTL is None:
        pytest.skip("kubectl is not installed")
    refused = docs_checks.kubectl_refusal(
        ["kubectl", "apply", "-f", str(out / "manifests"), "--dry-run=client", "--validate=false"], "", tmp_path)
    assert refused == []
    # The folder above holds resources.json, which kubectl cannot read: why the subfolder.
    assert docs_checks.kubectl_refusal(
        ["kubectl", "apply", "-f", str(out), "--dry-run=client", "--validate=false"], "", tmp_path)


def test_the_state_delete_runbook_removes_what_depends_on_the_database() -> None:
    """`pulumi state delete` refuses a resource others depend on unless
    --target-dependents, which removes them too (pkg/cmd/pulumi/state/state_delete.go
    120-128, 163; pkg/resource/edit/operations.go DeleteResource 83-94: every resource that
    depends on it directly or not, pkg/resource/graph/dependency_graph.go OnlyDependsOn), and
    protected ones only with --force. The next `pulumi up` creates again those the program
    still declares, and pulumi-kubernetes never adopts an object that exists: the runbook
    must delete the fixed-name ones from the cluster first. The protection is lifted by an
    update of its own just before (database.allowDestroy; the database guard,
    heimdall/database/guard.py, lets the switch through only then), so no --force."""
    blocks = [b for b in BLOCKS if b.page.name == "databases.md"]
    index = next(i for i, b in enumerate(blocks) if "state delete" in b.text)
    block, lifted = blocks[index], blocks[index - 1]
    assert "--target-dependents" in block.text and "--force" not in block.text
    assert lifted.text.splitlines() == ["pulumi config set --path database.allowDestroy true", "pulumi up"]
    deleted = " ".join(" ".join(c.words) for c in commands(block.text).commands if c.words[:1] == ["kubectl"])
    for stack, database in (("dev", "heimdall-database-statefulset"),
                            ("prod", "heimdall-database-instance"),
                            ("examples/stacks/Pulumi.cloudnative-pg.yaml", "heimdall-database-cluster-heimdall-db")):
        rendering = render.run_stack_file(stack)
        [target] = [r for r in rendering.registrations if r.name == database]
        dependents = {target.urn}
        for registration in rendering.registrations:  # registration order is topological
            if {*registration.dependencies, registration.parent} & dependents:
                dependents.add(registration.urn)
        for registration in rendering.registrations:
            metadata = registration.inputs.get("metadata") if isinstance(registration.inputs, dict) else None
            fixed = (metadata or {}).get("name")
            kind = registration.type.split(":")[-1].lower()
            if registration.urn in dependents - {target.urn} and fixed and kind in ("statefulset", "cronjob"):
                assert f"{kind}/{fixed}" in deleted, f"{stack}: the runbook leaves {kind}/{fixed}"


@pytest.mark.parametrize("target", [["render", "STACK=dev"], ["reference"]], ids=lambda t: t[0])
def test_the_cheap_make_targets_the_docs_give_run(target: list[str], workspace: Path) -> None:
    """`make render STACK=dev` (the README's first line) and `make reference` (what
    tests/tooling/test_reference.py tells a contributor to run), in a copy of the repository whose
    venv is the tests' interpreter."""
    before = (workspace / "README.md").read_text()
    result = subprocess.run(["make", *target], cwd=workspace, capture_output=True, text=True,
                            timeout=600, env={**os.environ, "PYTHONPATH": str(workspace)})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    if target[0] == "render":
        assert list((workspace / "build" / "dev" / "manifests").glob("01-namespace-*.yaml"))
    else:
        assert (workspace / "README.md").read_text() == before  # the reference is current


_INLINE = re.compile(r"(?<!`)`((?:kubectl|pulumi) [^`]+)`(?!`)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_commands_in_the_prose_are_checked_too(page: Path, tmp_path: Path) -> None:
    """Inline `kubectl ...` and `pulumi ...` commands, as the fenced ones."""
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    found = []
    for span in _INLINE.findall(text):
        line = " ".join(span.split())
        named = line.removeprefix("pulumi ") in docs_checks.PULUMI_FLAGS
        if "..." in line or "STACK" in line or named or re.fullmatch(r"(pulumi|kubectl) [a-z-]+", line):
            continue  # a command named or sketched, not written out ("`pulumi up`")
        parsed = commands(line)
        created: set[str] = set()
        for command in parsed.commands:
            if command.words[0] == "kubectl":
                created |= docs_checks.kubectl_created(command.words, command.stdin)
        for command in parsed.commands:
            if command.words[0] not in ("kubectl", "pulumi"):
                continue
            found += [f"`{line[:100]}`: {p}"
                      for p in docs_checks.problems(command, parsed.substitutions, created, tmp_path)]
    assert not found, f"{page.name}:\n  " + "\n  ".join(found)


def _table_rows(text: str) -> Iterator[tuple[list[str], list[str]]]:
    header: list[str] = []
    for line in text.splitlines():
        if not line.startswith("|"):
            header = []
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        if not header:
            header = [c.lower() for c in cells]
        elif not set(line) <= set("|-: "):
            yield header, cells


@pytest.mark.parametrize("page", [p for p in PAGES if p.name != "README.md"], ids=lambda p: p.name)
def test_defaults_in_the_docs_tables_are_the_models(page: Path) -> None:
    """A settings table's default (`backup.retention` ... `7`) is the reference's, where
    both are one literal; README's generated reference is tests/tooling/test_reference.py's."""
    reference = {key: default for key, _type, default, _description in rows(Settings)}
    wrong = []
    for header, cells in _table_rows(page.read_text()):
        key = re.fullmatch(r"`([^`]+)`", cells[0])
        if "default" not in header or not key or key.group(1) not in reference:
            continue
        documented = re.match(r"`([^`]*)`", cells[header.index("default")])
        actual = re.fullmatch(r"`([^`]*)`", reference[key.group(1)])
        if documented and actual and documented.group(1) != actual.group(1):
            wrong.append(f"{key.group(1)}: {documented.group(1)!r}, the model says {actual.group(1)!r}")
    assert not wrong, f"{page.name}: " + "; ".join(wrong)


def test_the_checkov_config_points_at_a_heading_that_exists() -> None:
    config = (REPO / ".checkov.yaml").read_text()
    pointers = re.findall(r'Read "([^"]+)" in (docs/[\w.-]+\.md)', config)
    assert pointers
    for heading, page in pointers:
        assert re.search(rf"^#+ {re.escape(heading)}$", (REPO / page).read_text(), re.M), heading


def test_a_key_with_no_value_is_what_the_readme_says(tmp_path: Path) -> None:
    """README: `key:` with no value is the empty string at the top level and null below it
    (yaml.v3 reads `key:` as null; the CLI passes a top-level null on as ""; see
    heimdall/tooling/stack_yaml.py)."""
    readme = " ".join((REPO / "README.md").read_text().split())
    assert "with no value is the empty string at the top level (`heimdall:externalUrl:`) and null below it" in readme
    stack = tmp_path / "Pulumi.blank.yaml"
    stack.write_text("config:\n  heimdall:externalUrl:\n  heimdall:image:\n    digest:\n")
    config = render.load_stack_file(str(stack)).config
    assert config["heimdall:externalUrl"] == ""
    assert json.loads(config["heimdall:image"]) == {"digest": None}
    assert settings_from_config({"heimdall:image": config["heimdall:image"]}).image.digest is None


@pytest.mark.parametrize(
    ("stack", "instance", "resource_group"),
    [
        ("prod", "heimdall-database-instance-", None),
        ("examples/stacks/Pulumi.gcp-cloudsql.yaml", "heimdall-database-instance-", None),
        ("examples/stacks/Pulumi.azure-postgres.yaml", "heimdall-database-server-", "heimdall-database-rg-"),
        ("examples/stacks/Pulumi.cloudnative-pg.yaml", "heimdall-db", None),
        ("dev", None, None),
    ],
)
def test_the_runbooks_find_the_instance_in_the_outputs(stack: str, instance: Any, resource_group: Any) -> None:
    """The PITR runbooks read the instance's real, auto-suffixed name (and Azure's resource
    group) from the outputs; the embedded database has none."""
    outputs = render.run_stack_file(stack).outputs
    for key, prefix in (("databaseInstance", instance), ("databaseResourceGroup", resource_group)):
        if prefix is None:
            assert outputs[key] is None
        else:
            assert outputs[key].startswith(prefix) and outputs[key] not in ("heimdall", "heimdall-rg")
