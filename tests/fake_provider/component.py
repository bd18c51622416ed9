"""`FakeDatabaseServer`: one ConfigMap standing for the server, and its connection."""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from heimdall.database.contract import DatabaseConnection, DatabaseRequest
from heimdall.database.credentials import password_secret
from heimdall.database.tls import client_tls
from heimdall.kube import meta
from tests.fake_provider.settings import FakeDatabase


class FakeDatabaseServer(pulumi.ComponentResource):
    connection: DatabaseConnection

    def __init__(
        self,
        name: str,
        request: DatabaseRequest[FakeDatabase],
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("heimdall:database:FakeDatabaseServer", name, None, opts)
        marker = k8s.core.v1.ConfigMap(
            f"{name}-marker",
            metadata=meta.metadata(request.namespace, "postgres"),
            data={"flavour": request.section.flavour},
            opts=pulumi.ResourceOptions(parent=self),
        )
        value: Optional[pulumi.Output[str]] = None
        if request.password.existing is not None:
            password = request.password.existing
        else:
            password, value = password_secret(
                name,
                request,
                self,
                request.password.value,
                random.RandomPasswordArgs(length=24, special=False),
            )
        self.connection = DatabaseConnection(
            provider="fake",
            host=request.section.host,
            port=request.port,
            database=request.name,
            username=request.username,
            password=password,
            password_value=value,
            tls=client_tls(name, request, self),
            ready=[marker],
        )
        self.register_outputs({})
