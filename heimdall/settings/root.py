"""The root of the settings: `Settings` composes every section, and `settings_model()`
is the model a stack's values are validated with.

`Settings` is the static type the program is written against. The model that validates
adds, under `database`, one optional section per provider in the registry (with the
provider's own model and description), so a provider brings its settings with its
package and nothing here lists providers.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

from pydantic import AfterValidator, Field, create_model, model_validator

from heimdall.database import registry
from heimdall.settings import rules
from heimdall.settings.app import (
    STICKY_INGRESS_CLASSES,
    Admin,
    Banners,
    CaCertificates,
    ExternalUrl,
    Gateway,
    Ingress,
    JwtDuration,
    Migration,
    Probes,
    Rollout,
    Secrets,
)
from heimdall.settings.auth import Auth
from heimdall.settings.database import DatabaseSettings, section_field
from heimdall.settings.env import check_env
from heimdall.settings.guardrails import (
    Autoscaling,
    CheckedAffinity,
    ContainerSecurityContext,
    Labels,
    NetworkPolicySettings,
    NodeSelector,
    PodDisruptionBudgetSettings,
    PodSecurityContext,
    SpreadConstraint,
    StackAnnotations,
    Toleration,
)
from heimdall.settings.operations import Backup, Restore
from heimdall.settings.types import (
    DnsLabel,
    DnsSubdomain,
    EnvName,
    Image,
    Model,
    Resources,
    requests_and_limits,
)


class Settings(Model):
    namespace: DnsLabel = Field(default="heimdall", description="Kubernetes namespace of every object.")
    create_namespace: bool = Field(default=True, description="Create the namespace (protected like the database: deleting it deletes its volumes).")
    image: Image = Field(default=Image(repository="mitre/heimdall2", tag="2.13.1"), description="The Heimdall image.")
    image_pull_secrets: list[DnsSubdomain] = Field(default=[], description="Secrets used to pull images.")
    replicas: int = Field(
        default=1,
        ge=0,
        le=50,
        description=(
            "Heimdall pods. 2 or more keep Heimdall serving during upgrades; 0 stops it "
            "(a maintenance window, see docs/upgrades.md). With an OAuth provider or Tenable, 2 or "
            "more need sticky sessions: set for ingress-nginx and Traefik, refused behind a "
            "gateway route (docs/authentication.md)."
        ),
    )
    resources: Resources = Field(default=requests_and_limits("250m", "512Mi", "1", "1Gi"), description="Requests and limits of the Heimdall container.")
    start_command: list[Annotated[str, Field(min_length=1)]] = Field(
        default=["yarn", "backend", "start"], min_length=1,
        description="Command of the Heimdall container; migrations are the Job's work.",
    )
    env: Annotated[dict[EnvName, str], AfterValidator(check_env)] = Field(
        default={},
        description="Extra plain environment variables for Heimdall (ConfigMap). Refused: "
        "names the program sets itself (NODE_ENV, PORT, ADMIN_*, DATABASE_*, LDAP_*, "
        "GITHUB_*, GITLAB_*, GOOGLE_*, OKTA_*, OIDC_*, JWT_*, EXTERNAL_URL, banners, "
        "switches: set their own keys), names that look like secrets (*SECRET*, "
        "*PASSWORD*, *TOKEN*, *CREDENTIAL*, *_KEY, ...), and values holding a URL with a "
        "password (http://user:pw@proxy).",
    )
    external_url: Optional[ExternalUrl] = Field(default=None, description="EXTERNAL_URL, the URL users reach Heimdall at: a bare origin (https://host[:port]), no path and no trailing slash, since Heimdall appends /authn/... itself; derived from the ingress when unset.")
    # The field's model is DatabaseSettings plus every registered provider's section:
    # settings_model() builds it from the registry.
    database: DatabaseSettings = Field(default_factory=lambda: database_model()(), description="The database: provider and its settings.")
    secrets: Secrets = Field(default=Secrets(), description="Heimdall's secrets: generated, supplied as Pulumi secrets, or an existing Secret.")
    admin: Admin = Field(default=Admin(), description="The administrator account.")
    migration: Migration = Field(default=Migration(), description="The migration Job.")
    probes: Probes = Field(default=Probes(), description="Probes of the Heimdall container.")
    ingress: Ingress = Field(default=Ingress(), description="The Ingress.")
    gateway: Gateway = Field(default=Gateway(), description="Gateway API HTTPRoute to Heimdall.")
    # Heimdall's own settings (CONTEXT.md's environment table).
    auth: Auth = Field(default=Auth(), description="Login providers: ldap, github, gitlab, google, okta, oidc.")
    jwt_expire_time: JwtDuration = Field(
        default="12h",
        description="Session length (JWT_EXPIRE_TIME), at most 2d; Heimdall's own default, 60s, logs users out.",
    )
    local_login_disabled: bool = Field(
        default=False, description="Hide the email/password login (LOCAL_LOGIN_DISABLED); needs an auth provider."
    )
    registration_disabled: bool = Field(
        default=True,
        description="Forbid self-registration of local accounts (REGISTRATION_DISABLED); "
        "the admin creates users.",
    )
    one_session_per_user: bool = Field(
        default=False, description="A new login ends the user's other sessions (ONE_SESSION_PER_USER)."
    )
    max_file_upload_size: int = Field(
        default=50, ge=1, le=10240, description="Largest upload in MB (MAX_FILE_UPLOAD_SIZE)."
    )
    banners: Banners = Field(default=Banners(), description="Classification and warning banners.")
    ca_certificates: CaCertificates = Field(
        default=CaCertificates(), description="Extra CAs Heimdall trusts (NODE_EXTRA_CA_CERTS)."
    )
    # Guardrails: hardening, scheduling, availability.
    pod_security_context: PodSecurityContext = Field(
        default=PodSecurityContext(),
        description="Overrides of the pod securityContext of Heimdall's pods (null removes a key).",
    )
    security_context: ContainerSecurityContext = Field(
        default=ContainerSecurityContext(),
        description="Overrides of the container securityContext in Heimdall's pods (null removes a key).",
    )
    node_selector: NodeSelector = Field(
        default={}, description="nodeSelector of every pod (Heimdall, its Jobs, the embedded database); label keys and values."
    )
    tolerations: list[Toleration] = Field(
        default=[], description="Tolerations of every pod (Heimdall, its Jobs, the embedded database)."
    )
    affinity: Optional[CheckedAffinity] = Field(
        default=None,
        description="Kubernetes affinity (nodeAffinity, podAffinity, podAntiAffinity) of Heimdall's "
        "pods and the migration Job; checked as the API server checks it (fields, types, "
        "selector operators and their values, label keys and values, non-empty topologyKey).",
    )
    topology_spread_constraints: Optional[list[SpreadConstraint]] = Field(
        default=None,
        description="topologySpreadConstraints of Heimdall's pods; unset: with more than one pod, "
        "a soft spread over nodes; [] for none. maxSkew at least 1, whenUnsatisfiable "
        "DoNotSchedule or ScheduleAnyway, minDomains only with DoNotSchedule.",
    )
    labels: Labels = Field(default={}, description="Extra labels on every object and pod (never in selectors).")
    annotations: StackAnnotations = Field(default={}, description="Extra annotations on every object (pulumi.com/* refused; keys qualified names, 256 KiB in all).")
    pod_labels: Labels = Field(default={}, description="Extra labels on Heimdall's pods (server and Jobs).")
    pod_annotations: StackAnnotations = Field(
        default={}, description="Extra annotations on Heimdall's pods (server and Jobs; pulumi.com/* refused)."
    )
    network_policy: NetworkPolicySettings = Field(
        default=NetworkPolicySettings(), description="NetworkPolicies of the stack's pods."
    )
    pod_disruption_budget: PodDisruptionBudgetSettings = Field(
        default=PodDisruptionBudgetSettings(), description="PodDisruptionBudget of Heimdall."
    )
    autoscaling: Autoscaling = Field(
        default=Autoscaling(), description="HorizontalPodAutoscaler of Heimdall."
    )
    backup: Backup = Field(default=Backup(), description="Scheduled database backups.")
    restore: Restore = Field(default=Restore(), description="Restore from a dump.")
    rollout: Rollout = Field(
        default=Rollout(),
        description="Rolling update of the Heimdall pods; see docs/upgrades.md.",
    )

    @model_validator(mode="after")
    def _cross_checks(self) -> Settings:
        provider = registry.spec(self.database.provider)
        if provider.managed and self.secrets.existing_secret:
            raise ValueError(
                f"database provider {self.database.provider!r} sets the database user's "
                "password when it creates the instance, so it cannot take DATABASE_PASSWORD "
                "from secrets.existingSecret; give the other secrets as Pulumi secrets "
                "(secrets.jwtSecret, ...) and let the provider generate the password, or set "
                "secrets.databasePassword"
            )
        if provider.stack_rules is not None:
            provider.stack_rules(self)
        tls = self.database.tls
        if (self.backup_enabled or self.restore.from_) and tls.mode == "verify" and tls.ca is None:
            # Heimdall (Node) has its own CA bundle; pg_dump/pg_restore in the official
            # postgres image have none (it ships without ca-certificates).
            raise ValueError(
                "backup and restore verify the database's certificate with pg_dump and "
                "pg_restore, whose image has no system CA store: with database.tls.mode "
                "verify set database.tls.ca (the server's CA bundle), or turn backup off"
            )
        self._guardrail_checks()
        rules.check(self)
        return self

    def _guardrail_checks(self) -> None:
        oauth = self.auth.oauth_providers
        if oauth and self.external_url_env is None:
            raise ValueError(
                f"auth.{oauth[0]} needs externalUrl (or an ingress or gateway host): OAuth "
                "providers redirect users back to <externalUrl>/authn/..."
            )
        if self.auth.ldap and self.auth.ldap.ssl and not self.ca_certificates.enabled:
            raise ValueError(
                "auth.ldap.ssl needs caCertificates (files or existingConfigMap): Heimdall reads "
                "LDAP_SSL_CA from a file and refuses to start without it"
            )
        if self.local_login_disabled and not self.auth.any:
            raise ValueError(
                "localLoginDisabled needs an auth provider, or nobody can log in"
            )
        scaling = self.autoscaling
        if scaling.enabled:
            if "replicas" in self.model_fields_set:
                raise ValueError(
                    "replicas is managed by the autoscaler when autoscaling.enabled; "
                    "set autoscaling.minReplicas instead"
                )
            if scaling.target_cpu_utilization and not self.resources.requests.cpu:
                raise ValueError("autoscaling.targetCpuUtilization needs resources.requests.cpu")
            if scaling.target_memory_utilization and not self.resources.requests.memory:
                raise ValueError("autoscaling.targetMemoryUtilization needs resources.requests.memory")
        self._sticky_session_checks()
        gateway = self.gateway
        if (
            gateway.enabled
            and not self.external_url
            and not self.ingress.enabled
            and gateway.hostnames
            and gateway.hostnames[0].startswith("*.")
        ):
            raise ValueError(
                "the first gateway hostname is a wildcard: set externalUrl, the URL users open"
            )

    def _sticky_session_checks(self) -> None:
        """Heimdall signs the express-session cookie of an OAuth (or Tenable) login with a
        secret random per process (apps/backend/src/main.ts, generateDefault()): with more
        than one pod the callback must reach the pod that started the login."""
        if not self.sticky_sessions:
            return
        cause = (
            f"{self.session_features[0]} with "
            + (
                f"autoscaling.maxReplicas {self.autoscaling.max_replicas}"
                if self.autoscaling.enabled
                else f"replicas {self.replicas}"
            )
            + " needs sticky sessions (Heimdall signs each login session with a secret of its own pod)"
        )
        if self.gateway.enabled:
            raise ValueError(
                f"{cause}, which an HTTPRoute of gateway.networking.k8s.io/v1 cannot ask for "
                "(sessionPersistence is experimental-channel only): set replicas: 1, or route "
                "users through ingress with className nginx or traefik instead of gateway"
            )
        ingress = self.ingress
        if ingress.enabled and not self.ingress_sticky_by_user and ingress.class_name not in STICKY_INGRESS_CLASSES:
            raise ValueError(
                f"{cause}, which the program sets for ingress.className nginx or traefik "
                f"only (className is {ingress.class_name or 'unset'}): use one of them, put "
                "your controller's cookie-affinity annotation in ingress.annotations, or set "
                "replicas: 1"
            )

    @property
    def session_features(self) -> list[str]:
        """The settings that make Heimdall keep a server-side login session (OAuth
        providers, Tenable), whose cookie is signed with a secret random per pod."""
        features = [f"auth.{name}" for name in self.auth.oauth_providers]
        if self.env.get("TENABLE_HOST_URL"):
            features.append("env.TENABLE_HOST_URL")
        return features

    @property
    def sticky_sessions(self) -> bool:
        """Whether requests of one browser must keep reaching the same pod: a login
        session exists and more than one pod may run."""
        most = self.autoscaling.max_replicas if self.autoscaling.enabled else self.replicas
        return bool(self.session_features) and most > 1

    @property
    def ingress_sticky_by_user(self) -> bool:
        """The user's own cookie-affinity annotation on the Ingress (a key naming affinity
        or sticky, as ingress-nginx, HAProxy and others spell theirs)."""
        return any("affinity" in key or "sticky" in key for key in self.ingress.annotations)

    @property
    def min_replicas(self) -> int:
        """The fewest Heimdall pods running in normal operation."""
        return self.autoscaling.min_replicas if self.autoscaling.enabled else self.replicas

    @property
    def url(self) -> str:
        """The URL users open: externalUrl, else the ingress host, else the gateway route's
        first host name, else the in-cluster URL."""
        if self.external_url:
            return self.external_url
        if self.ingress.enabled and self.ingress.host:
            scheme = "https" if self.ingress.tls_secret_name else "http"
            return f"{scheme}://{self.ingress.host}"
        if self.gateway.enabled and self.gateway.hostnames:
            return f"https://{self.gateway.hostnames[0]}"
        return f"http://heimdall.{self.namespace}.svc.cluster.local:3000"

    @property
    def backup_enabled(self) -> bool:
        """backup.enabled, or its default: on unless a managed cloud backs the database up."""
        if self.backup.enabled is not None:
            return self.backup.enabled
        return not self.database.managed

    @property
    def external_url_env(self) -> Optional[str]:
        """EXTERNAL_URL for the app: set only when users reach Heimdall from outside."""
        if self.external_url or self.ingress.enabled or (self.gateway.enabled and self.gateway.hostnames):
            return self.url
        return None


_MODELS: dict[tuple[object, ...], tuple[type[DatabaseSettings], type[Settings]]] = {}


def _models(provider: Optional[str]) -> tuple[type[DatabaseSettings], type[Settings]]:
    key = (provider, *registry.PROVIDERS.items())
    if key not in _MODELS:
        sections: dict[str, Any] = {}
        for name, entry in registry.PROVIDERS.items():
            if provider is None or name == provider:
                spec = registry.spec(name)
                kind: Any = Optional[spec.model]
                description = spec.description
            else:
                # Another provider's section: refused by DatabaseSettings when set, so
                # its model (and its package) need not be loaded to validate this stack.
                kind, description = Optional[Any], f"Settings of provider {name}."
            sections[section_field(entry.section)] = (
                kind,
                Field(default=None, alias=entry.section, description=description),
            )
        database = create_model("Database", __base__=DatabaseSettings, **sections)
        root = create_model(
            "Settings",
            __base__=Settings,
            database=(
                database,
                Field(default_factory=database, description="The database: provider and its settings."),
            ),
        )
        _MODELS[key] = (database, root)
    return _MODELS[key]


def database_model() -> type[DatabaseSettings]:
    """`DatabaseSettings` with a section for every registered provider."""
    return _models(None)[0]


def settings_model(provider: Optional[str] = None) -> type[Settings]:
    """`Settings` with a section under `database` for every registered provider: the
    model the reference and JSON Schema show. With `provider` (a registered one), the
    model that validates a stack of that provider: only its section's model is loaded."""
    return _models(provider)[1]
