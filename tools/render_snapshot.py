"""Render every stack file of the repository into one folder, to compare two versions of
the program byte for byte (`diff -r` the folders of the two).

    python tools/render_snapshot.py OUT

For each stack file (Pulumi.*.yaml, examples/stacks/, tests/corpus/) OUT/<name>/ holds
what `python -m heimdall render` writes (manifests/ and resources.json, secrets masked),
plus outcome.txt: the summary and stack outputs, or the one-line refusal. OUT/reference.md
is the generated configuration reference. Used to show that a refactoring changes no
rendering (issue 20).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from heimdall.settings.loader import SettingsError  # noqa: E402
from heimdall.tooling import reference, render  # noqa: E402


def stack_files() -> list[Path]:
    return [
        *sorted(REPO.glob("Pulumi.*.yaml")),
        *sorted((REPO / "examples" / "stacks").glob("*.yaml")),
        *sorted((REPO / "tests" / "corpus").glob("*.yaml")),
    ]


def snapshot(stack: Path, out: Path) -> None:
    name = str(stack.relative_to(REPO)).replace("/", "__")
    into = out / name
    into.mkdir(parents=True)
    try:
        rendering = render.run_stack_file(str(stack))
    except (SettingsError, ValueError, OSError) as error:  # refusals, as the CLI prints them
        (into / "outcome.txt").write_text(f"refused: {type(error).__name__}: {error}\n")
        return
    render.write(rendering, into)
    outputs = {
        key: ("[secret]" if key in rendering.secret_outputs else value)
        for key, value in rendering.outputs.items()
    }
    (into / "outcome.txt").write_text(
        render.summary(rendering)
        + "\n"
        + json.dumps(outputs, indent=2, sort_keys=True, default=str)
        + "\n"
    )


def main() -> int:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=False)
    for stack in stack_files():
        snapshot(stack, out)
    (out / "reference.md").write_text(reference.reference())
    return 0


if __name__ == "__main__":
    sys.exit(main())
