"""The contract between database providers and their consumers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Optional

import pulumi
import pulumi_kubernetes as k8s

from heimdall.settings import Settings


@dataclass(frozen=True)
class SecretKeyRef:
    """A key of a Kubernetes Secret in the stack's namespace."""

    name: pulumi.Input[str]
    key: str


@dataclass(frozen=True)
class ConfigMapKeyRef:
    """A key of a Kubernetes ConfigMap in the stack's namespace."""

    name: pulumi.Input[str]
    key: str


@dataclass(frozen=True)
class DatabaseTls:
    """How clients talk TLS to the database.

    `mode`: disable (plain TCP), require (encrypted, certificate not verified) or verify
    (encrypted and verified against `ca`, or Node's trust store when `ca` is None).
    """

    mode: Literal["disable", "require", "verify"] = "disable"
    ca: Optional[ConfigMapKeyRef] = None


@dataclass(frozen=True)
class PasswordSource:
    """Where the database password comes from, as the secrets settings decide.

    `existing`: a key of a Secret the user manages; `value`: a Pulumi secret. Neither:
    the provider generates one (or refuses, when it cannot, as for an external database).
    """

    existing: Optional[SecretKeyRef] = None
    value: Optional[pulumi.Output[str]] = None


@dataclass(frozen=True)
class DatabaseRequest:
    """What every provider receives."""

    settings: Settings
    namespace: pulumi.Input[str]
    password: PasswordSource
    labels: dict[str, str]


@dataclass(frozen=True)
class DatabaseConnection:
    """What every provider returns; all a database client needs.

    `password_value` is the password as a secret Output when the program knows it (it
    does not when it lives in a Secret the user manages). `ready` lists the resources a
    client must wait for. `init_containers`, `volumes` and
    `service_account_annotations` let a provider add what its clients need in their pods
    (for example a connection proxy as a native sidecar) without the clients knowing.
    """

    provider: str
    host: pulumi.Input[str]
    port: pulumi.Input[int]
    database: str
    username: str
    password: SecretKeyRef
    tls: DatabaseTls = DatabaseTls()
    password_value: Optional[pulumi.Output[str]] = None
    ready: Sequence[pulumi.Resource] = ()
    init_containers: Sequence[k8s.core.v1.ContainerArgs] = ()
    volumes: Sequence[k8s.core.v1.VolumeArgs] = ()
    service_account_annotations: dict[str, str] = field(default_factory=dict)
