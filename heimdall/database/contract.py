"""The contract between database providers and their consumers.

A provider gets a `DatabaseRequest`: its own settings section, the database settings every
provider shares, and where its Kubernetes objects go. It returns a `DatabaseConnection`:
all a client needs, whichever provider made the database.

The contract is made of its own value types and imports no settings model: the program
(`build.py`) converts the settings into them (`TlsRequest`, `Toleration`, `ObjectStore`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, Literal, Optional, TypeVar, Union

import pulumi
import pulumi_kubernetes as k8s

SectionT = TypeVar("SectionT")
OtherSectionT = TypeVar("OtherSectionT")


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
    (encrypted and verified against `ca`, or Node's trust store when `ca` is None). `ca`
    is a key of a ConfigMap, or of a Secret when the server's CA lives in one (as the
    CA an operator creates beside the server); clients mount it as a file either way.
    `pem` is the CA's text when the program holds it (a repository file, a cloud's server
    CA), exported for the user's own tools; None when it lives only in the cluster.
    """

    mode: Literal["disable", "require", "verify"] = "disable"
    ca: Optional[Union[ConfigMapKeyRef, SecretKeyRef]] = None
    pem: Optional[pulumi.Input[str]] = None


@dataclass(frozen=True)
class TlsRequest:
    """The TLS the stack asks of a provider (`database.tls` with the provider's defaults).

    `ca`: a ConfigMap key the user manages; `ca_pem`: the CA's text (a PEM file of the
    repository); `auto_ca`: the provider's own server CA (`ca: auto`). At most one is set,
    and only with mode verify.
    """

    mode: Literal["disable", "require", "verify"] = "disable"
    ca: Optional[ConfigMapKeyRef] = None
    ca_pem: Optional[str] = None
    auto_ca: bool = False


@dataclass(frozen=True)
class Toleration:
    """A pod toleration (the Kubernetes Toleration's fields)."""

    key: Optional[str] = None
    operator: str = "Equal"
    value: Optional[str] = None
    effect: Optional[str] = None
    toleration_seconds: Optional[int] = None


@dataclass(frozen=True)
class ObjectStore:
    """The stack's S3-compatible object store (`backup.s3`), for a provider that archives
    into it itself: the bucket, the key prefix of this stack, the endpoint (None: AWS S3),
    the region, and the user's Secret holding the key pair."""

    bucket: str
    prefix: str
    region: str
    secret: str
    access_key_id_key: str
    secret_access_key_key: str
    endpoint: Optional[str] = None


@dataclass(frozen=True)
class PasswordSource:
    """Where the database password comes from, as the secrets settings decide.

    `existing`: a key of a Secret the user manages; `value`: a Pulumi secret. Neither:
    the provider generates one (or refuses, when it cannot, as for an external database).
    """

    existing: Optional[SecretKeyRef] = None
    value: Optional[pulumi.Output[str]] = None


@dataclass(frozen=True)
class Placement:
    """Where the stack's pods run: for a provider's own pods (an in-cluster database)."""

    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: Sequence[Toleration] = ()
    image_pull_secrets: Sequence[str] = ()


@dataclass(frozen=True)
class DatabaseRequest(Generic[SectionT]):
    """What every provider receives: its own section, the shared database settings, and
    where its objects go."""

    section: SectionT  # the provider's own settings section (database.<section>)
    name: str  # database.name
    username: str  # database.username
    port: int  # database.port
    tls: TlsRequest  # database.tls, with the provider's defaults applied
    protect: bool  # protect stateful resources (not database.allowDestroy)
    namespace: pulumi.Input[str]
    password: PasswordSource
    placement: Placement = Placement()
    # backup.s3, the stack's object store, for a provider that archives into it itself.
    object_store: Optional[ObjectStore] = None

    def with_section(self, section: OtherSectionT) -> DatabaseRequest[OtherSectionT]:
        """This request for a provider whose section is `section`."""
        return DatabaseRequest(
            section=section,
            name=self.name,
            username=self.username,
            port=self.port,
            tls=self.tls,
            protect=self.protect,
            namespace=self.namespace,
            password=self.password,
            placement=self.placement,
            object_store=self.object_store,
        )


@dataclass(frozen=True)
class ServerPods:
    """The database server's pods in the stack's namespace: their labels and port.

    `peers`: ingress the server's pods need besides the stack's clients on `port`, for
    example an operator that manages them, or the server's own instances replicating to
    each other (NetworkPolicy ingress rules, as the Kubernetes API takes them).
    """

    selector: Mapping[str, str]
    port: int
    peers: Sequence[k8s.networking.v1.NetworkPolicyIngressRuleArgs] = ()


@dataclass(frozen=True)
class DatabaseConnection:
    """What every provider returns; all a database client needs.

    `password_value` is the password as a secret Output when the program knows it (it
    does not when it lives in a Secret the user manages). `ready` lists the resources a
    client must wait for. `init_containers`, `volumes` and
    `service_account_annotations` let a provider add what its clients need in their pods
    (for example a connection proxy as a native sidecar) without the clients knowing.
    `server_pods` is set when the server runs as pods of the stack: their labels and port,
    for the NetworkPolicy that admits the stack's clients to them.
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
    server_pods: Optional[ServerPods] = None
    # What the runbooks (point-in-time restores) need to find a managed instance: its real,
    # auto-suffixed name (the cloud's instance or server, the in-cluster cluster) and its
    # resource group where the cloud has one.
    instance_name: Optional[pulumi.Input[str]] = None
    resource_group: Optional[pulumi.Input[str]] = None
