"""Property-based: any input either builds or is rejected with one clear line."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from heimdall.settings import SettingsError, settings_from_config
from heimdall.tooling import render
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
quantities = st.one_of(st.sampled_from(["100m", "1", "2Gi", "512Mi", "0.5", "1e3"]), junk)
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
                "image": st.fixed_dictionaries(
                    {"repository": st.just("postgres"), "tag": st.sampled_from(["16", "17", "18"])}
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
        "probes": st.fixed_dictionaries({}, optional={"path": st.one_of(st.just("/server"), junk)}),
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
