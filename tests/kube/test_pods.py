"""heimdall/kube/pods.py: the small pieces every pod shares."""

from __future__ import annotations

from heimdall.database.contract import SecretKeyRef
from heimdall.kube import pods
from heimdall.settings.types import Resources


def test_resource_amounts_leave_out_what_is_unset() -> None:
    resources = Resources.model_validate({"requests": {"cpu": "100m"}, "limits": {"memory": "1Gi"}})
    found = pods.resource_requirements(resources)
    assert found.requests == {"cpu": "100m"}
    assert found.limits == {"memory": "1Gi"}
    assert pods.resource_requirements(Resources()).requests is None


def test_a_secret_reference_keeps_the_value_out_of_the_spec() -> None:
    env = pods.secret_env("DATABASE_PASSWORD", SecretKeyRef("db", "password"))
    assert env.value is None
    assert env.value_from is not None and env.value_from.secret_key_ref is not None
    ref = env.value_from.secret_key_ref
    assert (ref.name, ref.key, ref.optional) == ("db", "password", None)
    optional = pods.secret_env("X", SecretKeyRef("s", "k"), optional=True).value_from
    assert optional is not None and optional.secret_key_ref is not None
    assert optional.secret_key_ref.optional is True


def test_additions_merge_in_order() -> None:
    first = pods.PodAdditions(env=[pods.plain_env({"A": "1"})[0]])
    second = pods.PodAdditions(env=[pods.plain_env({"B": "2"})[0]], volumes=[pods.tmp_volume("x")])
    merged = pods.merge_additions([first, second])
    assert [e.name for e in merged.env] == ["A", "B"]
    assert [v.name for v in merged.volumes] == ["x"]
    assert list(merged.volume_mounts) == []


def test_env_from_a_config_map_only_when_named() -> None:
    assert pods.env_from(None) is None
    (source,) = pods.env_from("heimdall-env") or []
    assert source.config_map_ref is not None and source.config_map_ref.name == "heimdall-env"


def test_scratch_space_is_bounded() -> None:
    volume = pods.tmp_volume()
    assert volume.empty_dir is not None and volume.empty_dir.size_limit == pods.TMP_SIZE_LIMIT


def test_flags_are_kubernetes_strings() -> None:
    assert (pods.flag(True), pods.flag(False)) == ("true", "false")


def test_a_redacted_command_names_the_secret_variables_never_their_values() -> None:
    command = pods.redacted(["/bin/sh", "-ec", "yarn migrate"], ["ADMIN_PASSWORD", "JWT_SECRET"])
    assert command[:2] == ["node", "-e"]
    assert command[3:] == ["--", "ADMIN_PASSWORD,JWT_SECRET", "/bin/sh", "-ec", "yarn migrate"]
    assert command[2] == pods.script("redact-output.js")
