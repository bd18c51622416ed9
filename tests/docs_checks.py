"""Checks of one documented command against what is here: the render of every stack file,
the settings model, kubectl's own argument parsing, the Pulumi CLI's flags (read in its
source) and the PostgreSQL tools' --help. Each returns a list of problems (empty: fine).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from heimdall.settings.root import Settings
from heimdall.tooling import render
from heimdall.tooling.reference import rows
from tests.docs import PLACEHOLDER, REPO, Command, substituted
from tests.pg import postgres_bin_dir

KUBECTL = shutil.which("kubectl")  # None: kubectl's argument parsing is not checked (a skip says so)
# No cluster here: kubectl talks to a closed port, so whatever it refuses before it tries
# to connect is a refusal of the command as written (flags, arguments, manifests).
UNREACHABLE = "https://127.0.0.1:9"

# The Pulumi CLI's commands and flags the docs use, read in pulumi/pulumi at tag v3.259.0
# (the newest tag of the fetched snapshot; the SDK is 3.272):
PULUMI_FLAGS: dict[str, set[str]] = {
    # pkg/cmd/pulumi/operations/up.go 766-923: --stack, --replace, --target-dependents,
    # --policy-pack(-config), --refresh, --show-secrets, --skip-preview, --yes
    "up": {"--stack", "--replace", "--target-dependents", "--policy-pack", "--policy-pack-config",
           "--refresh", "--show-secrets", "--skip-preview", "--yes"},
    # pkg/cmd/pulumi/operations/preview.go 692-774
    "preview": {"--stack", "--show-secrets", "--replace", "--policy-pack", "--policy-pack-config",
                "--refresh"},
    # pkg/cmd/pulumi/operations/destroy.go 431-528, refresh.go 403-474
    "destroy": {"--stack", "--refresh", "--skip-preview", "--yes"},
    "refresh": {"--stack", "--skip-preview", "--yes"},
    # pkg/cmd/pulumi/stack/stack_output.go 70-76; stack.go 107-114; stack_init.go
    "stack output": {"--json", "--stack", "--show-secrets"},
    "stack": {"--stack", "--show-urns", "--show-secrets"},
    "stack init": set(),
    # pkg/cmd/pulumi/config/config.go 775-789 (set: --path, --secret, --type), 457 (rm)
    "config set": {"--path", "--secret", "--plaintext", "--type", "--stack"},
    "config rm": {"--path", "--stack"},
    # pkg/cmd/pulumi/state/state_unprotect.go 101-104; state_delete.go 157-163
    "state unprotect": {"--stack", "--all", "--yes"},
    "state delete": {"--stack", "--force", "--yes", "--all", "--target-dependents"},
    # pkg/cmd/pulumi/auth/login.go 284; pkg/cmd/pulumi/install/install.go
    "login": {"--local"},
    "install": set(),
}


@dataclass
class Facts:
    """What the docs' names are checked against: every stack file's render."""

    objects: set[tuple[str, str]] = field(default_factory=set)  # (kind, name)
    containers: set[str] = field(default_factory=set)
    labels: set[str] = field(default_factory=set)  # key=value
    outputs: dict[str, set[str]] = field(default_factory=dict)  # output -> providers giving it
    kinds: set[str] = field(default_factory=set)
    config_map_keys: set[str] = field(default_factory=set)  # what the program sets itself


KIND_ALIASES = {
    "statefulset": "statefulset", "statefulsets": "statefulset", "sts": "statefulset",
    "cronjob": "cronjob", "cronjobs": "cronjob", "job": "job", "jobs": "job",
    "pod": "pod", "pods": "pod", "po": "pod", "svc": "service", "service": "service",
    "services": "service", "pvc": "persistentvolumeclaim",
    "persistentvolumeclaim": "persistentvolumeclaim", "configmap": "configmap",
    "configmaps": "configmap", "cm": "configmap", "secret": "secret", "secrets": "secret",
    "cluster": "cluster", "clusters": "cluster",
}


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


@functools.lru_cache(maxsize=1)
def facts() -> Facts:
    found = Facts()
    stack_files = sorted(REPO.glob("Pulumi.*.yaml")) + sorted((REPO / "examples/stacks").glob("Pulumi.*.yaml"))
    renderings = [render.run_stack_file(str(path)) for path in stack_files]
    # The restore runbook's objects exist once restore.from is set, in no stack file.
    dev = render.load_stack_file("dev")
    restoring = {**dev.config, "heimdall:restore": '{"from": "heimdall-20250101T021500Z.dump"}'}
    renderings.append(render.run_stack(restoring, "dev", secret_keys=dev.secret_keys))
    # ... and an adopted volume's check, once database.embedded.existingClaim is set.
    adopting = {**dev.config, "heimdall:database": '{"embedded": {"existingClaim": "data-heimdall-postgresql-0"}}'}
    renderings.append(render.run_stack(adopting, "dev", secret_keys=dev.secret_keys))
    for rendering in renderings:
        provider = rendering.provider
        for key, value in rendering.outputs.items():
            if value is not None:
                found.outputs.setdefault(key, set()).add(provider)
        for obj in rendering.manifests():
            kind, name = obj["kind"].lower(), obj["metadata"]["name"]
            found.kinds.add(kind)
            found.objects.add((kind, name))
            if kind == "cluster":  # what the CloudNativePG operator makes for a Cluster
                found.objects.update({("secret", f"{name}-ca"), ("secret", f"{name}-app"),
                                      ("service", f"{name}-rw"), ("service", f"{name}-ro")})
            spec = obj.get("spec") or {}
            if kind == "configmap":
                found.config_map_keys.update(obj.get("data") or {})
            if kind == "statefulset":
                for ordinal in range(max(int(spec.get("replicas") or 1), 3)):
                    found.objects.add(("pod", f"{name}-{ordinal}"))
                    for template in spec.get("volumeClaimTemplates") or []:
                        found.objects.add(("persistentvolumeclaim", f"{template['metadata']['name']}-{name}-{ordinal}"))
            for node in _walk(obj):
                for container in (node.get("containers") or []) + (node.get("initContainers") or []):
                    if isinstance(container, dict) and "name" in container:
                        found.containers.add(container["name"])
                labels = node.get("labels")
                if isinstance(labels, dict):
                    found.labels.update(f"{k}={v}" for k, v in labels.items())
    found.kinds.add("pod")
    # A Helm release's objects, which the takeover (docs/operations.md) hands over: Helm's
    # release records (helm/pkg/storage/driver/secrets.go labels owner=helm,name=<release>)
    # and the chart's objects (app.kubernetes.io/instance=<release>).
    found.labels.update({f"owner=helm,name={PLACEHOLDER}", f"app.kubernetes.io/instance={PLACEHOLDER}"})
    return found


@functools.lru_cache(maxsize=1)
def settings_keys() -> dict[str, str]:
    """Every documented key path -> its type, from the configuration reference."""
    return {key: type_ for key, type_, _default, _description in rows(Settings)}


def is_settings_key(path: str) -> bool:
    """A key of the model, or a path below a key whose value is free-form (a map, a list,
    a Kubernetes object)."""
    keys = settings_keys()
    path = path.removeprefix("heimdall:")
    if path in keys:
        return True
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        prefix = ".".join(parts[:cut])
        if prefix in keys:
            return not any(k.startswith(prefix + ".") for k in keys)
    return False


# --- kubectl ---------------------------------------------------------------------------------


def kubectl_refusal(words: list[str], stdin: str, tmp: Path) -> list[str]:
    """What kubectl refuses in these arguments, before it would talk to a server."""
    if KUBECTL is None:
        return []
    kubeconfig = tmp / "kubeconfig"
    if not kubeconfig.exists():
        kubeconfig.write_text(
            "apiVersion: v1\nkind: Config\n"
            f"clusters: [{{name: none, cluster: {{server: '{UNREACHABLE}'}}}}]\n"
            "users: [{name: none, user: {token: none}}]\n"
            "contexts: [{name: none, context: {cluster: none, user: none}}]\n"
            "current-context: none\n"
        )
    # Run where the repository's files are (`--from-file=heimdall/scripts/...`), with the
    # local files a `kubectl cp` copies from (the user's own dump).
    work = tmp / "work"
    if not work.exists():
        work.mkdir()
        for entry in REPO.iterdir():
            (work / entry.name).symlink_to(entry)
    if "cp" in words:
        for word in words[words.index("cp") + 1:]:
            if not word.startswith("-") and ":" not in word and not (work / word).exists():
                (work / word).touch()
    result = subprocess.run(
        [KUBECTL, "--request-timeout=2s", *words[1:]],
        input=stdin, capture_output=True, text=True, timeout=60, cwd=work,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp), "KUBECONFIG": str(kubeconfig)},
    )
    unreachable = ("127.0.0.1:9", "connection to the server", "Unable to use a TTY")
    return [
        line for line in result.stderr.splitlines()
        if line.strip() and not any(mark in line for mark in unreachable)
    ]


_KUBECTL_VALUE_FLAGS = {"-n", "--namespace", "-c", "--container", "-l", "--selector", "-o",
                        "--output", "-f", "--filename", "-p", "--patch", "--type", "--image",
                        "--replicas", "--timeout", "--for", "--tail", "--restart", "--overrides",
                        "--field-selector", "--from", "--from-literal", "--from-file"}


def kubectl_names(words: list[str], created: set[str]) -> list[str]:
    """Objects, containers and labels the command names that no stack renders."""
    known = facts()
    problems: list[str] = []
    args: list[str] = []
    index = 1
    while index < len(words):
        word = words[index]
        if word == "--":
            break
        if word in _KUBECTL_VALUE_FLAGS:
            value = words[index + 1] if index + 1 < len(words) else ""
            if word in ("-c", "--container") and value not in known.containers | created:
                problems.append(f"no rendered pod has a container {value!r}")
            if word in ("-l", "--selector") and "=" in value and value not in known.labels:
                problems.append(f"no rendered object carries the label {value!r}")
            index += 2
            continue
        if word.startswith("--from=") or (word.startswith("-") and "=" not in word):
            if word.startswith("--from="):
                args.append(word.split("=", 1)[1])
            index += 1
            continue
        if not word.startswith("-"):
            args.append(word)
        index += 1
    if not args:
        return problems
    verb, rest = args[0], args[1:]
    if verb in ("create", "run", "apply"):
        rest = []  # what they name is new (kubectl_created), or a `--from=` checked below
    if verb == "rollout":
        rest = rest[1:]  # rollout restart KIND NAME
    named: list[tuple[str, str]] = []
    if verb in ("exec",) and rest:
        named.append(("pod", rest[0]))
    for word in [w for w in args if "/" in w and not w.startswith((".", "/"))]:
        kind, _, name = word.partition("/")
        named.append((KIND_ALIASES.get(kind, kind), name))
    if verb in ("get", "delete", "describe", "scale", "rollout", "patch", "logs") and rest and "/" not in rest[0]:
        kind = KIND_ALIASES.get(rest[0].split(",")[0])
        if kind and len(rest) > 1:
            named.extend((kind, name) for name in rest[1:] if "/" not in name)
        elif verb == "logs":
            named.append(("pod", rest[0]))
    for kind, name in named:
        if PLACEHOLDER in name or name in created or kind not in known.kinds:
            continue
        if kind == "job" and (kind, name) not in known.objects:
            continue  # auto-named: the docs name Jobs by label or placeholder
        if (kind, name) not in known.objects:
            problems.append(f"no stack renders {kind} {name!r}")
    return problems


def kubectl_created(words: list[str], stdin: str) -> set[str]:
    """Names the command itself creates (a Job from a CronJob, a pod it runs)."""
    plain = [w for w in words if not w.startswith("-")]
    found: set[str] = set()
    if "create" in plain:
        index = plain.index("create")
        if index + 2 < len(plain):
            found.add(plain[index + 2] if plain[index + 1] != "secret" else plain[index + 3])
    if "run" in plain:
        found.add(plain[plain.index("run") + 1])
    found.update(re.findall(r"^\s+name:\s*(\S+)", stdin, re.M)[:1])
    found.update(re.findall(r'"name":\s*"([^"]+)"', " ".join(words)))
    return found


# --- pulumi ----------------------------------------------------------------------------------


def pulumi_problems(words: list[str]) -> list[str]:
    plain = [w for w in words[1:] if not w.startswith("-")]
    command = " ".join(plain[:2]) if " ".join(plain[:2]) in PULUMI_FLAGS else plain[0] if plain else ""
    if command not in PULUMI_FLAGS:
        return [f"pulumi {' '.join(plain[:2])}: not a command this project checks (add its flags "
                "from pkg/cmd/pulumi/ to PULUMI_FLAGS)"]
    problems = [
        f"pulumi {command}: no flag {flag} (pkg/cmd/pulumi/)"
        for flag in (w.split("=", 1)[0] for w in words if w.startswith("-"))
        if flag not in PULUMI_FLAGS[command]
    ]
    operands = plain[len(command.split()):]
    if command == "stack output" and operands and operands[0] not in facts().outputs:
        problems.append(f"no stack exports an output {operands[0]!r}")
    if command in ("config set", "config rm") and operands:
        key = operands[0]
        if not is_settings_key(key if "--path" in words else key.split(".")[0]):
            problems.append(f"{key!r} is not a settings key (configuration reference)")
        if "--path" not in words and "." in key.removeprefix("heimdall:"):
            problems.append(f"{key!r} needs --path")
    if command == "state delete" and "--target-dependents" not in words:
        problems.append("pulumi state delete refuses a resource others depend on without "
                        "--target-dependents (pkg/cmd/pulumi/state/state_delete.go 120-128)")
    return problems


def config_set_value(words: list[str]) -> Optional[tuple[str, Any]]:
    """(top-level key, the stack file's value) a `pulumi config set` writes, or None for a
    secret or a placeholder. Top-level values are strings; below, with --path, `true` and
    `false` are booleans and integers numbers (pkg/cmd/pulumi/config/config.go 726-728)."""
    if "--secret" in words:
        return None
    operands = [w for w in words[3:] if not w.startswith("-")]
    if len(operands) != 2 or PLACEHOLDER in operands[1] or "__SUB" in operands[1]:
        return None
    key, raw = operands[0].removeprefix("heimdall:"), operands[1]
    if "--path" not in words or "." not in key:
        return key, raw
    value: Any = {"true": True, "false": False}.get(raw, raw)
    if re.fullmatch(r"-?[0-9]+", raw):
        value = int(raw)
    top, *rest = key.split(".")
    for part in reversed(rest):
        value = {part: value}
    return top, value


# --- the other tools ----------------------------------------------------------------------------


def postgres_tool_problems(tool: str, words: list[str]) -> list[str]:
    """What the PostgreSQL client refuses in the arguments (options, their values, extra
    arguments), run with no server to reach: a connection or file error means they parse."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        return []
    result = subprocess.run(
        [str(bin_dir / tool), *words[1:]], capture_output=True, text=True, timeout=30,
        stdin=subprocess.DEVNULL,
        env={"PATH": "/usr/bin:/bin", "PGHOST": "/nonexistent", "PGCONNECT_TIMEOUT": "2",
             "LC_ALL": "C"},
    )
    refused = ("unrecognized option", "invalid option", "requires an argument",
               "too many command-line arguments", "invalid value", "Try \"")
    return [f"{tool} refuses it: {line}" for line in result.stderr.splitlines()
            if any(mark in line for mark in refused)]


def python_problems(words: list[str]) -> list[str]:
    args = words[1:]
    while args and args[0] == "-X":
        args = args[2:]
    if args[:2] == ["-m", "heimdall"]:
        sub = [a for a in args[2:] if not a.startswith("-")][:1]
        result = subprocess.run(
            [sys.executable, "-m", "heimdall", *sub, "--help"], capture_output=True, text=True,
            cwd=REPO, timeout=120,
        )
        if result.returncode != 0:
            return [f"python -m heimdall {' '.join(sub)}: {result.stderr.strip()}"]
        return [f"python -m heimdall {sub[0]}: no flag {flag}" for flag in args[2:]
                if flag.startswith("--") and flag.split("=")[0] not in result.stdout]
    if args[:2] == ["-m", "cProfile"]:
        args = [a for a in args[2:] if a not in ("-s", "cumulative")]
    if args[:2] in (["-m", "pip"], ["-m", "venv"]):
        return []
    if args and args[0].endswith(".py"):
        if not (REPO / args[0]).is_file():
            return [f"{args[0]} does not exist"]
        flags = [a for a in args[1:] if a.startswith("--")]
        if flags:
            result = subprocess.run([sys.executable, args[0], "--help"], capture_output=True,
                                    text=True, cwd=REPO, timeout=120,
                                    env={**os.environ, "PYTHONPATH": str(REPO)})
            return [f"{args[0]}: no flag {flag}" for flag in flags if flag not in result.stdout]
        return []
    return [f"python {' '.join(args)}: not a command this project checks"]


def make_problems(words: list[str]) -> list[str]:
    result = subprocess.run(["make", "-n", *words[1:]], capture_output=True, text=True, cwd=REPO,
                            timeout=60)
    return [] if result.returncode == 0 else [f"make {' '.join(words[1:])}: {result.stderr.strip()}"]


CLOUD_TOOLS = {"aws", "gcloud", "az"}
SHELL_TOOLS = {"read", "export", "echo", "head", "tail", "grep", "cat", "base64", "mkdir", "cp",
               "date", "cd"}
# The names a cloud runbook must take from the stack's outputs: the real ones are
# auto-suffixed (heimdall-database-instance-abc1234).
GUESSED_NAMES = {"heimdall", "heimdall-rg"}


def cloud_problems(words: list[str]) -> list[str]:
    return [f"{words[0]} names {word!r}: the stack's real names are auto-suffixed; take them "
            "from `pulumi stack output databaseInstance` / `databaseResourceGroup`"
            for word in words[1:] if word in GUESSED_NAMES]


def stand_in(inner: str) -> str:
    """A value a substitution would produce, for checking the outer command."""
    if "get crd -o name" in inner:
        return "customresourcedefinition.apiextensions.k8s.io/clusters.postgresql.cnpg.io"
    if inner.startswith("pulumi stack output"):
        return "heimdall-database-instance-abc1234"
    if inner.startswith("date"):
        return "1767225600"
    return "sample"


def problems(command: Command, substitutions: list[str], created: set[str], tmp: Path) -> list[str]:
    values = [stand_in(inner) for inner in substitutions]
    words = [substituted(w, values) for w in command.words]
    words = [re.sub(r"\$\{?[A-Za-z_]+\}?", "sample", w) if w.startswith("$") else w for w in words]
    tool = words[0]
    if tool == "kubectl":
        found = [f"kubectl refuses it: {line}" for line in kubectl_refusal(words, command.stdin, tmp)]
        return found + kubectl_names(words, created)
    if tool == "pulumi":
        return pulumi_problems(words)
    if tool == "make":
        return make_problems(words)
    if tool in ("python", "python3") or tool.endswith("/bin/python"):
        return python_problems(words)
    if tool in ("psql", "pg_dump", "pg_restore", "pg_isready"):
        return postgres_tool_problems(tool, words)
    if tool in CLOUD_TOOLS:
        return cloud_problems(words)
    if tool == "helm":  # only reads a release's values (Helm is not installed here)
        plain, rest = [], iter(words[1:])
        for word in rest:
            if word in ("-n", "--namespace", "-o", "--output"):
                next(rest, None)  # the flag's value
            elif not word.startswith("-"):
                plain.append(word)
        return [] if plain[:2] == ["get", "values"] else [f"helm {' '.join(plain[:2])}: not a helm command the docs may give"]
    if tool in SHELL_TOOLS or tool.endswith(("/pip", "/checkov")):
        return []
    return [f"{tool}: not a command this project checks (tests/docs_checks.py)"]


def settings_problems(values: dict[str, Any]) -> list[str]:
    """Key paths of a stack file's `config:` that are no settings keys."""
    found = []

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict) and prefix in settings_keys() and settings_keys()[prefix] in ("object",):
            for key, value in node.items():
                walk(f"{prefix}.{key}", value)
            return
        if not is_settings_key(prefix):
            found.append(f"{prefix!r} is not a settings key (configuration reference)")

    for key, value in values.items():
        if ":" in key and not key.startswith("heimdall:"):
            continue
        walk(key.removeprefix("heimdall:"), value)
    return found
