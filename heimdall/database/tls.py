"""The client side of `database.tls`, shared by every provider.

`client_tls` turns the settings into the connection's `DatabaseTls`. When the CA is a PEM
file in the repository (or, for Cloud SQL, the instance's own server CA), it creates an
auto-named ConfigMap holding it: a new CA gives the ConfigMap a new name, which rolls
every pod that mounts it. A ConfigMap the user manages is referenced as it is.
"""

from __future__ import annotations

from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s

from heimdall.database.contract import ConfigMapKeyRef, DatabaseRequest, DatabaseTls
from heimdall.kube import meta

CA_KEY = "ca.pem"


def client_tls(
    name: str,
    request: DatabaseRequest[Any],
    parent: pulumi.Resource,
    auto_ca: Optional[pulumi.Input[str]] = None,
) -> DatabaseTls:
    """The connection's TLS; `auto_ca` is the PEM a provider offers for `ca: auto`."""
    tls = request.tls
    if tls.mode == "disable":
        return DatabaseTls(mode="disable")
    if tls.ca is not None:
        return DatabaseTls(mode=tls.mode, ca=tls.ca)
    if not tls.auto_ca and tls.ca_pem is None:
        return DatabaseTls(mode=tls.mode)
    pem: Optional[pulumi.Input[str]] = auto_ca if tls.auto_ca else tls.ca_pem
    if pem is None:  # the settings model allows `auto` only where a provider supplies it
        raise ValueError("database.tls.ca 'auto' is not available for this provider")
    config_map = k8s.core.v1.ConfigMap(
        f"{name}-ca",
        metadata=meta.metadata(request.namespace, "postgres"),
        data={CA_KEY: pem},
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return DatabaseTls(mode=tls.mode, ca=ConfigMapKeyRef(config_map.metadata.name, CA_KEY), pem=pem)
