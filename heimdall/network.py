"""`NetworkPolicies`: who may connect to the stack's pods.

Creates, when `networkPolicy.enabled` (the default):
- `heimdall-default-deny-ingress`: no ingress to any pod of the stack (selected by the
  labels every pod of the stack carries, so other apps in a shared namespace are not
  touched); a pod no other rule names (the migration Job, a backup Job) admits nothing;
- `heimdall-server`: Heimdall's pods admit TCP 3000 from `networkPolicy.ingressFrom`, by
  default from any source (the ingress controller or gateway may run anywhere);
- `heimdall-postgres`, when the database server runs as pods of the stack (the
  connection's `server_pods`, as with the embedded provider): the server admits its port
  from the stack's own pods (the server, the migration Job, backup Jobs), plus the peers
  the provider says its server needs (`ServerPods.peers`: an operator, its replicas), and
  nothing else.

NetworkPolicies add up: the allow rules open holes in the default deny. Egress stays
open: Heimdall reaches OAuth providers, LDAP servers and managed databases whose
addresses the program does not know.
"""

from __future__ import annotations

from typing import Any, Optional, cast

import pulumi
import pulumi_kubernetes as k8s

from heimdall.database.contract import DatabaseConnection
from heimdall.kube import meta
from heimdall.settings.guardrails import NetworkPolicySettings
from heimdall.workload import COMPONENT as HEIMDALL_COMPONENT
from heimdall.workload import HTTP_PORT

net = k8s.networking.v1


def _tcp(port: int) -> list[net.NetworkPolicyPortArgs]:
    return [net.NetworkPolicyPortArgs(port=port, protocol="TCP")]


class NetworkPolicies(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        settings: NetworkPolicySettings,
        connection: DatabaseConnection,
        namespace: pulumi.Input[str],
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("heimdall:app:NetworkPolicies", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stack_pods = k8s.meta.v1.LabelSelectorArgs(match_labels=meta.stack_selector_labels())

        def policy(suffix: str, spec: net.NetworkPolicySpecArgs) -> net.NetworkPolicy:
            return net.NetworkPolicy(
                f"{name}-{suffix}",
                metadata=meta.metadata(namespace, "heimdall", f"heimdall-{suffix}"),
                spec=spec,
                opts=child,
            )

        policy(
            "default-deny-ingress",
            net.NetworkPolicySpecArgs(pod_selector=stack_pods, policy_types=["Ingress"]),
        )
        peers = [peer.as_input() for peer in settings.ingress_from]
        policy(
            "server",
            net.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(
                    match_labels=meta.selector_labels(HEIMDALL_COMPONENT)
                ),
                policy_types=["Ingress"],
                ingress=[
                    net.NetworkPolicyIngressRuleArgs(
                        # NetworkPolicyPeer objects from the settings, as kubectl takes them.
                        from_=cast(Any, peers) or None,
                        ports=_tcp(HTTP_PORT),
                    )
                ],
            ),
        )
        server = connection.server_pods
        if server is not None:
            policy(
                "postgres",
                net.NetworkPolicySpecArgs(
                    pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(server.selector)),
                    policy_types=["Ingress"],
                    ingress=[
                        net.NetworkPolicyIngressRuleArgs(
                            from_=[net.NetworkPolicyPeerArgs(pod_selector=stack_pods)],
                            ports=_tcp(server.port),
                        ),
                        # What the server itself needs (an operator, its own replicas).
                        *server.peers,
                    ],
                ),
            )
        self.register_outputs({})
