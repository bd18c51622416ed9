"""What `pulumi preview`/`pulumi up` do with Pulumi.yaml and the stack's config before the
program runs, and how the Python language host hands the config over: the render
(heimdall/tooling/prerun.py) against the CLI's source, case by case.

Citations: P = pulumi/pulumi@v3.259.0, Y = go-yaml/yaml@v3.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from heimdall.settings.loader import program_config
from heimdall.tooling import prerun, render
from heimdall.tooling.cli import main
from heimdall.tooling.prerun import PreRunError
from tests.conftest import REPO, STACK_FILES

RUNTIME = "runtime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: .venv\n"


def project(tmp_path: Path, declarations: str, stack: str, name: str = "heimdall") -> Path:
    """A project directory with Pulumi.yaml (`config:` = declarations) and Pulumi.s.yaml."""
    (tmp_path / "Pulumi.yaml").write_text(f"name: {name}\n{RUNTIME}config:\n{declarations}")
    path = tmp_path / "Pulumi.s.yaml"
    path.write_text("config:\n" + stack if stack else "config: {}\n")
    return path


def prerun_error(tmp_path: Path, declarations: str, stack: str) -> str:
    with pytest.raises(PreRunError) as caught:
        render.prerun_stack_file(str(project(tmp_path, declarations, stack)))
    return str(caught.value)


def config_of(tmp_path: Path, declarations: str, stack: str) -> dict[str, str]:
    return render.prerun_stack_file(str(project(tmp_path, declarations, stack))).config


# --- required keys --------------------------------------------------------------------


def test_a_declared_key_without_default_or_value_is_required(tmp_path: Path) -> None:
    # P:pkg/workspace/config.go:319-324 (required), 53-64 (message), preview.go:538 / up.go:216 (prefix)
    assert prerun_error(tmp_path, "  admin:\n    description: x\n", "  heimdall:replicas: 2\n") == (
        "validating stack config: Stack 's' is missing configuration value 'admin'"
    )


def test_several_missing_keys_are_listed_sorted_with_and(tmp_path: Path) -> None:
    # P:pkg/workspace/config.go:30-51 (formatMissingKeys), 351-355 (one error for all)
    declarations = "  zeta: {type: string}\n  alpha: {type: string}\n  mid: {}\n"
    assert prerun_error(tmp_path, declarations, "") == (
        "validating stack config: Stack 's' is missing configuration values 'alpha', 'mid' and 'zeta'"
    )
    assert prerun_error(tmp_path, "  b: {}\n  a: {}\n", "").endswith("values 'a' and 'b'")


def test_a_key_of_another_namespace_is_never_required_and_its_value_applies(tmp_path: Path) -> None:
    # P:pkg/workspace/config.go:319 (key.Namespace() == projectName), 327-345 (value applied);
    # P:sdk/go/common/workspace/project.go:500-512 (short-hand `aws:region: x` is a value)
    config = config_of(tmp_path, "  aws:region: us-east-1\n  other:key:\n    value: v\n", "")
    assert config["aws:region"] == "us-east-1" and config["other:key"] == "v"
    # The stack's own value wins.
    (tmp_path / "Pulumi.s.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    assert render.prerun_stack_file(str(tmp_path / "Pulumi.s.yaml")).config["aws:region"] == "eu-west-1"


def test_a_stack_value_satisfies_a_required_key_qualified_or_not(tmp_path: Path) -> None:
    # P:sdk/go/common/workspace/loaders.go:61-90 (unqualified stack keys are the project's)
    assert config_of(tmp_path, "  namespace: {type: string}\n", "  namespace: web\n")["heimdall:namespace"] == "web"
    assert config_of(tmp_path, "  namespace: {type: string}\n", "  heimdall:namespace: web\n")["heimdall:namespace"] == "web"


# --- defaults --------------------------------------------------------------------------


def test_defaults_are_applied_as_config_text(tmp_path: Path) -> None:
    # P:pkg/workspace/config.go:327-345 and 179-193 (createConfigValue: string, int, bool as
    # "%v"; anything else JSON, an object value); P:project.go:500-512 (short-hand = default)
    declarations = (
        "  replicas: {type: integer, default: 3}\n"
        "  createNamespace: {type: boolean, default: true}\n"
        "  namespace: heimdall-web\n"
        "  image: {type: object, default: {tag: '2.13.1', pullPolicy: IfNotPresent}}\n"
        "  imagePullSecrets: {type: array, items: {type: string}, default: [a, b]}\n"
    )
    config = config_of(tmp_path, declarations, "")
    assert config["heimdall:replicas"] == "3"
    assert config["heimdall:createNamespace"] == "true"
    assert config["heimdall:namespace"] == "heimdall-web"
    assert json.loads(config["heimdall:image"]) == {"tag": "2.13.1", "pullPolicy": "IfNotPresent"}
    assert json.loads(config["heimdall:imagePullSecrets"]) == ["a", "b"]


def test_a_stack_value_wins_over_a_default_whole(tmp_path: Path) -> None:
    # P:pkg/workspace/config.go:327 (a default only when the key is not on the stack; no merge)
    config = config_of(tmp_path, "  image: {type: object, default: {tag: a, pullPolicy: Always}}\n", "  image: {tag: b}\n")
    assert json.loads(config["heimdall:image"]) == {"tag": "b"}


# --- declared types --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "stack_value", "ok"),
    [
        # boolean: only the strings true/false, or a YAML boolean (P:project.go:798-807)
        ("boolean", "true", True),
        ("boolean", "TRUE", True),  # a YAML 1.2 boolean in yaml.v3 (Y:resolve.go:52), text "true"
        ("boolean", "'True'", False),  # a quoted string
        ("boolean", "yes", False),  # a string in yaml.v3
        ("boolean", "on", False),
        ("boolean", "1", False),
        # integer: Go's strconv.Atoi on the text (P:project.go:777-796)
        ("integer", "2", True),
        ("integer", "'010'", True),  # Atoi("010") = 10
        ("integer", "010", True),  # yaml.v3 octal: "8"
        ("integer", "1e3", True),  # a float, round-tripped to "1000"
        ("integer", "'+5'", True),
        ("integer", "'1_000'", False),  # Atoi takes no underscores
        ("integer", "'1e3'", False),
        ("integer", "1.5", False),
        ("integer", "' 5'", False),
        ("integer", "'9223372036854775808'", False),  # beyond int64
        ("integer", "~", False),  # `~` is "" (Y:decode.go:848)
        # string: any scalar text (P:project.go:772-775)
        ("string", "03:00", True),
        ("string", "{a: 1}", False),
        # object: a map (P:project.go:809-813; config.go:136-143 decodes object values)
        ("object", "{a: 1}", True),
        ("object", "[a]", False),
        ("object", "'{}'", False),  # a string, not an object value
        # array with items (P:project.go:815-830)
        ("array", "[a, b]", True),
        ("array", "[a, 1]", False),
        ("array", "a", False),
    ],
)
def test_a_value_of_the_wrong_declared_type_is_refused(tmp_path: Path, kind: str, stack_value: str, ok: bool) -> None:
    # P:pkg/workspace/config.go:101-113 (typed keys only), 145-154 (message)
    items = ", items: {type: string}" if kind == "array" else ""
    declarations = f"  key: {{type: {kind}{items}}}\n"
    stack = f"  heimdall:key: {stack_value}\n"
    if ok:
        config_of(tmp_path, declarations, stack)
    else:
        type_name = "array<string>" if kind == "array" else kind
        assert prerun_error(tmp_path, declarations, stack) == (
            f"validating stack config: Stack 's' with configuration key 'key' must be of type '{type_name}'"
        )


def test_array_items_are_checked_to_any_depth(tmp_path: Path) -> None:
    # P:sdk/go/common/workspace/project.go:760-766 (array<array<integer>>), 821-828
    declarations = "  grid: {type: array, items: {type: array, items: {type: integer}}}\n"
    config_of(tmp_path, declarations, "  grid: [[1, 2], [3.0]]\n")
    assert prerun_error(tmp_path, declarations, "  grid: [[1, 2.5]]\n").endswith(
        "must be of type 'array<array<integer>>'"
    )


def test_an_untyped_declaration_checks_nothing(tmp_path: Path) -> None:
    # P:pkg/workspace/config.go:101 (IsExplicitlyTyped), P:project.go:294-296
    config_of(tmp_path, "  key: {secret: true}\n", "  key: plain\n")


# --- secret ----------------------------------------------------------------------------


def test_a_secret_key_without_secure_is_refused(tmp_path: Path) -> None:
    # P:pkg/workspace/config.go:126-134
    assert prerun_error(tmp_path, "  jwt: {type: string, secret: true}\n", "  jwt: plain\n") == (
        "validating stack config: Stack 's' with configuration key 'jwt' must be encrypted as it's secret"
    )


def test_a_secret_key_with_secure_passes_and_reaches_the_program_as_a_secret(tmp_path: Path) -> None:
    # P:pkg/workspace/config.go:128 (Secure); P:sdk/go/common/resource/config/object.go:51-72
    # (an object holding a secure value is secure), 541-550 (`{secure: <string>}`)
    declarations = "  jwt: {type: string, secret: true}\n  auth: {type: object, secret: true}\n"
    stack = "  jwt:\n    secure: v1:abc\n  auth:\n    github: {clientSecret: {secure: v1:def}}\n"
    loaded = render.prerun_stack_file(str(project(tmp_path, declarations, stack)))
    assert loaded.secret_keys == {"heimdall:jwt", "heimdall:auth"}
    assert loaded.config["heimdall:jwt"] == prerun.SECRET_PLACEHOLDER
    # An object's secure value does not make a sibling object secret.
    assert prerun_error(tmp_path, "  auth: {type: object, secret: true}\n", "  auth: {github: {clientId: x}}\n").endswith(
        "'auth' must be encrypted as it's secret"
    )


def test_a_secret_default_is_refused_for_it_is_never_encrypted(tmp_path: Path) -> None:
    # P:pkg/workspace/config.go:338-342 (defaults are set as plain values), 128
    assert prerun_error(tmp_path, "  jwt: {type: string, secret: true, default: x}\n", "").endswith(
        "'jwt' must be encrypted as it's secret"
    )


# --- Pulumi.yaml itself -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("declarations", "message"),
    [
        # P:sdk/go/common/workspace/project.go:844-846
        ("  a: {default: 1, value: 2}\n", "project config 'a' cannot have both a 'default' and 'value' attribute"),
        # P:project.go:852-855
        ("  a: {type: array}\n", "The configuration key 'a' declares an array but does not specify the underlying type via the 'items' attribute"),
        # P:project.go:858-864
        ("  a: {type: integer, default: x}\n", "The default value specified for configuration key 'a' is not of the expected type 'integer'"),
        # P:project.go:868-871
        ("  aws:region: {type: string, value: x}\n", "Configuration key 'aws:region' is not namespaced by the project and should not define a type"),
        # P:project.go:882-884
        ("  aws:region: {description: x}\n", "Configuration key 'aws:region' is namespaced and must provide an attribute 'value'"),
    ],
)
def test_a_bad_declaration_is_refused_as_the_project_loader_refuses_it(tmp_path: Path, declarations: str, message: str) -> None:
    # P:sdk/go/common/workspace/loaders.go:141-144 (`could not unmarshal '<path>': ...`)
    assert prerun_error(tmp_path, declarations, "") == f"could not unmarshal '{tmp_path / 'Pulumi.yaml'}': {message}"


def test_the_python_runtime_options_are_checked(tmp_path: Path) -> None:
    # P:sdk/python/cmd/pulumi-language-python/main.go:264-277 (parseOptions)
    path = project(tmp_path, "  {}\n", "")
    (tmp_path / "Pulumi.yaml").write_text("name: heimdall\nruntime:\n  name: python\n  options:\n    toolchain: conda\n")
    with pytest.raises(PreRunError, match="^unsupported toolchain option: conda$"):
        render.prerun_stack_file(str(path))
    (tmp_path / "Pulumi.yaml").write_text("runtime: python\n")
    with pytest.raises(PreRunError, match="project is missing a 'name' attribute$"):  # P:project.go:576-588
        render.prerun_stack_file(str(path))


# --- the config the program gets -----------------------------------------------------------


def test_the_language_host_env_is_the_config_as_json_and_the_secret_keys(tmp_path: Path) -> None:
    # P:sdk/python/cmd/pulumi-language-python/main.go:1233-1262 (constructConfig,
    # constructConfigSecretKeys: `[]` when none), 1070-1075 (the env vars);
    # P:pkg/resource/deploy/source_eval.go:216-223 (decrypted config, Map.SecureKeys)
    loaded = render.prerun_stack_file(
        str(project(tmp_path, "  n: {type: integer, default: 1}\n", "  s:\n    secure: v1:x\n  aws:region: r\n"))
    )
    env = prerun.language_host_env(loaded.values)
    assert json.loads(env["PULUMI_CONFIG"]) == {
        "heimdall:n": "1", "heimdall:s": prerun.SECRET_PLACEHOLDER, "aws:region": "r",
    }
    assert json.loads(env["PULUMI_CONFIG_SECRET_KEYS"]) == ["heimdall:s"]
    assert prerun.language_host_env({})["PULUMI_CONFIG_SECRET_KEYS"] == "[]"
    # Go's encoding/json escapes <, > and & (HTML-safe by default).
    assert prerun.language_host_env({"a:b": prerun.StackValue("<&>")})["PULUMI_CONFIG"] == (
        '{"a:b":"\\u003c\\u0026\\u003e"}'
    )


def test_the_program_reads_its_config_from_the_language_host_env(monkeypatch) -> None:
    # The SDK's readers: pulumi sdk/python/lib/pulumi/runtime/config.py get_config_env,
    # get_config_secret_keys_env (PULUMI_CONFIG, PULUMI_CONFIG_SECRET_KEYS).
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"heimdall:replicas": "2", "aws:region": "r"}))
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps(["heimdall:secrets"]))
    assert program_config() == ({"heimdall:replicas": "2", "aws:region": "r"}, frozenset({"heimdall:secrets"}))


def test_the_render_hands_over_config_like_the_language_host_and_restores_the_env() -> None:
    before = (os.environ.get("PULUMI_CONFIG"), os.environ.get("PULUMI_CONFIG_SECRET_KEYS"))
    rendering = render.run_stack({"heimdall:replicas": "2", "heimdall:namespace": "web"}, "t")
    assert (rendering.manifest("StatefulSet", "heimdall")["spec"]["replicas"], rendering.namespace) == (2, "web")
    assert (os.environ.get("PULUMI_CONFIG"), os.environ.get("PULUMI_CONFIG_SECRET_KEYS")) == before


# --- the repository's stacks, and the render's exit ----------------------------------------


def test_the_repository_project_declares_no_config() -> None:
    # Declarations without a default are required (P:pkg/workspace/config.go:319); the
    # settings model is the one source of keys, types and defaults (README, Configuration).
    project_file = prerun.load_project(REPO / "Pulumi.yaml")
    assert project_file.config == {}
    assert (project_file.name, project_file.runtime) == ("heimdall", "python")


@pytest.mark.parametrize("stack", STACK_FILES, ids=lambda p: p.name)
def test_every_stack_file_passes_the_cli_pre_run_checks(stack: Path) -> None:
    loaded = render.prerun_stack_file(str(stack))
    assert loaded.config and all(isinstance(v, str) for v in loaded.config.values())


def test_a_missing_required_key_makes_the_render_exit_2_with_the_cli_message(tmp_path: Path) -> None:
    path = project(tmp_path, "  adminEmail:\n    type: string\n    description: x\n", "  heimdall:replicas: 1\n")
    result = subprocess.run(
        [sys.executable, "-m", "heimdall", "render", str(path), "--no-validate", "--out", str(tmp_path / "out")],
        cwd=REPO, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 2
    assert result.stderr == "error: validating stack config: Stack 's' is missing configuration value 'adminEmail'\n"
    assert not (tmp_path / "out").exists()


def test_a_wrong_type_makes_the_render_exit_2_before_anything_is_written(tmp_path: Path, capsys) -> None:
    path = project(tmp_path, "  replicas: {type: integer}\n", "  replicas: two\n")
    assert main(["render", str(path), "--no-validate", "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (
        "error: validating stack config: Stack 's' with configuration key 'replicas' must be of type 'integer'\n"
    )


def test_a_declaration_of_a_nested_path_is_refused_as_not_mirrored(tmp_path: Path) -> None:
    # P:pkg/workspace/config.go:96 and 311 read a declared key as a property path
    # (config.Map.Get(key, true)); the render does not mirror that and says so.
    message = prerun_error(tmp_path, "  database.provider: {type: string}\n", "")
    assert "config declaration 'database.provider' names a nested path" in message
