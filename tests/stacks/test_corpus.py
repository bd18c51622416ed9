"""The adversarial corpus (tests/corpus/): stack files with the mistakes people make, each
with its expected outcome in a header comment.

    # expect: refused <key>    the one-line refusal names <key> (the field, not its section)
    # expect: ok               the settings validate
    # secret: <text>           a value that must never appear in the refusal
    # render: <Kind> <name> <path> = <json>   rendered under mocks, that object has that value

Each file is read as the Pulumi CLI reads a stack file (heimdall/tooling/render.py
`load_stack_file`) and validated as `pulumi preview` would (plain-text secrets checked leaf
by leaf, heimdall/settings/secrecy.py). Only the files with a `render:` line are rendered.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from heimdall.settings.loader import SettingsError, settings_from_config
from heimdall.settings.secrecy import file_secure_leaves, plain_secret_leaf
from heimdall.tooling.render import load_stack_file, run_stack_file

CORPUS = Path(__file__).parents[1] / "corpus"
FILES = sorted(CORPUS.glob("*.yaml"))


def _headers(path: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        match = re.fullmatch(r"# (expect|secret|render|why): (.*)", line)
        if match:
            found.setdefault(match.group(1), []).append(match.group(2))
    return found


def _validate(path: Path) -> None:
    stack = load_stack_file(str(path))
    settings = settings_from_config(stack.config, set(stack.secret_keys))
    secure = file_secure_leaves(path)
    assert secure is not None
    plain = plain_secret_leaf(settings, secure)
    if plain is not None:
        raise SettingsError(plain)


def _names(line: str, key: str) -> bool:
    """The line names `key`: its location is the key, or a section of it whose message
    names the rest (`heimdall:database.awsRds: backupWindow ...`), or it is the stack-wide
    location and the message names the whole key."""
    if line.startswith((f"heimdall:{key} ", f"heimdall:{key}:")):
        return True
    match = re.match(r"^heimdall:?(\S*?)(?: = .*?)?: (.*)$", line)
    assert match, line
    loc, message = match.group(1).strip('"'), match.group(2)
    if loc == key:
        return True
    if not loc:
        return key in message
    if key.startswith(loc + ".") or key.startswith(loc + "["):
        rest = key[len(loc) + 1 :]
        return rest in message or rest.rsplit(".", 1)[-1] in message.split(" ", 1)[0] or f"{rest} " in message
    return key in message


def _at(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    return obj


def test_the_corpus_is_large_and_covers_every_provider() -> None:
    assert len(FILES) >= 150
    text = "".join(p.read_text() for p in FILES)
    for provider in ("external", "aws-rds", "gcp-cloudsql", "azure-postgres", "cloudnative-pg"):
        assert f"provider: {provider}" in text
    assert sum("# render:" in p.read_text() for p in FILES) >= 5


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_each_stack_file_gets_its_expected_outcome(path: Path) -> None:
    headers = _headers(path)
    (expect,) = headers["expect"]
    if expect == "ok":
        _validate(path)
        return
    key = expect.removeprefix("refused ")
    with pytest.raises(SettingsError) as error:
        _validate(path)
    line = str(error.value)
    assert "\n" not in line and "Traceback" not in line
    assert _names(line, key), f"{line!r} does not name {key}"
    for secret in headers.get("secret", []):
        assert secret not in line


RENDERED = [p for p in FILES if "# render:" in p.read_text()]


@pytest.mark.parametrize("path", RENDERED, ids=[p.stem for p in RENDERED])
def test_accepted_stack_files_render_with_their_property(path: Path) -> None:
    rendering = run_stack_file(str(path))
    for spec in _headers(path)["render"]:
        kind, name, rest = spec.split(" ", 2)
        field, _, expected = rest.partition(" = ")
        (obj,) = [m for m in rendering.manifests() if m["kind"] == kind and m["metadata"].get("name", "").startswith(name)][:1]
        assert _at(obj, field) == json.loads(expected)
