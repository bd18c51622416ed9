"""`ExtraCaCertificates`: certificate authorities Heimdall trusts besides Node's own.

Creates, from `caCertificates.files`, one ConfigMap holding the PEM files bundled into a
single file (Node's NODE_EXTRA_CA_CERTS takes one path); with
`caCertificates.existingConfigMap` it creates nothing and mounts that ConfigMap's key.
The ConfigMap is auto-named: a changed bundle gets a new name, which rolls the pods.

The bundle is mounted read-only at `BUNDLE_PATH` in the server and the migration Job;
`heimdall_env` points NODE_EXTRA_CA_CERTS (and LDAP_SSL_CA when LDAP uses TLS) at it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from heimdall.kube import meta, pods
from heimdall.settings.app import CaCertificates

core = k8s.core.v1
MOUNT_DIR = "/etc/heimdall/ca-certificates"
BUNDLE_FILE = "ca-bundle.pem"
BUNDLE_PATH = f"{MOUNT_DIR}/{BUNDLE_FILE}"
VOLUME = "extra-ca-certificates"


def bundle(files: list[str]) -> str:
    """The PEM files, concatenated in order, each ending with a newline."""
    parts = []
    for path in files:
        text = Path(path).read_text().strip()
        parts.append(f"# {Path(path).name}\n{text}\n")
    return "".join(parts)


class ExtraCaCertificates(pulumi.ComponentResource):
    pod: pods.PodAdditions
    config_map_name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        settings: CaCertificates,
        namespace: pulumi.Input[str],
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("heimdall:app:ExtraCaCertificates", name, None, opts)
        if settings.existing_config_map:
            source: pulumi.Input[str] = settings.existing_config_map
            key = settings.existing_config_map_key
        else:
            config_map = core.ConfigMap(
                f"{name}-bundle",
                metadata=meta.metadata(namespace, "heimdall"),
                data={BUNDLE_FILE: bundle(settings.files)},
                opts=pulumi.ResourceOptions(parent=self),
            )
            source = config_map.metadata.name
            key = BUNDLE_FILE
        self.config_map_name = pulumi.Output.from_input(source)
        self.pod = pods.PodAdditions(
            volumes=[
                core.VolumeArgs(
                    name=VOLUME,
                    config_map=core.ConfigMapVolumeSourceArgs(
                        name=source, items=[core.KeyToPathArgs(key=key, path=BUNDLE_FILE)]
                    ),
                )
            ],
            volume_mounts=[core.VolumeMountArgs(name=VOLUME, mount_path=MOUNT_DIR, read_only=True)],
        )
        self.register_outputs({"configMapName": self.config_map_name})
