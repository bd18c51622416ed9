"""Loading a stack's settings: from Pulumi's config to a validated `Settings`, or one line.

`load_settings()` reads the running stack's `heimdall:` config. Every failure is a
`SettingsError` whose message is one line naming the key, the value (secret-looking
values hidden) and what is allowed, so `pulumi preview` stops with that line and no
traceback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Optional

from pydantic import BaseModel, SecretStr, ValidationError

from heimdall.database import registry
from heimdall.settings.root import Settings
from heimdall.settings.types import NAMESPACE


class SettingsError(Exception):
    """A stack's settings are invalid. The message is one line, fit for a user."""


_SENSITIVE_PATHS = ("password", "secret", "token", "key")


def _sensitive(loc: str) -> bool:
    return any(word in loc.lower() for word in _SENSITIVE_PATHS) and not loc.lower().endswith(
        ("existingsecret", "keys", "existingsecretpasswordkey", "tlssecretname", "existingsecretkey")
    )


def _redact(value: Any) -> Any:
    """A section's value with its secret-looking keys hidden (an error on a whole section,
    such as auth.github, shows the section)."""
    if isinstance(value, dict):
        return {k: "<hidden>" if _sensitive(str(k)) else _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(item) for item in value]
    return value


def _describe(value: Any, loc: str) -> str:
    if _sensitive(loc):
        return "<hidden>"
    value = _redact(value)
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _first_error_line(error: ValidationError) -> str:
    errors = error.errors(include_url=False)
    first = errors[0]
    where = first["loc"]
    if where[:1] == ("database",) and len(where) > 1 and where[1] in registry.BY_NAME:
        where = where[:1] + where[2:]  # the union's tag (a provider) is no key
    # A map key can be anything a user typed (even a newline): quote odd ones.
    loc = ".".join(
        str(part) if re.fullmatch(r"[\w-]+", str(part)) else json.dumps(str(part))
        for part in where
    )
    key = f"{NAMESPACE}:{loc}" if loc else NAMESPACE
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        line = f"{key}: unknown key; see the configuration reference in README.md"
    elif first["type"] == "missing":
        line = f"{key}: required but not set"
    elif isinstance(first.get("input"), dict):
        # A rule over a whole section: name the section, never echo its values.
        line = f"{key}: {message}"
    else:
        # A map's key (loc ends in "[key]") is a name, never a secret value.
        shown = loc if where[-1] != "[key]" else ""
        line = f"{key} = {_describe(first.get('input'), shown)}: {message}"
    if len(errors) > 1:
        line += f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''})"
    return line


def chosen_provider(values: Mapping[str, Any]) -> Optional[str]:
    """The stack's database provider, from its plain values, when it is a registered one
    (the default, embedded, when unset); None otherwise (the full model then says what is
    wrong)."""
    database = values.get("database", {})
    provider = database.get("provider", "embedded") if isinstance(database, dict) else None
    return provider if isinstance(provider, str) and provider in registry.BY_NAME else None


def parse_settings(values: Mapping[str, Any]) -> Settings:
    """Validate plain values (top-level keys without the namespace) into Settings."""
    try:
        return Settings.model_validate(dict(values))
    except ValidationError as error:
        raise SettingsError(_first_error_line(error)) from None


def decode_config_value(raw: Any) -> Any:
    """Pulumi passes every config value as a string; objects and arrays arrive as JSON."""
    if isinstance(raw, str) and raw[:1] in ("{", "["):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def _plain_secrets(model: BaseModel, path: str) -> list[str]:
    """Paths of SecretStr values set inside `model` (recursively)."""
    found: list[str] = []
    values = dict(iter(model))  # (name, value) pairs; not dict(model): a field may be `keys`
    for name, field in type(model).model_fields.items():
        value = values[name]
        key = f"{path}.{field.alias or name}" if path else (field.alias or name)
        if isinstance(value, SecretStr):
            found.append(key)
        elif isinstance(value, BaseModel):
            found.extend(_plain_secrets(value, key))
    return found


def settings_from_config(
    config: Mapping[str, Any], secret_keys: Optional[set[str]] = None
) -> Settings:
    """Build Settings from a flat `namespace:key -> value` map, as Pulumi holds config.

    With `secret_keys` (the config keys Pulumi holds encrypted), a secret value stored in
    plain text in the stack file is refused: it would sit unencrypted in git.
    """
    values = {
        key.split(":", 1)[1]: decode_config_value(value)
        for key, value in config.items()
        if key.startswith(f"{NAMESPACE}:")
    }
    settings = parse_settings(values)
    if secret_keys is not None:
        for path in _plain_secrets(settings, ""):
            if f"{NAMESPACE}:{path.split('.', 1)[0]}" not in secret_keys:
                raise SettingsError(
                    f"{NAMESPACE}:{path} is stored in plain text; set it with "
                    f"`pulumi config set --secret --path {path} <value>`"
                )
    return settings


def program_config() -> tuple[dict[str, str], frozenset[str]]:
    """The stack's config as the Python language host hands it to the program, in a real
    `pulumi up` and in the offline render alike: PULUMI_CONFIG, a JSON object of namespaced
    keys to strings (secure values decrypted), and PULUMI_CONFIG_SECRET_KEYS, a JSON list of
    the keys holding secure values (pulumi/pulumi sdk/python/cmd/pulumi-language-python
    main.go Run and constructConfig; read with the SDK's own readers,
    sdk/python/lib/pulumi/runtime/config.py get_config_env, get_config_secret_keys_env)."""
    from pulumi.runtime import get_config_env, get_config_secret_keys_env

    config = {str(key): str(value) for key, value in get_config_env().items()}
    return config, frozenset(get_config_secret_keys_env())


def load_settings() -> Settings:
    """Read the running stack's `heimdall:` config (`program_config`). Raises SettingsError
    on bad values, and when the chosen database provider's SDK is not installed."""
    config, secret_keys = program_config()
    settings = settings_from_config(config, set(secret_keys))
    missing = registry.missing_sdk(settings.database.provider)
    if missing is not None:
        raise SettingsError(missing)
    return settings
