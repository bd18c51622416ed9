"""`python -m heimdall render`: files, summary, schema validation, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from heimdall.secrets import JWT_SECRET
from heimdall.settings.loader import SettingsError
from heimdall.tooling import render
from heimdall.tooling.cli import main
from tests.conftest import REPO, env_config_map


def test_render_dev_writes_applyable_manifests_and_resources_json(tmp_path: Path, capsys) -> None:
    out = tmp_path / "dev"
    assert main(["render", str(REPO / "Pulumi.dev.yaml"), "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "database provider embedded" in stdout
    assert "url: http://heimdall.heimdall-dev.svc.cluster.local:3000" in stdout
    assert "schema validation:" in stdout
    documents = [yaml.safe_load(p.read_text()) for p in sorted((out / "manifests").glob("*.yaml"))]
    kinds = sorted(d["kind"] for d in documents)
    assert kinds.count("StatefulSet") == 2 and "Job" in kinds and "ConfigMap" in kinds
    assert all(d["metadata"]["name"] and d["apiVersion"] for d in documents)
    assert sorted(p.name for p in out.iterdir()) == ["manifests", "resources.json"]
    resources = json.loads((out / "resources.json").read_text())
    assert {"type", "name", "parent", "inputs"} <= set(resources[0])
    by_name = {r["name"]: r for r in resources}
    assert by_name["heimdall-app-statefulset"]["parent"] == (
        "heimdall:app:HeimdallWorkload::heimdall-app"
    )
    assert by_name["heimdall"]["type"] == "heimdall:index:Heimdall"


def test_a_bad_stack_file_exits_2_with_one_line(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "Pulumi.bad.yaml"
    bad.write_text("config:\n  heimdall:database:\n    provider: mysql\n")
    assert main(["render", str(bad), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert err.startswith("error: heimdall:database")
    assert "mysql" in err and "embedded, external, gcp-cloudsql" in err
    assert not (tmp_path / "out").exists()


def test_a_missing_stack_file_exits_2(tmp_path: Path, capsys) -> None:
    assert main(["render", str(tmp_path / "Pulumi.nope.yaml")]) == 2
    assert "cannot read stack file" in capsys.readouterr().err


def test_schema_violations_fail_the_render(tmp_path: Path, monkeypatch, capsys) -> None:
    original = render.Rendering.manifests

    def broken(self, show_secrets: bool = True):
        objects = original(self, show_secrets)
        objects[0]["spec"] = {"replicas": "two"}
        return objects

    monkeypatch.setattr(render.Rendering, "manifests", broken)
    assert main(["render", str(REPO / "Pulumi.dev.yaml"), "--out", str(tmp_path)]) == 1
    assert "schema validation failed" in capsys.readouterr().err


def test_validate_manifests_reports_unknown_fields_strictly() -> None:
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "x"},
        "data": {"A": "b"},
        "dataa": {},
    }
    errors = render.validate_manifests([config_map])
    assert len(errors) == 2  # both Kubernetes versions
    assert "dataa" in errors[0]


def test_stack_names_resolve_to_stack_files(tmp_path: Path) -> None:
    assert render.resolve_stack_file("dev") == Path("Pulumi.dev.yaml")
    assert render.resolve_stack_file(str(tmp_path / "x.yaml")) == tmp_path / "x.yaml"


def test_encrypted_values_become_secret_placeholders(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.enc.yaml"
    stack.write_text(
        "config:\n"
        "  heimdall:secrets:\n"
        "    jwtSecret:\n"
        "      secure: v1:AAAAAAAAAAAAAAAA:BBBBBBBBBBBBBBBBBBBB\n"
        "  aws:region: us-east-1\n"
        "  namespace: plain-key\n"
    )
    loaded = render.load_stack_file(str(stack))
    assert loaded.secret_keys == {"heimdall:secrets"}
    assert json.loads(loaded.config["heimdall:secrets"])["jwtSecret"] == render.SECRET_PLACEHOLDER
    assert loaded.config["heimdall:namespace"] == "plain-key"
    assert loaded.config["aws:region"] == "us-east-1"
    rendering = render.run_stack(loaded.config, loaded.name, loaded.secret_keys)
    (secret,) = [m for m in rendering.manifests() if JWT_SECRET in (m.get("stringData") or {})]
    assert secret["stringData"][JWT_SECRET] == render.SECRET_PLACEHOLDER


def test_module_entry_point_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "heimdall", "render", "prod", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "https://heimdall.example.com" in result.stdout


def test_the_same_stack_renders_the_same_files_in_apply_order(tmp_path: Path) -> None:
    for out in ("a", "b"):
        assert main(["render", str(REPO / "Pulumi.dev.yaml"), "--out", str(tmp_path / out), "--no-validate"]) == 0
    first = {p.name: p.read_text() for p in (tmp_path / "a" / "manifests").iterdir()}
    second = {p.name: p.read_text() for p in (tmp_path / "b" / "manifests").iterdir()}
    assert first == second
    assert (tmp_path / "a" / "resources.json").read_text() == (tmp_path / "b" / "resources.json").read_text()
    names = sorted(first)
    # kubectl apply -f DIR goes in file-name order: the Namespace must come first.
    assert names[0].startswith("01-namespace-")
    assert names.index(next(n for n in names if "-job-" in n)) > names.index(
        next(n for n in names if "-configmap-" in n)
    )


def test_the_mocks_answer_an_invoke() -> None:
    # The SDK iterates the failures a mock returns: None there broke every invoke.
    import pulumi

    from heimdall.tooling.mocks import HeimdallMocks

    result, failures = HeimdallMocks().call(
        pulumi.runtime.MockCallArgs(token="kubernetes:helm:template", args={}, provider="")
    )
    assert (result, list(failures or ())) == ({}, [])
    assert failures is not None


# --- stack files read as the Pulumi CLI reads them (gopkg.in/yaml.v3) ---------------------


def _stack(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "Pulumi.edge.yaml"
    path.write_text(body)
    return path


def test_scalars_resolve_as_the_pulumi_cli_resolves_them(tmp_path: Path) -> None:
    loaded = render.load_stack_file(
        str(
            _stack(
                tmp_path,
                "config:\n"
                "  heimdall:replicas: 010\n"  # yaml.v3 keeps YAML 1.1 octal: 8
                "  heimdall:namespace: no\n"  # a string in yaml.v3, False in YAML 1.1
                "  heimdall:banners:\n"
                "    warning: on\n"
                "    classification: {text: 03:00}\n"  # no base-60 numbers: a string
                "  heimdall:maxFileUploadSize: 1_000\n"
                "  heimdall:migration: {timeoutSeconds: 6e2, runId: 2025-01-01}\n"
                "  heimdall:externalUrl:\n",
            )
        )
    )
    config = loaded.config
    assert config["heimdall:replicas"] == "8"
    assert config["heimdall:namespace"] == "no"
    assert json.loads(config["heimdall:banners"]) == {"warning": "on", "classification": {"text": "03:00"}}
    assert config["heimdall:maxFileUploadSize"] == "1000"
    assert json.loads(config["heimdall:migration"]) == {
        "timeoutSeconds": 600,  # Go's JSON writes 600, not 600.0
        "runId": "2025-01-01 00:00:00 +0000 UTC",  # time.Time.String()
    }
    assert config["heimdall:externalUrl"] == ""  # `key:` is the empty string
    # As on a real `pulumi up`: `key:` is "", no URL; the unquoted date is no runId.
    with pytest.raises(SettingsError, match=r"^heimdall:externalUrl = '': must be an http"):
        render.run_stack(config, "edge")
    with pytest.raises(SettingsError, match=r"^heimdall:migration\.runId = '2025-01-01 00:00:00"):
        render.run_stack({**config, "heimdall:externalUrl": "https://h.example.com"}, "edge")
    usable = {k: v for k, v in config.items() if k not in ("heimdall:externalUrl", "heimdall:migration")}
    rendering = render.run_stack(usable, "edge")
    assert rendering.manifest("StatefulSet", "heimdall")["spec"]["replicas"] == 8
    assert rendering.namespace == "no"
    assert env_config_map(rendering)["data"]["WARNING_BANNER"] == "on"


def test_a_duplicate_key_exits_2_with_file_line_and_column(tmp_path: Path, capsys) -> None:
    path = _stack(tmp_path, "config:\n  heimdall:replicas: 2\n  heimdall:image:\n    tag: a\n    tag: b\n")
    assert main(["render", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"error: {path}:5:5: mapping key 'tag' already defined at line 4 "
        "(the Pulumi CLI refuses duplicate keys)"
    )


@pytest.mark.parametrize(
    ("body", "where", "problem"),
    [
        ("config:\n  heimdall:image: [a, b\n", "3:1", "expected ',' or ']'"),
        ("config:\n\theimdall:replicas: 2\n", "2:1", "found character '\\t' that cannot start any token"),
        ("config:\n  heimdall:replicas: 2\n   bad: indent\n", "3:7", "mapping values are not allowed here"),
        ("config:\n  heimdall:replicas: .nan\n", None, "not a value the Pulumi CLI can pass"),
    ],
)
def test_a_stack_file_the_cli_would_not_read_exits_2_with_one_line(
    tmp_path: Path, capsys, body: str, where: str | None, problem: str
) -> None:
    path = _stack(tmp_path, body)
    assert main(["render", str(path), "--out", str(tmp_path / "out"), "--no-validate"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert err.startswith(f"error: {path}:{where}: " if where else f"error: {path}: ")
    assert problem in err


def test_a_syntax_error_from_the_command_line_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = _stack(tmp_path, "config:\n  heimdall:image: {tag: [\n")
    result = subprocess.run(
        [sys.executable, "-m", "heimdall", "render", str(path), "--no-validate"],
        cwd=REPO, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"error: {path}:")
