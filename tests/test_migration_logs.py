"""The migration Job's log never holds Heimdall's secrets.

For every stack file, the Job's rendered command runs (with dash as /bin/sh, and with bash)
against a stand-in `yarn` that prints the secrets from its environment the way Heimdall's
admin seeder prints ADMIN_PASSWORD, on stdout and stderr, split across writes, and fails
when asked to. The values are full of regex and shell metacharacters.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Optional

import pytest

from heimdall.kube import pods
from heimdall.migration import REDACTED_ENV
from heimdall.tooling.render import run_stack_file
from tests.conftest import STACK_FILES, containers

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None,
    reason="node is missing: the migration Job's output filter runs in node "
    "(.ci/run installs the Debian package nodejs)",
)

SECRETS = {
    "ADMIN_PASSWORD": "a/b&c\\d.e*f[g$h'i\"j`k l",
    "DATABASE_PASSWORD": "$(touch pwned) & \\1 .* [x] ${HOME} 'q' \"dq\" ~",
    "JWT_SECRET": "^.*$|[a-z]+\\/&/g; `id` > /dev/null",
    "API_KEY_SECRET": "%s %d \\\\ [[ ]] $$ * ? !x & | <a>",
}
GENERATED = "4f1d0c9e8b7a6f5e4d3c2b1a09f8e7d6"  # what the seeder prints without ADMIN_PASSWORD

# Prints what `yarn backend sequelize ...` prints in the Heimdall image, secrets included;
# the YARN_FAIL_AT-th call exits with YARN_FAIL_STATUS.
STAND_IN_YARN = r"""#!/bin/sh
echo "$*" >> "$CALLS"
call=$(wc -l < "$CALLS")
echo "yarn run v1.22.22"
echo "\$ yarn workspace heimdall-server $*"
case "$*" in
  *db:seed*)
    echo "No administrator user exists! Creating an administrator."
    echo "New administrator email is: admin@heimdall.local"
    echo "New administrator password is: ${ADMIN_PASSWORD:-$GENERATED_PASSWORD}"
    echo "You should change this password on first login." ;;
esac
printf 'connecting as postgres with %s (jwt %s)\n' "$DATABASE_PASSWORD" "$JWT_SECRET"
printf 'API_KEY_SECRET=%s\n' "$API_KEY_SECRET" >&2
rest=${ADMIN_PASSWORD#????}
printf 'split %s' "${ADMIN_PASSWORD%"$rest"}"
sleep 0.05
printf '%s across writes\n' "$rest"
printf '{"password":"%s"}\n' "$(printf '%s' "$ADMIN_PASSWORD" | sed 's/[\\"]/\\&/g')" >&2
if [ "$call" = "${YARN_FAIL_AT:-0}" ]; then
  printf 'ERROR: password authentication failed for user "postgres" (%s)\n' "$DATABASE_PASSWORD" >&2
  exit "$YARN_FAIL_STATUS"
fi
echo "Done in 1.23s."
"""


@functools.cache
def migrate_container(stack_file: str) -> dict[str, Any]:
    rendering = run_stack_file(stack_file)
    (job,) = [
        m
        for m in rendering.manifests()
        if m["kind"] == "Job"
        and m["metadata"]["labels"]["app.kubernetes.io/name"] == "heimdall-migration"
    ]
    return containers(job["spec"]["template"]["spec"], "migrate")


def shells() -> list[str]:
    found = ["/bin/sh"]
    bash = shutil.which("bash")
    if bash:
        found.append(bash)
    return found


STACKS = [pytest.param(str(path), id=path.name) for path in STACK_FILES]


def run(
    command: list[str],
    tmp_path: Path,
    secrets: dict[str, str],
    fail_at: int = 0,
    fail_status: int = 0,
    plain_env: Optional[dict[str, str]] = None,
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run `command` as the container would, with the stand-in yarn first on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    yarn = bin_dir / "yarn"
    yarn.write_text(STAND_IN_YARN)
    yarn.chmod(0o755)
    calls = tmp_path / "calls"
    calls.write_text("")
    env = {
        **(plain_env or {}),
        **secrets,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "CALLS": str(calls),
        "GENERATED_PASSWORD": GENERATED,
        "YARN_FAIL_AT": str(fail_at),
        "YARN_FAIL_STATUS": str(fail_status),
    }
    result = subprocess.run(
        command,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    return result, calls.read_text().splitlines()


def with_shell(command: list[str], shell: str) -> list[str]:
    assert command.count("/bin/sh") == 1, command
    return [shell if part == "/bin/sh" else part for part in command]


def rendered(stack_file: str, shell: str) -> tuple[list[str], int, dict[str, str]]:
    container = migrate_container(stack_file)
    command: list[str] = container["command"]
    plain = {e["name"]: str(e["value"]) for e in container.get("env", []) if "value" in e}
    return with_shell(command, shell), len(command[-1].splitlines()), plain


def assert_no_secret(output: str, values: list[str]) -> None:
    for value in values:
        assert value not in output
        # Nor a piece long enough to matter (the split-across-writes line, for one).
        for start in range(0, len(value) - 7):
            assert value[start : start + 8] not in output, (value, output)


# --- the rendered command ---------------------------------------------------------------


@pytest.mark.parametrize("stack_file", STACKS)
def test_every_stack_runs_the_commands_through_the_redacting_filter(stack_file: str) -> None:
    container = migrate_container(stack_file)
    command = container["command"]
    assert command[:2] == ["node", "-e"]
    assert command[2] == pods.script("redact-output.js")
    assert command[3:6] == ["--", ",".join(REDACTED_ENV), "/bin/sh"]
    assert command[6] == "-ec"
    # Every secret the container reads is filtered, and none is on the command line.
    from_secrets = {
        e["name"] for e in container["env"] if "secretKeyRef" in (e.get("valueFrom") or {})
    }
    assert {"ADMIN_PASSWORD", "DATABASE_PASSWORD", "JWT_SECRET"} <= from_secrets
    assert from_secrets <= set(REDACTED_ENV)
    assert container["workingDir"] == "/app"


# --- the rendered command, run ------------------------------------------------------------


@pytest.mark.parametrize("shell", shells())
@pytest.mark.parametrize("stack_file", STACKS)
def test_secrets_never_reach_the_output(stack_file: str, shell: str, tmp_path: Path) -> None:
    command, count, plain = rendered(stack_file, shell)
    result, calls = run(command, tmp_path, SECRETS, plain_env=plain)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert len(calls) == count
    assert_no_secret(output, list(SECRETS.values()))
    # Everything else passes, with markers that say which secret was there.
    assert "No administrator user exists! Creating an administrator." in result.stdout
    assert "New administrator email is: admin@heimdall.local" in result.stdout
    assert "New administrator password is: [REDACTED]\n" in result.stdout
    assert (
        "connecting as postgres with [REDACTED DATABASE_PASSWORD] (jwt [REDACTED JWT_SECRET])"
        in result.stdout
    )
    assert "split [REDACTED ADMIN_PASSWORD] across writes" in result.stdout
    assert "API_KEY_SECRET=[REDACTED API_KEY_SECRET]\n" in result.stderr
    assert '{"password":"[REDACTED ADMIN_PASSWORD]"}' in result.stderr
    assert result.stdout.count("Done in 1.23s.") == count
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("shell", shells())
@pytest.mark.parametrize("stack_file", STACKS)
def test_a_failing_command_fails_the_job_with_its_status_and_error(
    stack_file: str, shell: str, tmp_path: Path
) -> None:
    command, count, plain = rendered(stack_file, shell)
    for fail_at, status in ((1, 3), (count, 42)):
        result, calls = run(command, tmp_path, SECRETS, fail_at, status, plain)
        output = result.stdout + result.stderr
        assert result.returncode == status, output
        assert len(calls) == fail_at  # set -e: nothing runs after the failing command
        assert result.stdout.count("Done in 1.23s.") == fail_at - 1
        assert (
            'ERROR: password authentication failed for user "postgres" '
            "([REDACTED DATABASE_PASSWORD])" in result.stderr
        )
        assert_no_secret(output, list(SECRETS.values()))


@pytest.mark.parametrize("stack_file", STACKS)
def test_a_random_admin_password_is_not_printed_either(stack_file: str, tmp_path: Path) -> None:
    command, _, plain = rendered(stack_file, "/bin/sh")
    secrets = {**SECRETS, "ADMIN_PASSWORD": ""}
    result, _ = run(command, tmp_path, secrets, plain_env=plain)
    assert result.returncode == 0, result.stderr
    assert GENERATED not in result.stdout + result.stderr
    assert "New administrator password is: [REDACTED]\n" in result.stdout


# --- the filter itself --------------------------------------------------------------------


def redact(script: str, env: dict[str, str], names: str = "S,T") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", "-e", pods.script("redact-output.js"), "--", names, "/bin/sh", "-c", script],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_values_are_literal_and_the_longest_wins() -> None:
    result = redact('echo "x $S y $T z"; echo ".*.*"', {"S": ".*", "T": "a.*b.*c"})
    assert result.stdout == "x [REDACTED S] y [REDACTED T] z\n[REDACTED S][REDACTED S]\n"
    inner = redact('echo "$T"', {"S": "pass", "T": "my pass word"})
    assert inner.stdout == "[REDACTED T]\n"


def test_a_value_with_newlines_is_caught_across_lines_and_writes() -> None:
    # The first write ends a line, and with it what could be the start of the value.
    script = 'printf "before first\\n"; sleep 0.2; printf "second after\\nnext line\\n"'
    result = redact(script, {"S": "first\nsecond"})
    assert result.stdout == "before [REDACTED S] after\nnext line\n"


def test_escaped_and_encoded_forms_are_redacted() -> None:
    result = redact(r"""printf '%s\n' '{"p":"q\"x"}' 'db://u:q%22x@h'""", {"S": 'q"x'})
    assert result.stdout == '{"p":"[REDACTED S]"}\ndb://u:[REDACTED S]@h\n'


def test_output_without_a_final_newline_and_long_lines_pass() -> None:
    # Longer than the filter waits for a line's end (64 KiB), with a secret split by a pause
    # right where it has to let the line go.
    script = (
        'x=$(yes x | head -n 70000 | tr -d "\\n"); printf "%s$S%s" "$x" "$x"; '
        'printf "%s%s" "$x" "s3c"; sleep 0.2; printf "r3t%s" "$x"; printf tail'
    )
    result = redact(script, {"S": "s3cr3t"})
    long = "x" * 70_000
    assert result.stdout == f"{long}[REDACTED S]{long}{long}[REDACTED S]{long}tail"


def test_a_value_inside_the_marker_does_not_loop() -> None:
    result = redact('echo "$S $S"', {"S": "RED"})
    assert result.stdout == "[REDACTED S] [REDACTED S]\n"


def test_unset_and_empty_variables_redact_nothing() -> None:
    result = redact('echo "plain text"', {"S": ""})
    assert result.stdout == "plain text\n"


def filter_command(script: str) -> list[str]:
    return ["node", "-e", pods.script("redact-output.js"), "--", "S", "/bin/sh", "-c", script]


def test_all_output_arrives_when_the_reader_is_slow() -> None:
    # The last lines (often the error) must not be lost when the log pipe is full at exit.
    process = subprocess.Popen(
        filter_command("head -c 300000 /dev/zero | tr '\\0' y; echo; exit 4"),
        stdout=subprocess.PIPE,
    )
    time.sleep(0.5)
    out, _ = process.communicate(timeout=60)
    assert (len(out), process.returncode) == (300_001, 4)


def test_a_term_signal_stops_the_commands_and_reports_it() -> None:
    process = subprocess.Popen(
        filter_command("echo started; sleep 60; echo never"),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "started\n"
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=10)  # the sleep went too: it holds the pipe
    assert out == "" and process.returncode == 128 + signal.SIGTERM


def test_exit_status_of_a_signal_and_of_a_missing_command() -> None:
    assert redact("kill -TERM $$", {}).returncode == 128 + 15
    missing = subprocess.run(
        ["node", "-e", pods.script("redact-output.js"), "--", "S", "/nonexistent/yarn"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 127
    assert "cannot run /nonexistent/yarn" in missing.stderr
