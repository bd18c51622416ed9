"""`ExternalDatabase`: a PostgreSQL server that already exists.

Creates nothing but, when the password is given as a Pulumi secret, the Secret holding it,
and, when `database.tls.ca` is a PEM file in the repository, a ConfigMap holding the CA.
The connection comes from settings alone: `database.external.host`, the shared
`database.name/username/port`, and the password from `database.external.existingSecret`
(key `existingSecretPasswordKey`), `database.external.password`, or the secrets section.
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from heimdall import kube
from heimdall.database.contract import DatabaseConnection, DatabaseRequest, SecretKeyRef
from heimdall.database.tls import client_tls


class ExternalDatabase(pulumi.ComponentResource):
    connection: DatabaseConnection

    def __init__(
        self, name: str, request: DatabaseRequest, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        super().__init__("heimdall:database:ExternalDatabase", name, None, opts)
        database = request.settings.database
        external = database.external
        if external is None:  # the settings model guarantees it; keep mypy honest
            raise ValueError("database.external is required for provider 'external'")

        password_value: Optional[pulumi.Output[str]] = None
        if external.existing_secret:
            password = SecretKeyRef(external.existing_secret, external.existing_secret_password_key)
        elif external.password is None and request.password.existing is not None:
            password = request.password.existing
        else:
            if external.password is not None:
                password_value = pulumi.Output.secret(external.password.get_secret_value())
            elif request.password.value is not None:
                password_value = request.password.value
            else:  # the settings model refuses this; say so if it ever gets here
                raise ValueError("database.external needs a password source")
            secret = k8s.core.v1.Secret(
                f"{name}-credentials",
                metadata=kube.metadata(
                    request.namespace, "postgres", "heimdall-external-database-credentials"
                ),
                type="Opaque",
                string_data={"password": password_value},
                opts=pulumi.ResourceOptions(parent=self),
            )
            password = SecretKeyRef(secret.metadata.name, "password")

        self.connection = DatabaseConnection(
            provider="external",
            host=external.host,
            port=database.port,
            database=database.name,
            username=database.username,
            password=password,
            password_value=password_value,
            tls=client_tls(name, request, self),
        )
        self.register_outputs({"host": external.host})
