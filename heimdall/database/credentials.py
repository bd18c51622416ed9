"""The database user's password for the managed providers, which create that user.

`managed_password` takes the password given as a Pulumi secret (`secrets.databasePassword`)
or generates one with pulumi-random (kept in the stack's encrypted state, stable across
updates), and writes it to an auto-named Secret: a new password gives the Secret a new
name, which rolls every pod that reads it. The settings refuse `secrets.existingSecret`
with a managed provider: the password must be known when the instance is created.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from heimdall import kube
from heimdall.database.contract import DatabaseRequest, SecretKeyRef

PASSWORD_KEY = "password"


def managed_password(
    name: str, request: DatabaseRequest, parent: pulumi.Resource
) -> tuple[SecretKeyRef, pulumi.Output[str]]:
    """(where clients read the password, the password as a secret Output)."""
    child = pulumi.ResourceOptions(parent=parent)
    if request.password.existing is not None:
        raise ValueError(
            f"database provider {request.settings.database.provider!r} cannot take its "
            "password from secrets.existingSecret"
        )
    if request.password.value is not None:
        value = request.password.value
    else:
        # Letters and digits only (RDS refuses / @ " and space), with every class present
        # (Azure wants three of four).
        generated = random.RandomPassword(
            f"{name}-password",
            length=32,
            special=False,
            min_upper=2,
            min_lower=2,
            min_numeric=2,
            opts=child,
        )
        value = pulumi.Output.secret(generated.result)
    secret = k8s.core.v1.Secret(
        f"{name}-credentials",
        metadata=kube.metadata(request.namespace, "postgres"),
        type="Opaque",
        string_data={PASSWORD_KEY: value},
        opts=child,
    )
    return SecretKeyRef(secret.metadata.name, PASSWORD_KEY), value
