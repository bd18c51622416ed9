"""Command line.

- `python -m heimdall render STACK [--out DIR] [--show-secrets]`: the offline render.
- `python -m heimdall reference`: the configuration reference, from the settings model.
- `python -m heimdall schema [--stack-file]`: the JSON Schema of the settings.
- `python -m heimdall requirements STACK`: the `uv sync` options a stack needs beyond the
  core (`--extra aws` for its database provider's SDK; nothing for a stack that needs none),
  as in `uv sync --locked $(python -m heimdall requirements STACK)`.
- `python -m heimdall from-helm VALUES.yaml [--release NAME] [--namespace NS] [--stack STACK]`:
  a stack file from a mitre/heimdall-helm values file (tooling/from_helm.py).

`python -m heimdall render STACK [--out DIR] [--show-secrets]`: first what `pulumi
preview` does before the program runs (tooling/prerun.py: Pulumi.yaml, the stack file, the
project's config declarations, the config handed to the program); exit status 0 rendered
and valid; 1 the manifests fail schema validation; 2 the stack's settings (or stack file,
or project) are invalid, with one line saying why (the CLI's own words where it would stop).

`python -m heimdall schema [--stack-file]`: the JSON Schema of the settings on stdout
(with `--stack-file`, of a whole Pulumi.<stack>.yaml, for editors).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from heimdall.settings.loader import SettingsError

if TYPE_CHECKING:
    from heimdall.tooling.render import StackFile


def _stack_file(stack: str) -> Optional[StackFile]:
    """The stack file as the program would get it from `pulumi preview` (its project's
    config applied and checked), or None after printing one line on stderr."""
    from heimdall.tooling import render
    from heimdall.tooling.prerun import PreRunError
    from heimdall.tooling.stack_yaml import StackFileError

    try:
        return render.prerun_stack_file(stack)
    except StackFileError as error:  # file:line:column: what the Pulumi CLI would refuse
        print(f"error: {error}", file=sys.stderr)
    except PreRunError as error:  # the CLI's own message, before the program runs
        print(f"error: {error}", file=sys.stderr)
    except (OSError, ValueError) as error:
        print(f"error: cannot read stack file for {stack!r}: {error}", file=sys.stderr)
    return None


def _render(args: argparse.Namespace) -> int:
    from heimdall.tooling import deploy_plan, render

    if not args.no_validate and importlib.util.find_spec("kubernetes_validate") is None:
        print(
            "error: schema validation needs kubernetes-validate, a development tool "
            "(make venv installs it from uv.lock); or pass --no-validate",
            file=sys.stderr,
        )
        return 2
    stack_file = _stack_file(args.stack)
    if stack_file is None:
        return 2
    try:
        rendering = render.run_stack(
            stack_file.config,
            stack_file.name,
            secret_keys=stack_file.secret_keys,
            secure_leaves=stack_file.secure_leaves,
        )
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path("build") / stack_file.name
    render.write(rendering, out, show_secrets=args.show_secrets)
    print(render.summary(rendering, out))
    print(deploy_plan.format_plan(deploy_plan.deploy_plan(rendering)))
    if args.no_validate:
        return 0
    errors = render.validate_manifests(rendering.manifests(show_secrets=False), args.kube_version)
    if errors:
        print(f"schema validation failed ({len(errors)} errors):", file=sys.stderr)
        for line in errors:
            print(f"  {line}", file=sys.stderr)
        return 1
    print(
        f"schema validation: {len(rendering.manifests())} objects valid (strict) against "
        f"Kubernetes {', '.join(args.kube_version)}"
    )
    return 0


def _requirements(args: argparse.Namespace) -> int:
    """`--extra <name>` when the stack's provider needs an SDK beyond the core."""
    from heimdall.database import registry
    from heimdall.settings.loader import chosen_provider, decode_config_value

    stack_file = _stack_file(args.stack)
    if stack_file is None:
        return 2
    database = decode_config_value(stack_file.config.get("heimdall:database", "{}"))
    provider = chosen_provider({"database": database})
    if provider is None:
        given = database.get("provider") if isinstance(database, dict) else database
        print(f"error: heimdall:database.provider {given!r} is not one of: "
              f"{', '.join(registry.names())}", file=sys.stderr)
        return 2
    extra = registry.find(provider).extra
    if extra is not None:
        print(f"--extra {extra}")
    else:  # `uv sync --locked $(...)` is then the core alone, a valid command
        print(f"database provider {provider!r} needs no SDK beyond the core", file=sys.stderr)
    return 0


def _schema(args: argparse.Namespace) -> int:
    from heimdall.tooling import schema

    document = schema.stack_file_schema() if args.stack_file else schema.settings_schema()
    print(json.dumps(document, indent=2, sort_keys=True))
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m heimdall")
    commands = parser.add_subparsers(dest="command", required=True)
    render_cmd = commands.add_parser("render", help="render a stack offline, like helm template")
    render_cmd.add_argument("stack", help="stack name (Pulumi.STACK.yaml) or a stack file path")
    render_cmd.add_argument("--out", help="output directory (default build/STACK)")
    render_cmd.add_argument(
        "--show-secrets", action="store_true", help="write secret values (mock values) in clear"
    )
    render_cmd.add_argument(
        "--kube-version",
        action="append",
        help="Kubernetes version to validate against (repeatable; default 1.30.0 and 1.34.0)",
    )
    render_cmd.add_argument("--no-validate", action="store_true", help="skip schema validation")
    commands.add_parser("reference", help="print the configuration reference (Markdown)")
    requirements_cmd = commands.add_parser(
        "requirements",
        help="print the `uv sync` options a stack needs beyond the core (its provider's extra)",
    )
    requirements_cmd.add_argument("stack", help="stack name (Pulumi.STACK.yaml) or a stack file path")
    schema_cmd = commands.add_parser(
        "schema", help="print the JSON Schema of the settings (from the settings model)"
    )
    schema_cmd.add_argument(
        "--stack-file",
        action="store_true",
        help="schema of a whole Pulumi.<stack>.yaml (heimdall:<key> entries, secure values)",
    )
    helm_cmd = commands.add_parser(
        "from-helm", help="write a stack file from a mitre/heimdall-helm values file (3.3.3 or develop)"
    )
    helm_cmd.add_argument("values", help="the chart's values file (what `helm get values RELEASE` prints)")
    helm_cmd.add_argument("--release", default="heimdall", help="the Helm release name (default heimdall)")
    helm_cmd.add_argument("--namespace", default="heimdall", help="the release's namespace (default heimdall)")
    helm_cmd.add_argument("--stack", help="write Pulumi.STACK.yaml (default: print the stack file)")
    helm_cmd.add_argument(
        "--secrets",
        choices=("adopt", "pulumi"),
        default="adopt",
        help="adopt: reference the chart's Secret (default); pulumi: print commands that copy its values into Pulumi secrets",
    )
    helm_cmd.add_argument("--chart", choices=("3.3.3", "develop"), help="the chart line (default: recognised from the keys)")
    args = parser.parse_args(argv)
    if args.command == "from-helm":
        from heimdall.tooling import from_helm

        return from_helm.main(args)
    if args.command == "reference":
        from heimdall.tooling.reference import reference

        print(reference())
        return 0
    if args.command == "schema":
        return _schema(args)
    if args.command == "requirements":
        return _requirements(args)
    if args.command == "render":
        from heimdall.tooling.render import KUBERNETES_VERSIONS

        args.kube_version = args.kube_version or list(KUBERNETES_VERSIONS)
        return _render(args)
    return 2  # pragma: no cover - argparse enforces the choices
