"""The stack-file reader (heimdall/tooling/stack_yaml.py) by example: the documents it
accepts and what it makes of them, the ones it refuses and the one line the CLI prints.

tests/conformance/test_yaml_v3.py holds the scalar rules (integers, booleans, nulls,
timestamps), duplicate keys and the JSON the program gets; this module covers the rest of
the reader: the document's shape, merge keys and anchors, tags, mapping keys, syntax
errors, and `python -m heimdall render` on a file it refuses.

Citations: Y = go-yaml/yaml@v3.0.1 (the Pulumi CLI decodes stack files with it, see
tests/conformance/test_yaml_v3.py), P = pulumi/pulumi@v3.259.0.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from heimdall.tooling import render
from heimdall.tooling.cli import main
from heimdall.tooling.stack_yaml import StackFileError, load


def test_an_empty_document_is_no_value() -> None:
    # Y:yaml.go:161-168 nothing to decode: the value stays unset
    assert load("", "Pulumi.x.yaml") is None
    assert load("# only a comment\n", "Pulumi.x.yaml") is None
    assert load("---\n", "Pulumi.x.yaml") is None


def test_an_empty_stack_file_has_no_config(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.empty.yaml"
    path.write_text("# nothing set yet\n")
    stack = render.load_stack_file(str(path))
    assert stack.name == "empty"
    assert stack.config == {}


def test_nested_maps_and_lists_keep_their_shape_and_order() -> None:
    text = "config:\n  heimdall:tolerations:\n    - key: pool\n      operator: Exists\n    - {key: gpu, effect: NoSchedule}\n"
    assert load(text, "f") == {
        "config": {"heimdall:tolerations": [{"key": "pool", "operator": "Exists"}, {"key": "gpu", "effect": "NoSchedule"}]}
    }
    assert list(load("b: 1\na: 2\nc: 3\n", "f")) == ["b", "a", "c"]


def test_mapping_keys_resolve_like_values() -> None:
    # Y:decode.go:831-832 a key is unmarshalled like any scalar into interface{}
    assert load("2: a\ntrue: b\n~: c\non: d\n0x10: e\n", "f") == {2: "a", True: "b", None: "c", "on": "d", 16: "e"}


def test_an_anchor_and_its_alias_are_the_same_value() -> None:
    # Y:decode.go:533 (alias): the aliased node decoded again
    document = load("base: &b {cpu: 100m}\nrequests: *b\n", "f")
    assert document["requests"] == {"cpu": "100m"} == document["base"]


def test_merge_keys_give_way_to_the_mapping_s_own_keys_and_to_earlier_maps() -> None:
    # Y:decode.go:959-996 (merge): the keys the mapping sets itself are marked first
    # (961-968), then each merged map, in order (979-990), adds only keys not yet marked
    # (mapping, 833-838), so the mapping's own keys and the first map of a list win
    text = (
        "a: &a {x: 1, y: 1}\n"
        "b: &b {y: 2, z: 2}\n"
        "one: {<<: *a, x: 0}\n"
        "two: {<<: [*a, *b]}\n"
        "three:\n  <<: [*b, *a]\n  w: 3\n"
    )
    document = load(text, "f")
    assert document["one"] == {"x": 0, "y": 1}
    assert document["two"] == {"x": 1, "y": 1, "z": 2}
    assert document["three"] == {"y": 2, "z": 2, "x": 1, "w": 3}


def test_a_quoted_merge_key_is_a_plain_key() -> None:
    # Y:decode.go:240-246 only a plain `<<` gets the merge tag; Y:decode.go:998-1000 isMerge
    assert load("a: {'<<': {x: 1}}\n", "f") == {"a": {"<<": {"x": 1}}}


def test_a_key_set_beside_a_merge_is_no_duplicate() -> None:
    # Y:decode.go:767-778 duplicates are keys written twice in one mapping's own content
    assert load("base: &b {x: 1}\nm: {<<: *b, x: 2}\n", "f")["m"] == {"x": 2}


def test_a_key_written_twice_is_a_duplicate_even_quoted_differently() -> None:
    # Y:decode.go:775 compares the nodes' Kind and Value, not their resolved values
    with pytest.raises(StackFileError, match=r"^f:2:1: mapping key '1' already defined at line 1 "):
        load("1: a\n'1': b\n", "f")


def test_tags_the_cli_knows_and_does_not_know() -> None:
    # !!str keeps the text as written; Y:resolve.go:126-130 a tag yaml.v3 cannot resolve
    # leaves the scalar's text as it is
    assert load("a: !!str 010\nb: !Ref name\nc: !!int 010\n", "f") == {"a": "010", "b": "name", "c": 8}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # Y:decode.go:955-957 failWantMap, in the program's words
        ("m: {<<: 1}\n", "f:1:9: map merge requires a map or a list of maps"),
        ("m: {<<: [{x: 1}, 2]}\n", "f:1:18: map merge requires a map or a list of maps"),
        # Y:decode.go:840-846 "invalid map key": a map or list as a key
        ("? [a, b]\n: 1\n", "f:1:3: a mapping key must be a scalar"),
        ("{a: 1}: x\n", "f:1:1: a mapping key must be a scalar"),
        # syntax errors: PyYAML's problem, at its line and column
        ("config:\n  a: 'open\n", "f:3:1: found unexpected end of stream"),
        ("config:\n  a: 1\n b: 2\n", "f:3:2: expected <block end>, but found '<block mapping start>'"),
        ("a: *missing\n", "f:1:4: found undefined alias 'missing'"),
    ],
)
def test_a_document_the_cli_refuses_is_one_line_with_its_place(text: str, message: str) -> None:
    with pytest.raises(StackFileError) as error:
        load(text, "f")
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("text", "after_path"),
    [
        ("- a\n- b\n", ": a stack file is a mapping (config: ...)"),
        ("config: [a]\n", ": 'config' must be a mapping"),
        ("config:\n  heimdall:replicas: 1\n  heimdall:replicas: 2\n", ":3:3: mapping key 'heimdall:replicas' already defined at line 2 (the Pulumi CLI refuses duplicate keys)"),
        ("config:\n  heimdall:a: [1\n", ":3:1: expected ',' or ']', but got '<stream end>'"),
    ],
)
def test_the_cli_prints_one_error_line_for_a_stack_file_it_cannot_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, after_path: str
) -> None:
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text(text)
    assert main(["render", str(path), "--no-validate", "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", f"error: {path}{after_path}\n")
    assert not (tmp_path / "out").exists()


def test_the_cli_names_a_stack_file_that_is_not_there(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "Pulumi.nowhere.yaml"
    assert main(["render", str(missing), "--no-validate", "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.startswith(f"error: cannot read stack file for {str(missing)!r}: ")
