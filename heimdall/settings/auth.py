"""`auth`: login providers besides local accounts (LDAP, GitHub, GitLab, Google, Okta, OIDC)."""

from __future__ import annotations

from typing import Optional

from pydantic import Field, SecretStr, model_validator

from heimdall.settings.types import DnsSubdomain, Hostname, HttpUrl, Model, Port

_SECRET_KEY = r"^[-._a-zA-Z0-9]+$"


class ProviderSecret(Model):
    """Where one provider's secret comes from: a Pulumi secret, or a Secret you manage."""

    existing_secret: Optional[DnsSubdomain] = Field(
        default=None, description="A Secret you manage that holds the value, instead of the Pulumi secret."
    )
    existing_secret_key: Optional[str] = Field(
        default=None,
        pattern=_SECRET_KEY,
        description="Key in existingSecret; default: the variable's own name (e.g. GITLAB_SECRET).",
    )

    def _secret_value(self) -> Optional[SecretStr]:
        raise NotImplementedError

    def _check_secret(self, field: str, required: bool) -> None:
        value = self._secret_value()
        if value is not None and self.existing_secret:
            raise ValueError(f"set either {field} (a Pulumi secret) or existingSecret, not both")
        if required and value is None and not self.existing_secret:
            raise ValueError(f"{field} is required: set it as a Pulumi secret, or set existingSecret")


class OAuthClient(ProviderSecret):
    client_id: str = Field(min_length=1, description="OAuth client id.")
    client_secret: Optional[SecretStr] = Field(
        default=None, description="OAuth client secret, as a Pulumi secret (`pulumi config set --secret --path`)."
    )

    def _secret_value(self) -> Optional[SecretStr]:
        return self.client_secret

    @model_validator(mode="after")
    def _secret_source(self) -> OAuthClient:
        self._check_secret("clientSecret", required=True)
        return self


class GithubAuth(OAuthClient):
    enterprise_base_url: Optional[HttpUrl] = Field(
        default=None, description="GitHub Enterprise Server URL (GITHUB_ENTERPRISE_INSTANCE_BASE_URL)."
    )
    enterprise_api_url: Optional[HttpUrl] = Field(
        default=None, description="GitHub Enterprise Server API URL (GITHUB_ENTERPRISE_INSTANCE_API_URL)."
    )


class GitlabAuth(OAuthClient):
    base_url: Optional[HttpUrl] = Field(
        default=None, description="Self-managed GitLab URL (GITLAB_BASEURL); default gitlab.com."
    )


class GoogleAuth(OAuthClient):
    pass


class OktaAuth(OAuthClient):
    domain: Hostname = Field(description="Okta domain, e.g. example.okta.com (OKTA_DOMAIN).")
    issuer_url: Optional[HttpUrl] = Field(default=None, description="OKTA_ISSUER_URL, when not derived from the domain.")
    authorization_url: Optional[HttpUrl] = Field(default=None, description="OKTA_AUTHORIZATION_URL override.")
    token_url: Optional[HttpUrl] = Field(default=None, description="OKTA_TOKEN_URL override.")
    user_info_url: Optional[HttpUrl] = Field(default=None, description="OKTA_USER_INFO_URL override.")
    use_https_proxy: bool = Field(
        default=False, description="Reach Okta through the HTTPS_PROXY set in `env` (OKTA_USE_HTTPS_PROXY)."
    )


class OidcAuth(OAuthClient):
    name: str = Field(default="OIDC", min_length=1, description="Label of the login button (OIDC_NAME).")
    issuer: HttpUrl = Field(description="Issuer URL (OIDC_ISSUER).")
    authorization_url: HttpUrl = Field(description="Authorization endpoint (OIDC_AUTHORIZATION_URL).")
    token_url: HttpUrl = Field(description="Token endpoint (OIDC_TOKEN_URL).")
    user_info_url: HttpUrl = Field(description="UserInfo endpoint (OIDC_USER_INFO_URL).")
    uses_pkce_s256: bool = Field(
        default=True, description="Use PKCE with S256 (OIDC_USES_PKCE_S256); recommended by OAuth 2.1."
    )
    uses_pkce_plain: bool = Field(
        default=False, description="Use PKCE with the plain method (OIDC_USES_PKCE_PLAIN); only for IdPs without S256."
    )
    external_groups: bool = Field(
        default=False, description="Take group membership from the IdP's groups claim (OIDC_EXTERNAL_GROUPS)."
    )
    use_https_proxy: bool = Field(
        default=False, description="Reach the IdP through the HTTPS_PROXY set in `env` (OIDC_USE_HTTPS_PROXY)."
    )
    uses_verified_email: Optional[bool] = Field(
        default=None,
        description="Accept only users whose email the IdP marks verified (OIDC_USES_VERIFIED_EMAIL); "
        "unset: Heimdall's default.",
    )

    @model_validator(mode="after")
    def _one_pkce_method(self) -> OidcAuth:
        if self.uses_pkce_s256 and self.uses_pkce_plain:
            raise ValueError("set usesPkceS256 or usesPkcePlain, not both")
        return self


class LdapAuth(ProviderSecret):
    host: Hostname = Field(description="LDAP server host name (LDAP_HOST).")
    port: Port = Field(default=389, description="LDAP server port (LDAP_PORT).")
    bind_dn: Optional[str] = Field(
        default=None, min_length=1, description="DN Heimdall binds as to search users (LDAP_BINDDN)."
    )
    bind_password: Optional[SecretStr] = Field(
        default=None, description="Password of bindDn (LDAP_PASSWORD), as a Pulumi secret."
    )
    search_base: str = Field(min_length=1, description="Where users are searched (LDAP_SEARCHBASE).")
    search_filter: Optional[str] = Field(
        default=None,
        description="User search filter (LDAP_SEARCHFILTER); Heimdall's default is (sAMAccountName={{username}}).",
    )
    name_field: Optional[str] = Field(default=None, description="Attribute with the user's name (LDAP_NAMEFIELD; default name).")
    mail_field: Optional[str] = Field(default=None, description="Attribute with the user's email (LDAP_MAILFIELD; default mail).")
    ssl: bool = Field(
        default=False,
        description="TLS to the LDAP server (LDAP_SSL); needs caCertificates, whose bundle becomes LDAP_SSL_CA.",
    )
    ssl_insecure: bool = Field(
        default=False, description="Do not verify the LDAP server's certificate (LDAP_SSL_INSECURE); avoid."
    )

    def _secret_value(self) -> Optional[SecretStr]:
        return self.bind_password

    @model_validator(mode="after")
    def _bind_secret(self) -> LdapAuth:
        self._check_secret("bindPassword", required=self.bind_dn is not None)
        if (self.bind_password is not None or self.existing_secret) and self.bind_dn is None:
            raise ValueError("a bind password needs bindDn")
        return self


class Auth(Model):
    """Login providers besides local accounts. A provider is on when its section is set."""

    ldap: Optional[LdapAuth] = Field(default=None, description="LDAP / Active Directory login.")
    github: Optional[GithubAuth] = Field(default=None, description="GitHub (or GitHub Enterprise) OAuth login.")
    gitlab: Optional[GitlabAuth] = Field(default=None, description="GitLab OAuth login.")
    google: Optional[GoogleAuth] = Field(default=None, description="Google OAuth login.")
    okta: Optional[OktaAuth] = Field(default=None, description="Okta login.")
    oidc: Optional[OidcAuth] = Field(default=None, description="Any OpenID Connect provider (Keycloak, Entra ID, ...).")

    @property
    def oauth_providers(self) -> list[str]:
        """The providers that redirect back to <EXTERNAL_URL>/authn/..."""
        providers = {"github": self.github, "gitlab": self.gitlab, "google": self.google, "okta": self.okta, "oidc": self.oidc}
        return [name for name, section in providers.items() if section]

    @property
    def any(self) -> bool:
        return bool(self.ldap or self.oauth_providers)
