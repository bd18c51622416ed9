"""The develop branch of mitre/heimdall-helm, chart 1.0.0 (`heimdall/`, unreleased), read in
its templates:

- `configmap.yaml`: DATABASE_HOST/PORT/NAME/USERNAME from `externalDatabase.*` or the
  Bitnami subchart's `postgresql.auth.*`, NODE_ENV, EXTERNAL_URL (`https://` + the first
  ingress host, else `heimdall.config.EXTERNAL_URL`), then `env/heimdallconfig.yaml`
  (defaults below) and `heimdall.config` (any Heimdall variable) over it;
- `heimdall-secrets.yaml`, `heimdall-statefulset.yaml`: every key of
  `heimdall.existingSecret` (else the chart's `<fullname>-secrets`, from
  `heimdall.secrets`) becomes a variable (`envFrom`), so its keys are variable names;
  DATABASE_PASSWORD comes from `externalDatabase.existingSecret` (key
  `existingSecretPasswordKey`) or, embedded, from Bitnami's `<release>-postgresql` Secret
  (key `postgres-password`);
- the Bitnami postgresql chart's StatefulSet `<release>-postgresql` (standalone) with the
  volumeClaimTemplate `data`: the claim `data-<release>-postgresql-0`
  (bitnami/charts postgresql templates/primary/statefulset.yaml, values
  `primary.persistence.volumeName: data`), a Bitnami data layout the official image reads
  only after `heimdall/scripts/adopt-bitnami-data.sh`.
"""

from __future__ import annotations

from typing import Any, Optional

from heimdall.tooling import helm_chart
from heimdall.tooling.helm_conversion import (
    PROGRAM_OWNED,
    Conversion,
    SecretRef,
    heimdall_settings,
    merge,
    truthy,
    unknown_keys,
)
from heimdall.tooling.helm_released import KNOWN as RELEASED_KNOWN
from heimdall.tooling.helm_released import identifier

CHART = "mitre/heimdall-helm develop (chart 1.0.0, unreleased)"
DEFAULTS: dict[str, Any] = {
    "nodeEnv": "production",
    "postgresql": {
        "enabled": True,
        "image": {"tag": "latest"},
        "auth": {"database": "heimdall", "username": "postgres"},
        "primary": {"persistence": {"enabled": True}},
    },
    "externalDatabase": {"port": 5432, "database": "heimdall", "username": "postgres",
                         "existingSecret": "", "existingSecretPasswordKey": "password"},
    "extraCertificates": {"enabled": False, "configMapName": "", "certificates": {}},
    "heimdall": {"image": {"repository": "mitre/heimdall2", "tag": "release-latest"}, "existingSecret": "",
                 "secrets": {}, "config": {}, "ingress": {"enabled": False, "className": "traefik"},
                 "autoscaling": {"enabled": False, "minReplicas": 1, "maxReplicas": 3, "targetCPUUtilizationPercentage": 80}},
}
# env/heimdallconfig.yaml: what the chart's ConfigMap holds before heimdall.config.
CONFIG_FILE = {
    "JWT_EXPIRE_TIME": "25m", "ADMIN_EMAIL": "admin@heimdall.local", "ADMIN_USES_EXTERNAL_AUTH": "false",
    "LOCAL_LOGIN_DISABLED": "false", "REGISTRATION_DISABLED": "false", "ONE_SESSION_PER_USER": "false",
    "MAX_FILE_UPLOAD_SIZE": "50", "CLASSIFICATION_BANNER_TEXT": "", "CLASSIFICATION_BANNER_TEXT_COLOR": "white",
    "CLASSIFICATION_BANNER_COLOR": "red", "DATABASE_SSL": "false", "DATABASE_SSL_INSECURE": "false",
    "GITLAB_BASEURL": "https://gitlab.com", "OIDC_NAME": "OIDC Provider", "OIDC_USES_PKCE_S256": "false",
    "OIDC_USES_VERIFIED_EMAIL": "false", "LDAP_ENABLED": "false", "LDAP_PORT": "389",
    "LDAP_SEARCHFILTER": "(uid={{username}})", "LDAP_NAMEFIELD": "cn", "LDAP_MAILFIELD": "mail",
}
SECRET_VARIABLES = ("JWT_SECRET", "API_KEY_SECRET", "ADMIN_PASSWORD", "DATABASE_PASSWORD")
_OPAQUE = None
KNOWN: dict[str, Any] = {
    "nodeEnv": _OPAQUE, "nameOverride": _OPAQUE, "fullnameOverride": _OPAQUE, "imagePullSecrets": _OPAQUE,
    "sops": {"enabled": _OPAQUE, "secrets": _OPAQUE},
    "postgresql": _OPAQUE,  # the Bitnami subchart's own values
    "externalDatabase": {key: _OPAQUE for key in DEFAULTS["externalDatabase"]} | {"host": _OPAQUE},
    "extraCertificates": {key: _OPAQUE for key in DEFAULTS["extraCertificates"]},
    "heimdall": {key: _OPAQUE for key in (
        "image", "existingSecret", "secretsFiles", "secrets", "secret", "config", "configmap", "serviceAccount",
        "service", "ingress", "gateway", "networkPolicy", "podAnnotations", "podSecurityContext", "securityContext",
        "resources", "nodeSelector", "tolerations", "affinity", "startupProbe", "livenessProbe", "readinessProbe",
        "podDisruptionBudget", "autoscaling", "imagePullSecrets",
    )},
}
_MARKERS = ("existingSecret", "secretsFiles", "secrets", "config", "serviceAccount", "networkPolicy",
            "startupProbe", "podDisruptionBudget", "autoscaling")


def looks_like(values: dict[str, Any]) -> bool:
    """Keys only the develop line has."""
    heimdall = values.get("heimdall") or {}
    postgresql = values.get("postgresql") or {}
    return (
        "externalDatabase" in values
        or "extraCertificates" in values
        or any(key in heimdall for key in _MARKERS)
        or "auth" in postgresql
        or "primary" in postgresql
    )


def _postgresql_fullname(postgresql: dict[str, Any], release: str) -> str:
    """Bitnami's `common.names.fullname` for the subchart (chart name postgresql)."""
    if postgresql.get("fullnameOverride"):
        return str(postgresql["fullnameOverride"])
    return (release if "postgresql" in release.lower() else f"{release}-postgresql")[:63].rstrip("-")


def database(values: dict[str, Any], release: str, secret: str, conv: Conversion) -> Optional[str]:
    k = conv.kubectl()
    postgresql = values["postgresql"]
    if truthy(postgresql.get("enabled")):
        pg = _postgresql_fullname(postgresql, release)
        auth = postgresql.get("auth") or {}
        where = f"{k} exec {pg}-0 -- psql -U {auth.get('username') or 'postgres'}"
        section: dict[str, Any] = {
            "provider": "embedded",
            "name": identifier("database", str(auth.get("database") or "heimdall"), conv, where),
            "username": identifier("user", str(auth.get("username") or "postgres"), conv, where),
        }
        claim: Optional[str] = f"data-{pg}-0"
        embedded: dict[str, Any] = {"image": {"tag": "17"}, "existingClaim": claim}
        if found := helm_chart.resources((postgresql.get("primary") or {}).get("resources")):
            embedded["resources"] = found
        section["embedded"] = embedded
        conv.steps.append(
            f"check the data's major version and set database.embedded.image.tag to it (17 written): "
            f"{k} exec {pg}-0 -- cat /bitnami/postgresql/data/PG_VERSION"
        )
        password: SecretRef = (str(auth.get("existingSecret") or pg), "postgres-password")
        if conv.secrets_mode == "adopt":
            conv.add_key_step(secret, "DATABASE_PASSWORD", f"the database password into Secret {secret}", password)
        else:
            conv.command("secrets.databasePassword", password, "postgres-password")
        if not truthy((postgresql.get("primary") or {}).get("persistence", {}).get("enabled", True)):
            conv.not_carried.append("the data: postgresql.primary.persistence.enabled is false (an emptyDir); dump and restore it")
            claim = None
            del embedded["existingClaim"]
        conv.set("database", section)
        return claim
    external = values["externalDatabase"]
    where = f"psql -h {external.get('host')} -U {external.get('username') or 'postgres'}"
    section = {
        "provider": "external",
        "name": identifier("database", str(external.get("database") or "heimdall"), conv, where),
        "username": identifier("user", str(external.get("username") or "postgres"), conv, where),
        "external": {"host": str(external.get("host") or "database.invalid")},
    }
    if not external.get("host"):
        conv.not_carried.append("externalDatabase.host: unset; set database.external.host")
    if int(external.get("port") or 5432) != 5432:
        section["port"] = int(external["port"])
    if external.get("existingSecret"):
        section["external"]["existingSecret"] = str(external["existingSecret"])
        section["external"]["existingSecretPasswordKey"] = str(external.get("existingSecretPasswordKey") or "password")
    elif conv.secrets_mode == "pulumi":
        conv.command("secrets.databasePassword", (secret, "DATABASE_PASSWORD"), "DATABASE_PASSWORD")
    conv.set("database", section)
    return None


def _tls(env: dict[str, str], conv: Conversion) -> None:
    if not truthy(env.get("DATABASE_SSL", "false")):
        return
    insecure = truthy(env.get("DATABASE_SSL_INSECURE", "false"))
    conv.set("database.tls", {"mode": "require" if insecure else "verify"})
    if not insecure:
        conv.not_carried.append(
            "DATABASE_SSL: set database.tls.ca (the server's CA bundle: a PEM file or a ConfigMap); "
            "backups verify with pg_dump, which has no system CA store"
        )


def convert(raw: dict[str, Any], release: str, namespace: str, stack: Optional[str], secrets_mode: str) -> Conversion:
    conv = Conversion(CHART, namespace, stack, secrets_mode)
    conv.unknown = [
        f"{key} (a 3.3.3 key: no develop template reads it)" if key in RELEASED_KNOWN else key for key in unknown_keys(raw, KNOWN)
    ]
    values = merge(DEFAULTS, raw)
    name = helm_chart.fullname(values, release)
    heimdall = values["heimdall"]
    conv.set("namespace", namespace)
    conv.set("createNamespace", False)
    helm_chart.image(heimdall, conv)
    helm_chart.pod(heimdall, values, conv)

    inline = {str(k): v for k, v in (heimdall.get("secrets") or {}).items()}
    secret = str(heimdall.get("existingSecret") or f"{name}-secrets")
    if inline and not heimdall.get("existingSecret"):
        known_keys: Optional[set[str]] = set(inline)
    else:
        known_keys = None
        conv.steps.append(
            f"check the keys of Secret {secret} (JWT_SECRET, API_KEY_SECRET, ADMIN_PASSWORD expected): "
            f"{conv.kubectl()} get secret {secret} -o go-template='{{{{range $k, $v := .data}}}}{{{{$k}}}} {{{{end}}}}'"
        )
    claim = database(values, release, secret, conv)
    missing = {"JWT_SECRET", "API_KEY_SECRET", "ADMIN_PASSWORD"} - (known_keys or {"JWT_SECRET", "ADMIN_PASSWORD"})
    if secrets_mode == "adopt":
        conv.set("secrets.existingSecret", secret)
        for key in sorted(missing):
            why = (f"Secret {secret} has no {key}; give it one" if known_keys is not None
                   else f"if Secret {secret} has no {key} (the develop chart does not require it), give it one")
            conv.add_key_step(secret, key, why)
    else:
        for setting, key in (("jwtSecret", "JWT_SECRET"), ("apiKeySecret", "API_KEY_SECRET"), ("adminPassword", "ADMIN_PASSWORD")):
            if key not in missing:
                conv.command(f"secrets.{setting}", (secret, key), key)

    config = {str(k): "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
              for k, v in (heimdall.get("config") or {}).items()}
    env = {**CONFIG_FILE, **config, "NODE_ENV": str(values.get("nodeEnv") or "production")}
    ingress = heimdall.get("ingress") or {}
    hosts = [h for h in ingress.get("hosts") or [] if isinstance(h, dict) and h.get("host")]
    if ingress.get("enabled") and hosts and "EXTERNAL_URL" not in config:
        env["EXTERNAL_URL"] = f"https://{hosts[0]['host']}"

    def locate(variable: str) -> Optional[SecretRef]:
        if known_keys is not None and variable not in known_keys:
            return None
        return (secret, variable)

    used = heimdall_settings(env, conv, locate)
    _tls(env, conv)
    for variable in sorted(set(config) - used - PROGRAM_OWNED - set(SECRET_VARIABLES)):
        conv.set(f"env.{variable}", config[variable])
    for variable in sorted(set(inline) - set(SECRET_VARIABLES) - {"GITHUB_CLIENTSECRET", "GITLAB_SECRET", "GOOGLE_CLIENTSECRET", "OKTA_CLIENTSECRET", "OIDC_CLIENT_SECRET", "LDAP_PASSWORD"}):
        conv.not_carried.append(f"heimdall.secrets.{variable}: no setting takes it; add it to env only if it is not a secret")
    helm_chart.ingress(heimdall, conv)
    scaling = heimdall.get("autoscaling") or {}
    if truthy(scaling.get("enabled") or False):
        written = {"enabled": True, "minReplicas": int(scaling.get("minReplicas") or 1),
                   "maxReplicas": int(scaling.get("maxReplicas") or 3),
                   "targetCpuUtilization": scaling.get("targetCPUUtilizationPercentage")}
        if scaling.get("targetMemoryUtilizationPercentage"):
            written["targetMemoryUtilization"] = int(scaling["targetMemoryUtilizationPercentage"])
        conv.set("autoscaling", written)
    certs = values["extraCertificates"]
    if truthy(certs.get("enabled") or False):
        files = list(certs.get("certificates") or {})
        if certs.get("configMapName") or len(files) != 1:
            conv.not_carried.append(
                "extraCertificates: the stack mounts one PEM bundle; put every certificate into one key and "
                "set caCertificates.existingConfigMap and existingConfigMapKey"
            )
        else:
            conv.set("caCertificates", {"existingConfigMap": f"{name}-ca-certs", "existingConfigMapKey": files[0]})
    for key, what in (("gateway", "an Istio VirtualService: set gateway or ingress"),
                      ("startupProbe", "the stack probes /server with its own timings"),
                      ("serviceAccount", "the stack's ServiceAccount has no annotations setting")):
        if key in (raw.get("heimdall") or {}) and (key != "gateway" or (heimdall.get("gateway") or {}).get("enabled")):
            conv.not_carried.append(f"heimdall.{key}: {what}")
    helm_chart.handover(name, release, claim, conv)
    if claim:
        conv.steps.append(
            "reshape the Bitnami volume for the official image once (docs/operations.md, \"Taking over a "
            "Helm chart install\", path 2, step 4: heimdall/scripts/adopt-bitnami-data.sh)"
        )
    return conv
