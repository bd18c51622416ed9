"""The custom resources' specs: the `Cluster`, its `ObjectStore` and `ScheduledBackup`.

Plain dicts in the engine's camelCase, as the CRDs (heimdall/schemas/) define them; the
offline render validates them against those schemas in strict mode.
"""

from __future__ import annotations

from typing import Any, Optional

import pulumi

from heimdall.database.cloudnative_pg.operator import resources_values
from heimdall.database.cloudnative_pg.settings import CloudNativePgDatabase, six_field_schedule
from heimdall.database.contract import ObjectStore, Placement

PLUGIN = "barman-cloud.cloudnative-pg.io"
RECOVERY_SOURCE = "origin"
# Every connection from outside the pods must be TLS; the operator's own rules (the
# instances' replication, with client certificates) come before the user's.
REJECT_PLAIN_TCP = "hostnossl all all all reject"


def affinity(cnpg: CloudNativePgDatabase, placement: Placement) -> dict[str, Any]:
    spread = cnpg.affinity
    found: dict[str, Any] = {"enablePodAntiAffinity": spread.pod_anti_affinity != "off"}
    if spread.pod_anti_affinity != "off":
        found["podAntiAffinityType"] = spread.pod_anti_affinity
        found["topologyKey"] = spread.topology_key
    if placement.node_selector:
        found["nodeSelector"] = dict(placement.node_selector)
    tolerations = [
        {
            k: v
            for k, v in (
                ("key", t.key),
                ("operator", t.operator),
                ("value", t.value),
                ("effect", t.effect),
                ("tolerationSeconds", t.toleration_seconds),
            )
            if v is not None
        }
        for t in placement.tolerations
    ]
    if tolerations:
        found["tolerations"] = tolerations
    return found


def cluster_spec(
    cnpg: CloudNativePgDatabase,
    database: str,
    owner: str,
    owner_secret: pulumi.Input[str],
    store: Optional[str],
    placement: Placement,
    inherited_labels: dict[str, str],
) -> dict[str, Any]:
    """The Cluster's spec. `store` is the ObjectStore's name when backups or a recovery
    use one."""
    secret = {"name": owner_secret}
    spec: dict[str, Any] = {
        "instances": cnpg.instances,
        "imageName": cnpg.image.reference,
        "imagePullPolicy": cnpg.image.pull_policy,
        "enablePDB": cnpg.pdb,
        "primaryUpdateStrategy": "unsupervised",
        "storage": {"size": cnpg.storage.size}
        | ({"storageClass": cnpg.storage.storage_class} if cnpg.storage.storage_class else {}),
        "resources": resources_values(cnpg.resources),
        "affinity": affinity(cnpg, placement),
        "postgresql": {
            # postgresql.conf values are strings in the CRD.
            "parameters": {k: str(v) for k, v in cnpg.parameters.items()},
            "pg_hba": [REJECT_PLAIN_TCP],
        },
        "inheritedMetadata": {"labels": inherited_labels},
    }
    if placement.image_pull_secrets:
        spec["imagePullSecrets"] = [{"name": s} for s in placement.image_pull_secrets]
    if cnpg.affinity.zone_spread and cnpg.instances > 1:
        spec["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {"cnpg.io/cluster": cnpg.cluster_name}},
            }
        ]
    recovery = cnpg.recovery
    if recovery is None:
        spec["bootstrap"] = {"initdb": {"database": database, "owner": owner, "secret": secret}}
    else:
        assert store is not None  # the settings require the store for a recovery
        target = {
            k: v
            for k, v in (("targetTime", recovery.target_time), ("backupID", recovery.backup_id))
            if v is not None
        }
        spec["bootstrap"] = {
            "recovery": {
                "source": RECOVERY_SOURCE,
                "database": database,
                "owner": owner,
                "secret": secret,
                **({"recoveryTarget": target} if target else {}),
            }
        }
        spec["externalClusters"] = [
            {
                "name": RECOVERY_SOURCE,
                "plugin": {
                    "name": PLUGIN,
                    "parameters": {
                        "barmanObjectName": store,
                        "serverName": recovery.source_server_name,
                    },
                },
            }
        ]
    if cnpg.backup.enabled:
        assert store is not None
        spec["plugins"] = [
            {
                "name": PLUGIN,
                "isWALArchiver": True,
                "parameters": {"barmanObjectName": store, "serverName": cnpg.server_name},
            }
        ]
    return spec


def object_store_spec(
    cnpg: CloudNativePgDatabase, s3: ObjectStore, region_secret: pulumi.Input[str]
) -> dict[str, Any]:
    """Where the plugin archives: `backup.s3`'s bucket, under <prefix>cnpg/, with its key
    pair (by reference) and region."""
    backup = cnpg.backup

    def key(secret: pulumi.Input[str], name: str) -> dict[str, Any]:
        return {"name": secret, "key": name}

    configuration: dict[str, Any] = {
        "destinationPath": f"s3://{s3.bucket}/{s3.prefix}cnpg/",
        "s3Credentials": {
            "accessKeyId": key(s3.secret, s3.access_key_id_key),
            "secretAccessKey": key(s3.secret, s3.secret_access_key_key),
            "region": key(region_secret, "AWS_REGION"),
        },
        "wal": {"compression": backup.wal_compression},
        "data": {"compression": backup.data_compression},
    }
    sidecar: dict[str, Any] = {"resources": resources_values(backup.plugin.resources)}
    if s3.endpoint:
        # An S3-compatible store at its own endpoint (addressed path-style, as the plugin's
        # documentation shows). Recent boto3 sends checksums many such stores refuse; the
        # plugin's documented workaround.
        configuration["endpointURL"] = s3.endpoint
        sidecar["env"] = [
            {"name": "AWS_REQUEST_CHECKSUM_CALCULATION", "value": "when_required"},
            {"name": "AWS_RESPONSE_CHECKSUM_VALIDATION", "value": "when_required"},
        ]
    return {
        "retentionPolicy": backup.retention_policy,
        "configuration": configuration,
        "instanceSidecarConfiguration": sidecar,
    }


def scheduled_backup_spec(cnpg: CloudNativePgDatabase) -> dict[str, Any]:
    return {
        "schedule": six_field_schedule(cnpg.backup.schedule),
        "cluster": {"name": cnpg.cluster_name},
        "method": "plugin",  # the CRD's default is the deprecated in-tree barmanObjectStore
        "pluginConfiguration": {"name": PLUGIN},
        # A first base backup right away: WAL alone cannot be restored without one.
        "immediate": True,
        "backupOwnerReference": "self",
        "target": "prefer-standby",
    }
