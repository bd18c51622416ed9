"""heimdall/kube/security.py: hardened security contexts and the user's overrides."""

from __future__ import annotations

from heimdall.kube import security
from heimdall.settings.guardrails import ContainerSecurityContext, PodSecurityContext


def test_container_defaults_are_hardened() -> None:
    context = security.container_security_context(security.POSTGRES_UID)
    assert context.run_as_non_root is True
    assert context.run_as_user == context.run_as_group == 999
    assert context.allow_privilege_escalation is False
    assert context.privileged is False
    assert context.read_only_root_filesystem is True
    assert context.capabilities is not None and context.capabilities.drop == ["ALL"]
    assert context.seccomp_profile is not None and context.seccomp_profile.type == "RuntimeDefault"


def test_a_writable_root_is_asked_for_explicitly() -> None:
    context = security.container_security_context(security.HEIMDALL_UID, read_only_root=False)
    assert context.read_only_root_filesystem is False


def test_container_overrides_replace_a_key_and_null_removes_it() -> None:
    overrides = ContainerSecurityContext.model_validate({"runAsUser": None, "runAsGroup": 5000})
    context = security.container_security_context(security.HEIMDALL_UID, overrides=overrides)
    assert context.run_as_user is None
    assert context.run_as_group == 5000
    assert context.run_as_non_root is True  # unset keys keep the default


def test_container_capabilities_from_the_settings_become_kubernetes_args() -> None:
    overrides = ContainerSecurityContext.model_validate({"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}})
    context = security.container_security_context(security.HEIMDALL_UID, overrides=overrides)
    assert context.capabilities is not None
    assert context.capabilities.add == ["NET_BIND_SERVICE"]
    assert context.capabilities.drop == ["ALL"]


def test_pod_defaults_own_the_volumes_by_the_image_user() -> None:
    context = security.pod_security_context(security.HEIMDALL_UID)
    assert context.run_as_user == context.run_as_group == context.fs_group == 1001
    assert context.run_as_non_root is True
    assert context.seccomp_profile is not None and context.seccomp_profile.type == "RuntimeDefault"


def test_pod_overrides_take_a_seccomp_profile_of_the_settings() -> None:
    overrides = PodSecurityContext.model_validate(
        {"seccompProfile": {"type": "Localhost", "localhostProfile": "profiles/heimdall.json"}}
    )
    context = security.pod_security_context(security.HEIMDALL_UID, overrides)
    assert context.seccomp_profile is not None
    assert context.seccomp_profile.type == "Localhost"
    assert context.seccomp_profile.localhost_profile == "profiles/heimdall.json"
