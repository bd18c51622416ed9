"""Heimdall's own settings: its secrets, the admin user, the migration Job, probes,
rollouts, exposure (Ingress, Gateway API route), extra CAs, banners and session length."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Optional

from pydantic import AfterValidator, Field, SecretStr, model_validator
from pydantic.alias_generators import to_camel

from heimdall.settings.guardrails import Annotations
from heimdall.settings.types import (
    DnsLabel,
    DnsSubdomain,
    Model,
    Port,
    Resources,
    RouteHost,
    SecretKeyName,
    requests_and_limits,
)


class SecretKeys(Model):
    """Key names inside `secrets.existingSecret`: Secret keys ([-._a-zA-Z0-9]+, at most 253
    characters, as the API server takes them)."""

    jwt_secret: SecretKeyName = Field(default="JWT_SECRET", description="Key of JWT_SECRET in existingSecret.")
    api_key_secret: SecretKeyName = Field(default="API_KEY_SECRET", description="Key of API_KEY_SECRET in existingSecret.")
    admin_password: SecretKeyName = Field(default="ADMIN_PASSWORD", description="Key of ADMIN_PASSWORD in existingSecret.")
    database_password: SecretKeyName = Field(default="DATABASE_PASSWORD", description="Key of the database password in existingSecret.")


class Secrets(Model):
    existing_secret: Optional[DnsSubdomain] = Field(default=None, description="A Secret you manage holding every secret (keys as in `keys`); nothing is generated.")
    keys: SecretKeys = Field(default=SecretKeys(), description="Key names inside existingSecret.")
    jwt_secret: Optional[SecretStr] = Field(default=None, description="JWT_SECRET as a Pulumi secret (32+ characters); generated when unset.")
    api_key_secret: Optional[SecretStr] = Field(default=None, description="API_KEY_SECRET as a Pulumi secret (32+ characters); generated when unset.")
    admin_password: Optional[SecretStr] = Field(default=None, description="ADMIN_PASSWORD of the admin user the seeders create, as a Pulumi secret; generated when unset.")
    database_password: Optional[SecretStr] = Field(default=None, description="The database password as a Pulumi secret; generated when unset (except for an external database).")

    @model_validator(mode="after")
    def _one_approach(self) -> Secrets:
        given = {
            "jwt_secret": self.jwt_secret,
            "api_key_secret": self.api_key_secret,
            "admin_password": self.admin_password,
            "database_password": self.database_password,
        }
        supplied = [name for name, value in given.items() if value is not None]
        if self.existing_secret and supplied:
            raise ValueError(
                "existingSecret holds every secret; do not also set "
                + ", ".join(to_camel(n) for n in supplied)
            )
        for name in ("jwt_secret", "api_key_secret"):
            value = given[name]
            if value is not None and len(value.get_secret_value()) < 32:
                raise ValueError(f"{to_camel(name)} must be at least 32 characters long")
        return self


class Admin(Model):
    email: str = Field(default="admin@heimdall.local", pattern=r"^[^@\s]+@[^@\s]+$", description="ADMIN_EMAIL: the administrator the seeders create when no admin exists.")
    uses_external_auth: bool = Field(
        default=False,
        description="Seed the administrator as an external-auth (LDAP/OAuth) user "
        "(ADMIN_USES_EXTERNAL_AUTH); only read when the admin user is first created; needs a "
        "login provider in auth.",
    )


class Migration(Model):
    commands: list[Annotated[str, Field(min_length=1)]] = Field(
        default=[
            "yarn backend sequelize db:migrate",
            "yarn backend sequelize db:seed:all",
        ],
        min_length=1,
        description="Shell commands the migration Job runs in the Heimdall image, in /app, in order (default: those of image 2.13.x; 2.12.x and older use `sequelize-cli`).",
    )
    timeout_seconds: int = Field(default=600, ge=60, le=86400, description="activeDeadlineSeconds of the migration Job; Pulumi waits this long plus two minutes.")
    backoff_limit: int = Field(default=2, ge=0, le=10, description="Retries of the migration Job before the update fails.")
    run_id: Optional[Annotated[str, Field(max_length=63, pattern=r"^[A-Za-z0-9._-]+$")]] = Field(default=None, description="Change it to run the migrations again without any other change.")
    resources: Resources = Field(default=requests_and_limits("250m", "512Mi", "1", "1Gi"), description="Requests and limits of the migration container.")


class ProbeTiming(Model):
    initial_delay_seconds: int = Field(default=0, ge=0, description="Seconds before the first probe.")
    period_seconds: int = Field(default=10, ge=1, description="Seconds between probes.")
    timeout_seconds: int = Field(default=5, ge=1, description="Seconds before a probe times out.")
    failure_threshold: int = Field(default=3, ge=1, description="Failures in a row before the probe fails.")


class Probes(Model):
    path: str = Field(default="/server", pattern=r"^/[^\s]*$", description="HTTP path probed. /server is a real, cheap route; Heimdall has no health endpoint and answers unknown paths with the web app (200).")
    startup: ProbeTiming = Field(default=ProbeTiming(period_seconds=10, failure_threshold=36), description="Startup probe: up to 6 minutes for the server to listen.")
    readiness: ProbeTiming = Field(default=ProbeTiming(), description="Readiness probe.")
    liveness: ProbeTiming = Field(default=ProbeTiming(), description="Liveness probe.")


class Rollout(Model):
    """How the Heimdall StatefulSet replaces its pods when the image or config changes."""

    min_ready_seconds: int = Field(
        default=10,
        ge=0,
        le=600,
        description=(
            "Seconds a new Heimdall pod must stay ready before the rolling update replaces "
            "the next one (StatefulSet minReadySeconds), so a pod that passes its first "
            "probes and then crashes stops the rollout while the old pods still serve."
        ),
    )
    pre_stop_seconds: int = Field(
        default=5,
        ge=0,
        le=20,
        description=(
            "Seconds a stopping Heimdall pod keeps serving after Kubernetes takes it out of "
            "the Service's endpoints, so that kube-proxy and the ingress controller stop "
            "sending it requests before it exits (a preStop hook); 0 disables the hook."
        ),
    )


_ORIGIN = re.compile(r"^(https?)://([^\s/?#@]+)(.*)$")


def _external_url(value: str) -> str:
    """A bare origin: Heimdall builds its OAuth callbacks as <EXTERNAL_URL>/authn/<provider>,
    so a path (`/authn`, heimdall2#7542) is doubled in the redirect URI the provider
    checks, and a trailing slash gives `//authn`."""
    match = _ORIGIN.fullmatch(value)
    if not match:
        raise ValueError("must be an http:// or https:// URL such as https://heimdall.example.com")
    origin, rest = f"{match.group(1)}://{match.group(2)}", match.group(3)
    if rest == "/":
        raise ValueError(f"must not end with '/': write {origin} (Heimdall appends /authn/... itself)")
    if rest:
        raise ValueError(
            f"must be a bare origin such as {origin}, without {rest!r}: Heimdall appends "
            "/authn/... itself, and a path is doubled in OAuth redirects (heimdall2#7542)"
        )
    return value


ExternalUrl = Annotated[str, AfterValidator(_external_url)]


# Ingress classes whose cookie affinity the program sets itself when sessions must be
# sticky (workload.py): ingress-nginx reads annotations on the Ingress, Traefik's
# Kubernetes Ingress provider reads them on the Service.
STICKY_INGRESS_CLASSES = ("nginx", "traefik")


class Ingress(Model):
    enabled: bool = Field(default=False, description="Create an Ingress; host, tlsSecretName, className or annotations without it are refused (they would be ignored).")
    class_name: Optional[DnsSubdomain] = Field(default=None, description="IngressClass name; empty uses the cluster's default. gce and gce-internal (GKE) become the kubernetes.io/ingress.class annotation, the only thing GKE's controller reads. nginx and traefik get cookie affinity when sessions must be sticky (OAuth or Tenable with 2+ pods).")
    host: Optional[RouteHost] = Field(default=None, description="Host name users reach Heimdall at (required when enabled); a DNS name, never an IP address (the API server refuses it).")
    tls_secret_name: Optional[DnsSubdomain] = Field(default=None, description="Secret with the TLS certificate for host; also makes the derived URL https.")
    annotations: Annotations = Field(default={}, description="Annotations of the Ingress (e.g. for cert-manager or body size); cert-manager.io/* needs tlsSecretName (cert-manager only issues for an Ingress with tls).")

    @model_validator(mode="after")
    def _host_when_enabled(self) -> Ingress:
        if self.enabled and not self.host:
            raise ValueError("enabled ingress needs a host")
        if not self.enabled:
            routing = {"host": self.host, "tls_secret_name": self.tls_secret_name, "class_name": self.class_name, "annotations": self.annotations}
            ignored = [k for k, value in routing.items() if k in self.model_fields_set and value]
            if ignored:
                raise ValueError(
                    f"{to_camel(ignored[0])} is set but enabled is false, so no Ingress is "
                    "created and it is ignored; set enabled: true, or remove it"
                )
        issuer = next(
            (k for k in self.annotations if k.startswith("cert-manager.io/") or k == "kubernetes.io/tls-acme"),
            None,
        )
        if issuer and not self.tls_secret_name:
            raise ValueError(
                f"annotations {issuer!r} asks cert-manager for a certificate, which it issues "
                "only for an Ingress with tls: set tlsSecretName (the Secret it writes)"
            )
        if self.host and self.host.startswith("*."):
            raise ValueError("host must not be a wildcard: Heimdall needs one external URL")
        return self


# --- exposure: Gateway API ----------------------------------------------------------------


class GatewayParentRef(Model):
    name: DnsSubdomain = Field(description="Name of the Gateway the route attaches to.")
    namespace: Optional[DnsLabel] = Field(
        default=None, description="Namespace of the Gateway; default: Heimdall's namespace."
    )
    section_name: Optional[DnsSubdomain] = Field(
        default=None, description="Listener of the Gateway to attach to; default: every listener that admits the route."
    )
    port: Optional[Port] = Field(default=None, description="Listener port to attach to.")


class Gateway(Model):
    enabled: bool = Field(
        default=False,
        description="Create a Gateway API HTTPRoute (gateway.networking.k8s.io/v1) to Heimdall; "
        "may be on together with ingress, for example while moving from one to the other.",
    )
    parent_refs: list[GatewayParentRef] = Field(
        default=[], description="Gateways (and listeners) the route attaches to."
    )
    hostnames: list[RouteHost] = Field(
        default=[],
        description="Host names the route answers; the first gives EXTERNAL_URL "
        "(https://<host>) unless externalUrl or an ingress host is set.",
    )
    annotations: Annotations = Field(default={}, description="Annotations of the HTTPRoute.")

    @model_validator(mode="after")
    def _parents_when_enabled(self) -> Gateway:
        if self.enabled and not self.parent_refs:
            raise ValueError("an enabled gateway route needs at least one parentRefs entry")
        return self


# --- Heimdall's own settings: CA certificates, banners, authentication ------------------

PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----"


def _pem_file(path: str) -> str:
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise ValueError(
            f"cannot read the file ({error.strerror or error}); paths are relative to the "
            "project directory"
        ) from None
    if PEM_CERTIFICATE not in text:
        raise ValueError(f"the file holds no PEM certificate ({PEM_CERTIFICATE})")
    if "PRIVATE KEY" in text:
        raise ValueError("the file holds a private key; CA bundles go to a ConfigMap, never keys")
    return path


PemFile = Annotated[str, AfterValidator(_pem_file)]


class CaCertificates(Model):
    """Extra certificate authorities Heimdall trusts (NODE_EXTRA_CA_CERTS)."""

    files: list[PemFile] = Field(
        default=[],
        description="PEM files (paths relative to the project directory) bundled into one "
        "ConfigMap and mounted for NODE_EXTRA_CA_CERTS: corporate CAs, an LDAP server's CA.",
    )
    existing_config_map: Optional[DnsSubdomain] = Field(
        default=None, description="A ConfigMap you manage that holds the PEM bundle, instead of files."
    )
    existing_config_map_key: SecretKeyName = Field(
        default="ca.crt", description="Key of the bundle in existingConfigMap."
    )

    @model_validator(mode="after")
    def _one_source(self) -> CaCertificates:
        if self.files and self.existing_config_map:
            raise ValueError("set either files or existingConfigMap, not both")
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.files or self.existing_config_map)


class ClassificationBanner(Model):
    text: str = Field(default="", description="Banner text, e.g. UNCLASSIFIED (CLASSIFICATION_BANNER_TEXT); empty: no banner.")
    text_color: str = Field(default="", description="CSS colour of the text (CLASSIFICATION_BANNER_TEXT_COLOR).")
    color: str = Field(default="", description="CSS colour of the banner (CLASSIFICATION_BANNER_COLOR).")

    @model_validator(mode="after")
    def _colours_need_text(self) -> ClassificationBanner:
        if (self.text_color or self.color) and not self.text:
            raise ValueError("a classification banner colour needs text")
        return self


class Banners(Model):
    classification: ClassificationBanner = Field(
        default=ClassificationBanner(), description="The classification banner at the top and bottom of every page."
    )
    warning: str = Field(default="", description="A warning banner shown to every user (WARNING_BANNER).")


_DURATION = re.compile(r"^([1-9][0-9]*)([smhd])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _jwt_expire_time(value: str) -> str:
    match = _DURATION.fullmatch(value)
    if not match:
        raise ValueError("must be a duration such as 60s, 30m, 12h or 1d")
    if int(match.group(1)) * _SECONDS[match.group(2)] > 2 * 86400:
        raise ValueError("Heimdall caps sessions at 2d")
    return value


JwtDuration = Annotated[str, AfterValidator(_jwt_expire_time)]
