"""A stack file as the Pulumi CLI decodes it with gopkg.in/yaml.v3 and hands it to the
program: scalars, timestamps, empty values, duplicate keys (heimdall/tooling/stack_yaml.py
and prerun.py against the source).

Citations: Y = go-yaml/yaml@v3.0.1, P = pulumi/pulumi@v3.259.0.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from heimdall.tooling import render
from heimdall.tooling.stack_yaml import StackFileError, resolve_plain


def top_level(tmp_path: Path, text: str) -> str:
    """The config text the program gets for `heimdall:key: <text>`."""
    path = tmp_path / "Pulumi.y.yaml"
    path.write_text(f"config:\n  heimdall:key: {text}\n")
    return render.prerun_stack_file(str(path)).config["heimdall:key"]


def nested(tmp_path: Path, text: str) -> object:
    """The JSON leaf the program gets for `heimdall:key: {leaf: <text>}`."""
    path = tmp_path / "Pulumi.y.yaml"
    path.write_text(f"config:\n  heimdall:key:\n    leaf: {text}\n")
    return json.loads(render.prerun_stack_file(str(path)).config["heimdall:key"])["leaf"]


@pytest.mark.parametrize(
    ("text", "as_top_level", "as_leaf"),
    [
        # Y:resolve.go:191-199 strconv.ParseInt(plain, 0, 64): Go's base prefixes, and the
        # YAML 1.1 octal kept (Y:resolve.go:233-236 comment); underscores dropped (191)
        ("010", "8", 8),
        ("0o10", "8", 8),  # Y:resolve.go:237-247
        ("0x1F", "31", 31),
        ("0b101", "5", 5),
        ("1_000", "1000", 1000),
        # Y:resolve.go:204-209 a float; P:loaders.go:194-214 the YAML round trip re-reads an
        # integral float as an integer, so JSON writes 1000, not 1000.0
        ("1e3", "1000", 1000),
        ("08", "8", 8),  # not octal: a float (yamlStyleFloat), then integral
        ("2.5", "2.5", 2.5),
        # Y:resolve.go:52-53 only true/True/TRUE and false/False/FALSE are booleans
        ("TRUE", "true", True),
        ("on", "on", "on"),
        ("no", "no", "no"),
        ("y", "y", "y"),
        # Y:resolve.go:165-167 no base-60 numbers
        ("03:00", "03:00", "03:00"),
        # Y:resolve.go:54 nulls: a top-level null is the zero config.Value, "" (Y:decode.go:848,
        # P:sdk/go/common/resource/config/object.go:521-522); a nested one JSON null
        ("~", "", None),
        ("null", "", None),
        ("''", "", ""),
        ("'010'", "010", "010"),  # quoted: a string as written
    ],
)
def test_scalars_resolve_as_yaml_v3_resolves_them(tmp_path: Path, text: str, as_top_level: str, as_leaf: object) -> None:
    assert top_level(tmp_path, text) == as_top_level
    assert nested(tmp_path, text) == as_leaf


@pytest.mark.parametrize(
    ("text", "time_string"),
    [
        # Y:resolve.go:294-300 allowedTimestampFormats, Y:resolve.go:181-189 (plain scalars only);
        # the value reaches the program as Go's time.Time.String()
        # (P:sdk/go/common/resource/config/object.go:490-491)
        ("2026-08-01T12:00:00Z", "2026-08-01 12:00:00 +0000 UTC"),  # "2006-1-2T15:4:5.999999999Z07:00"
        ("2026-08-01t12:00:00.250+02:00", "2026-08-01 12:00:00.25 +0200 +0200"),  # lower-case t
        ("2026-8-1 1:2:3", "2026-08-01 01:02:03 +0000 UTC"),  # "2006-1-2 15:4:5.999999999"
        ("2026-08-01 12:00:00.1234567891", "2026-08-01 12:00:00.123456789 +0000 UTC"),  # nine digits
        ("2026-08-01", "2026-08-01 00:00:00 +0000 UTC"),  # "2006-1-2"
    ],
)
def test_timestamps_in_the_four_layouts_become_go_time_strings(tmp_path: Path, text: str, time_string: str) -> None:
    assert top_level(tmp_path, text) == time_string
    assert nested(tmp_path, text) == time_string


@pytest.mark.parametrize(
    "text",
    [
        "2026-08-01 12:00:00Z",  # a zone after a space: no layout takes it
        "2026-08-01T12:00:00",  # T needs a zone (Z07:00)
        "2026-02-30",  # time.Parse: day out of range
        "26-08-01",  # Y:resolve.go:311-318 four digits, then '-'
    ],
)
def test_text_outside_the_four_layouts_stays_a_string(tmp_path: Path, text: str) -> None:
    assert top_level(tmp_path, text) == text
    assert nested(tmp_path, text) == text


def test_a_quoted_timestamp_stays_a_string(tmp_path: Path) -> None:
    # Y:resolve.go:182-184 only unquoted values (or !!timestamp) are tried as timestamps
    assert resolve_plain("2026-08-01") == "2026-08-01 00:00:00 +0000 UTC"
    assert top_level(tmp_path, "'2026-08-01'") == "2026-08-01"
    assert nested(tmp_path, '"2026-08-01"') == "2026-08-01"


def test_a_duplicate_key_is_an_error(tmp_path: Path) -> None:
    # Y:decode.go:776 "mapping key %#v already defined at line %d"
    path = tmp_path / "Pulumi.y.yaml"
    path.write_text("config:\n  heimdall:key: 1\n  heimdall:key: 2\n")
    with pytest.raises(StackFileError, match=r":3:3: mapping key 'heimdall:key' already defined at line 2"):
        render.prerun_stack_file(str(path))


def test_objects_and_lists_reach_the_program_as_json_with_their_leaf_types(tmp_path: Path) -> None:
    # P:sdk/go/common/resource/config/object.go:403-419 (MarshalString: objects as JSON),
    # 434-436 (encoding/json)
    path = tmp_path / "Pulumi.y.yaml"
    path.write_text("config:\n  heimdall:key:\n    size: 010\n    flags: [on, true, 1.0]\n    empty: {}\n")
    assert json.loads(render.prerun_stack_file(str(path)).config["heimdall:key"]) == {
        "size": 8, "flags": ["on", True, 1], "empty": {},
    }


def test_numbers_are_written_as_go_writes_json(tmp_path: Path) -> None:
    # P:sdk/go/common/resource/config/object.go:403-407 and 434-436: numbers and objects as
    # Go's encoding/json writes them (golang/go src/encoding/json/encode.go floatEncoder:
    # fixed notation unless |x| < 1e-6 or >= 1e21, `e-07` written `e-7`; keys sorted;
    # <, > and & escaped).
    assert top_level(tmp_path, "0.00001") == "0.00001"
    assert top_level(tmp_path, "1.5e-7") == "1.5e-7"
    path = tmp_path / "Pulumi.y.yaml"
    path.write_text("config:\n  heimdall:key: {z: 1e21, a: 0.00001, m: '<b&c>'}\n")
    assert render.prerun_stack_file(str(path)).config["heimdall:key"] == (
        '{"a":0.00001,"m":"\\u003cb\\u0026c\\u003e","z":1e+21}'
    )
