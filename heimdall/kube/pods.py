"""The small pieces every pod of the stack shares: env from Secrets and ConfigMaps,
resource amounts, the bounded scratch volume, the shipped scripts, and what other
components add to Heimdall's pods."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources as package_files
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from heimdall.database.contract import SecretKeyRef
from heimdall.settings.types import Resources

core = k8s.core.v1

# A container that fails says why in its status (kubectl describe, and pulumi-kubernetes'
# await messages for a Job's main container): the end of its log, when it left no
# termination message of its own.
LOGS_ON_ERROR = "FallbackToLogsOnError"

# Scratch space of a container (/tmp, sockets): bounded, so that a runaway writer gets its
# own pod evicted instead of filling the node's disk under every other pod on it.
TMP_SIZE_LIMIT = "256Mi"


def resource_requirements(resources: Resources) -> core.ResourceRequirementsArgs:
    def amounts(cpu: Optional[str], memory: Optional[str]) -> Optional[dict[str, str]]:
        found = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
        return found or None

    return core.ResourceRequirementsArgs(
        requests=amounts(resources.requests.cpu, resources.requests.memory),
        limits=amounts(resources.limits.cpu, resources.limits.memory),
    )


@dataclass(frozen=True)
class PodAdditions:
    """What a component adds to Heimdall's pods without the workloads knowing it: env
    (e.g. Secret references), volumes and their mounts in the main container."""

    env: Sequence[core.EnvVarArgs] = ()
    volumes: Sequence[core.VolumeArgs] = ()
    volume_mounts: Sequence[core.VolumeMountArgs] = ()


def merge_additions(additions: Sequence[PodAdditions]) -> PodAdditions:
    return PodAdditions(
        env=[e for a in additions for e in a.env],
        volumes=[v for a in additions for v in a.volumes],
        volume_mounts=[m for a in additions for m in a.volume_mounts],
    )


def secret_env(name: str, ref: SecretKeyRef, optional: bool = False) -> core.EnvVarArgs:
    """An environment variable read from a Secret at run time: the value never appears
    in the pod spec. `optional`: a missing Secret or key leaves it unset instead of
    keeping the container from starting (for a script that checks it and fails clearly)."""
    return core.EnvVarArgs(
        name=name,
        value_from=core.EnvVarSourceArgs(
            secret_key_ref=core.SecretKeySelectorArgs(
                name=ref.name, key=ref.key, optional=optional or None
            )
        ),
    )


def plain_env(values: dict[str, pulumi.Input[str]]) -> list[core.EnvVarArgs]:
    return [core.EnvVarArgs(name=key, value=value) for key, value in values.items()]


def env_from(config_map: Optional[pulumi.Input[str]]) -> Optional[Sequence[core.EnvFromSourceArgs]]:
    if config_map is None:
        return None
    return [core.EnvFromSourceArgs(config_map_ref=core.ConfigMapEnvSourceArgs(name=config_map))]


def flag(value: bool) -> str:
    """A boolean as Heimdall's and Kubernetes' string settings take it."""
    return "true" if value else "false"


def tmp_volume(name: str = "tmp", size_limit: str = TMP_SIZE_LIMIT) -> core.VolumeArgs:
    return core.VolumeArgs(
        name=name, empty_dir=core.EmptyDirVolumeSourceArgs(size_limit=size_limit)
    )


@functools.cache
def script(name: str) -> str:
    """A script shipped in heimdall/scripts/ (read once: every pod embeds some)."""
    return (package_files.files("heimdall") / "scripts" / name).read_text()


def redacted(command: Sequence[str], secret_env: Sequence[str]) -> list[str]:
    """`command` run by node through `redact-output.js`, which keeps the values of the
    `secret_env` variables out of its stdout and stderr and keeps its exit status. The
    values stay in the environment: only their names are on the command line."""
    return ["node", "-e", script("redact-output.js"), "--", ",".join(secret_env), *command]
