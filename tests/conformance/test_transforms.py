"""Conformance: how the engine applies resource transforms, as the render's monitor
(heimdall/tooling/mocks.py `RecordingMonitor`) reproduces it, and the `Heimdall`
component's transform (heimdall/kube/stack_metadata.py) on top of it.

Upstream (pulumi/pulumi, tag v3.259.0, commit 0ac56e8766; the pinned Python SDK 3.272.0
installed here for the sdk/python lines):

- pkg/resource/deploy/source_eval.go:2375-2406 (`RegisterResource`): the transforms
  declared on the resource itself run first; :2408-2426: then those of each ancestor,
  walking `rm.parents` from the parent up (nearest first); :2428-2435: then the stack's;
  :2437-2446: each gets the props and options the previous one returned. :2967 and :2972
  record each registered resource's parent and own transforms for its descendants, a
  remote component's (a Helm chart's) included, so a component's transforms reach what a
  provider registers under it too.
- pkg/resource/deploy/source_eval.go:1542-1616 (`wrapTransformCallback`): the props are
  marshalled with KeepSecrets and KeepUnknowns; a response without properties or options
  keeps the old ones (:1599-1610).
- sdk/python/lib/pulumi/runtime/_callbacks.py:171-227 (`register_transform`): the Python
  transform gets `deserialize_properties(request.properties)` (the names the SDK sent:
  camelCase for pulumi-kubernetes' Args; a nested secret pushed up to its top-level
  property, rpc.py `deserialize_property`), `opts.parent` a `DependencyResource` of the
  parent's URN (:618); a None result echoes the request (:202-206); a result whose `opts`
  is None sends no options (:210-214), so the engine keeps its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s

from heimdall import sdk_private
from heimdall.engine_values import SECRET_SIG_KEY
from heimdall.kube.stack_metadata import StackMetadata
from heimdall.tooling.mocks import HeimdallMocks, RecordingCallbacks, RecordingMonitor, Registration


def record(program: Callable[[RecordingCallbacks, RecordingMonitor], None]) -> list[Registration]:
    """Run `program` under the render's mocks and monitor; its registrations."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    mocks = HeimdallMocks()
    monitor = RecordingMonitor(mocks)
    sdk_private.reset_root_resource()
    pulumi.runtime.set_mocks(mocks, project="conformance", stack="test", preview=False, monitor=monitor)
    callbacks = RecordingCallbacks()
    sdk_private.install_callbacks(callbacks)
    try:
        program(callbacks, monitor)
        loop.run_until_complete(pulumi.runtime.stack.wait_for_rpcs())
    finally:
        callbacks.close()
    return monitor.registrations


def by_name(registrations: list[Registration], name: str) -> Registration:
    (found,) = [r for r in registrations if r.name == name]
    return found


class Part(pulumi.ComponentResource):
    def __init__(self, name: str, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("conformance:index:Part", name, None, opts)


def tagging(tag: str) -> pulumi.ResourceTransform:
    """A transform that appends `tag` to a ConfigMap's data.trail."""

    def transform(args: pulumi.ResourceTransformArgs) -> Optional[pulumi.ResourceTransformResult]:
        if args.type_ != "kubernetes:core/v1:ConfigMap":
            return None
        props = dict(args.props)
        data = dict(props.get("data") or {})
        data["trail"] = f"{data.get('trail', '')}/{tag}"
        props["data"] = data
        return pulumi.ResourceTransformResult(props=props, opts=args.opts)

    return transform


def config_map(name: str, parent: pulumi.Resource, transforms: Optional[list[Any]] = None) -> None:
    k8s.core.v1.ConfigMap(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name),
        data={"trail": ""},
        opts=pulumi.ResourceOptions(parent=parent, transforms=transforms),
    )


def test_own_then_each_ancestor_nearest_first_then_the_stack() -> None:
    def program(callbacks: RecordingCallbacks, monitor: RecordingMonitor) -> None:
        monitor.RegisterStackTransform(callbacks.register_transform(tagging("stack")))
        outer = Part("outer", pulumi.ResourceOptions(transforms=[tagging("outer")]))
        inner = Part("inner", pulumi.ResourceOptions(parent=outer, transforms=[tagging("inner")]))
        config_map("deep", inner, transforms=[tagging("own")])
        config_map("beside", Part("other"))

    registrations = record(program)
    assert by_name(registrations, "deep").inputs["data"]["trail"] == "/own/inner/outer/stack"
    # Only ancestors' transforms: a resource outside the component gets none of them.
    assert by_name(registrations, "beside").inputs["data"]["trail"] == "/stack"


def test_a_transform_sees_camel_case_properties_and_its_parents_urn() -> None:
    seen: list[tuple[list[str], str]] = []

    async def look(args: pulumi.ResourceTransformArgs) -> None:
        if args.type_ == "kubernetes:apps/v1:StatefulSet":
            parent = args.opts.parent
            assert parent is not None
            seen.append((sorted(args.props["spec"]), str(await parent.urn.future())))

    def program(callbacks: RecordingCallbacks, monitor: RecordingMonitor) -> None:
        part = Part("part", pulumi.ResourceOptions(transforms=[look]))
        k8s.apps.v1.StatefulSet(
            "set",
            spec=k8s.apps.v1.StatefulSetSpecArgs(
                service_name="s",
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"a": "b"}),
                template=k8s.core.v1.PodTemplateSpecArgs(spec=k8s.core.v1.PodSpecArgs(containers=[])),
            ),
            opts=pulumi.ResourceOptions(parent=part),
        )

    record(program)
    ((keys, parent),) = seen
    assert "serviceName" in keys and "service_name" not in keys
    assert parent.endswith("conformance:index:Part::part")


def test_a_changed_resource_keeps_its_options_and_a_nested_secret_moves_up() -> None:
    def program(callbacks: RecordingCallbacks, monitor: RecordingMonitor) -> None:
        part = Part("part", pulumi.ResourceOptions(transforms=[StackMetadata(labels={"team": "a"}).transform()]))
        k8s.core.v1.ConfigMap(
            "with-secret",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="with-secret"),
            data={"plain": "p", "hidden": pulumi.Output.secret("s")},
            opts=pulumi.ResourceOptions(parent=part, protect=True, ignore_changes=["data"]),
        )

    (registration,) = [r for r in record(program) if r.name == "with-secret"]
    assert registration.inputs["metadata"]["labels"] == {"team": "a"}
    assert registration.protect and registration.ignore_changes == ["data"]
    # The SDK's transform wrapper hands the whole `data` over as one secret (rpc.py
    # deserialize_property) and sends it back so: secret as a whole, nothing in clear.
    data = registration.inputs["data"]
    assert data[SECRET_SIG_KEY] and data["value"] == {"plain": "p", "hidden": "s"}


def test_the_heimdall_transform_leaves_what_a_helm_chart_installs() -> None:
    common = StackMetadata(labels={"team": "a"}, annotations={"example.com/owner": "a"})

    def program(callbacks: RecordingCallbacks, monitor: RecordingMonitor) -> None:
        heimdall = Part("heimdall", pulumi.ResourceOptions(transforms=[common.transform()]))
        # Stands in for a chart's objects as the provider registers them (parent: the chart).
        chart = pulumi.ComponentResource("kubernetes:helm.sh/v4:Chart", "operator", None, pulumi.ResourceOptions(parent=heimdall))
        config_map("from-chart", chart)
        config_map("ours", heimdall)

    registrations = record(program)
    assert "labels" not in by_name(registrations, "from-chart").inputs["metadata"]
    ours = by_name(registrations, "ours").inputs["metadata"]
    assert ours["labels"] == {"team": "a"} and ours["annotations"] == {"example.com/owner": "a"}
