"""The model of a conversion from a mitre/heimdall-helm values file (from_helm.py): the
settings written, the steps, the secret commands, what is not carried over and the unknown
keys; Helm's merging of the chart's defaults; and `heimdall_settings`, which turns the
Heimdall environment either chart line gave the pod into settings."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Optional

SecretRef = tuple[str, str]  # (Secret name, key)
# A placeholder that stands for a secret the printed commands set, when validating.
PLACEHOLDER = "placeholder-secret-for-validation-0123456789"
MOVING_TAGS = frozenset({"latest", "release-latest", "master", "main", "develop"})


@dataclass
class Conversion:
    """A stack's settings and what the user must know or do besides writing them."""

    chart: str
    namespace: str
    stack: Optional[str]
    secrets_mode: str  # "adopt" or "pulumi"
    values: dict[str, Any] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)  # before `pulumi up`, in order
    secret_commands: list[str] = field(default_factory=list)
    secret_paths: list[str] = field(default_factory=list)  # what the commands set
    not_carried: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    def set(self, path: str, value: Any) -> None:
        node = self.values
        *parents, last = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value

    def get(self, path: str) -> Any:
        node: Any = self.values
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def kubectl(self) -> str:
        return f"kubectl -n {self.namespace}"

    def command(self, path: str, source: Optional[SecretRef], what: str) -> None:
        """A `pulumi config set --secret --path` command for `path`: from the chart's
        Secret when it holds the value, else a prompt (no echo) for the value of `what`."""
        stack = f" --stack {self.stack}" if self.stack else ""
        set_cmd = f"pulumi config set{stack} --secret --path {path}"
        if source is None:
            self.secret_commands.append(f"{set_cmd}    # prompts (no echo): the value of {what}")
        else:
            name, key = source
            jsonpath = shlex.quote("{.data." + key.replace(".", "\\.") + "}")
            self.secret_commands.append(
                f"{self.kubectl()} get secret {name} -o jsonpath={jsonpath} | base64 -d | {set_cmd}"
            )
        self.secret_paths.append(path)

    def add_key_step(self, secret: str, key: str, why: str, value_from: Optional[SecretRef] = None) -> None:
        """A step that adds `key` to the Secret without the value on any command line
        (printf is a shell builtin; the patch goes through a file)."""
        if value_from is None:
            value = '"$(openssl rand -hex 32)"'
            kind = "stringData"
        else:
            source = shlex.quote("{.data." + value_from[1].replace(".", "\\.") + "}")
            value = f'"$({self.kubectl()} get secret {value_from[0]} -o jsonpath={source})"'
            kind = "data"
        self.steps.append(
            f"{why}: printf '{{\"{kind}\":{{\"{key}\":\"%s\"}}}}' {value} > patch.json && "
            f"{self.kubectl()} patch secret {secret} --type merge --patch-file patch.json && rm patch.json"
        )


def truthy(value: Any) -> bool:
    return str(value).strip().lower() == "true" if not isinstance(value, bool) else value


# --- the values tree: merging the chart's defaults, and keys the chart line knows -------------

Known = dict[str, Any]  # key -> None (a value, or a map passed through as is) or a nested Known


def merge(defaults: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Helm's coalescing: maps merge key by key, anything else replaces."""
    merged = dict(defaults)
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def unknown_keys(values: Any, known: Known, prefix: str = "") -> list[str]:
    found: list[str] = []
    if not isinstance(values, dict):
        return found
    for key, value in values.items():
        path = f"{prefix}{key}"
        if key not in known:
            found.append(path)
        elif isinstance(known[key], dict):
            found += unknown_keys(value, known[key], f"{path}.")
    return found


# --- Heimdall's environment to settings (both chart lines) ------------------------------------

_OAUTH = {
    # provider: (client id variable, client secret variable, {variable: setting})
    "github": ("GITHUB_CLIENTID", "GITHUB_CLIENTSECRET", {
        "GITHUB_ENTERPRISE_INSTANCE_BASE_URL": "enterpriseBaseUrl",
        "GITHUB_ENTERPRISE_INSTANCE_API_URL": "enterpriseApiUrl",
    }),
    "gitlab": ("GITLAB_CLIENTID", "GITLAB_SECRET", {"GITLAB_BASEURL": "baseUrl"}),
    "google": ("GOOGLE_CLIENTID", "GOOGLE_CLIENTSECRET", {}),
    "okta": ("OKTA_CLIENTID", "OKTA_CLIENTSECRET", {
        "OKTA_DOMAIN": "domain", "OKTA_ISSUER_URL": "issuerUrl",
        "OKTA_AUTHORIZATION_URL": "authorizationUrl", "OKTA_TOKEN_URL": "tokenUrl",
        "OKTA_USER_INFO_URL": "userInfoUrl", "OKTA_USE_HTTPS_PROXY": "useHttpsProxy",
    }),
    "oidc": ("OIDC_CLIENTID", "OIDC_CLIENT_SECRET", {
        "OIDC_NAME": "name", "OIDC_ISSUER": "issuer", "OIDC_AUTHORIZATION_URL": "authorizationUrl",
        "OIDC_TOKEN_URL": "tokenUrl", "OIDC_USER_INFO_URL": "userInfoUrl",
        "OIDC_USES_PKCE_S256": "usesPkceS256", "OIDC_USES_PKCE_PLAIN": "usesPkcePlain",
        "OIDC_EXTERNAL_GROUPS": "externalGroups", "OIDC_USE_HTTPS_PROXY": "useHttpsProxy",
        "OIDC_USES_VERIFIED_EMAIL": "usesVerifiedEmail",
    }),
}
_LDAP = {
    "LDAP_HOST": "host", "LDAP_PORT": "port", "LDAP_BINDDN": "bindDn", "LDAP_SEARCHBASE": "searchBase",
    "LDAP_SEARCHFILTER": "searchFilter", "LDAP_NAMEFIELD": "nameField", "LDAP_MAILFIELD": "mailField",
    "LDAP_SSL": "ssl", "LDAP_SSL_INSECURE": "sslInsecure",
}
_BOOLEAN_SETTINGS = {"useHttpsProxy", "usesPkceS256", "usesPkcePlain", "externalGroups", "usesVerifiedEmail", "ssl", "sslInsecure"}
_FLAGS = {
    "LOCAL_LOGIN_DISABLED": "localLoginDisabled",
    "REGISTRATION_DISABLED": "registrationDisabled",
    "ONE_SESSION_PER_USER": "oneSessionPerUser",
}
_BANNER = {
    "CLASSIFICATION_BANNER_TEXT": "text",
    "CLASSIFICATION_BANNER_TEXT_COLOR": "textColor",
    "CLASSIFICATION_BANNER_COLOR": "color",
}
# Plain variables the program has no setting for: carried in `env`.
PASS_THROUGH = ("SPLUNK_HOST_URL", "TENABLE_HOST_URL", "FORCE_TENABLE_FRONTEND", "HTTPS_PROXY")
# Set by the program itself from its own settings.
PROGRAM_OWNED = frozenset(
    {"DATABASE_HOST", "DATABASE_PORT", "DATABASE_NAME", "DATABASE_USERNAME", "DATABASE_SSL",
     "DATABASE_SSL_INSECURE", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "LDAP_ENABLED", "LDAP_SSL_CA", "PORT"}
)

# Secret variable -> where it lives in the chart's cluster (None: nowhere the tool knows).
SecretLocator = Callable[[str], Optional[SecretRef]]


def external_url(value: str, conv: Conversion, key: str) -> Optional[str]:
    match = re.fullmatch(r"(https?://[^\s/?#@]+)(.*)", value.strip())
    if not match:
        conv.not_carried.append(f"{key} {value!r}: not an http(s) URL; set externalUrl yourself")
        return None
    if match.group(2):
        conv.not_carried.append(
            f"{key} {value!r}: EXTERNAL_URL must be a bare origin (heimdall2#7542); written as {match.group(1)}"
        )
    return match.group(1)


def _provider_secret(conv: Conversion, section: str, fieldname: str, variable: str, locate: SecretLocator) -> dict[str, Any]:
    where = locate(variable)
    if conv.secrets_mode == "adopt" and where is not None:
        return {"existingSecret": where[0], "existingSecretKey": where[1]}
    conv.command(f"{section}.{fieldname}", where, variable)
    return {}


def heimdall_settings(env: dict[str, str], conv: Conversion, locate: SecretLocator) -> set[str]:
    """Settings from the chart's Heimdall environment; returns the variables used."""
    used: set[str] = set()

    def take(name: str) -> Optional[str]:
        value = env.get(name)
        used.add(name)
        return None if value in (None, "") else str(value)

    node_env = take("NODE_ENV")
    if node_env and node_env != "production":
        conv.not_carried.append(f"NODE_ENV {node_env!r}: the program always runs production")
    if (email := take("ADMIN_EMAIL")) is not None:
        conv.set("admin.email", email)
    if truthy(take("ADMIN_USES_EXTERNAL_AUTH") or False):
        conv.set("admin.usesExternalAuth", True)
    for variable, setting in _FLAGS.items():
        # Heimdall's default is false for each; the program's registrationDisabled is true.
        conv.set(setting, truthy(take(variable) or False))
    if (expire := take("JWT_EXPIRE_TIME")) is not None:
        if re.fullmatch(r"[1-9][0-9]*[smhd]", expire):
            conv.set("jwtExpireTime", expire)
        else:
            conv.not_carried.append(f"JWT_EXPIRE_TIME {expire!r}: write it as 60s, 30m, 12h or 1d (at most 2d)")
    else:
        conv.not_carried.append("JWT_EXPIRE_TIME unset (Heimdall's 60s logs users out): the stack uses 12h")
    if (size := take("MAX_FILE_UPLOAD_SIZE")) is not None:
        if size.isdigit():
            conv.set("maxFileUploadSize", int(size))
        else:
            conv.not_carried.append(f"MAX_FILE_UPLOAD_SIZE {size!r}: not a number of MB")
    if take("CLASSIFICATION_BANNER_TEXT"):
        for variable, setting in _BANNER.items():
            if (value := take(variable)) is not None:
                conv.set(f"banners.classification.{setting}", value)
    used.update(_BANNER)
    if (warning := take("WARNING_BANNER")) is not None:
        conv.set("banners.warning", warning)
    if (url := take("EXTERNAL_URL")) is not None and (origin := external_url(url, conv, "EXTERNAL_URL")):
        conv.set("externalUrl", origin)
    for name in PASS_THROUGH:
        if (value := take(name)) is not None:
            conv.set(f"env.{name}", value)

    for provider, (client_id, secret, extra) in _OAUTH.items():
        used.update({client_id, secret, *extra})
        if not env.get(client_id):
            continue
        section: dict[str, Any] = {"clientId": str(env[client_id])}
        for variable, setting in extra.items():
            if env.get(variable) not in (None, ""):
                value = env[variable]
                section[setting] = truthy(value) if setting in _BOOLEAN_SETTINGS else str(value)
        if provider == "oidc":  # Heimdall's own defaults, which the chart kept
            section.setdefault("usesPkceS256", False)
        section.update(_provider_secret(conv, f"auth.{provider}", "clientSecret", secret, locate))
        conv.set(f"auth.{provider}", section)
    used.update({"LDAP_ENABLED", "LDAP_PASSWORD", "LDAP_SSL_CA", *_LDAP})
    if truthy(env.get("LDAP_ENABLED", False)):
        ldap: dict[str, Any] = {}
        for variable, setting in _LDAP.items():
            if env.get(variable) not in (None, ""):
                value = env[variable]
                ldap[setting] = (
                    truthy(value) if setting in _BOOLEAN_SETTINGS
                    else int(value) if setting == "port" and str(value).isdigit() else str(value)
                )
        if ldap.get("bindDn"):
            ldap.update(_provider_secret(conv, "auth.ldap", "bindPassword", "LDAP_PASSWORD", locate))
        if env.get("LDAP_SSL_CA"):
            conv.not_carried.append(
                "LDAP_SSL_CA: put the LDAP server's CA in caCertificates (a PEM file or a ConfigMap)"
            )
        conv.set("auth.ldap", ldap)
    return used
