"""The guardrails `pulumi preview` and `pulumi up` enforce: a Pulumi policy pack.

Every policy is mandatory. They read resources as the engine sees them (camelCase inputs)
and never import the program, so the pack also guards stacks this program did not build.

Kubernetes workloads (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob),
every container including init containers:
- kubernetes-resources: cpu and memory requests and limits;
- kubernetes-run-as-non-root: runAsNonRoot, and no runAsUser 0;
- kubernetes-no-privilege-escalation: allowPrivilegeEscalation false;
- kubernetes-no-privileged: not privileged, no host namespaces;
- kubernetes-pinned-images: a version tag or a digest, never latest or another moving tag;
ConfigMaps:
- kubernetes-no-secrets-in-configmaps: no password/secret/token-like keys, no private keys.

Managed PostgreSQL (aws.rds.Instance and ParameterGroup, gcp.sql.DatabaseInstance,
azure-native dbforpostgresql Server, Configuration and FirewallRule):
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

import ipaddress
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Optional

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

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


def _get(value: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def pod_spec(resource_type: str, props: Mapping[str, Any]) -> Optional[Mapping[str, Any]]:
    path = WORKLOAD_POD_SPEC.get(resource_type)
    if path is None:
        return None
    spec = _get(props, *path)
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
            if not _get(resources, kind, amount)
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
        if _get(container, "securityContext", "allowPrivilegeEscalation") is not False:
            report(f"{_label(container)} must set allowPrivilegeEscalation: false", None)


def _check_privileged(spec: Mapping[str, Any], report: ReportViolation) -> None:
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field) is True:
            report(f"the pod shares the node's namespace ({field})", None)
    for container in containers(spec):
        if _get(container, "securityContext", "privileged") is True:
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

RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
CLOUD_SQL_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
# azure-native tokens, with or without an explicit API version module.
AZURE_SERVER = re.compile(r"^azure-native:dbforpostgresql(/v[0-9a-z]+)?:Server$")
AZURE_CONFIGURATION = re.compile(r"^azure-native:dbforpostgresql(/v[0-9a-z]+)?:Configuration$")
AZURE_FIREWALL_RULE = re.compile(r"^azure-native:dbforpostgresql(/v[0-9a-z]+)?:FirewallRule$")


def _is_postgres_rds(props: Mapping[str, Any]) -> bool:
    return str(props.get("engine") or "").startswith("postgres")


def _major(version: Any) -> Optional[int]:
    match = re.match(r"^\D*(\d+)", str(version or ""))
    return int(match.group(1)) if match else None


def _encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == RDS_INSTANCE and args.props.get("storageEncrypted") is not True:
        report("RDS storage must be encrypted: set storageEncrypted: true", None)


def _ipv4(address: Any) -> Optional[int]:
    try:
        return int(ipaddress.IPv4Address(str(address)))
    except ValueError:
        return None


def _is_open_network(cidr: str) -> bool:
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen == 0
    except ValueError:
        return False


def _private(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if args.resource_type == RDS_INSTANCE and props.get("publiclyAccessible") is True:
        report("the RDS instance must not be publicly accessible (publiclyAccessible: false)", None)
    elif args.resource_type == CLOUD_SQL_INSTANCE:
        ip = _get(props, "settings", "ipConfiguration") or {}
        # Cloud SQL gives an instance a public IPv4 address unless told not to.
        if ip.get("ipv4Enabled") is not False:
            networks = [n.get("value", "") for n in ip.get("authorizedNetworks") or []]
            if not networks:
                report(
                    "the Cloud SQL instance has a public IP without authorizedNetworks: "
                    "set ipv4Enabled: false (private IP) or list the networks allowed",
                    None,
                )
            for network in networks:
                if _is_open_network(network):
                    report(f"Cloud SQL authorized network {network!r} admits the whole internet", None)
    elif AZURE_SERVER.match(args.resource_type):
        # Private access (a delegated subnet, or public access Disabled) is private; public
        # access Enabled admits only the firewall rules' ranges, checked one by one below.
        # Neither said: Azure picks public access, which nobody chose.
        network = props.get("network") or {}
        if not network.get("delegatedSubnetResourceId") and network.get("publicNetworkAccess") not in (
            "Disabled",
            "Enabled",
        ):
            report(
                "choose the Azure server's network access: a delegated subnet (private), or "
                "network.publicNetworkAccess Disabled, or Enabled with firewall rules",
                None,
            )
    elif AZURE_FIREWALL_RULE.match(args.resource_type):
        start, end = _ipv4(props.get("startIpAddress")), _ipv4(props.get("endIpAddress"))
        if start == 0 and end == 0:
            # Azure's "allow Azure services" rule: any tenant's services, not just yours.
            report("the firewall rule 0.0.0.0-0.0.0.0 admits every Azure service of every tenant", None)
        elif start is not None and end is not None and end - start >= 2**31:
            report(f"the firewall rule {props.get('startIpAddress')}-{props.get('endIpAddress')} "
                   "admits half the internet or more", None)


def _tls(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if args.resource_type == RDS_PARAMETER_GROUP:
        family = str(props.get("family") or "")
        if not family.startswith("postgres"):
            return
        values = {p.get("name"): str(p.get("value")) for p in props.get("parameters") or []}
        force = values.get("rds.force_ssl")
        if force is not None and force != "1":
            report("rds.force_ssl must be 1 (TLS forced)", None)
        elif force is None and (_major(family) or 0) < 15:
            report(f"{family} does not force TLS by default: set rds.force_ssl=1", None)
    elif args.resource_type == RDS_INSTANCE and _is_postgres_rds(props):
        # Without a parameter group the default group applies; it forces TLS from 15 on.
        if not props.get("parameterGroupName") and (_major(props.get("engineVersion")) or 0) < 15:
            report("PostgreSQL before 15 on RDS needs a parameter group with rds.force_ssl=1", None)
    elif args.resource_type == CLOUD_SQL_INSTANCE:
        ip = _get(props, "settings", "ipConfiguration") or {}
        forced = ip.get("sslMode") in ("ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED")
        if not forced and ip.get("requireSsl") is not True:
            report("Cloud SQL must force TLS: set settings.ipConfiguration.sslMode ENCRYPTED_ONLY", None)
    elif (
        AZURE_CONFIGURATION.match(args.resource_type)
        and props.get("configurationName") == "require_secure_transport"
        and str(props.get("value", "")).lower() not in ("on", "true", "1")
    ):
        report("require_secure_transport must stay on (TLS forced)", None)


def _backups(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if args.resource_type == RDS_INSTANCE:
        retention = props.get("backupRetentionPeriod")
        if not isinstance(retention, (int, float)) or retention < 1:
            report("RDS automated backups must be on: set backupRetentionPeriod to 1 or more days", None)
    elif args.resource_type == CLOUD_SQL_INSTANCE:
        if _get(props, "settings", "backupConfiguration", "enabled") is not True:
            report("Cloud SQL backups must be on: set settings.backupConfiguration.enabled", None)
    elif AZURE_SERVER.match(args.resource_type):
        days = _get(props, "backup", "backupRetentionDays")
        if days is not None and days < 7:
            report("Azure backup retention must be at least 7 days", None)


def is_production(args: ResourceValidationArgs) -> bool:
    """The stack's name (from the URN) matches the configured production pattern."""
    parts = args.urn.split("::")
    stack = parts[0].rsplit(":", 1)[-1] if parts else ""
    pattern = (args.get_config() or {}).get("productionStacks") or PRODUCTION_PATTERN
    return re.search(pattern, stack) is not None


def _deletion_protection(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    managed = (
        args.resource_type in (RDS_INSTANCE, CLOUD_SQL_INSTANCE)
        or AZURE_SERVER.match(args.resource_type) is not None
    )
    if not managed or not is_production(args):
        return
    if not args.opts.protect:
        report("a production database must be protected in Pulumi (protect: true)", None)
    if args.resource_type == RDS_INSTANCE:
        if props.get("deletionProtection") is not True:
            report("a production RDS instance needs deletionProtection: true", None)
        if props.get("skipFinalSnapshot") is True:
            report("a production RDS instance must take a final snapshot (skipFinalSnapshot: false)", None)
    elif args.resource_type == CLOUD_SQL_INSTANCE:
        # deletionProtection (Pulumi-side) defaults to true; refuse only an explicit false.
        if props.get("deletionProtection") is False:
            report("a production Cloud SQL instance needs deletionProtection: true", None)
        if _get(props, "settings", "deletionProtectionEnabled") is not True:
            report(
                "a production Cloud SQL instance needs settings.deletionProtectionEnabled: true",
                None,
            )


managed_database_encrypted = ResourceValidationPolicy(
    name="managed-database-encrypted",
    description="Managed database storage is encrypted at rest.",
    enforcement_level=MANDATORY,
    validate=_encrypted,
)
managed_database_private = ResourceValidationPolicy(
    name="managed-database-private",
    description="Managed databases are not public, or public only to explicit networks.",
    enforcement_level=MANDATORY,
    validate=_private,
)
managed_database_tls = ResourceValidationPolicy(
    name="managed-database-tls",
    description="Managed databases force TLS on every connection.",
    enforcement_level=MANDATORY,
    validate=_tls,
)
managed_database_backups = ResourceValidationPolicy(
    name="managed-database-backups",
    description="Managed databases take automated backups.",
    enforcement_level=MANDATORY,
    validate=_backups,
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
