"""`GatewayRoute`: Heimdall behind a Gateway API gateway.

Creates an HTTPRoute (gateway.networking.k8s.io/v1) named `heimdall`, attached to
`gateway.parentRefs`, answering `gateway.hostnames`, sending every path to the Heimdall
Service on port 3000. TLS is the Gateway listener's business. It may exist together with
the Ingress (workload.py), for example while moving from an ingress controller to a
gateway. Gateway API is a CRD, so the object is a CustomResource with a camelCase spec.
"""

from __future__ import annotations

from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s

from heimdall.kube import meta
from heimdall.settings.app import Gateway
from heimdall.workload import COMPONENT, HTTP_PORT, SERVICE_NAME

API_VERSION = "gateway.networking.k8s.io/v1"
ROUTE_NAME = "heimdall"


def route_spec(gateway: Gateway) -> dict[str, Any]:
    parents = [
        {
            key: value
            for key, value in (
                ("name", ref.name),
                ("namespace", ref.namespace),
                ("sectionName", ref.section_name),
                ("port", ref.port),
            )
            if value is not None
        }
        for ref in gateway.parent_refs
    ]
    spec: dict[str, Any] = {
        "parentRefs": parents,
        "rules": [
            {
                "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                "backendRefs": [{"name": SERVICE_NAME, "port": HTTP_PORT}],
            }
        ],
    }
    if gateway.hostnames:
        spec["hostnames"] = list(gateway.hostnames)
    return spec


class GatewayRoute(pulumi.ComponentResource):
    route: k8s.apiextensions.CustomResource

    def __init__(
        self,
        name: str,
        gateway: Gateway,
        namespace: pulumi.Input[str],
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("heimdall:app:GatewayRoute", name, None, opts)
        self.route = k8s.apiextensions.CustomResource(
            f"{name}-httproute",
            api_version=API_VERSION,
            kind="HTTPRoute",
            metadata=meta.metadata(namespace, COMPONENT, ROUTE_NAME, annotations=gateway.annotations),
            spec=route_spec(gateway),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"routeName": ROUTE_NAME})
