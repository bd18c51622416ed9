"""Login providers: LDAP, GitHub, GitLab, Google, Okta and OIDC.

`auth_env` gives each enabled provider's plain variables (client ids, URLs, switches) for
Heimdall's ConfigMap. `AuthSecrets` handles their secrets (OAuth client secrets, the LDAP
bind password): the ones supplied as Pulumi secrets go into one auto-named Secret it
creates; the ones in a Secret the user manages are referenced where they are. Either way
the server reads them by `secretKeyRef`, so no secret value is ever in a ConfigMap or a
pod spec. Only the server gets them: the migration Job does not log anyone in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s
from pydantic import SecretStr

from heimdall.certificates import BUNDLE_PATH
from heimdall.database.contract import SecretKeyRef
from heimdall.kube import meta, pods
from heimdall.settings.auth import Auth, OAuthClient, ProviderSecret


def _optional(env: dict[str, str], values: dict[str, Optional[str]]) -> None:
    env.update({key: value for key, value in values.items() if value})


def auth_env(auth: Auth) -> dict[str, str]:
    """The plain (non-secret) variables of every enabled provider."""
    env: dict[str, str] = {}
    if auth.ldap:
        ldap = auth.ldap
        env.update(
            {
                "LDAP_ENABLED": "true",
                "LDAP_HOST": ldap.host,
                "LDAP_PORT": str(ldap.port),
                "LDAP_SEARCHBASE": ldap.search_base,
                "LDAP_SSL": pods.flag(ldap.ssl),
            }
        )
        _optional(
            env,
            {
                "LDAP_BINDDN": ldap.bind_dn,
                "LDAP_SEARCHFILTER": ldap.search_filter,
                "LDAP_NAMEFIELD": ldap.name_field,
                "LDAP_MAILFIELD": ldap.mail_field,
            },
        )
        if ldap.ssl:
            # Heimdall reads LDAP_SSL_CA as a file path only; the settings require the bundle.
            env["LDAP_SSL_CA"] = BUNDLE_PATH
            env["LDAP_SSL_INSECURE"] = pods.flag(ldap.ssl_insecure)
    if auth.github:
        env["GITHUB_CLIENTID"] = auth.github.client_id
        _optional(
            env,
            {
                "GITHUB_ENTERPRISE_INSTANCE_BASE_URL": auth.github.enterprise_base_url,
                "GITHUB_ENTERPRISE_INSTANCE_API_URL": auth.github.enterprise_api_url,
            },
        )
    if auth.gitlab:
        env["GITLAB_CLIENTID"] = auth.gitlab.client_id
        _optional(env, {"GITLAB_BASEURL": auth.gitlab.base_url})
    if auth.google:
        env["GOOGLE_CLIENTID"] = auth.google.client_id
    if auth.okta:
        okta = auth.okta
        env.update({"OKTA_DOMAIN": okta.domain, "OKTA_CLIENTID": okta.client_id})
        _optional(
            env,
            {
                "OKTA_ISSUER_URL": okta.issuer_url,
                "OKTA_AUTHORIZATION_URL": okta.authorization_url,
                "OKTA_TOKEN_URL": okta.token_url,
                "OKTA_USER_INFO_URL": okta.user_info_url,
            },
        )
        if okta.use_https_proxy:
            env["OKTA_USE_HTTPS_PROXY"] = "true"
    if auth.oidc:
        oidc = auth.oidc
        env.update(
            {
                "OIDC_NAME": oidc.name,
                "OIDC_ISSUER": oidc.issuer,
                "OIDC_AUTHORIZATION_URL": oidc.authorization_url,
                "OIDC_TOKEN_URL": oidc.token_url,
                "OIDC_USER_INFO_URL": oidc.user_info_url,
                "OIDC_CLIENTID": oidc.client_id,
                "OIDC_USES_PKCE_S256": pods.flag(oidc.uses_pkce_s256),
                "OIDC_USES_PKCE_PLAIN": pods.flag(oidc.uses_pkce_plain),
                "OIDC_EXTERNAL_GROUPS": pods.flag(oidc.external_groups),
            }
        )
        if oidc.use_https_proxy:
            env["OIDC_USE_HTTPS_PROXY"] = "true"
        if oidc.uses_verified_email is not None:
            env["OIDC_USES_VERIFIED_EMAIL"] = pods.flag(oidc.uses_verified_email)
    return env


def _oauth(client: Optional[OAuthClient]) -> Optional[tuple[ProviderSecret, Optional[SecretStr]]]:
    return None if client is None else (client, client.client_secret)


def _ldap(auth: Auth) -> Optional[tuple[ProviderSecret, Optional[SecretStr]]]:
    return None if auth.ldap is None else (auth.ldap, auth.ldap.bind_password)


@dataclass(frozen=True)
class ProviderSecretSpec:
    """One provider's secret: its variable, and `find`, which gives the provider's section
    when it is enabled with the secret's value (None when it is in existingSecret)."""

    variable: str
    find: Callable[[Auth], Optional[tuple[ProviderSecret, Optional[SecretStr]]]]


SECRET_VARIABLES = (
    ProviderSecretSpec("LDAP_PASSWORD", _ldap),
    ProviderSecretSpec("GITHUB_CLIENTSECRET", lambda auth: _oauth(auth.github)),
    # Heimdall reads GITLAB_SECRET, not GITLAB_CLIENTSECRET.
    ProviderSecretSpec("GITLAB_SECRET", lambda auth: _oauth(auth.gitlab)),
    ProviderSecretSpec("GOOGLE_CLIENTSECRET", lambda auth: _oauth(auth.google)),
    ProviderSecretSpec("OKTA_CLIENTSECRET", lambda auth: _oauth(auth.okta)),
    ProviderSecretSpec("OIDC_CLIENT_SECRET", lambda auth: _oauth(auth.oidc)),
)


class AuthSecrets(pulumi.ComponentResource):
    pod: pods.PodAdditions

    def __init__(
        self,
        name: str,
        auth: Auth,
        namespace: pulumi.Input[str],
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("heimdall:app:AuthSecrets", name, None, opts)
        supplied: dict[str, pulumi.Output[str]] = {}
        existing: dict[str, SecretKeyRef] = {}
        for spec in SECRET_VARIABLES:
            found = spec.find(auth)
            if found is None:
                continue
            provider, value = found
            if value is not None:
                supplied[spec.variable] = pulumi.Output.secret(value.get_secret_value())
            elif provider.existing_secret:
                existing[spec.variable] = SecretKeyRef(
                    provider.existing_secret, provider.existing_secret_key or spec.variable
                )

        refs = dict(existing)
        outputs: dict[str, pulumi.Input[str]] = {}
        if supplied:
            # Auto-named: a changed secret becomes a new Secret, and so a rollout.
            secret = k8s.core.v1.Secret(
                f"{name}-secret",
                metadata=meta.metadata(namespace, "heimdall"),
                type="Opaque",
                string_data=supplied,
                opts=pulumi.ResourceOptions(parent=self),
            )
            refs.update({variable: SecretKeyRef(secret.metadata.name, variable) for variable in supplied})
            outputs["secretName"] = secret.metadata.name
        self.pod = pods.PodAdditions(
            env=[pods.secret_env(variable, ref) for variable, ref in sorted(refs.items())]
        )
        self.register_outputs(outputs)
