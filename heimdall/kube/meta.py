"""Labels, selectors and object metadata of the stack's Kubernetes objects.

The user's `labels` and `annotations` are added to every object by the `Heimdall`
component's transform (heimdall/kube/stack_metadata.py), not here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

PART_OF = "heimdall"
# The recommended labels the program sets; the user's `labels` may not name them.
MANAGED_BY = "pulumi"

# pulumi-kubernetes creates the object and does not wait for it to become ready. Only for
# objects whose readiness another await already proves; never on a Job whose completion
# something depends on (the migration Job).
SKIP_AWAIT_KEY = "pulumi.com/skipAwait"
SKIP_AWAIT = {SKIP_AWAIT_KEY: "true"}


def selector_labels(component: str, instance: str = "heimdall") -> dict[str, str]:
    """The stable subset of `labels` used in selectors."""
    return {
        "app.kubernetes.io/name": component,
        "app.kubernetes.io/instance": instance,
    }


def labels(component: str, instance: str = "heimdall") -> dict[str, str]:
    """Recommended labels; `selector_labels` is the stable subset used in selectors."""
    return {
        **selector_labels(component, instance),
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
    }


def stack_selector_labels(instance: str = "heimdall") -> dict[str, str]:
    """Labels every pod of the stack carries, whatever its component."""
    return {"app.kubernetes.io/part-of": PART_OF, "app.kubernetes.io/instance": instance}


def metadata(
    namespace: pulumi.Input[str],
    component: str,
    name: Optional[str] = None,
    annotations: Optional[Mapping[str, str]] = None,
) -> k8s.meta.v1.ObjectMetaArgs:
    """Object metadata. Without `name` the provider auto-names the object, so a change
    of content becomes a replacement with a new name (and a rollout of its consumers)."""
    return k8s.meta.v1.ObjectMetaArgs(
        name=name,
        namespace=namespace,
        labels=labels(component),
        annotations=dict(annotations or {}) or None,
    )


def pod_metadata(
    component: str,
    pod_labels: Mapping[str, str],
    pod_annotations: Mapping[str, str],
    annotations: Optional[Mapping[str, str]] = None,
) -> k8s.meta.v1.ObjectMetaArgs:
    """Metadata of a pod template: the component's labels over `pod_labels`, and
    `annotations` over `pod_annotations`."""
    return k8s.meta.v1.ObjectMetaArgs(
        labels={**pod_labels, **labels(component)},
        annotations={**pod_annotations, **(annotations or {})} or None,
    )
