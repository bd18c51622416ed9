"""The hardened security contexts of every pod and container of the stack, with the
user's overrides (settings `podSecurityContext`, `securityContext`)."""

from __future__ import annotations

from typing import Any, Optional

import pulumi_kubernetes as k8s
from pydantic import BaseModel

from heimdall.settings.guardrails import ContainerSecurityContext, PodSecurityContext

core = k8s.core.v1

HEIMDALL_UID = 1001  # the mitre/heimdall2 image runs as this user
POSTGRES_UID = 999  # the official postgres image's postgres user


def _overridden(defaults: dict[str, Any], overrides: Optional[BaseModel]) -> dict[str, Any]:
    """`defaults` with the keys the user set: a value replaces, null removes."""
    values = dict(defaults)
    if overrides is None:
        return values
    for field, value in iter(overrides):
        if field not in overrides.model_fields_set:
            continue
        if value is None:
            values.pop(field, None)
        else:
            values[field] = value
    return values


def _seccomp(values: dict[str, Any]) -> None:
    profile = values.get("seccomp_profile")
    if profile is not None and not isinstance(profile, core.SeccompProfileArgs):
        values["seccomp_profile"] = core.SeccompProfileArgs(
            type=profile.type, localhost_profile=profile.localhost_profile
        )


def pod_security_context(
    uid: int, overrides: Optional[PodSecurityContext] = None
) -> core.PodSecurityContextArgs:
    """runAsNonRoot as the image's uid, volumes group-owned by it, seccomp RuntimeDefault;
    `overrides` (settings `podSecurityContext`) replace or remove keys."""
    values = _overridden(
        {
            "run_as_non_root": True,
            "run_as_user": uid,
            "run_as_group": uid,
            "fs_group": uid,
            "seccomp_profile": core.SeccompProfileArgs(type="RuntimeDefault"),
        },
        overrides,
    )
    _seccomp(values)
    return core.PodSecurityContextArgs(**values)


def container_security_context(
    uid: int,
    read_only_root: bool = True,
    overrides: Optional[ContainerSecurityContext] = None,
) -> core.SecurityContextArgs:
    """Non-root, no privilege escalation, no capabilities, read-only root filesystem,
    seccomp RuntimeDefault; `overrides` (settings `securityContext`) replace or remove keys."""
    values = _overridden(
        {
            "run_as_non_root": True,
            "run_as_user": uid,
            "run_as_group": uid,
            "allow_privilege_escalation": False,
            "privileged": False,
            "read_only_root_filesystem": read_only_root,
            "capabilities": core.CapabilitiesArgs(drop=["ALL"]),
            "seccomp_profile": core.SeccompProfileArgs(type="RuntimeDefault"),
        },
        overrides,
    )
    capabilities = values.get("capabilities")
    if capabilities is not None and not isinstance(capabilities, core.CapabilitiesArgs):
        values["capabilities"] = core.CapabilitiesArgs(
            add=capabilities.add or None, drop=capabilities.drop or None
        )
    _seccomp(values)
    return core.SecurityContextArgs(**values)
