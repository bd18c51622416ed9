"""`python -m heimdall from-helm VALUES.yaml [--release NAME] [--namespace NS] [--stack STACK]`:
a stack file that deploys the Heimdall a mitre/heimdall-helm values file deployed.

Both chart lines are read: the released chart 3.3.3 (`heimdall2/`, its own `postgres`
StatefulSet, top-level keys such as `databasePassword`, `githubClientId`;
helm_released.py) and the `develop` branch 1.0.0 (`heimdall/`, the Bitnami subchart,
`externalDatabase.*`, `heimdall.existingSecret`, `heimdall.config`; helm_develop.py).
Each turns its values into the Heimdall environment the chart gave the pod, and
`heimdall_settings` (helm_conversion.py) turns that environment into settings, so both
lines share one reading of Heimdall's own variables.

What holds data is adopted, not recreated: the chart's PostgreSQL claim
(`database.embedded.existingClaim`, the name the chart's templates gave it) and the
chart's Secret (`secrets.existingSecret` with the chart's key names). With `--secrets
pulumi` the Secret's values become Pulumi secrets instead, through printed `pulumi config
set --secret --path` commands that read each value from the cluster (the tool never
prints or writes a secret value). What cannot be carried over, and every key the chart
line does not know, is listed. The result is validated with the program's own settings
model before it is written: exit 0 written, 2 with one line when the values file cannot
be read or the result would be refused.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

import yaml

from heimdall.tooling.helm_conversion import PLACEHOLDER, Conversion

__all__ = ["PLACEHOLDER", "convert", "main", "report", "stack_document"]


# --- output -------------------------------------------------------------------------------------


def stack_document(conv: Conversion, source: str) -> str:
    config = {f"heimdall:{key}": value for key, value in conv.values.items()}
    header = (
        f"# Converted by `python -m heimdall from-helm` from {source} ({conv.chart}).\n"
        "# Read what the tool printed before `pulumi up`: the steps, the secrets and what was\n"
        "# not carried over.\n"
    )
    return header + yaml.safe_dump({"config": config}, sort_keys=False, default_flow_style=False, width=100)


def report(conv: Conversion) -> str:
    sections = [f"from-helm: {conv.chart}"]
    for title, lines in (
        ("before `pulumi up`", conv.steps),
        ("secrets (run these; no value is printed or written)", conv.secret_commands),
        ("not carried over", conv.not_carried),
        ("unknown keys (not read; check them)", conv.unknown),
    ):
        if lines:
            sections.append(f"{title}:\n" + "\n".join(f"  - {line}" for line in lines))
    return "\n".join(sections)


def validation_values(conv: Conversion) -> dict[str, Any]:
    """The settings with a placeholder where a printed command sets a secret."""
    filled = Conversion(conv.chart, conv.namespace, conv.stack, conv.secrets_mode, values=yaml.safe_load(yaml.safe_dump(conv.values)))
    for path in conv.secret_paths:
        filled.set(path, PLACEHOLDER)
    return filled.values


def convert(values: dict[str, Any], release: str, namespace: str, stack: Optional[str], secrets_mode: str, chart: Optional[str] = None) -> Conversion:
    from heimdall.tooling import helm_develop, helm_released

    line = chart or ("develop" if helm_develop.looks_like(values) else "3.3.3")
    module = helm_develop if line == "develop" else helm_released
    return module.convert(values, release, namespace, stack, secrets_mode)


def main(args: Any) -> int:
    from heimdall.settings.loader import SettingsError, parse_settings

    path = Path(args.values)
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        print(f"error: cannot read values file {path}: {str(error).splitlines()[0]}", file=sys.stderr)
        return 2
    if not isinstance(values, dict):
        print(f"error: {path} is not a Helm values file (a YAML map)", file=sys.stderr)
        return 2
    conv = convert(values, args.release, args.namespace, args.stack, args.secrets, args.chart)
    try:
        parse_settings(validation_values(conv))
    except SettingsError as error:
        print(report(conv), file=sys.stderr)
        print(f"error: the converted stack would be refused: {error}", file=sys.stderr)
        return 2
    document = stack_document(conv, path.name)
    if args.stack:
        target = Path(f"Pulumi.{args.stack}.yaml")
        if target.exists():
            print(f"error: {target} exists; remove it or choose another --stack", file=sys.stderr)
            return 2
        target.write_text(document)
        print(f"wrote {target}", file=sys.stderr)
    else:
        sys.stdout.write(document)
        sys.stdout.flush()
    print(report(conv), file=sys.stderr)
    return 0
