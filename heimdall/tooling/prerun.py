"""What `pulumi preview` and `pulumi up` do before the program runs, for the offline render.

Mirrored from pulumi/pulumi (read at v3.259.0, the newest tag the mirror holds; the pinned
SDK is 3.272) and cited by the cases in tests/conformance/:

1. `load_project`: Pulumi.yaml (sdk/go/common/workspace/loaders.go LoadProjectBytes): a
   non-empty `name`; short-hand config (`key: value`) rewritten into declarations
   (project.go RewriteShorthandConfigValues); the declarations checked (project.go
   Project.Validate); the Python runtime's options (pulumi-language-python main.go
   parseOptions).
2. `load_stack_file`: Pulumi.<stack>.yaml decoded by gopkg.in/yaml.v3 (stack_yaml.py) into
   config values as resource/config/object.go holds them: text, object (JSON) or not,
   secure or not.
3. `apply_project_config`: pkg/workspace/config.go mergeConfig, as called by
   ValidateStackConfigAndApplyProjectConfig: required keys, defaults and values applied,
   declared types and `secret: true` checked, with the CLI's own messages.
4. `language_host_env`: the config as the Python language host hands it to the program
   (PULUMI_CONFIG and PULUMI_CONFIG_SECRET_KEYS, pulumi-language-python main.go Run).

`secure:` values cannot be decrypted offline: they become a placeholder, and a declared
type is not checked on a secure scalar (the CLI checks the decrypted text).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional

from heimdall.settings import secrecy
from heimdall.tooling import stack_yaml

SECRET_PLACEHOLDER = "stack-file-secret-placeholder-0123456789abcdef"
PROJECT_FILES = ("Pulumi.yaml", "Pulumi.yml")


class PreRunError(Exception):
    """`pulumi preview` would stop here, before the program runs. One line, the CLI's words."""


@dataclass(frozen=True)
class StackValue:
    """A config value as resource/config/value.go holds it."""

    text: str  # what the program receives (a secure value: the placeholder)
    object: bool = False  # JSON text of a map or a list
    secure: bool = False  # a `secure:` value, or a map/list holding one


@dataclass(frozen=True)
class Declaration:
    """One entry under `config:` in Pulumi.yaml (project.go ProjectConfigType)."""

    type: Optional[str] = None
    items: Optional[dict[str, Any]] = None
    default: Any = None
    value: Any = None
    secret: bool = False


@dataclass(frozen=True)
class Project:
    name: str
    path: Path
    runtime: str
    runtime_options: dict[str, Any]
    config: dict[str, Declaration]


@dataclass(frozen=True)
class StackFile:
    name: str
    values: dict[str, StackValue]  # namespaced keys
    # The `secure:` leaves (heimdall/settings/secrecy.py): Pulumi marks secret only whole
    # top-level keys; the file says which leaves are encrypted.
    secure_leaves: frozenset[str] = frozenset()

    @property
    def config(self) -> dict[str, str]:
        return {key: value.text for key, value in self.values.items()}

    @property
    def secret_keys(self) -> frozenset[str]:
        return frozenset(key for key, value in self.values.items() if value.secure)


# --- Pulumi.yaml ------------------------------------------------------------------------------


def find_project(stack_file: Path, fallback: Path) -> Path:
    """Pulumi.yaml in the stack file's directory or the nearest parent (a stack file sits
    next to its project); else the program's own, in `fallback` (as `--config-file`)."""
    for directory in [stack_file.resolve().parent, *stack_file.resolve().parents, fallback]:
        for name in PROJECT_FILES:
            if (directory / name).is_file():
                return directory / name
    raise PreRunError(
        f"no Pulumi.yaml project file found (searching upwards from {stack_file.parent})"
    )


def _namespaced_by_project(project: str, key: str) -> bool:
    return ":" not in key or key.startswith(project + ":")  # project.go:833-835


def _declaration(project: str, key: str, raw: Any, path: Path) -> Declaration:
    if isinstance(raw, (str, int, bool, list)):  # short-hand (project.go:500-512)
        raw = {"default": raw} if _namespaced_by_project(project, key) else {"value": raw}
    if raw is None:
        return Declaration()
    if not isinstance(raw, dict):
        raise PreRunError(f"could not validate '{path}': #/config/{key}: invalid config declaration")
    unknown = sorted(set(raw) - {"type", "items", "description", "secret", "default", "value"})
    if unknown:
        raise PreRunError(f"could not validate '{path}': #/config/{key}: '{unknown[0]}' not allowed")
    kind = raw.get("type")
    if kind is not None and kind not in ("string", "integer", "boolean", "array", "object"):
        raise PreRunError(f"could not validate '{path}': #/config/{key}/type: invalid type {kind!r}")
    return Declaration(
        type=kind, items=raw.get("items"), default=raw.get("default"),
        value=raw.get("value"), secret=raw.get("secret") is True,
    )


def _check_declarations(project: Project) -> None:
    """project.go Project.Validate (837-889); the loader prefixes `could not unmarshal`."""
    for key, decl in project.config.items():
        prefix = f"could not unmarshal '{project.path}': "
        if decl.default is not None and decl.value is not None:
            raise PreRunError(prefix + f"project config '{key}' cannot have both a 'default' and 'value' attribute")
        if _namespaced_by_project(project.name, key):
            if decl.type == "array" and decl.items is None:
                raise PreRunError(prefix + f"The configuration key '{key}' declares an array "
                                  "but does not specify the underlying type via the 'items' attribute")
            if decl.type is not None and decl.default is not None and not valid_config_value(
                decl.type, decl.items, decl.default
            ):
                raise PreRunError(prefix + f"The default value specified for configuration key '{key}' "
                                  f"is not of the expected type '{full_type_name(decl.type, decl.items)}'")
        elif decl.type is not None:
            raise PreRunError(prefix + f"Configuration key '{key}' is not namespaced by the project "
                              "and should not define a type")
        elif decl.default is not None:
            raise PreRunError(prefix + f"Configuration key '{key}' is not namespaced by the project and "
                              "should not define a default value. Did you mean to use the 'value' "
                              "attribute instead of 'default'?")
        elif decl.value is None:
            raise PreRunError(prefix + f"Configuration key '{key}' is namespaced and must provide an attribute 'value'")


def _runtime(raw: Any, path: Path) -> tuple[str, dict[str, Any]]:
    """The runtime section, and the Python language host's options (main.go parseOptions)."""
    if isinstance(raw, str) or raw is None:
        return raw or "", {}
    options = raw.get("options") or {} if isinstance(raw, dict) else None
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not isinstance(options, dict):
        # project.go ProjectRuntimeInfo.UnmarshalYAML (1336-1352)
        raise PreRunError("runtime section must be a string or an object with name and options attributes")
    if raw["name"] == "python":
        if "virtualenv" in options and not isinstance(options["virtualenv"], str):
            raise PreRunError("virtualenv option must be a string")
        for option, allowed in (("typechecker", ("mypy", "pyright")), ("toolchain", ("pip", "poetry", "uv"))):
            if option in options:
                if not isinstance(options[option], str):
                    raise PreRunError(f"{option} option must be a string")
                if options[option] not in allowed:
                    raise PreRunError(f"unsupported {option} option: {options[option]}")
    return raw["name"], options


def load_project(path: Path) -> Project:
    document = stack_yaml.load(path.read_text(), str(path))
    if not isinstance(document, dict):
        raise PreRunError(f"could not validate '{path}': expected project to be an object")
    name = document.get("name")
    if "name" not in document:
        raise PreRunError(f"could not validate '{path}': project is missing a 'name' attribute")
    if not isinstance(name, str) or not name:
        raise PreRunError(f"could not validate '{path}': project is missing a non-empty string 'name' attribute")
    runtime, options = _runtime(document.get("runtime"), path)
    raw_config = document.get("config") or {}
    if isinstance(raw_config, str):  # the old stackConfigDir spelling (project.go:448-467)
        raw_config = {}
    if not isinstance(raw_config, dict):
        raise PreRunError(f"could not validate '{path}': #/config: expected object")
    config = {str(k): _declaration(name, str(k), v, path) for k, v in raw_config.items()}
    for key in config:
        if any(char in key.split(":", 1)[-1] for char in '.["'):
            # The CLI reads a declared key as a property path (config.go:96 and 311,
            # Get(key, true)), with its own coercions: not mirrored here, so say so.
            raise PreRunError(
                f"{path}: config declaration '{key}' names a nested path; the offline render "
                "does not mirror those: declare the top-level key instead"
            )
    project = Project(name=name, path=path, runtime=runtime, runtime_options=options, config=config)
    _check_declarations(project)
    return project


# --- declared types (project.go ValidateConfigValue, 760-831) ------------------------------

_ATOI = re.compile(r"[+-]?[0-9]+")


def _go_atoi(text: str) -> bool:
    """strconv.Atoi on a 64-bit platform: an optional sign, decimal digits, int64 range."""
    return bool(_ATOI.fullmatch(text)) and -(2**63) <= int(text) < 2**63


def full_type_name(kind: str, items: Optional[dict[str, Any]]) -> str:
    if items is not None:
        return f"array<{full_type_name(str(items.get('type')), items.get('items'))}>"
    return kind


def valid_config_value(kind: str, items: Optional[dict[str, Any]], value: Any) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return True
        if isinstance(value, float):
            return math.isfinite(value) and value == math.trunc(value)
        return isinstance(value, str) and _go_atoi(value)
    if kind == "boolean":
        return value in ("true", "false") or isinstance(value, bool)
    if kind == "object":
        return isinstance(value, dict)
    if not isinstance(value, list) or items is None:
        return False
    return all(valid_config_value(str(items.get("type")), items.get("items"), item) for item in value)


# --- the stack file ---------------------------------------------------------------------------


def _secure_leaves(value: Any) -> tuple[Any, bool]:
    """`{secure: <string>}` (object.go isSecureValue) -> the placeholder; found or not."""
    if isinstance(value, dict):
        if set(value) == {"secure"} and isinstance(value["secure"], str):
            return SECRET_PLACEHOLDER, True
        pairs = {k: _secure_leaves(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list):
        items = [_secure_leaves(item) for item in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def _as_go_json(value: Any, path: Path, key: str) -> Any:
    """The value after the CLI's YAML round trip (loaders.go:194-214): an integral float is
    re-read as an integer; NaN and infinities cannot be encoded as JSON."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise stack_yaml.StackFileError(
                f"{path}: {key}: {value} is not a value the Pulumi CLI can pass to the program"
            )
        return int(value) if value.is_integer() and abs(value) < 1e21 else value
    if isinstance(value, dict):
        return {k: _as_go_json(v, path, key) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_go_json(v, path, key) for v in value]
    return value


def config_value(value: Any) -> str:
    """A decoded value as config text: strings as they are, JSON for the rest."""
    if isinstance(value, str):
        return value
    return go_json(value)


def stack_value(value: Any) -> StackValue:
    """object.go MarshalString (403-419) of a decoded stack value."""
    if value is None:
        return StackValue("")  # `key:`: yaml.v3 leaves the zero Value
    plain, secure = _secure_leaves(value)
    if isinstance(value, dict) and set(value) == {"secure"} and secure:
        return StackValue(plain, secure=True)
    return StackValue(config_value(plain), object=isinstance(plain, (dict, list)), secure=secure)


def resolve_stack_file(stack: str) -> Path:
    path = Path(stack)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    return Path(f"Pulumi.{stack}.yaml")


def load_stack_file(stack: str, project: str = "heimdall") -> StackFile:
    """Read `Pulumi.<stack>.yaml` (or a path) as the CLI does; unqualified keys are the
    project's (loaders.go stackConfigNamespacedWithProject). Raises OSError, or
    StackFileError (one line: file:line:column: message)."""
    path = resolve_stack_file(stack)
    document = stack_yaml.load(path.read_text(), str(path)) or {}
    if not isinstance(document, dict):
        raise stack_yaml.StackFileError(f"{path}: a stack file is a mapping (config: ...)")
    raw = document.get("config") or {}
    if not isinstance(raw, dict):
        raise stack_yaml.StackFileError(f"{path}: 'config' must be a mapping")
    values = {
        (str(key) if ":" in str(key) else f"{project}:{key}"): stack_value(_as_go_json(value, path, str(key)))
        for key, value in raw.items()
    }
    name = path.name.removeprefix("Pulumi.").removesuffix(".yaml").removesuffix(".yml")
    return StackFile(name=name, values=values, secure_leaves=secrecy.secure_leaves(raw))


# --- config.go mergeConfig (255-366) ----------------------------------------------------------


def _config_key(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"  # config.go parseConfigKey (159-168)


def _created_value(raw: Any) -> StackValue:
    """config.go createConfigValue (179-193): string, int and bool as text, the rest JSON."""
    if isinstance(raw, bool):
        return StackValue("true" if raw else "false")
    if isinstance(raw, (str, int)):
        return StackValue(str(raw))
    return StackValue(go_json(raw), object=True)


def _missing_error(stack: str, keys: list[str]) -> str:
    """config.go missingStackConfigurationKeysError and formatMissingKeys (30-64)."""
    if len(keys) == 1:
        return f"Stack '{stack}' is missing configuration value '{keys[0]}'"
    keys = sorted(keys)
    listed = ", ".join(f"'{k}'" for k in keys[:-2])
    listed = (listed + ", " if listed else "") + f"'{keys[-2]}' and '{keys[-1]}'"
    return f"Stack '{stack}' is missing configuration values {listed}"


def apply_project_config(project: Project, stack: str, values: dict[str, StackValue]) -> dict[str, StackValue]:
    """The stack's config after ValidateStackConfigAndApplyProjectConfig, or PreRunError with
    the message `pulumi preview` prints (preview.go/up.go wrap it: `validating stack config:`)."""
    merged = dict(values)
    missing: list[str] = []
    for key in sorted(project.config):
        decl = project.config[key]
        full = _config_key(project.name, key)
        if full in merged:
            continue
        if decl.default is None and decl.value is None:
            if full.split(":", 1)[0] == project.name:
                missing.append(key)
            continue
        merged[full] = _created_value(decl.default if decl.default is not None else decl.value)
    if missing:
        raise PreRunError("validating stack config: " + _missing_error(stack, missing))
    for key in sorted(project.config):  # config.go validateStackConfigValues (66-117)
        decl = project.config[key]
        if decl.type is None:
            continue
        value = merged.get(_config_key(project.name, key), StackValue(""))
        if decl.secret and not value.secure:
            raise PreRunError(
                f"validating stack config: Stack '{stack}' with configuration key '{key}' "
                "must be encrypted as it's secret"
            )
        if value.secure and not value.object:
            continue  # the CLI checks the decrypted text, which is not here
        content = json.loads(value.text) if value.object else value.text
        if not valid_config_value(decl.type, decl.items, content):
            raise PreRunError(
                f"validating stack config: Stack '{stack}' with configuration key '{key}' "
                f"must be of type '{full_type_name(decl.type, decl.items)}'"
            )
    return merged


# --- the language host --------------------------------------------------------------------


def _go_float(number: float) -> str:
    """encoding/json's floatEncoder (golang/go src/encoding/json/encode.go): the shortest
    digits, in fixed notation unless |x| < 1e-6 or |x| >= 1e21, where `e-07` is `e-7`."""
    if not math.isfinite(number):
        return json.dumps(number)  # Go refuses these; a stack file never gets here (_as_go_json)
    shortest = repr(number)
    if number != 0 and (abs(number) < 1e-6 or abs(number) >= 1e21):
        mantissa, exponent = shortest.split("e")
        digits = exponent[1:].lstrip("0")
        return f"{mantissa}e{exponent[0]}{digits if exponent[0] == '-' else digits.zfill(2)}"
    fixed = format(Decimal(shortest), "f")
    return fixed.rstrip("0").rstrip(".") if "." in fixed else fixed


def go_json(value: Any) -> str:
    """Go's json.Marshal: compact, map keys sorted, Go's float text, and <, >, & and
    U+2028/9 escaped (HTML-safe by default)."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{go_json(str(k))}:{go_json(value[k])}" for k in sorted(value, key=str)) + "}"
    if isinstance(value, list):
        return "[" + ",".join(go_json(item) for item in value) + "]"
    if isinstance(value, float):
        return _go_float(value)
    text = json.dumps(value, ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


def language_host_env(values: dict[str, StackValue]) -> dict[str, str]:
    """PULUMI_CONFIG (the decrypted config, JSON) and PULUMI_CONFIG_SECRET_KEYS (the keys
    holding secure values, `[]` when none): main.go constructConfig/constructConfigSecretKeys
    (1233-1262), from source_eval.go:216-223 (Map.Decrypt, Map.SecureKeys)."""
    return {
        "PULUMI_CONFIG": go_json({key: value.text for key, value in values.items()}),
        "PULUMI_CONFIG_SECRET_KEYS": go_json(sorted(k for k, v in values.items() if v.secure)),
    }
