"""The released chart, mitre/heimdall-helm 3.3.3 (`heimdall2/`), read in its templates at
tag heimdall-3.3.3:

- `heimdall-statefulset.yaml`: every Heimdall variable from a top-level key
  (`githubClientId` -> GITHUB_CLIENTID, ...), the secret ones by `secretKeyRef` into the
  Secret `<fullname>` under the value's own key name (`jwtSecret`, `githubClientSecret`);
- `secrets.yaml`: that Secret; a key is written only when its value is set, except
  `jwtSecret` (always, empty when unset) and `ldapBindDn`/`ldapPassword` (only when the
  value is literally `true`: the LDAP bind password never reaches the Secret);
- `postgresql-statefulset.yaml`, `postgresql-persistentvolumeclaim.yaml`: the official
  `postgres` image, PGDATA `/var/lib/postgresql/data/pgdata`, and with
  `postgresql.persistence.enabled` a claim of its own, `<fullname>-db-data` (not a
  volumeClaimTemplate), else an emptyDir;
- `values.yaml`: the defaults below.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from heimdall.settings.types import PG_DATABASE_NAME
from heimdall.tooling import helm_chart
from heimdall.tooling.helm_conversion import (
    Conversion,
    SecretRef,
    heimdall_settings,
    merge,
    truthy,
    unknown_keys,
)

CHART = "mitre/heimdall-helm 3.3.3 (released)"
DEFAULTS: dict[str, Any] = {
    "nodeEnv": "production",
    "databaseName": "heimdall-database",
    "databaseUsername": "postgres",
    "postgresql": {
        "enabled": True,
        "image": {"repository": "postgres", "pullPolicy": "Always", "tag": "17"},
        "persistence": {"enabled": False, "size": "100Mi", "storageClassName": "default", "accessMode": "ReadWriteOnce"},
    },
    "certs": {"enabled": False, "systemCertsApproach": {"enabled": False}, "name": "heimdall-cacerts"},
    "heimdall": {
        "image": {"repository": "mitre/heimdall2", "pullPolicy": "Always", "tag": "release-latest"},
        "ingress": {"enabled": True, "hosts": [{"host": "localhost", "paths": [{"path": "/", "pathType": "Prefix"}]}]},
    },
}
# Top-level key -> the variable heimdall-statefulset.yaml gives Heimdall.
ENV = {
    "nodeEnv": "NODE_ENV", "maxFileUploadSize": "MAX_FILE_UPLOAD_SIZE", "jwtExpireTime": "JWT_EXPIRE_TIME",
    "adminEmail": "ADMIN_EMAIL", "adminUsesExternalAuth": "ADMIN_USES_EXTERNAL_AUTH",
    "localLoginDisabled": "LOCAL_LOGIN_DISABLED", "registrationDisabled": "REGISTRATION_DISABLED",
    "oneSessionPerUser": "ONE_SESSION_PER_USER", "externalUrl": "EXTERNAL_URL",
    "classificationBannerText": "CLASSIFICATION_BANNER_TEXT",
    "classificationBannerTextColor": "CLASSIFICATION_BANNER_TEXT_COLOR",
    "classificationBannerColor": "CLASSIFICATION_BANNER_COLOR",
    "splunkHostUrl": "SPLUNK_HOST_URL", "tenableHostUrl": "TENABLE_HOST_URL",
    "forceTenableFrontend": "FORCE_TENABLE_FRONTEND", "httpsProxy": "HTTPS_PROXY",
    "githubClientId": "GITHUB_CLIENTID", "githubEnterpriseInstanceBaseUrl": "GITHUB_ENTERPRISE_INSTANCE_BASE_URL",
    "githubEnterpriseInstanceApiUrl": "GITHUB_ENTERPRISE_INSTANCE_API_URL",
    "gitlabClientId": "GITLAB_CLIENTID", "gitlabBaseUrl": "GITLAB_BASEURL", "googleClientId": "GOOGLE_CLIENTID",
    "oktaDomain": "OKTA_DOMAIN", "oktaClientId": "OKTA_CLIENTID", "oktaIssuer": "OKTA_ISSUER_URL",
    "oktaAuthorizationUrl": "OKTA_AUTHORIZATION_URL", "oktaTokenUrl": "OKTA_TOKEN_URL",
    "oktaUserInfoUrl": "OKTA_USER_INFO_URL", "oktaUseHttpsProxy": "OKTA_USE_HTTPS_PROXY",
    "oidcName": "OIDC_NAME", "oidcIssuer": "OIDC_ISSUER", "oidcAuthorizationUrl": "OIDC_AUTHORIZATION_URL",
    "oidcTokenUrl": "OIDC_TOKEN_URL", "oidcUserInfoUrl": "OIDC_USER_INFO_URL",
    "oidcUsesVerifiedEmail": "OIDC_USES_VERIFIED_EMAIL", "oidcClientId": "OIDC_CLIENTID",
    "oidcExternalGroups": "OIDC_EXTERNAL_GROUPS", "oidcUsesPKCES256": "OIDC_USES_PKCE_S256",
    "oidcUsesPKCEPlain": "OIDC_USES_PKCE_PLAIN", "oidcUseHttpsProxy": "OIDC_USE_HTTPS_PROXY",
    "ldapEnabled": "LDAP_ENABLED", "ldapHost": "LDAP_HOST", "ldapPort": "LDAP_PORT", "ldapBindDn": "LDAP_BINDDN",
    "ldapSearchBase": "LDAP_SEARCHBASE", "ldapSearchFilter": "LDAP_SEARCHFILTER",
    "ldapNameField": "LDAP_NAMEFIELD", "ldapMailField": "LDAP_MAILFIELD", "ldapSsl": "LDAP_SSL",
    "ldapSslInsecure": "LDAP_SSL_INSECURE", "ldapSslCa": "LDAP_SSL_CA",
}
# Secret variable -> its key in the chart's Secret.
SECRET_KEYS = {
    "GITHUB_CLIENTSECRET": "githubClientSecret", "GITLAB_SECRET": "gitlabClientSecret",
    "GOOGLE_CLIENTSECRET": "googleClientSecret", "OKTA_CLIENTSECRET": "oktaClientSecret",
    "OIDC_CLIENT_SECRET": "oidcClientSecret", "LDAP_PASSWORD": "ldapPassword",
}
# secrets.keys setting -> the chart's key
CORE_KEYS = {"jwtSecret": "jwtSecret", "apiKeySecret": "apiKeySecret", "adminPassword": "adminPassword", "databasePassword": "databasePassword"}
_OPAQUE = None
KNOWN: dict[str, Any] = {
    **{key: _OPAQUE for key in ENV},
    **{key: _OPAQUE for key in (
        "jwtSecret", "apiKeySecret", "adminPassword", "databaseHost", "databasePort", "databaseName",
        "databaseUsername", "databasePassword", "databaseSsl", "databaseSslInsecure", "databaseSslKey",
        "databaseSslCert", "databaseSslCa", "githubClientSecret", "gitlabClientSecret", "googleClientSecret",
        "oktaClientSecret", "oidcClientSecret", "ldapPassword", "nameOverride", "fullnameOverride",
        "imagePullSecrets", "podAnnotations",
    )},
    "sops": {"enabled": _OPAQUE, "secrets": _OPAQUE},
    "postgresql": {
        "enabled": _OPAQUE, "image": {"repository": _OPAQUE, "pullPolicy": _OPAQUE, "tag": _OPAQUE},
        "persistence": {"enabled": _OPAQUE, "size": _OPAQUE, "storageClassName": _OPAQUE, "accessMode": _OPAQUE},
        "service": {"type": _OPAQUE, "port": _OPAQUE},
        **{key: _OPAQUE for key in ("podAnnotations", "podSecurityContext", "securityContext", "resources",
                                     "nodeSelector", "tolerations", "affinity")},
    },
    "certs": {key: _OPAQUE for key in ("enabled", "systemCertsApproach", "name", "certificates", "securityContext", "resources")},
    "heimdall": {
        "image": {"repository": _OPAQUE, "pullPolicy": _OPAQUE, "tag": _OPAQUE},
        "service": {"type": _OPAQUE, "port": _OPAQUE},
        "ingress": {key: _OPAQUE for key in ("enabled", "apiVersion", "kind", "hosts", "annotations", "className", "tls")},
        **{key: _OPAQUE for key in ("gateway", "podAnnotations", "podSecurityContext", "securityContext",
                                     "resources", "nodeSelector", "tolerations", "affinity",
                                     "livenessProbe", "readinessProbe", "imagePullSecrets")},
    },
}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def identifier(kind: str, value: str, conv: Conversion, where: str) -> str:
    """A database or user name the program takes: a database name as `database.name` takes
    it (the chart's default, heimdall-database, as it is), a user name a plain PostgreSQL
    identifier; anything else is renamed once before the takeover."""
    if (PG_DATABASE_NAME if kind == "database" else _IDENTIFIER).fullmatch(value):
        return value
    renamed = re.sub(r"[^A-Za-z0-9_]", "_", value)
    if not re.match(r"[A-Za-z_]", renamed):
        renamed = f"_{renamed}"
    if kind == "database":
        conv.steps.append(
            f"rename the database to a name the program takes ({value!r} -> {renamed}), with Heimdall "
            f"stopped: {where} -d postgres -c 'ALTER DATABASE \"{value}\" RENAME TO {renamed}'"
        )
    else:
        conv.steps.append(
            f"rename the user {value!r} -> {renamed} (as another superuser; it then needs its password "
            f"set again): {where} -d postgres -c 'ALTER ROLE \"{value}\" RENAME TO {renamed}'"
        )
    return renamed


def database(values: dict[str, Any], name: str, conv: Conversion) -> Optional[str]:
    """The database settings; returns the claim adopted, if any."""
    postgresql = values["postgresql"]
    embedded = truthy(postgresql.get("enabled"))
    user = str(values.get("databaseUsername") or "postgres")
    where = (
        f"{conv.kubectl()} exec {name}-postgresql-0 -- psql -U {user}"
        if embedded
        else f"psql -h {values.get('databaseHost')} -U {user}"
    )
    section: dict[str, Any] = {
        "name": identifier("database", str(values.get("databaseName") or "heimdall-database"), conv, where),
        "username": identifier("user", user, conv, where),
    }
    claim = None
    if embedded:
        section["provider"] = "embedded"
        image = postgresql.get("image") or {}
        embedded_section: dict[str, Any] = {}
        if image.get("repository", "postgres") != "postgres":
            conv.not_carried.append(f"postgresql.image.repository {image['repository']!r}: the stack runs the official postgres image")
        embedded_section["image"] = {"tag": str(image.get("tag") or "17")}
        if found := helm_chart.resources(postgresql.get("resources")):
            embedded_section["resources"] = found
        if truthy(postgresql["persistence"].get("enabled")):
            claim = f"{name}-db-data"
            embedded_section["existingClaim"] = claim
        else:
            conv.not_carried.append(
                "the data: postgresql.persistence.enabled is false, so the chart kept it in an emptyDir "
                "that goes with the pod; dump it and restore it (docs/operations.md, path 1) before the chart goes"
            )
        for key in ("podAnnotations", "podSecurityContext", "securityContext", "nodeSelector", "tolerations", "affinity"):
            if postgresql.get(key):
                conv.not_carried.append(f"postgresql.{key}: the stack's database pod takes the stack-wide settings")
        section["embedded"] = embedded_section
    else:
        if not values.get("databaseHost"):
            conv.not_carried.append("databaseHost: unset with postgresql.enabled false; set database.external.host")
        section["provider"] = "external"
        section["external"] = {"host": str(values.get("databaseHost") or "database.invalid")}
        if values.get("databasePort"):
            section["port"] = int(values["databasePort"])
        if truthy(values.get("databaseSsl") or False):
            insecure = truthy(values.get("databaseSslInsecure") or False)
            section["tls"] = {"mode": "require" if insecure else "verify"}
            if not insecure and values.get("databaseSslCa"):
                section["tls"]["ca"] = {"name": "heimdall-database-ca", "key": "ca.pem"}
                conv.steps.append(
                    f"the database CA as a ConfigMap: {conv.kubectl()} get secret {name} -o jsonpath='{{.data.databaseSslCa}}' "
                    f"| base64 -d > ca.pem && {conv.kubectl()} create configmap heimdall-database-ca --from-file=ca.pem"
                )
            elif not insecure:
                conv.not_carried.append(
                    "databaseSsl without databaseSslCa: set database.tls.ca (the server's CA bundle); backups "
                    "verify with pg_dump, which has no system CA store"
                )
        for key in ("databaseSslKey", "databaseSslCert"):
            if values.get(key):
                conv.not_carried.append(f"{key}: client certificates are not supported; the stack logs in with the password")
    conv.set("database", section)
    return claim


def secrets(values: dict[str, Any], name: str, conv: Conversion) -> None:
    if truthy((values.get("sops") or {}).get("enabled") or False):
        conv.not_carried.append(
            "sops.enabled: the secrets live in the SOPS-generated Secret; set secrets.existingSecret "
            "(and secrets.keys) to it"
        )
    present = {setting for setting, key in CORE_KEYS.items() if values.get(key)}
    why = {
        "jwtSecret": "jwtSecret is empty in the chart's Secret (each pod signed sessions with its own); give it one",
        "apiKeySecret": "the chart's Secret has no apiKeySecret (API keys were off); give it one",
        "adminPassword": "the chart's Secret has no adminPassword (the admin already exists in the data; the key must exist)",
    }
    if conv.secrets_mode == "adopt":
        conv.set("secrets.existingSecret", name)
        conv.set("secrets.keys", dict(CORE_KEYS))
        for setting in sorted(set(why) - present):
            conv.add_key_step(name, CORE_KEYS[setting], why[setting])
    else:
        for setting in sorted(present):
            conv.command(f"secrets.{setting}", (name, CORE_KEYS[setting]), setting)
    if "databasePassword" not in present:
        conv.not_carried.append(
            f"databasePassword is not in this values file: check that Secret {name} holds it "
            "(given with --set at install?); it is the password the data was created with"
        )


def certificates(values: dict[str, Any], conv: Conversion) -> None:
    certs = values["certs"]
    if not truthy(certs.get("enabled") or False):
        return
    files = [c for c in certs.get("certificates") or [] if isinstance(c, dict) and c.get("filename")]
    if len(files) == 1 and not truthy((certs.get("systemCertsApproach") or {}).get("enabled") or False):
        conv.set("caCertificates", {"existingConfigMap": certs.get("name") or "heimdall-cacerts",
                                    "existingConfigMapKey": files[0]["filename"]})
    else:
        conv.not_carried.append(
            "certs: several certificates or the system-certificates approach; concatenate them into one "
            "PEM file and set caCertificates.files"
        )


def convert(raw: dict[str, Any], release: str, namespace: str, stack: Optional[str], secrets_mode: str) -> Conversion:
    conv = Conversion(CHART, namespace, stack, secrets_mode)
    conv.unknown = unknown_keys(raw, KNOWN)
    values = merge(DEFAULTS, raw)
    name = helm_chart.fullname(values, release)
    conv.set("namespace", namespace)
    conv.set("createNamespace", False)
    heimdall = values["heimdall"]
    helm_chart.image(heimdall, conv)
    helm_chart.pod(heimdall, values, conv)
    claim = database(values, name, conv)
    secrets(values, name, conv)
    env = {ENV[key]: str(value) for key, value in values.items() if key in ENV and value not in (None, "")}

    def locate(variable: str) -> Optional[SecretRef]:
        key = SECRET_KEYS.get(variable)
        if key is None or key == "ldapPassword":  # never written (secrets.yaml: `eq .Values.ldapPassword true`)
            return None
        if not values.get(key):
            conv.not_carried.append(f"{key} is not in this values file: check that Secret {name} holds it")
        return (name, key)

    heimdall_settings(env, conv, locate)
    helm_chart.ingress(heimdall, conv)
    if (heimdall.get("gateway") or {}).get("enabled"):
        conv.not_carried.append("heimdall.gateway (an Istio VirtualService): set gateway (a Gateway API HTTPRoute) or ingress")
    if any(key in raw.get("heimdall", {}) for key in ("livenessProbe", "readinessProbe")):
        conv.not_carried.append("heimdall probes: the stack probes /server (a real route) with its own timings")
    certificates(values, conv)
    helm_chart.handover(name, release, claim, conv)
    return conv
