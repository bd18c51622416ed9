"""Reading a stack file as the Pulumi CLI reads it.

The CLI decodes `Pulumi.<stack>.yaml` with Go's gopkg.in/yaml.v3 into untyped values
(sdk/go/common/resource/config/object.go), then hands each config value to the program
as a string: strings as they are, numbers and booleans as JSON, objects as JSON. yaml.v3
resolves plain scalars mostly by YAML 1.2, which differs from PyYAML's YAML 1.1:

- `on`, `off`, `yes`, `no`, `y`, `n` are strings (only true/false, True/TRUE, ... are
  booleans); `03:00` is a string (no base-60 numbers);
- `0x1F`, `0o17`, `0b101` are integers, and so is `017`: yaml.v3 keeps YAML 1.1's
  octal for compatibility (resolve.go: strconv.ParseInt(s, 0, 64)), so `010` is 8;
  underscores are dropped (`1_000` is 1000); `08` and `1e3` are floats;
- an unquoted date (`2025-01-01`) becomes Go's time.Time.String() text;
- a key defined twice in one mapping is an error;
- an empty value (`key:`) is the empty string at the top of the config, null inside an
  object.

`load` composes the document with PyYAML (syntax and positions only: no YAML 1.1 type
resolution) and resolves the scalars by yaml.v3's rules. Every problem is a
`StackFileError` with one line, `file:line:column: message`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import BaseConstructor
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

PLAIN = "heimdall:plain"  # an untagged plain scalar: resolved below, as yaml.v3 does
STR = "tag:yaml.org,2002:str"
MERGE = "tag:yaml.org,2002:merge"


class StackFileError(ValueError):
    """A stack file the Pulumi CLI would not read; the message is one line."""


class _Resolver(BaseResolver):
    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            return PLAIN
        return super().resolve(kind, value, implicit)


class _Loader(Reader, Scanner, Parser, Composer, BaseConstructor, _Resolver):
    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        BaseConstructor.__init__(self)
        _Resolver.__init__(self)


_NULLS = {"", "~", "null", "Null", "NULL"}
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_FLOATS = {
    ".nan": math.nan, ".NaN": math.nan, ".NAN": math.nan,
    ".inf": math.inf, ".Inf": math.inf, ".INF": math.inf,
    "+.inf": math.inf, "+.Inf": math.inf, "+.INF": math.inf,
    "-.inf": -math.inf, "-.Inf": -math.inf, "-.INF": -math.inf,
}
_YAML_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_GO_INT = re.compile(r"^[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$")
# yaml.v3 resolve.go allowedTimestampFormats, tried with Go's time.Parse:
# "2006-1-2T15:4:5.999999999Z07:00" (and lower-case t): a zone is required;
# "2006-1-2 15:4:5.999999999": no zone allowed; "2006-1-2". Go takes `.` or `,` before the
# fraction and reads at most nine of its digits.
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})([.,]\d+)?(Z|[-+]\d{2}:\d{2})"
    r"| (\d{1,2}):(\d{1,2}):(\d{1,2})([.,]\d+)?)?$"
)


def _go_int(text: str) -> int | None:
    """strconv.ParseInt(text, 0, 64) (or ParseUint), as yaml.v3 calls it."""
    if not _GO_INT.fullmatch(text):
        return None
    sign = -1 if text[0] == "-" else 1
    digits = text.lstrip("+-")
    if digits[:2].lower() in ("0x", "0o", "0b"):
        value = int(digits[2:], {"x": 16, "o": 8, "b": 2}[digits[1].lower()])
    elif digits.startswith("0") and len(digits) > 1:
        value = int(digits[1:], 8)
    else:
        value = int(digits)
    value *= sign
    return value if -(2**63) <= value < 2**64 else None


def _go_time_string(match: re.Match[str]) -> str | None:
    """time.Time.String() of a YAML timestamp, as Pulumi turns one into config text
    (object.go unmarshalObject: `case time.Time: v.String()`). Without a zone Go's
    time.Parse gives UTC; an offset that is not the machine's local one (UTC on CI) is a
    zone named by the offset."""
    groups = match.groups()
    year, month, day = groups[0:3]
    hour, minute, second, fraction, zone = groups[3:8] if groups[3] else (*groups[8:12], None)
    try:
        tz: dt.tzinfo = dt.UTC
        if zone and zone != "Z":
            hours, minutes = int(zone[1:3]), int(zone[4:6])
            offset = dt.timedelta(hours=hours, minutes=minutes) * (1 if zone[0] == "+" else -1)
            tz = dt.timezone(offset)
        moment = dt.datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
            tzinfo=tz,
        )
    except ValueError:
        return None
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    digits = (fraction or ".")[1:10].rstrip("0")
    if digits:
        text += "." + digits
    offset_text = moment.strftime("%z")
    name = "UTC" if tz is dt.UTC else offset_text[:5]
    return f"{text} {offset_text} {name}"


def resolve_plain(text: str) -> Any:
    """A plain scalar as yaml.v3 decodes it into an untyped value (resolve.go)."""
    if text in _NULLS:
        return None
    if text in _BOOLS:
        return _BOOLS[text]
    if text in _FLOATS:
        return _FLOATS[text]
    if text[:1] == ".":
        return float(text) if _YAML_FLOAT.fullmatch(text) else text
    if text[:1].isdigit() or text[:1] in "+-":
        timestamp = _TIMESTAMP.fullmatch(text)
        if timestamp:
            as_time = _go_time_string(timestamp)
            if as_time is not None:
                return as_time
        plain = text.replace("_", "")
        number = _go_int(plain)
        if number is not None:
            return number
        if _YAML_FLOAT.fullmatch(plain):
            return float(plain)
    return text


def _where(source: str, mark: Any) -> str:
    return f"{source}:{mark.line + 1}:{mark.column + 1}"


def _value(node: Any, source: str) -> Any:
    if isinstance(node, yaml.ScalarNode):
        if node.tag == PLAIN:
            return resolve_plain(node.value)
        if node.tag == STR or not node.tag.startswith("tag:yaml.org,2002:"):
            return node.value
        return resolve_plain(node.value)  # an explicit !!int, !!bool, ...: as resolved
    if isinstance(node, yaml.SequenceNode):
        return [_value(item, source) for item in node.value]
    if isinstance(node, yaml.MappingNode):
        return _mapping(node, source)
    raise StackFileError(f"{_where(source, node.start_mark)}: unexpected YAML node")


def _mapping(node: Any, source: str) -> dict[Any, Any]:
    result: dict[Any, Any] = {}
    merged: dict[Any, Any] = {}
    seen: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.tag in (PLAIN, MERGE) and key_node.value == "<<":
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for item in sources:
                if not isinstance(item, yaml.MappingNode):
                    raise StackFileError(
                        f"{_where(source, item.start_mark)}: map merge requires a map or a list of maps"
                    )
                for key, value in _mapping(item, source).items():
                    merged.setdefault(key, value)
            continue
        if isinstance(key_node, yaml.ScalarNode):
            if key_node.value in seen:
                first = seen[key_node.value]
                raise StackFileError(
                    f"{_where(source, key_node.start_mark)}: mapping key {key_node.value!r} "
                    f"already defined at line {first.line + 1} (the Pulumi CLI refuses "
                    "duplicate keys)"
                )
            seen[key_node.value] = key_node.start_mark
        key = _value(key_node, source)
        if isinstance(key, (dict, list)):
            raise StackFileError(f"{_where(source, key_node.start_mark)}: a mapping key must be a scalar")
        result[key] = _value(value_node, source)
    return {**merged, **result}


def load(text: str, source: str) -> Any:
    """The document in `text` (from file `source`) as the Pulumi CLI decodes it."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = " ".join(str(error.problem or error.context or "invalid YAML").split())
        if mark is None:
            raise StackFileError(f"{source}: {problem}") from None
        raise StackFileError(f"{_where(source, mark)}: {problem}") from None
    except yaml.YAMLError as error:
        raise StackFileError(f"{source}: {' '.join(str(error).split())}") from None
    finally:
        loader.dispose()
    return None if node is None else _value(node, source)
