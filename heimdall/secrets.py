"""`HeimdallSecrets`: the secrets Heimdall reads, by one of three approaches.

1. generated (default): JWT_SECRET, API_KEY_SECRET and ADMIN_PASSWORD from pulumi-random,
   stable across updates (their values live in the stack's encrypted state);
2. supplied as Pulumi secrets (`secrets.jwtSecret`, ...), each overriding its generated
   value;
3. `secrets.existingSecret`: a Secret the user manages, with the keys named in
   `secrets.keys`; nothing is created.

The database password is handed on as a `PasswordSource` for the database provider, which
decides whether to generate one.
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from pydantic import SecretStr

from heimdall.database.contract import PasswordSource, SecretKeyRef
from heimdall.kube import meta
from heimdall.settings.app import Secrets

JWT_SECRET = "JWT_SECRET"
API_KEY_SECRET = "API_KEY_SECRET"
ADMIN_PASSWORD = "ADMIN_PASSWORD"


def _supplied(value: Optional[SecretStr]) -> Optional[pulumi.Output[str]]:
    return None if value is None else pulumi.Output.secret(value.get_secret_value())


class HeimdallSecrets(pulumi.ComponentResource):
    jwt_secret: SecretKeyRef
    api_key_secret: SecretKeyRef
    admin_password: SecretKeyRef
    admin_password_value: Optional[pulumi.Output[str]]
    database_password: PasswordSource

    def __init__(
        self,
        name: str,
        settings: Secrets,
        namespace: pulumi.Input[str],
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("heimdall:app:HeimdallSecrets", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        if settings.existing_secret:
            existing = settings.existing_secret
            keys = settings.keys
            self.jwt_secret = SecretKeyRef(existing, keys.jwt_secret)
            self.api_key_secret = SecretKeyRef(existing, keys.api_key_secret)
            self.admin_password = SecretKeyRef(existing, keys.admin_password)
            self.admin_password_value = None
            self.database_password = PasswordSource(
                existing=SecretKeyRef(existing, keys.database_password)
            )
            self.register_outputs({})
            return

        def generated(suffix: str, args: random.RandomPasswordArgs) -> pulumi.Output[str]:
            password = random.RandomPassword(f"{name}-{suffix}", args, opts=child)
            return pulumi.Output.secret(password.result)

        token = random.RandomPasswordArgs(length=64, special=False)
        jwt = _supplied(settings.jwt_secret) or generated("jwt-secret", token)
        api_key = _supplied(settings.api_key_secret) or generated("api-key-secret", token)
        # Heimdall's password policy: 15+ characters with upper, lower, digit and symbol.
        admin = _supplied(settings.admin_password) or generated(
            "admin-password",
            random.RandomPasswordArgs(
                length=24,
                min_upper=2,
                min_lower=2,
                min_numeric=2,
                min_special=2,
                override_special="!#%*+-=?@^_",
            ),
        )
        # Auto-named: a changed value becomes a new Secret, and so a rollout of the pods.
        secret = k8s.core.v1.Secret(
            f"{name}-app",
            metadata=meta.metadata(namespace, "heimdall"),
            type="Opaque",
            string_data={JWT_SECRET: jwt, API_KEY_SECRET: api_key, ADMIN_PASSWORD: admin},
            opts=child,
        )
        self.jwt_secret = SecretKeyRef(secret.metadata.name, JWT_SECRET)
        self.api_key_secret = SecretKeyRef(secret.metadata.name, API_KEY_SECRET)
        self.admin_password = SecretKeyRef(secret.metadata.name, ADMIN_PASSWORD)
        self.admin_password_value = admin
        self.database_password = PasswordSource(value=_supplied(settings.database_password))
        self.register_outputs({"secretName": secret.metadata.name})
