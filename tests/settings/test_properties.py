"""Property-based: any input either builds or is rejected with one clear line."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from heimdall.settings.loader import SettingsError, settings_from_config
from heimdall.tooling import render
from heimdall.tooling.stack_yaml import StackFileError
from tests.conftest import stack_config

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
names = st.one_of(
    st.sampled_from(["heimdall", "heimdall-dev", "scans", "a", "x" * 63]),
    st.from_regex(r"\A[a-z][a-z0-9-]{0,20}[a-z0-9]\Z"),
    junk,
)
quantities = st.one_of(
    st.sampled_from(["100m", "1", "2Gi", "512Mi", "0.5", "1e3", "0", "0Gi", "3000m", "1500Mi"]), junk
)
resources = st.fixed_dictionaries(
    {},
    optional={
        "requests": st.fixed_dictionaries({}, optional={"cpu": quantities, "memory": quantities}),
        "limits": st.fixed_dictionaries({}, optional={"cpu": quantities, "memory": quantities}),
    },
)
ports = st.one_of(st.integers(min_value=-5, max_value=70000), junk)
database = st.fixed_dictionaries(
    {},
    optional={
        "provider": st.one_of(st.sampled_from(["embedded", "external"]), junk),
        "name": st.one_of(st.sampled_from(["heimdall", "heimdall_production", "1bad"]), junk),
        "username": st.one_of(st.sampled_from(["postgres", "heimdall_app"]), junk),
        "port": ports,
        "allowDestroy": st.one_of(st.booleans(), junk),
        "tls": st.fixed_dictionaries(
            {}, optional={"mode": st.sampled_from(["disable", "require", "verify", "bogus"])}
        ),
        "embedded": st.fixed_dictionaries(
            {},
            optional={
                "persistence": st.fixed_dictionaries(
                    {},
                    optional={
                        "enabled": st.booleans(),
                        "size": quantities,
                        "storageClass": st.one_of(names, st.just("")),
                    },
                ),
                "resources": resources,
                # Partial sections: each key may be left out (it merges over the default).
                "image": st.fixed_dictionaries(
                    {},
                    optional={
                        "repository": st.sampled_from(["postgres", "postgres:17", "postgres@sha256:" + "a" * 64]),
                        "tag": st.sampled_from(["16", "17", "18"]),
                    },
                ),
            },
        ),
        "external": st.fixed_dictionaries(
            {},
            optional={
                "host": st.one_of(st.sampled_from(["db.example.com", "10.0.0.5"]), junk),
                "existingSecret": names,
                "password": st.text(min_size=1, max_size=20),
            },
        ),
    },
)
values = st.fixed_dictionaries(
    {},
    optional={
        "namespace": names,
        "createNamespace": st.one_of(st.booleans(), junk),
        "replicas": st.one_of(st.integers(min_value=-2, max_value=60), junk),
        "resources": resources,
        "env": st.dictionaries(
            st.one_of(st.sampled_from(["FOO", "JWT_SECRET", "1X", "WARNING_BANNER"]), st.text(max_size=4)),
            st.text(max_size=8),
            max_size=3,
        ),
        "externalUrl": st.one_of(st.sampled_from(["https://h.example.com", "ftp://x", "h"]), junk),
        "database": database,
        "ingress": st.fixed_dictionaries(
            {},
            optional={
                "enabled": st.booleans(),
                "host": st.one_of(st.sampled_from(["heimdall.example.com", "*.example.com"]), junk),
                "tlsSecretName": names,
            },
        ),
        "migration": st.fixed_dictionaries(
            {},
            optional={
                "timeoutSeconds": st.one_of(st.integers(min_value=0, max_value=100000), junk),
                "backoffLimit": st.one_of(st.integers(min_value=-1, max_value=12), junk),
            },
        ),
        "probes": st.fixed_dictionaries(
            {},
            optional={
                "path": st.one_of(st.just("/server"), junk),
                "startup": st.fixed_dictionaries({}, optional={"periodSeconds": st.one_of(st.integers(-1, 30), junk)}),
            },
        ),
        "image": st.fixed_dictionaries(
            {},
            optional={
                "repository": st.sampled_from(["mitre/heimdall2", "mitre/heimdall2:2.13.1", "registry.example.com:5000/heimdall"]),
                "tag": st.one_of(st.sampled_from(["2.13.2", "latest"]), junk),
                "pullPolicy": st.sampled_from(["Always", "IfNotPresent", "Sometimes"]),
            },
        ),
        "backup": st.fixed_dictionaries(
            {},
            optional={
                "timeZone": st.sampled_from(["Etc/UTC", "Europe/Paris", "Europe/Pariss", "Local", "US/Eastern", "UTC"]),
                "pvc": st.fixed_dictionaries({}, optional={"size": quantities}),
                "resources": resources,
            },
        ),
        "affinity": st.one_of(
            st.none(),
            st.sampled_from(
                [
                    {"nodeAfinity": {}},
                    {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                        {"weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname"}}]}},
                    {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": "1"}]}},
                ]
            ),
            junk,
        ),
        "networkPolicy": st.fixed_dictionaries(
            {},
            optional={
                "ingressFrom": st.lists(
                    st.sampled_from([{"podSelector": {}}, {"podSelectr": {}}, {"ipBlock": {"cidr": "10.0.0.0/8"}}, {"ipBlock": {}}]),
                    max_size=2,
                )
            },
        ),
        "unknownKey": junk,
    },
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(values)
def test_any_input_is_valid_or_rejected_with_one_line(candidate: dict) -> None:
    config = {f"heimdall:{k}": render.config_value(v) for k, v in candidate.items()}
    try:
        settings_from_config(config)
    except SettingsError as error:
        message = str(error)
        assert message.startswith("heimdall:")
        assert "\n" not in message
        assert "Traceback" not in message


@settings(
    max_examples=30,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    deadline=None,
)
@given(values)
def test_every_accepted_input_builds_schema_valid_manifests(candidate: dict) -> None:
    config, secret_keys = stack_config(candidate)
    try:
        settings_from_config(config)
    except SettingsError:
        assume(False)
    # A password given in the external section counts as a Pulumi secret here.
    rendering = render.run_stack(config, "property", secret_keys=["heimdall:database"])
    assert rendering.manifests()
    assert render.validate_manifests(rendering.manifests(show_secrets=False), ["1.34.0"]) == []
    assert secret_keys == []


# --- stack files: YAML edge cases, read as the Pulumi CLI reads them ---------------------

scalars = st.sampled_from(
    ["010", "08", "0x1F", "0o17", "1_000", "1e3", "03:00", "no", "on", "yes", "off", "y", "~", "",
     "true", "True", ".5", "2025-01-01", "'010'", '"on"', "[a, b", "{tag: ", "a: b: c", "\t1",
     "!!str 010", "&x 1", "*x", "- a", "|\n  text", ".nan", "-.inf", "1.0"]
)
keys = st.sampled_from(["replicas", "namespace", "image", "externalUrl", "jwtExpireTime", "registrationDisabled"])


@st.composite
def stack_documents(draw: st.DrawFn) -> str:
    lines = ["config:"]
    for _ in range(draw(st.integers(1, 4))):
        key = draw(keys)
        if draw(st.booleans()):
            lines.append(f"  heimdall:{key}: {draw(scalars)}")
        else:  # a section, keys possibly duplicated
            lines.append(f"  heimdall:{key}:")
            for _ in range(draw(st.integers(1, 3))):
                lines.append(f"    {draw(st.sampled_from(['tag', 'repository', 'pullPolicy']))}: {draw(scalars)}")
    return "\n".join(lines) + "\n"


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture], deadline=None)
@given(stack_documents())
def test_any_stack_file_is_read_as_the_cli_reads_it_or_refused_with_one_line(tmp_path: Path, text: str) -> None:
    path = tmp_path / "Pulumi.prop.yaml"
    path.write_text(text)
    try:
        loaded = render.load_stack_file(str(path))
    except StackFileError as error:
        message = str(error)
        assert message.startswith(str(path)) and "\n" not in message
        return
    assert all(isinstance(v, str) for v in loaded.config.values())
    try:
        settings_from_config(loaded.config)
    except SettingsError as error:
        message = str(error)
        assert message.startswith("heimdall:") and "\n" not in message
