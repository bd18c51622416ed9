"""Rules across sections of the stack's settings, each naming the exact key it refuses.

Called by `Settings` once every section is valid on its own, with the sections each rule
reads (never the whole `Settings`, which imports this module). Each rule is a function
returning nothing or raising ValueError with one sentence that names the full key
(`database.clientImage.tag`, not `database`), the value when it is not secret, and what
to write instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Optional

from heimdall.settings.app import Admin
from heimdall.settings.auth import Auth
from heimdall.settings.database import DatabaseSettings
from heimdall.settings.guardrails import (
    ANNOTATIONS_LIMIT,
    ContainerSecurityContext,
    PodSecurityContext,
)
from heimdall.settings.operations import Backup


def _client_major(database: DatabaseSettings) -> Optional[int]:
    digits = re.match(r"^(\d+)", database.client_image.tag)
    return int(digits.group(1)) if digits else None


def dump_client_not_older_than_server(database: DatabaseSettings, dumps: bool) -> None:
    """pg_dump refuses a server of a newer major ("aborting because of server version
    mismatch", src/bin/pg_dump/pg_dump.c): every scheduled dump (or the restore, `dumps`)
    would fail."""
    if not dumps:
        return
    server = database.server_major
    client = _client_major(database)
    if server is None or client is None or client >= server:
        return
    raise ValueError(
        f"database.clientImage.tag {database.client_image.tag!r} is PostgreSQL "
        f"{client} but the server is {server}: pg_dump and pg_restore refuse a newer server, "
        f"so every backup would fail; set database.clientImage.tag to {server} (or newer)"
    )


def s3_section_used(database: DatabaseSettings, backup: Backup, backup_enabled: bool) -> None:
    """A backup.s3 section that nothing reads: backups off (`backup_enabled`, the default
    off on managed clouds) and no provider that archives into the store (`uses_store`)."""
    if backup.s3 is None or backup_enabled:
        return
    if database.uses_store:
        return
    why = (
        "backup.enabled is false"
        if backup.enabled is False
        else f"backup.enabled is unset, which is off for provider {database.provider!r}"
    )
    raise ValueError(
        f"backup.s3 is set but {why}, so no dump is ever written there; set "
        "backup.enabled: true, or remove backup.s3 and backup.target"
    )


def pod_identity_not_overridden(pod: PodSecurityContext, container: ContainerSecurityContext) -> None:
    """Every container of Heimdall's pods sets its own runAsUser and runAsGroup (1001, or
    999 for the PostgreSQL clients), which win over the pod's (Kubernetes: "the value
    specified in SecurityContext takes precedence"): a pod-level value alone changes
    nothing. So is removing it alone (OpenShift: the containers' 1001 stays)."""
    for name, key, value in (
        ("run_as_user", "runAsUser", pod.run_as_user),
        ("run_as_group", "runAsGroup", pod.run_as_group),
    ):
        if name in pod.model_fields_set and name not in container.model_fields_set:
            shown = "null" if value is None else str(value)
            raise ValueError(
                f"podSecurityContext.{key} {shown} has no effect: every container sets its "
                f"own {key}, which wins; set securityContext.{key} {shown} as well"
            )


def admin_external_auth_has_a_provider(admin: Admin, auth: Auth) -> None:
    if admin.uses_external_auth and not auth.any:
        raise ValueError(
            "admin.usesExternalAuth true needs a login provider (auth.ldap, auth.oidc, ...): "
            "the administrator could never log in; configure one, or set it false"
        )


def pod_annotations_fit(annotations: Mapping[str, str], pod_annotations: Mapping[str, str]) -> None:
    """A pod template carries `annotations` and `podAnnotations` together (heimdall/stack.py
    pod_args): their sum must fit the API server's 256 KiB (apimachinery
    ValidateAnnotationsSize)."""
    merged = {**annotations, **pod_annotations}
    size = sum(len(k) + len(v) for k, v in merged.items())
    if size > ANNOTATIONS_LIMIT:
        raise ValueError(
            f"annotations and podAnnotations together are {size} bytes on Heimdall's pods, over "
            "the API server's 256 KiB per object; shrink podAnnotations (or annotations)"
        )
