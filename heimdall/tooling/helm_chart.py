"""What both mitre/heimdall-helm chart lines share, read in their templates
(`heimdall2/templates/` at tag heimdall-3.3.3, `heimdall/templates/` on develop): object
names, the Heimdall image and pod, the Ingress, and the steps that hand the chart's
objects over to the stack."""

from __future__ import annotations

from typing import Any

from heimdall.tooling.helm_conversion import MOVING_TAGS, Conversion

CHART_NAME = "heimdall"  # Chart.yaml `name` on both lines


def fullname(values: dict[str, Any], release: str) -> str:
    """`heimdall.fullname` of _helpers.tpl (the same on both lines)."""
    if values.get("fullnameOverride"):
        return str(values["fullnameOverride"])[:63].rstrip("-")
    name = values.get("nameOverride") or CHART_NAME
    return (release if name in release else f"{release}-{name}")[:63].rstrip("-")


def image(heimdall: dict[str, Any], conv: Conversion) -> None:
    spec = heimdall.get("image") or {}
    tag = str(spec.get("tag") or "release-latest")
    repository = str(spec.get("repository") or "mitre/heimdall2")
    if repository != "mitre/heimdall2":
        conv.set("image.repository", repository)
    if tag in MOVING_TAGS:
        conv.not_carried.append(
            f"heimdall.image.tag {tag!r} moves: the stack pins the program's default; set image.tag "
            f"to the version the chart's pod runs ({conv.kubectl()} get pods -o "
            "jsonpath='{..image}'), never older than the data's migrations"
        )
    else:
        conv.set("image.tag", tag)
    if spec.get("pullPolicy") in ("Always", "IfNotPresent", "Never"):
        conv.set("image.pullPolicy", spec["pullPolicy"])


def resources(section: Any) -> dict[str, Any]:
    """A Kubernetes resources map with quantities as strings (the settings' type)."""
    if not isinstance(section, dict):
        return {}
    return {
        kind: {name: str(value) for name, value in amounts.items()}
        for kind, amounts in section.items()
        if kind in ("requests", "limits") and isinstance(amounts, dict) and amounts
    }


def pod(heimdall: dict[str, Any], values: dict[str, Any], conv: Conversion) -> None:
    """Resources, scheduling, pod annotations and pull secrets of the Heimdall pod."""
    if found := resources(heimdall.get("resources")):
        conv.set("resources", found)
    for key, setting in (("nodeSelector", "nodeSelector"), ("tolerations", "tolerations"),
                         ("affinity", "affinity"), ("podAnnotations", "podAnnotations")):
        if heimdall.get(key):
            conv.set(setting, heimdall[key])
    for key in ("podSecurityContext", "securityContext"):
        if heimdall.get(key):
            conv.not_carried.append(
                f"heimdall.{key}: the stack runs hardened defaults (uid 1001, read-only root, no "
                "capabilities); override single keys in podSecurityContext / securityContext"
            )
    pull = values.get("imagePullSecrets") or heimdall.get("imagePullSecrets") or []
    names = [item["name"] if isinstance(item, dict) else str(item) for item in pull]
    if names:
        conv.set("imagePullSecrets", names)


def ingress(heimdall: dict[str, Any], conv: Conversion) -> None:
    section = heimdall.get("ingress") or {}
    if not section.get("enabled"):
        return
    hosts = [h for h in section.get("hosts") or [] if isinstance(h, dict) and h.get("host")]
    if not hosts:
        conv.not_carried.append("heimdall.ingress: enabled without hosts; set ingress.host")
        return
    host = str(hosts[0]["host"])
    written: dict[str, Any] = {"enabled": True, "host": host}
    if section.get("className"):
        written["className"] = section["className"]
    if section.get("annotations"):
        written["annotations"] = {str(k): str(v) for k, v in section["annotations"].items()}
    for tls in section.get("tls") or []:
        if host in (tls.get("hosts") or []) and tls.get("secretName"):
            written["tlsSecretName"] = tls["secretName"]
    for extra in hosts[1:]:
        conv.not_carried.append(f"heimdall.ingress host {extra['host']!r}: the stack serves one host ({host})")
    paths = {str(p.get("path")) for h in hosts for p in h.get("paths") or [] if isinstance(p, dict)}
    if paths - {"/"}:
        conv.not_carried.append(f"heimdall.ingress paths {sorted(paths - {'/'})}: the stack routes / to Heimdall")
    conv.set("ingress", written)


def handover(fullname: str, release: str, claim: str | None, conv: Conversion) -> None:
    """Steps that take the chart's objects away from Helm, keeping the claim and the
    Secret: `helm uninstall` would delete both (they are in the release's manifest).
    Helm 3 keeps a release in Secrets labelled owner=helm,name=<release>; without them
    Helm forgets the release and leaves its objects as they are."""
    k = conv.kubectl()
    conv.steps.insert(0, "take a dump first and keep it (docs/operations.md, \"Taking over a Helm chart install\", path 1, step 3)")
    conv.steps.insert(1, f"stop the chart's Heimdall: {k} scale statefulset {fullname} --replicas=0")
    if claim:
        conv.steps.append(
            f"keep the volume whatever happens to the claim: {k} get pvc {claim} -o jsonpath='{{.spec.volumeName}}' "
            "| xargs -I{} kubectl patch pv {} -p '{\"spec\":{\"persistentVolumeReclaimPolicy\":\"Retain\"}}'"
        )
    conv.steps.append(
        f"make Helm forget the release, keeping its claim and Secret (not `helm uninstall`, which deletes them): "
        f"{k} delete secret -l owner=helm,name={release}"
    )
    conv.steps.append(
        f"remove the chart's workloads and routes (frees the claim and the names heimdall, ...): "
        f"{k} delete statefulset,service,ingress,networkpolicy,poddisruptionbudget,horizontalpodautoscaler "
        f"-l app.kubernetes.io/instance={release}"
    )
