"""What pulumi-kubernetes replaces an object for, as its diff decides it.

Mirrors pulumi/pulumi-kubernetes provider/pkg/provider/diff.go (the snapshot read is
commit 94977969d, after v4.33; the pinned SDK is 4.34): `forceNewProperties` (lines
23-38), the `forceNew` table (45-205), and provider/pkg/provider/provider.go `Diff`
(1559-1567): every object is replaced for a new `.metadata.name` or `.metadata.namespace`;
a Patch resource for nothing else; a Secret (unless the provider's `enableSecretMutable`
is on and the Secret is not `immutable`) for `.type`, `.stringData`, `.data`; a ConfigMap
(likewise `enableConfigMapMutable`) for `.binaryData`, `.data`; the other kinds for the
fields of their group, version and kind below. A path matches any change at or under it
(openapi/match.go `PatchPropertiesChanged`: a JSONPath query on the changed slice).
Everything else is updated in place. tests/conformance/test_replace_rules.py holds the
cases, the mocks (auto-name suffixes) and tests/engine.py (plans) use `replaced_by`.
"""

from __future__ import annotations

from typing import Any

Paths = tuple[str, ...]


def _label_selector(prefix: str) -> Paths:  # diff.go:243-251
    return tuple(
        f"{prefix}{suffix}"
        for suffix in (
            ".matchExpressions", ".matchExpressions.key", ".matchExpressions.operator",
            ".matchExpressions.values", ".matchLabels",
        )
    )


def _containers(*prefixes: str) -> Paths:  # diff.go:214-241
    fields = (
        "args", "command", "env", "env.value", "image", "imagePullPolicy", "lifecycle",
        "livenessProbe", "ports", "readinessProbe", "resources", "securityContext", "stdin",
        "stdinOnce", "terminationMessagePath", "terminationMessagePolicy", "tty",
        "volumeDevices", "volumeMounts", "workingDir",
    )
    return tuple(f"{prefix}.{field}" for prefix in prefixes for field in fields)


_DAEMON_SET = (".spec.selector", *_label_selector(".spec.selector"))  # diff.go:164-169
_DEPLOYMENT = (".spec.selector", *_label_selector(".spec.selector"))  # diff.go:171-176
_JOB = (  # diff.go:178-186
    ".spec.completions", ".spec.parallelism", ".spec.selector", ".spec.template",
    *_label_selector(".spec.selector"),
)
_POD_DISRUPTION_BUDGET = (".spec",)  # diff.go:188-190
_ROLE_BINDING = (".roleRef",)  # diff.go:192-194
_STATEFUL_SET = (  # diff.go:196-205
    ".spec.podManagementPolicy", ".spec.revisionHistoryLimit", ".spec.selector",
    ".spec.serviceName", ".spec.volumeClaimTemplates", *_label_selector(".spec.selector"),
)
_CORE = {  # diff.go:85-162
    "v1": {
        "PersistentVolume": tuple(
            f".spec.{source}"
            for source in (
                "awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "csi", "fc",
                "flexVolume", "flocker", "gcePersistentDisk", "glusterfs", "hostPath", "iscsi",
                "local", "nfs", "photonPersistentDisk", "portworxVolume", "quobyte", "rbd",
                "scaleIO", "storageos", "vsphereVolume",
            )
        ),
        "PersistentVolumeClaim": (
            ".spec.accessModes", ".spec.selector", ".spec.storageClassName", ".spec.volumeName",
            *_label_selector(".spec.selector"),
        ),
        "Pod": (
            *(
                f".spec.{field}"
                for field in (
                    "affinity", "automountServiceAccountToken", "dnsConfig", "dnsPolicy",
                    "enableServiceLinks", "hostAliases", "hostIPC", "hostNetwork", "hostPID",
                    "hostname", "imagePullSecrets", "nodeName", "nodeSelector", "overhead",
                    "preemptionPolicy", "priority", "priorityClassName", "readinessGates",
                    "restartPolicy", "runtimeClassName", "schedulerName", "securityContext",
                    "serviceAccount", "serviceAccountName", "shareProcessNamespace", "subdomain",
                    "terminationGracePeriodSeconds", "volumes",
                )
            ),
            *_containers(".spec.containers[*]", ".spec.initContainers[*]"),
        ),
        "ResourceQuota": (".spec.scopes",),
        "Secret": (".type",),
        "Service": (".spec.clusterIP",),
    }
}
# group -> version -> kind -> paths (diff.go:45-83)
FORCE_NEW: dict[str, dict[str, dict[str, Paths]]] = {
    "apps": {
        "v1beta1": {"StatefulSet": _STATEFUL_SET},
        "v1beta2": {"DaemonSet": _DAEMON_SET, "Deployment": _DEPLOYMENT, "StatefulSet": _STATEFUL_SET},
        "v1": {"DaemonSet": _DAEMON_SET, "Deployment": _DEPLOYMENT, "StatefulSet": _STATEFUL_SET},
    },
    "core": _CORE,
    "": _CORE,
    "policy": {"v1beta1": {"PodDisruptionBudget": _POD_DISRUPTION_BUDGET}},
    "rbac.authorization.k8s.io": {
        version: {"ClusterRoleBinding": _ROLE_BINDING, "RoleBinding": _ROLE_BINDING}
        for version in ("v1alpha1", "v1beta1", "v1")
    },
    "storage.k8s.io": {"v1": {"StorageClass": (".parameters", ".provisioner")}},
    "batch": {version: {"Job": _JOB} for version in ("v1beta1", "v1", "v2alpha1")},
}
METADATA = (".metadata.name", ".metadata.namespace")  # diff.go:207-212
SECRET_CONTENT = (".type", ".stringData", ".data")  # diff.go:28-29
CONFIG_MAP_CONTENT = (".binaryData", ".data")  # diff.go:32-33


def force_new_paths(
    api_version: str,
    kind: str,
    *,
    patch: bool = False,
    immutable: bool = False,
    secret_mutable: bool = False,
    config_map_mutable: bool = False,
) -> Paths:
    """The paths whose change replaces an object of this apiVersion and kind (the
    provider's flags default to off, as in pulumi-kubernetes)."""
    if patch:  # provider.go:1561-1566: Patch resources are updated in place otherwise.
        return METADATA
    group, _, version = api_version.rpartition("/")
    versions = FORCE_NEW.get(group)
    kinds = versions.get(version) if versions is not None else None
    if kinds is None:
        return METADATA
    if kind == "Secret" and group in ("", "core") and (not secret_mutable or immutable):
        return METADATA + SECRET_CONTENT
    if kind in kinds:
        return METADATA + kinds[kind]
    if kind == "ConfigMap" and group in ("", "core") and (not config_map_mutable or immutable):
        return METADATA + CONFIG_MAP_CONTENT
    return METADATA


def value_at(value: Any, path: str) -> Any:
    """The value at a diff.go path (`.spec.containers[*].image`); `[*]` maps over a list."""
    steps = path.lstrip(".").split(".")
    return _walk(value, steps)


def _walk(value: Any, steps: list[str]) -> Any:
    if not steps:
        return value
    step, rest = steps[0], steps[1:]
    every = step.endswith("[*]")
    key = step.removesuffix("[*]")
    if not isinstance(value, dict):
        return None
    found = value.get(key)
    if every:
        if not isinstance(found, list):
            return None
        return [_walk(item, rest) for item in found]
    return _walk(found, rest)


def replaced_by(old: dict[str, Any], new: dict[str, Any], *, patch: bool = False) -> list[str]:
    """The force-new paths that differ between two plain input maps (empty: an update)."""
    api_version = str(new.get("apiVersion") or "")
    kind = str(new.get("kind") or "")
    immutable = bool(new.get("immutable"))
    paths = force_new_paths(api_version, kind, patch=patch, immutable=immutable)
    return [path for path in paths if value_at(old, path) != value_at(new, path)]
