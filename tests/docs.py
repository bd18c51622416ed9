"""The fenced blocks of README.md and docs/*.md, and the shell commands in them.

`blocks()` yields every fenced block with its file, line, language and markers: HTML
comments on the lines right above the fence, such as `<!-- needs: cluster -->` (the block
needs a Kubernetes cluster, a cloud account, a Pulumi backend, the network or a long time;
its commands are then checked, not run), `<!-- run: tls-database -->` (run against the
tests' PostgreSQL) or `<!-- refuses: {...} -->` (the settings the quoted message is the
program's refusal of).

`commands(text)` splits a shell block into simple commands the way bash would read it
(continuation lines, quotes spanning lines, here-documents, `&&`, `||`, `;` and `|`,
comments, redirections), with each `$(...)` substitution checked as a command of its own
and replaced by a stand-in value, and each `<placeholder>` by `placeholder`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SHELL = ("sh", "bash", "shell", "console")
NEEDS = {"cluster", "cloud", "pulumi", "network", "time"}
PLACEHOLDER = "placeholder"

_FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
_MARKER = re.compile(r"^\s*<!--\s*([\w-]+)(?::\s*(.*?))?\s*-->\s*$")
# <namespace>, <job name>, <urn of the old Cluster>: never a here-document (<<) or a
# redirection (`< file`).
_PLACEHOLDER = re.compile(r"(?<![<\w])<([A-Za-z][^<>\n]*)>")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence, 1-based
    lang: str
    text: str
    markers: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"

    @property
    def needs(self) -> set[str]:
        return {n.strip() for n in self.markers.get("needs", "").split(",") if n.strip()}


def blocks() -> Iterator[Block]:
    for page in PAGES:
        lines = page.read_text().splitlines()
        index = 0
        while index < len(lines):
            opening = _FENCE.match(lines[index])
            if not opening:
                index += 1
                continue
            indent = len(opening.group(1))
            end = index + 1
            while not re.match(r"^\s*```\s*$", lines[end]):
                end += 1
            markers: dict[str, str] = {}
            above = index - 1
            while above >= 0 and (marker := _MARKER.match(lines[above])):
                markers[marker.group(1)] = marker.group(2) or ""
                above -= 1
            text = "\n".join(line[indent:] for line in lines[index + 1 : end])
            yield Block(page, index + 1, opening.group(2), text, markers)
            index = end + 1


@dataclass
class Command:
    words: list[str]
    stdin: str = ""  # a here-document's body
    text: str = ""  # the logical line it came from, for messages


@dataclass
class Parsed:
    commands: list[Command]
    substitutions: list[str]  # the inner text of every $(...), in order


def _logical_lines(text: str) -> Iterator[tuple[str, str]]:
    """(line, here-document body): continuation lines joined, a quote left open carried
    to the next line, a here-document's body taken off."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        while True:
            if line.endswith("\\"):
                line = line[:-1] + " " + (lines[index] if index < len(lines) else "")
                index += 1
                continue
            try:
                shlex.split(_without_substitutions(line)[0], comments=True)
            except ValueError:  # a quote spans lines (a JSON --overrides)
                if index >= len(lines):
                    raise
                line = line + "\n" + lines[index]
                index += 1
                continue
            break
        body = ""
        heredoc = re.search(r"<<-?\s*'?\"?(\w+)'?\"?", line)
        if heredoc:
            terminator = heredoc.group(1)
            start = index
            while index < len(lines) and lines[index].strip() != terminator:
                index += 1
            body = "\n".join(lines[start:index]) + "\n"
            index += 1
            line = line[: heredoc.start()] + line[heredoc.end() :]
        yield line, body


def _without_substitutions(line: str) -> tuple[str, list[str]]:
    """The line with each $(...) replaced by __SUBn__, and their inner texts."""
    found: list[str] = []
    out = []
    index = 0
    quote = ""
    while index < len(line):
        char = line[index]
        if char == "'" and quote != '"':
            quote = "" if quote == "'" else "'"
        elif char == '"' and quote != "'":
            quote = "" if quote == '"' else '"'
        if quote != "'" and line.startswith("$(", index):
            depth, end = 1, index + 2
            while end < len(line) and depth:
                depth += {"(": 1, ")": -1}.get(line[end], 0)
                end += 1
            found.append(line[index + 2 : end - 1])
            out.append(f"__SUB{len(found) - 1}__")
            index = end
            continue
        out.append(char)
        index += 1
    return "".join(out), found


def commands(text: str) -> Parsed:
    parsed = Parsed([], [])
    for line, stdin in _logical_lines(_PLACEHOLDER.sub(PLACEHOLDER, text)):
        plain, inner = _without_substitutions(line)
        offset = len(parsed.substitutions)
        parsed.substitutions.extend(inner)
        for nested in inner:  # a substitution holds commands of its own
            sub = commands(nested)
            parsed.substitutions.extend(sub.substitutions)
        lexer = shlex.shlex(plain, posix=True, punctuation_chars=";&|<>")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words: list[str] = []
        skip_next = False
        for token in lexer:
            token = re.sub(r"__SUB(\d+)__", lambda m, base=offset: f"__SUB{int(m.group(1)) + base}__", token)
            if skip_next:
                skip_next = False
                continue
            if token in (";", "&&", "||", "|", "&"):
                if words:
                    parsed.commands.append(Command(words, stdin, line))
                words = []
                continue
            if token in (">", ">>", "<", ">&", "<&"):
                skip_next = True
                if words and words[-1].isdigit():  # 2> file, 2>&1
                    words.pop()
                continue
            if not words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", token):
                continue  # VAR=value before a command, or an assignment alone
            words.append(token)
        if words:
            parsed.commands.append(Command(words, stdin, line))
    return parsed


def substituted(word: str, values: list[str]) -> str:
    """A word with each __SUBn__ replaced by the stand-in value of that substitution."""
    return re.sub(r"__SUB(\d+)__", lambda m: values[int(m.group(1))], word)
