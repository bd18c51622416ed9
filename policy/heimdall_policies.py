"""The guardrails `pulumi preview` and `pulumi up` enforce: a Pulumi policy pack.

Every policy is mandatory. They read resources as the engine sees them (camelCase inputs)
and import nothing of the program but the provider registry (the providers' settings
models: pydantic) and the providers' checks (standard library only), so the pack also
guards stacks this program did not build.

Kubernetes workloads (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob),
every container including init containers:
- kubernetes-resources: cpu and memory requests and limits;
- kubernetes-run-as-non-root: runAsNonRoot, and no runAsUser 0;
- kubernetes-no-privilege-escalation: allowPrivilegeEscalation false;
- kubernetes-no-privileged: not privileged, no host namespaces;
- kubernetes-pinned-images: a version tag or a digest, never latest or another moving tag;
ConfigMaps:
- kubernetes-no-secrets-in-configmaps: no password/secret/token-like keys, no private keys.

Managed PostgreSQL, checked by each database provider's policy.py (aws.rds.Instance and
ParameterGroup, gcp.sql.DatabaseInstance, azure-native dbforpostgresql Server,
Configuration and FirewallRule), found through the provider registry:
- managed-database-encrypted: storage encrypted (RDS; Cloud SQL and Azure always are);
- managed-database-private: no public access, or public only with explicit networks;
- managed-database-tls: TLS forced;
- managed-database-backups: automated backups on;
- managed-database-deletion-protection: in production stacks, deletion protection (the
  cloud's, and Pulumi's `protect`) and a final snapshot.

A stack is production when its name matches the policy's `productionStacks` pattern
(default: `prod` or `production`, alone or as a dash/underscore/dot separated part).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Optional

# The pack runs from policy/ in a virtualenv of its own (pulumi-policy and pydantic); the
# registry and the database providers' checks live in the project, one directory up.
_PROJECT = str(Path(__file__).resolve().parent.parent)
if _PROJECT not in sys.path:
    sys.path.insert(0, _PROJECT)

from pulumi_policy import (  # noqa: E402
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from heimdall.database import registry  # noqa: E402
from heimdall.database.facts import Check, PolicyChecks  # noqa: E402
from heimdall.engine_values import get_path  # noqa: E402

MANDATORY = EnforcementLevel.MANDATORY
PRODUCTION_PATTERN = r"(^|[-_.])prod(uction)?($|[-_.])"

# --- Kubernetes ---------------------------------------------------------------------------

# Type token -> path from the resource to its pod spec.
WORKLOAD_POD_SPEC: dict[str, tuple[str, ...]] = {
    "kubernetes:core/v1:Pod": ("spec",),
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}

MOVING_TAGS = re.compile(r"^(.*[-_.])?(latest|edge|nightly|main|master|dev|develop)$")
SECRET_LOOKING_KEY = re.compile(
    r"(password|passwd|secret|private[-_.]?key|api[-_.]?key|access[-_.]?key|credential|token)",
    re.IGNORECASE,
)
# Names of *where* a secret is, not the secret: OKTA_TOKEN_URL, DATABASE_PASSWORD_FILE.
REFERENCE_SUFFIX = re.compile(r"[-_.](url|uri|endpoint|path|file|name|ref)$", re.IGNORECASE)


def pod_spec(resource_type: str, props: Mapping[str, Any]) -> Optional[Mapping[str, Any]]:
    path = WORKLOAD_POD_SPEC.get(resource_type)
    if path is None:
        return None
    spec = get_path(props, *path)
    return spec if isinstance(spec, Mapping) else None


def containers(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Init containers (native sidecars included) and containers."""
    for field in ("initContainers", "containers"):
        for container in spec.get(field) or []:
            if isinstance(container, Mapping):
                yield container


def _label(container: Mapping[str, Any]) -> str:
    return f"container {container.get('name')!r}"


def _workload_policy(
    name: str,
    description: str,
    check: Callable[[Mapping[str, Any], ReportViolation], None],
) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        spec = pod_spec(args.resource_type, args.props)
        if spec is not None:
            check(spec, report_violation)

    return ResourceValidationPolicy(
        name=name, description=description, enforcement_level=MANDATORY, validate=validate
    )


def _check_resources(spec: Mapping[str, Any], report: ReportViolation) -> None:
    for container in containers(spec):
        resources = container.get("resources") or {}
        missing = [
            f"{kind}.{amount}"
            for kind in ("requests", "limits")
            for amount in ("cpu", "memory")
            if not get_path(resources, kind, amount)
        ]
        if missing:
            report(f"{_label(container)} has no {', '.join(missing)}", None)


def _check_non_root(spec: Mapping[str, Any], report: ReportViolation) -> None:
    pod = spec.get("securityContext") or {}
    for container in containers(spec):
        context = container.get("securityContext") or {}
        non_root = context.get("runAsNonRoot", pod.get("runAsNonRoot"))
        uid = context.get("runAsUser", pod.get("runAsUser"))
        if non_root is not True:
            report(f"{_label(container)} may run as root: set runAsNonRoot: true", None)
        elif uid == 0:
            report(f"{_label(container)} runs as uid 0 despite runAsNonRoot", None)


def _check_escalation(spec: Mapping[str, Any], report: ReportViolation) -> None:
    for container in containers(spec):
        if get_path(container, "securityContext", "allowPrivilegeEscalation") is not False:
            report(f"{_label(container)} must set allowPrivilegeEscalation: false", None)


def _check_privileged(spec: Mapping[str, Any], report: ReportViolation) -> None:
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field) is True:
            report(f"the pod shares the node's namespace ({field})", None)
    for container in containers(spec):
        if get_path(container, "securityContext", "privileged") is True:
            report(f"{_label(container)} is privileged", None)


def image_tag(image: str) -> tuple[Optional[str], Optional[str]]:
    """(tag, digest) of an image reference; a registry port is not a tag."""
    reference, _, digest = image.partition("@")
    last = reference.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else None
    return tag, digest or None


def _check_images(spec: Mapping[str, Any], report: ReportViolation) -> None:
    for container in containers(spec):
        image = container.get("image")
        if not isinstance(image, str):
            continue
        tag, digest = image_tag(image)
        if digest:
            continue
        if tag is None:
            report(f"{_label(container)} image {image!r} has no tag (that is latest): pin a version or digest", None)
        elif MOVING_TAGS.match(tag):
            report(f"{_label(container)} image {image!r} uses the moving tag {tag!r}: pin a version or digest", None)


def _no_secrets_in_config_maps(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != "kubernetes:core/v1:ConfigMap":
        return
    for field in ("data", "binaryData"):
        for key, value in (args.props.get(field) or {}).items():
            if SECRET_LOOKING_KEY.search(key) and not REFERENCE_SUFFIX.search(key):
                report(f"ConfigMap key {key!r} looks like a secret: put it in a Secret", None)
            if isinstance(value, str) and "PRIVATE KEY-----" in value:
                report(f"ConfigMap key {key!r} holds a private key: put it in a Secret", None)


kubernetes_resources = _workload_policy(
    "kubernetes-resources",
    "Every container, init containers included, sets cpu and memory requests and limits.",
    _check_resources,
)
kubernetes_run_as_non_root = _workload_policy(
    "kubernetes-run-as-non-root",
    "Every container runs as a non-root user (runAsNonRoot: true).",
    _check_non_root,
)
kubernetes_no_privilege_escalation = _workload_policy(
    "kubernetes-no-privilege-escalation",
    "Every container sets allowPrivilegeEscalation: false.",
    _check_escalation,
)
kubernetes_no_privileged = _workload_policy(
    "kubernetes-no-privileged",
    "No privileged container and no host network, PID or IPC namespace.",
    _check_privileged,
)
kubernetes_pinned_images = _workload_policy(
    "kubernetes-pinned-images",
    "Images are pinned to a version tag or a digest, never latest or another moving tag.",
    _check_images,
)
kubernetes_no_secrets_in_config_maps = ResourceValidationPolicy(
    name="kubernetes-no-secrets-in-configmaps",
    description="ConfigMaps hold no secret-looking keys (password, secret, token, ...) and no private keys.",
    enforcement_level=MANDATORY,
    validate=_no_secrets_in_config_maps,
)

# --- managed databases ----------------------------------------------------------------------

def provider_checks() -> list[PolicyChecks]:
    """Every registered database provider's checks (its package's policy.py)."""
    return [checks for provider in registry.PROVIDERS if (checks := provider.policy()) is not None]


def _provider_policy(
    kind: Callable[[PolicyChecks], Optional[Check]],
) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    """A policy running one kind of check (`kind` picks it) of every provider."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for checks in provider_checks():
            check = kind(checks)
            if check is not None:
                check(args.resource_type, args.props, lambda message: report_violation(message, None))

    return validate


def is_production(args: ResourceValidationArgs) -> bool:
    """The stack's name (from the URN) matches the configured production pattern."""
    parts = args.urn.split("::")
    stack = parts[0].rsplit(":", 1)[-1] if parts else ""
    pattern = (args.get_config() or {}).get("productionStacks") or PRODUCTION_PATTERN
    return re.search(pattern, stack) is not None


def _deletion_protection(args: ResourceValidationArgs, report: ReportViolation) -> None:
    found: list[str] = []
    for checks in provider_checks():
        if checks.deletion_protection is not None:
            checks.deletion_protection(args.resource_type, args.props, bool(args.opts.protect), found.append)
    # Only a managed database's own check reports anything; the stack decides whether it counts.
    if found and is_production(args):
        for message in found:
            report(message, None)


managed_database_encrypted = ResourceValidationPolicy(
    name="managed-database-encrypted",
    description="Managed database storage is encrypted at rest.",
    enforcement_level=MANDATORY,
    validate=_provider_policy(lambda checks: checks.encrypted),
)
managed_database_private = ResourceValidationPolicy(
    name="managed-database-private",
    description="Managed databases are not public, or public only to explicit networks.",
    enforcement_level=MANDATORY,
    validate=_provider_policy(lambda checks: checks.private),
)
managed_database_tls = ResourceValidationPolicy(
    name="managed-database-tls",
    description="Managed databases force TLS on every connection.",
    enforcement_level=MANDATORY,
    validate=_provider_policy(lambda checks: checks.tls),
)
managed_database_backups = ResourceValidationPolicy(
    name="managed-database-backups",
    description="Managed databases take automated backups.",
    enforcement_level=MANDATORY,
    validate=_provider_policy(lambda checks: checks.backups),
)
managed_database_deletion_protection = ResourceValidationPolicy(
    name="managed-database-deletion-protection",
    description="In production stacks, managed databases have deletion protection and keep a final snapshot.",
    enforcement_level=MANDATORY,
    validate=_deletion_protection,
    config_schema=PolicyConfigSchema(
        properties={
            "productionStacks": {
                "type": "string",
                "default": PRODUCTION_PATTERN,
                "description": "Regular expression matched against the stack name.",
            }
        }
    ),
)

POLICIES: list[ResourceValidationPolicy] = [
    kubernetes_resources,
    kubernetes_run_as_non_root,
    kubernetes_no_privilege_escalation,
    kubernetes_no_privileged,
    kubernetes_pinned_images,
    kubernetes_no_secrets_in_config_maps,
    managed_database_encrypted,
    managed_database_private,
    managed_database_tls,
    managed_database_backups,
    managed_database_deletion_protection,
]
