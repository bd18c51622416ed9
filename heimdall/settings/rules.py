"""Rules across sections of the stack's settings, each naming the exact key it refuses.

Called by `Settings` once every section is valid on its own. Each rule is a function
returning nothing or raising ValueError with one sentence that names the full key
(`database.clientImage.tag`, not `database`), the value when it is not secret, and what
to write instead.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from heimdall.settings.root import Settings


def _client_major(settings: Settings) -> Optional[int]:
    digits = re.match(r"^(\d+)", settings.database.client_image.tag)
    return int(digits.group(1)) if digits else None


def dump_client_not_older_than_server(settings: Settings) -> None:
    """pg_dump refuses a server of a newer major ("aborting because of server version
    mismatch", src/bin/pg_dump/pg_dump.c): every scheduled dump would fail."""
    if not (settings.backup_enabled or settings.restore.from_):
        return
    server = getattr(settings.database.section, "server_major", None)
    client = _client_major(settings)
    if server is None or client is None or client >= server:
        return
    raise ValueError(
        f"database.clientImage.tag {settings.database.client_image.tag!r} is PostgreSQL "
        f"{client} but the server is {server}: pg_dump and pg_restore refuse a newer server, "
        f"so every backup would fail; set database.clientImage.tag to {server} (or newer)"
    )


def s3_section_used(settings: Settings) -> None:
    """A backup.s3 section that nothing reads: backups off (the default on managed
    clouds) and no provider that archives into the store (`uses_store`)."""
    if settings.backup.s3 is None or settings.backup_enabled:
        return
    if getattr(settings.database.section, "uses_store", False):
        return
    why = (
        "backup.enabled is false"
        if settings.backup.enabled is False
        else f"backup.enabled is unset, which is off for provider {settings.database.provider!r}"
    )
    raise ValueError(
        f"backup.s3 is set but {why}, so no dump is ever written there; set "
        "backup.enabled: true, or remove backup.s3 and backup.target"
    )


def pod_identity_not_overridden(settings: Settings) -> None:
    """Every container of Heimdall's pods sets its own runAsUser and runAsGroup (1001, or
    999 for the PostgreSQL clients), which win over the pod's (Kubernetes: "the value
    specified in SecurityContext takes precedence"): a pod-level value alone changes
    nothing. So is removing it alone (OpenShift: the containers' 1001 stays)."""
    pod, container = settings.pod_security_context, settings.security_context
    for name in ("run_as_user", "run_as_group"):
        key = "runAsUser" if name == "run_as_user" else "runAsGroup"
        if name in pod.model_fields_set and name not in container.model_fields_set:
            value = getattr(pod, name)
            shown = "null" if value is None else str(value)
            raise ValueError(
                f"podSecurityContext.{key} {shown} has no effect: every container sets its "
                f"own {key}, which wins; set securityContext.{key} {shown} as well"
            )


def admin_external_auth_has_a_provider(settings: Settings) -> None:
    if settings.admin.uses_external_auth and not settings.auth.any:
        raise ValueError(
            "admin.usesExternalAuth true needs a login provider (auth.ldap, auth.oidc, ...): "
            "the administrator could never log in; configure one, or set it false"
        )


def pod_annotations_fit(settings: Settings) -> None:
    """A pod template carries `annotations` and `podAnnotations` together (heimdall/stack.py
    pod_args): their sum must fit the API server's 256 KiB (apimachinery
    ValidateAnnotationsSize)."""
    from heimdall.settings.guardrails import ANNOTATIONS_LIMIT

    merged = {**settings.annotations, **settings.pod_annotations}
    size = sum(len(k) + len(v) for k, v in merged.items())
    if size > ANNOTATIONS_LIMIT:
        raise ValueError(
            f"annotations and podAnnotations together are {size} bytes on Heimdall's pods, over "
            "the API server's 256 KiB per object; shrink podAnnotations (or annotations)"
        )


RULES = (
    pod_annotations_fit,
    dump_client_not_older_than_server,
    s3_section_used,
    pod_identity_not_overridden,
    admin_external_auth_has_a_provider,
)


def check(settings: Settings) -> None:
    for rule in RULES:
        rule(settings)
