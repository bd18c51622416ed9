"""`database.cloudNativePg`: a PostgreSQL cluster run by the CloudNativePG operator.

The settings and rules only (no SDK beyond the core). Versions pinned here are those the
schemas in heimdall/schemas/ were generated from (see its README): operator 1.30.0 (chart
cloudnative-pg 0.29.0) and the Barman Cloud plugin v0.13.0 (chart plugin-barman-cloud 0.7.0).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal, Optional

from pydantic import AfterValidator, Field, model_validator

from heimdall.settings.database import (
    DatabaseSettings,
    DatabaseTlsSettings,
    StackFacts,
    require_encryption,
    with_default_mode,
)
from heimdall.settings.operations import CronSchedule
from heimdall.settings.types import (
    DnsLabel,
    HttpUrl,
    Image,
    Model,
    Resources,
    StorageClassName,
    VolumeSize,
    requests_and_limits,
)

if TYPE_CHECKING:
    import pulumi

    from heimdall.database.contract import DatabaseConnection, DatabaseRequest
    from heimdall.database.facts import PolicyChecks

OPERATOR_CHART = "cloudnative-pg"
PLUGIN_CHART = "plugin-barman-cloud"
CHART_REPOSITORY = "https://cloudnative-pg.github.io/charts"

_SEMVER = r"^\d+\.\d+\.\d+$"
_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def _cluster_name(value: str) -> str:
    # The operator's webhook: a DNS-1035 label of at most 50 characters (it appends
    # suffixes such as -rw, -ca and -1 to name what it creates).
    if len(value) > 50 or not re.fullmatch(r"^[a-z]([-a-z0-9]*[a-z0-9])?$", value):
        raise ValueError(
            "must be a DNS-1035 label of at most 50 characters: lowercase letters, digits "
            "and '-', starting with a letter (the operator's rule)"
        )
    return value


def _label_key(value: str) -> str:
    if not _LABEL_KEY.fullmatch(value) or len(value) > 316:
        raise ValueError("must be a node label key such as kubernetes.io/hostname")
    return value


ClusterName = Annotated[str, AfterValidator(_cluster_name)]


def _existing_moment(value: str) -> str:
    """A moment that exists on the calendar (2026-02-30 matches the pattern, and the
    operator would fail the recovery with it)."""
    if not re.fullmatch(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}(:?\d{2})?)$", value):
        raise ValueError(
            "must be an RFC 3339 moment with its zone, such as 2026-08-01T12:00:00Z (a time "
            "without a zone would be read in the operator's)"
        )
    text = value.replace(" ", "T", 1)
    if re.search(r"[+-]\d{2}$", text):
        text += ":00"
    try:
        datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            "is not a moment on the calendar (a day the month does not have, or an hour "
            "past 23); write an existing one, such as 2026-02-28T12:00:00Z"
        ) from None
    return value

# The parameters the operator sets itself: its webhook refuses them ("Can't set fixed
# configuration parameter"; cloudnative-pg pkg/postgres/configuration.go
# FixedConfigurationParameters, internal/webhook/v1/cluster_webhook.go validateConfiguration).
FIXED_PARAMETERS = frozenset(
    {
        "allow_system_table_mods", "archive_mode", "bonjour", "bonjour_name", "cluster_name",
        "config_file", "data_directory", "data_sync_retry", "event_source", "external_pid_file",
        "hba_file", "hot_standby", "ident_file", "jit_provider", "listen_addresses",
        "logging_collector", "port", "primary_conninfo", "primary_slot_name", "recovery_target",
        "recovery_target_action", "recovery_target_inclusive", "recovery_target_lsn",
        "recovery_target_name", "recovery_target_time", "recovery_target_timeline",
        "recovery_target_xid", "restore_command", "shared_preload_libraries", "temp_tablespaces",
        "unix_socket_directories", "unix_socket_group", "unix_socket_permissions",
        "archive_cleanup_command", "archive_command", "log_destination", "log_directory",
        "log_file_mode", "log_filename", "log_rotation_age", "log_rotation_size",
        "log_truncate_on_rotation", "pg_failover_slots.primary_dsn",
        "pg_failover_slots.standby_slot_names", "promote_trigger_file", "recovery_end_command",
        "recovery_min_apply_delay", "restart_after_crash", "ssl", "ssl_ca_file", "ssl_cert_file",
        "ssl_crl_file", "ssl_dh_params_file", "ssl_key_file", "ssl_passphrase_command",
    }
)
# PostgreSQL booleans as the operator parses them (pkg/postgres/booleans.go).
_PG_TRUE = frozenset({"1", "on", "y", "ye", "yes", "t", "tr", "tru", "true"})
_PG_FALSE = frozenset({"0", "of", "off", "n", "no", "f", "fa", "fal", "fals", "false"})
_BOOLEAN_PARAMETERS = ("wal_log_hints", "hot_standby_feedback", "sync_replication_slots")


def _parameters_problem(parameters: dict[str, str], instances: int, archiving: bool) -> Optional[str]:
    """What the operator's webhook refuses in spec.postgresql.parameters, as a sentence
    naming parameters.<key>; None when it takes them."""
    for key in parameters:
        if key in FIXED_PARAMETERS:
            return (
                f"parameters.{key} is set by the operator itself (its webhook refuses it: "
                "\"Can't set fixed configuration parameter\"); remove it"
            )
    for key in _BOOLEAN_PARAMETERS:
        value = parameters.get(key)
        if value is not None and value.lower() not in _PG_TRUE | _PG_FALSE:
            return f"parameters.{key} = {value!r} is not a PostgreSQL boolean: write on or off"
    hints = parameters.get("wal_log_hints")
    if hints is not None and hints.lower() in _PG_FALSE and instances > 1:
        return (
            f"parameters.wal_log_hints = {hints!r} with {instances} instances: the operator "
            "needs it on to resynchronise a former primary (pg_rewind); remove it"
        )
    level = parameters.get("wal_level")
    if level is not None and level not in ("logical", "replica", "minimal"):
        return f"parameters.wal_level = {level!r} must be logical, replica or minimal"
    if level == "minimal" and (instances > 1 or archiving):
        return (
            "parameters.wal_level = 'minimal' cannot feed replicas or the WAL archive: use "
            "replica (the default) or logical"
        )
    return None
LabelKey = Annotated[str, AfterValidator(_label_key)]


class Operator(Model):
    """The CloudNativePG operator (`database.cloudNativePg.operator`)."""

    install: bool = Field(
        default=True,
        description="Install the operator's Helm chart (its CRDs, webhooks and controller) into "
        "`namespace`; false uses an operator already in the cluster (shared clusters: only one "
        "operator may own the CRDs).",
    )
    version: str = Field(default="0.29.0", pattern=_SEMVER, description="Version of the cloudnative-pg chart (0.29.0 is operator 1.30.0).")
    repository: HttpUrl = Field(default=CHART_REPOSITORY, description="Helm repository of the chart.")
    namespace: DnsLabel = Field(
        default="cnpg-system",
        description="Namespace of the operator (created when install); with install false, "
        "where the existing operator runs (its pods are admitted to the instances). With "
        "install, not the stack's namespace nor kube-system, kube-public, kube-node-lease or "
        "default.",
    )
    resources: Resources = Field(default=requests_and_limits("100m", "256Mi", "1", "512Mi"), description="Requests and limits of the operator's container.")


class Affinity(Model):
    """How the instances spread over nodes and zones."""

    pod_anti_affinity: Literal["preferred", "required", "off"] = Field(
        default="preferred",
        description="Keep instances on different `topologyKey` domains: preferred (when the "
        "scheduler can), required (never two on one; needs as many domains as instances) or off.",
    )
    topology_key: LabelKey = Field(default="kubernetes.io/hostname", description="Node label whose values must differ between instances (pod anti-affinity).")
    zone_spread: bool = Field(
        default=True,
        description="Also spread the instances over topology.kubernetes.io/zone, when the "
        "scheduler can (ScheduleAnyway).",
    )


class Storage(Model):
    size: VolumeSize = Field(default="10Gi", description="Size of each instance's data volume (it can grow, never shrink).")
    storage_class: Optional[StorageClassName] = Field(default=None, description="StorageClass of the volumes; unset: the cluster's default.")


class BackupPlugin(Model):
    """The Barman Cloud plugin, which archives to the object store."""

    install: Optional[bool] = Field(
        default=None,
        description="Install the plugin's Helm chart into the operator's namespace; unset: when "
        "operator.install. Its chart needs cert-manager in the cluster.",
    )
    version: str = Field(default="0.7.0", pattern=_SEMVER, description="Version of the plugin-barman-cloud chart (0.7.0 is plugin v0.13.0).")
    resources: Resources = Field(default=requests_and_limits("50m", "128Mi", "500m", "256Mi"), description="Requests and limits of the plugin's controller, and of its sidecar in each instance.")


class ContinuousBackup(Model):
    """Continuous archiving (WAL and base backups) to `backup.s3`, for point-in-time recovery."""

    enabled: bool = Field(
        default=False,
        description="Archive WAL continuously and take scheduled base backups into backup.s3 "
        "(under <prefix>cnpg/) through the Barman Cloud plugin; needs backup.target s3 and the "
        "plugin (with cert-manager). The logical dump CronJob (backup.enabled) is separate.",
    )
    schedule: CronSchedule = Field(
        default="0 3 * * *",
        description="Base backups: a five-field cron schedule in UTC (the ScheduledBackup has no "
        "time zone), or a macro such as @daily; written with a seconds field for the operator.",
    )
    retention_policy: str = Field(
        default="30d",
        pattern=r"^[1-9][0-9]*[dwm]$",
        description="Recovery window kept in the store: days, weeks or months (30d, 4w, 6m); "
        "older base backups and WAL are deleted.",
    )
    server_name: Optional[ClusterName] = Field(
        default=None,
        description="Folder of this cluster's backups in the store; unset: the cluster's name. "
        "It must be new (empty) for a new cluster: see docs/operations.md.",
    )
    wal_compression: Literal["bzip2", "gzip", "lz4", "snappy", "xz", "zstd"] = Field(default="gzip", description="Compression of archived WAL.")
    data_compression: Literal["bzip2", "gzip", "lz4", "snappy"] = Field(default="gzip", description="Compression of base backups.")
    plugin: BackupPlugin = Field(default=BackupPlugin(), description="The Barman Cloud plugin.")


class Recovery(Model):
    """Bootstrap the cluster from the store's backups instead of an empty database."""

    source_server_name: ClusterName = Field(description="serverName of the backups to recover (the old cluster's backup.serverName, by default its name).")
    target_time: Optional[
        Annotated[str, AfterValidator(_existing_moment)]
    ] = Field(default=None, description="Recover up to this moment (RFC 3339 with a zone, e.g. 2026-08-01T12:00:00Z); unset: to the end of the archived WAL.")
    backup_id: Optional[Annotated[str, Field(pattern=r"^[0-9A-Za-z_-]+$")]] = Field(default=None, description="Start from this base backup (its barman id); unset: the latest before targetTime.")


class CloudNativePgDatabase(Model):
    """`database.cloudNativePg`: a CloudNativePG `Cluster` in the stack's namespace."""

    cluster_name: ClusterName = Field(
        default="heimdall-db",
        description="Name of the Cluster; clients reach <name>-rw.<namespace>.svc. A new name "
        "is a new cluster (see the restore runbook). A DNS-1035 label of at most 50 "
        "characters (the operator's webhook); not heimdall (the operator's ServiceAccount, "
        "PDB and pods <name>-N would collide with Heimdall's).",
    )
    instances: int = Field(default=3, ge=1, le=9, description="PostgreSQL instances: one primary, the rest streaming replicas the operator fails over to.")
    image: Image = Field(
        default=Image(repository="ghcr.io/cloudnative-pg/postgresql", tag="17.11-standard-trixie"),
        description="CloudNativePG's PostgreSQL image (the tag's major version is the server's; "
        "pin a digest for reproducible installs).",
    )
    storage: Storage = Field(default=Storage(), description="Each instance's data volume.")
    resources: Resources = Field(default=requests_and_limits("250m", "512Mi", "1", "1Gi"), description="Requests and limits of each PostgreSQL instance.")
    affinity: Affinity = Field(default=Affinity(), description="Spreading the instances over nodes and zones.")
    enable_pdb: Optional[bool] = Field(
        default=None,
        description="The operator's PodDisruptionBudgets (one primary and the replicas); unset: "
        "with more than one instance (with one, it would block node drains).",
    )
    parameters: dict[Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_.]*$")], str] = Field(
        default={},
        description="postgresql.conf parameters (values as strings). Refused as the operator's "
        "webhook refuses them: the parameters it sets itself (listen_addresses, port, ssl*, "
        "shared_preload_libraries, archive_*, recovery_*, log_* files, ...), wal_log_hints off "
        "with more than one instance, wal_level other than replica or logical with replicas "
        "or archiving, booleans that are not on/off.",
    )
    operator: Operator = Field(default=Operator(), description="The operator: installed by the stack, or one already in the cluster.")
    backup: ContinuousBackup = Field(default=ContinuousBackup(), description="Continuous archiving to backup.s3 (point-in-time recovery).")
    recovery: Optional[Recovery] = Field(
        default=None,
        description="Create the cluster from the store's backups (point-in-time recovery); only "
        "read when the Cluster is created: use a new clusterName.",
    )

    @model_validator(mode="after")
    def _checks(self) -> CloudNativePgDatabase:
        problem = _parameters_problem(self.parameters, self.instances, self.backup.enabled)
        if problem:
            raise ValueError(problem)
        if not self.image.tag.split(".")[0].split("-")[0].isdigit():
            raise ValueError(
                f"image.tag {self.image.tag!r} must start with the PostgreSQL major version "
                "(e.g. 17.11-standard-trixie): the operator reads the version from the tag"
            )
        if (
            self.recovery is not None
            and self.backup.enabled
            and self.recovery.source_server_name == self.server_name
        ):
            raise ValueError(
                f"recovery.sourceServerName {self.recovery.source_server_name!r} is the new "
                "cluster's own backup folder: a new cluster must archive into an empty one; set "
                "backup.serverName or clusterName to a new name"
            )
        return self

    @property
    def server_name(self) -> str:
        return self.backup.server_name or self.cluster_name

    @property
    def server_major(self) -> int:
        return self.major

    @property
    def major(self) -> int:
        return int(self.image.tag.split(".")[0].split("-")[0])

    @property
    def pdb(self) -> bool:
        return self.enable_pdb if self.enable_pdb is not None else self.instances > 1

    @property
    def plugin_install(self) -> bool:
        install = self.backup.plugin.install
        return self.operator.install if install is None else install

    @property
    def uses_store(self) -> bool:
        """The object store is needed: to archive into, or to recover from."""
        return self.backup.enabled or self.recovery is not None


def six_field_schedule(schedule: str) -> str:
    """A five-field cron schedule with the seconds field the operator's parser reads first
    (a five-field one would be read as `second minute hour day month`: every hour)."""
    return schedule if schedule.startswith("@") else f"0 {schedule}"


class CloudNativePgSettings(DatabaseSettings):
    """`database` with provider cloudnative-pg: the shared settings and
    `database.cloudNativePg`."""

    section: ClassVar[str] = "cloudNativePg"
    description: ClassVar[str] = "Settings of provider cloudnative-pg (a PostgreSQL cluster run by the CloudNativePG operator)."
    provider: Literal["cloudnative-pg"] = "cloudnative-pg"
    cloud_native_pg: CloudNativePgDatabase = Field(default=CloudNativePgDatabase())

    @property
    def server_major(self) -> Optional[int]:
        return self.cloud_native_pg.server_major

    @property
    def uses_store(self) -> bool:
        return self.cloud_native_pg.uses_store

    def check_stack(self, stack: StackFacts) -> None:
        section = self.cloud_native_pg
        _names(stack, section)
        if stack.existing_secret:
            raise ValueError(
                "database provider 'cloudnative-pg' writes the owner's credentials into a "
                "basic-auth Secret the operator reads, so it cannot take DATABASE_PASSWORD from "
                "secrets.existingSecret; give the other secrets as Pulumi secrets "
                "(secrets.jwtSecret, ...) and let the password be generated, or set "
                "secrets.databasePassword"
            )
        if section.recovery is not None and stack.restore_from:
            raise ValueError(
                f"restore.from {stack.restore_from!r} together with "
                "database.cloudNativePg.recovery: the restore's pg_restore --clean would replace "
                "the recovered data with the older dump; remove restore.from (recovery already "
                "fills the new cluster)"
            )
        if section.uses_store and not stack.object_store:
            what = "backup.enabled" if section.backup.enabled else "recovery"
            raise ValueError(
                f"database.cloudNativePg.{what} needs the object store: set backup.target s3 "
                "and backup.s3 (bucket, existingSecret, ...)"
            )

    def effective_tls(self) -> DatabaseTlsSettings:
        if self.username == "postgres":
            raise ValueError(
                "cloudnative-pg: username 'postgres' is the operator's superuser; set "
                "database.username to the application's own user (e.g. heimdall)"
            )
        if self.port != 5432:
            raise ValueError(
                f"cloudnative-pg: port {self.port} is not served: the cluster's Services "
                "listen on 5432; leave database.port unset"
            )
        tls = with_default_mode(self.tls, "verify")
        # The cluster refuses connections without TLS (pg_hba hostnossl ... reject).
        require_encryption("cloudnative-pg", tls)
        if tls.ca not in (None, "auto"):
            raise ValueError(
                "cloudnative-pg: the server's certificate is signed by the operator's CA "
                "(Secret <clusterName>-ca), which clients mount: leave tls.ca unset"
            )
        if tls.mode == "verify":
            tls = tls.model_copy(update={"ca": "auto"})
        return tls

    def build(
        self,
        name: str,
        request: DatabaseRequest[None],
        opts: Optional[pulumi.ResourceOptions],
    ) -> DatabaseConnection:
        from heimdall.database.cloudnative_pg.component import CloudNativePgCluster

        return CloudNativePgCluster(name, request.with_section(self.cloud_native_pg), opts).connection

    @classmethod
    def plan(cls) -> Mapping[str, str]:
        from heimdall.database.cloudnative_pg.plan import AWAITED

        return AWAITED

    @classmethod
    def policy(cls) -> Optional[PolicyChecks]:
        from heimdall.database.cloudnative_pg.policy import CHECKS

        return CHECKS


# Names the stack gives its own objects of the kinds the operator names after the cluster:
# the operator makes a ServiceAccount and a PodDisruptionBudget `<cluster>` and pods
# `<cluster>-N`; Heimdall's StatefulSet, ServiceAccount and PDB are `heimdall` (pods
# `heimdall-N`).
APP_NAMES = frozenset({"heimdall"})
# Namespaces the cluster itself owns: a stack that installs the operator creates (and on
# destroy deletes) its namespace.
SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease", "default"})


def _names(stack: StackFacts, section: CloudNativePgDatabase) -> None:
    if section.cluster_name in APP_NAMES:
        raise ValueError(
            f"database.cloudNativePg.clusterName {section.cluster_name!r} collides with "
            "Heimdall's own objects (the operator names its ServiceAccount and "
            "PodDisruptionBudget <clusterName> and its pods <clusterName>-N, as Heimdall's "
            "StatefulSet does); use another name, such as heimdall-db"
        )
    operator = section.operator
    if operator.install and operator.namespace == stack.namespace:
        raise ValueError(
            f"database.cloudNativePg.operator.namespace {operator.namespace!r} is the stack's "
            "namespace: installing the operator there declares that Namespace twice; use its "
            "own namespace, such as cnpg-system"
        )
    if operator.install and operator.namespace in SYSTEM_NAMESPACES:
        raise ValueError(
            f"database.cloudNativePg.operator.namespace {operator.namespace!r} belongs to the "
            "cluster: the stack would create and, on destroy, delete it; use its own "
            "namespace, such as cnpg-system"
        )
