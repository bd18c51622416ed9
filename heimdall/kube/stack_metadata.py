"""The user's extra `labels` and `annotations` on every Kubernetes object of the stack,
added by a transform of the `Heimdall` component.

The engine runs a component's transforms on each of its descendants as they register,
before the provider sees them (pulumi/pulumi pkg/resource/deploy/source_eval.go,
`RegisterResource`: the resource's own transforms, then each ancestor's, then the
stack's), so an object built anywhere under `Heimdall`, by any component or database
provider, gets them without knowing the settings.

The transform sees the properties as the engine holds them: camelCase, as Kubernetes
names them. It adds
- the labels and the annotations to the object's `metadata` (labels only on a `...Patch`,
  which changes fields of an object it does not own);
- the labels to the metadata of the templates of what the object creates: pod templates
  (`spec.template`), a CronJob's Job and pod templates, a StatefulSet's volume claim
  templates, and the metadata a custom resource passes on to what its operator creates
  (`spec.inheritedMetadata`).
The program's own keys win over the user's annotations; the user's labels win over
anything but the program's recommended labels, which `labels` may not name
(heimdall/settings/guardrails.py RESERVED_LABELS). The annotations of Heimdall's pods
are the pod's own (settings `podAnnotations` over `annotations`, heimdall/pod.py).

Not transformed: what a Helm chart installs (a database provider's operator and plugin).
The engine would run the transform on the chart's objects too (they register with the
chart as parent), but they are the operator's, shared by every stack of the cluster, and
the user's labels never reached them: the transform leaves any descendant of a
`kubernetes:helm.sh/...` resource as it is.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Optional, cast

import pulumi

from heimdall.engine_values import SECRET_SIG_KEY

HELM_PREFIX = "kubernetes:helm.sh/"

# Where the metadata of what an object creates sits (camelCase property paths; `[]` is
# every item of a list).
TEMPLATE_METADATA = (
    ("spec", "template", "metadata"),
    ("spec", "jobTemplate", "metadata"),
    ("spec", "jobTemplate", "spec", "template", "metadata"),
    ("spec", "volumeClaimTemplates", "[]", "metadata"),
    ("spec", "inheritedMetadata"),
)


def _sites(value: Any, path: tuple[str, ...]) -> list[dict[str, Any]]:
    """The dicts at `path` under `value` (none when a step is missing). A map holding a
    secret reaches a transform as a secret itself (its plain value under "value"): the
    path goes on inside it, and the secret stays one."""
    if isinstance(value, dict) and SECRET_SIG_KEY in value:
        return _sites(value.get("value"), path)
    if not path:
        return [value] if isinstance(value, dict) else []
    step, rest = path[0], path[1:]
    if step == "[]":
        items = value if isinstance(value, list) else []
        return [site for item in items for site in _sites(item, rest)]
    if isinstance(value, dict) and step in value:
        return _sites(value[step], rest)
    return []


def under_helm_chart(parent_urn: str) -> bool:
    """Whether a resource whose parent has this URN was installed by a Helm chart (a
    URN's type part names every ancestor's type, joined by `$`)."""
    parts = parent_urn.split("::")
    types = parts[2].split("$") if len(parts) > 2 else []
    return any(t.startswith(HELM_PREFIX) for t in types)


@dataclass(frozen=True)
class StackMetadata:
    """The user's extra labels and annotations (settings `labels`, `annotations`)."""

    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)

    def apply(self, type_: str, props: Mapping[str, Any]) -> Optional[dict[str, Any]]:
        """`props` (camelCase) with the labels and annotations added, or None when the
        object takes none."""
        if not (self.labels or self.annotations):
            return None
        if not type_.startswith("kubernetes:") or type_.startswith(HELM_PREFIX):
            return None
        result = copy.deepcopy(dict(props))
        metadata = _sites(result, ("metadata",))
        if not metadata:
            return None
        self._add(metadata[0], annotations=not type_.endswith("Patch"))
        for path in TEMPLATE_METADATA:
            for site in _sites(result, path):
                self._add(site, annotations=False)
        return result

    def _add(self, metadata: dict[str, Any], annotations: bool) -> None:
        if self.labels:
            metadata["labels"] = {**(metadata.get("labels") or {}), **self.labels}
        if annotations and self.annotations:
            metadata["annotations"] = {**self.annotations, **(metadata.get("annotations") or {})}

    def transform(self) -> pulumi.ResourceTransform:
        """The transform for the `Heimdall` component's `transforms`."""

        async def add_stack_metadata(
            args: pulumi.ResourceTransformArgs,
        ) -> Optional[pulumi.ResourceTransformResult]:
            parent = args.opts.parent
            if parent is not None and under_helm_chart(str(await parent.urn.future())):
                return None
            props = self.apply(args.type_, args.props)
            if props is None:
                return None
            # No options: the engine keeps the resource's own (pulumi/runtime/_callbacks.py
            # `register_transform` sends none when `result.opts` is None, and source_eval.go
            # `wrapTransformCallback` then keeps `opts`). Handing `args.opts` back would
            # re-serialize them, resource hooks included.
            return pulumi.ResourceTransformResult(props=props, opts=cast(pulumi.ResourceOptions, None))

        return add_stack_metadata
