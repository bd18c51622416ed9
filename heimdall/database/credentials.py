"""The database password Secret every provider's clients read DATABASE_PASSWORD from.

`password_secret` takes the password the stack supplies or generates one with
pulumi-random (kept in the stack's encrypted state, stable across updates), and writes it
to an auto-named Secret: a new password gives the Secret a new name, which rolls every
pod that reads it (a Secret updated in place would leave running pods on the old
password until they happen to restart). A password in a Secret the user manages is
referenced where it is, and nothing is created.
"""

from __future__ import annotations

from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from heimdall.database.contract import DatabaseRequest, SecretKeyRef
from heimdall.kube import meta

PASSWORD_KEY = "password"
COMPONENT = "postgres"


def password_secret(
    name: str,
    request: DatabaseRequest[Any],
    parent: pulumi.Resource,
    value: Optional[pulumi.Output[str]],
    generate: Optional[random.RandomPasswordArgs],
    username: Optional[str] = None,
) -> tuple[SecretKeyRef, pulumi.Output[str]]:
    """(where clients read the password, the password as a secret Output).

    `value` is the supplied password; None generates one as `generate` says (the
    provider's server decides which characters it takes; None: it cannot be generated).
    With `username`, the Secret is a `kubernetes.io/basic-auth` one holding both (for a
    server that reads the user's credentials from it, as an operator does).
    """
    child = pulumi.ResourceOptions(parent=parent)
    if value is None:
        if generate is None:
            raise ValueError("the database password is neither supplied nor generated")
        generated = random.RandomPassword(f"{name}-password", generate, opts=child)
        value = pulumi.Output.secret(generated.result)
    secret = k8s.core.v1.Secret(
        f"{name}-credentials",
        metadata=meta.metadata(request.namespace, COMPONENT),
        type="Opaque" if username is None else "kubernetes.io/basic-auth",
        string_data={PASSWORD_KEY: value}
        if username is None
        else {"username": username, PASSWORD_KEY: value},
        opts=child,
    )
    return SecretKeyRef(secret.metadata.name, PASSWORD_KEY), value


def managed_password(
    name: str, request: DatabaseRequest[Any], parent: pulumi.Resource, provider: str
) -> tuple[SecretKeyRef, pulumi.Output[str]]:
    """The password of a managed provider, which creates the user and so must know it."""
    if request.password.existing is not None:
        raise ValueError(
            f"database provider {provider!r} cannot take its password from secrets.existingSecret"
        )
    # Letters and digits only (RDS refuses / @ " and space), with every class present
    # (Azure wants three of four).
    generate = random.RandomPasswordArgs(
        length=32, special=False, min_upper=2, min_lower=2, min_numeric=2
    )
    return password_secret(name, request, parent, request.password.value, generate)
