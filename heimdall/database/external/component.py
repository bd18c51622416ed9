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

from heimdall.database.contract import DatabaseConnection, DatabaseRequest, SecretKeyRef
from heimdall.database.credentials import password_secret
from heimdall.database.external.settings import ExternalDatabase as ExternalSettings
from heimdall.database.tls import client_tls


class ExternalDatabase(pulumi.ComponentResource):
    connection: DatabaseConnection

    def __init__(
        self,
        name: str,
        request: DatabaseRequest[ExternalSettings],
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("heimdall:database:ExternalDatabase", name, None, opts)
        external = request.section

        password_value: Optional[pulumi.Output[str]] = None
        if external.existing_secret:
            password = SecretKeyRef(external.existing_secret, external.existing_secret_password_key)
        elif external.password is None and request.password.existing is not None:
            password = request.password.existing
        else:
            if external.password is not None:
                supplied = pulumi.Output.secret(external.password.get_secret_value())
            elif request.password.value is not None:
                supplied = request.password.value
            else:  # the settings model refuses this; say so if it ever gets here
                raise ValueError("database.external needs a password source")
            # The password of an existing server is the server's: never generated here.
            password, password_value = password_secret(
                name,
                request,
                self,
                supplied,
                generate=None,
            )

        self.connection = DatabaseConnection(
            provider="external",
            host=external.host,
            port=request.port,
            database=request.name,
            username=request.username,
            password=password,
            password_value=password_value,
            tls=client_tls(name, request, self),
        )
        self.register_outputs({"host": external.host})
