"""The root of the settings: `Settings` composes every section.

`database` is the registry's `DatabaseChoice`, a static union discriminated by `provider`:
each member is a provider's own model (the shared `DatabaseSettings` plus its section), so
a provider brings its settings with its package and nothing here lists providers. What
every provider shares type-checks on `settings.database` as it is; a provider's own
section is reached by narrowing it (`isinstance(settings.database, AwsRdsSettings)`).
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Optional

from pydantic import (
    AfterValidator,
    Field,
    TypeAdapter,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_snake

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
from heimdall.settings.database import DatabaseSettings, StackFacts
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


def _check_provider_and_section(value: object) -> None:
    """A known provider, its section when it needs one, and no other provider's. A value
    with one of these wrong is validated first without the sections the provider does not
    take, so that an error in the keys it does take is named first."""
    if isinstance(value, DatabaseSettings):
        return
    if not isinstance(value, dict):
        raise ValueError("Input should be a valid dictionary or instance of Database")
    name = value.get("provider", registry.DEFAULT.provider_name)
    if isinstance(name, (int, float)) and not isinstance(name, bool):
        name = str(name)  # as a text field reads it (coerce_numbers_to_str)
    sections = {key for p in registry.PROVIDERS for key in (p.section, to_snake(p.section))}
    shared = {key: item for key, item in value.items() if key not in sections}
    if not isinstance(name, str) or name not in registry.BY_NAME:
        DatabaseSettings.model_validate(shared)  # names a wrong type of provider, or a key
        raise ValueError(f"provider {name!r} is not one of: {', '.join(registry.names())}")
    chosen = registry.find(name)
    own = {chosen.section, to_snake(chosen.section)}

    def given(section: str) -> bool:
        return value.get(section) is not None or value.get(to_snake(section)) is not None

    other = next((p for p in registry.PROVIDERS if p is not chosen and given(p.section)), None)
    missing = not given(chosen.section) and chosen.missing_section is not None
    if other is None and not missing:
        return
    if given(chosen.section):
        own_values = {k: v for k, v in value.items() if k in own}
        _database_adapter().validate_python({**shared, "provider": name, **own_values})
    else:
        DatabaseSettings.model_validate(shared)
    if other is not None:
        raise ValueError(
            f"the {other.section} section is set but provider is {name!r}; remove it "
            "or set provider accordingly"
        )
    raise ValueError(chosen.missing_section)


# `Settings.database`: one of the providers' members, picked by `provider` (which the
# before-validator sets to the default provider's when a stack leaves it out).
Database = Annotated[registry.DatabaseChoice, Field(discriminator="provider")]


@cache
def _database_adapter() -> TypeAdapter[registry.DatabaseChoice]:
    """The union on its own (made when a refusal needs it: most stacks never do)."""
    return TypeAdapter(Database)


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
    database: Database = Field(
        default_factory=lambda: registry.DEFAULT(),
        validate_default=True,
        description="The database: provider and its settings.",
    )
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

    @field_validator("database", mode="before")
    @classmethod
    def _provider_and_section(cls, value: object) -> object:
        _check_provider_and_section(value)
        if isinstance(value, dict) and "provider" not in value:
            return {"provider": registry.DEFAULT.provider_name, **value}
        return value

    @field_validator("database")
    @classmethod
    def _effective_tls(cls, database: registry.DatabaseChoice) -> registry.DatabaseChoice:
        """`database.tls` as the provider's defaults and rules make it."""
        return database.model_copy(update={"tls": database.effective_tls()})

    @model_validator(mode="after")
    def _cross_checks(self) -> Settings:
        if self.database.managed and self.secrets.existing_secret:
            raise ValueError(
                f"database provider {self.database.provider!r} sets the database user's "
                "password when it creates the instance, so it cannot take DATABASE_PASSWORD "
                "from secrets.existingSecret; give the other secrets as Pulumi secrets "
                "(secrets.jwtSecret, ...) and let the provider generate the password, or set "
                "secrets.databasePassword"
            )
        self.database.check_stack(
            StackFacts(
                namespace=self.namespace,
                min_replicas=self.min_replicas,
                existing_secret=bool(self.secrets.existing_secret),
                database_password=self.secrets.database_password is not None,
                restore_from=self.restore.from_,
                object_store=self.backup.s3 is not None,
            )
        )
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
        rules.pod_annotations_fit(self.annotations, self.pod_annotations)
        rules.dump_client_not_older_than_server(
            self.database, self.backup_enabled or bool(self.restore.from_)
        )
        rules.s3_section_used(self.database, self.backup, self.backup_enabled)
        rules.pod_identity_not_overridden(self.pod_security_context, self.security_context)
        rules.admin_external_auth_has_a_provider(self.admin, self.auth)
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
