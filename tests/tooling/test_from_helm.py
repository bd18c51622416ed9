"""`python -m heimdall from-helm`: values files of both mitre/heimdall-helm chart lines
become stack files that render, validate, pass checkov and the policy pack, adopt the
chart's claim and Secret, and never carry a secret value.

The names are the chart's, read in its templates (github:mitre/heimdall-helm; nothing of
it is committed here):
- 3.3.3 (tag heimdall-3.3.3, commit 44ca5be): `heimdall2/templates/_helpers.tpl` lines
  13-24 (`heimdall.fullname`: the release name when it contains the chart name
  `heimdall`, else `<release>-heimdall`); `postgresql-persistentvolumeclaim.yaml` line 5
  (the claim `<fullname>-db-data`, a claim of its own, not a volumeClaimTemplate) and
  `postgresql-statefulset.yaml` line 86 (`claimName: <fullname>-db-data` when
  `postgresql.persistence.enabled`; PGDATA /var/lib/postgresql/data/pgdata, line 46);
  `secrets.yaml` (the Secret `<fullname>`, keys `jwtSecret` (line 24, always written),
  `apiKeySecret`, `adminPassword`, `databasePassword`, `githubClientSecret`, ...;
  `ldapPassword` only when it is literally true, line 72).
- develop (commit 9953164): `heimdall/templates/heimdall-statefulset.yaml` (envFrom the
  Secret `heimdall.existingSecret`, line 106; DATABASE_PASSWORD from
  `externalDatabase.existingSecret` key `existingSecretPasswordKey`, line 127); the
  Bitnami subchart's claim `data-<release>-postgresql-0`
  (bitnami/charts 5165628, bitnami/postgresql/templates/primary/statefulset.yaml lines 10
  and 687-691, values.yaml `primary.persistence.volumeName: "data"`,
  bitnami/common/templates/_names.tpl lines 26-38).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from heimdall.tooling import render
from heimdall.tooling.cli import main
from heimdall.tooling.from_helm import PLACEHOLDER
from tests.conftest import REPO, containers, env_config_map, env_of, stack_config

DATA = REPO / "tests" / "data" / "helm"
RELEASED = DATA / "values-3.3.3.yaml"
DEVELOP = DATA / "values-develop.yaml"


def secret_values(values_file: Path) -> list[str]:
    values = yaml.safe_load(values_file.read_text())
    keys = ("adminPassword", "jwtSecret", "apiKeySecret", "databasePassword", "githubClientSecret")
    found = [str(values[k]) for k in keys if values.get(k)]
    found += [str(v) for v in ((values.get("heimdall") or {}).get("secrets") or {}).values()]
    return found


def convert(tmp_path: Path, monkeypatch, capsys, values_file: Path, *args: str) -> tuple[Path, str]:
    monkeypatch.chdir(tmp_path)
    assert main(["from-helm", str(values_file), "--stack", "converted", *args]) == 0
    captured = capsys.readouterr()
    return tmp_path / "Pulumi.converted.yaml", captured.out + captured.err


def checked(stack_file: Path, tmp_path: Path, secret_keys: dict[str, Any] | None = None) -> render.Rendering:
    """Render the converted stack and run every check the repository's stack files get."""
    rendering = render.run_stack_file(str(stack_file))
    assert render.validate_manifests(rendering.manifests(show_secrets=False)) == []
    # checkov: tests/policy/test_checkov.py scans these conversions (FROM_HELM) in its one run.
    try:
        from tests.policy.test_policies import all_violations, from_registration
    except pytest.skip.Exception:  # pulumi-policy not installed here
        return rendering
    for registration in rendering.registrations:
        if registration.custom:
            assert not all_violations(from_registration(registration, "converted")), registration.name
    return rendering


def test_released_chart_values_become_a_stack_that_adopts_the_claim_and_the_secret(tmp_path, monkeypatch, capsys):
    stack_file, printed = convert(tmp_path, monkeypatch, capsys, RELEASED, "--release", "heimdall")
    written = stack_file.read_text()
    for value in secret_values(RELEASED):
        assert value not in written and value not in printed
    rendering = checked(stack_file, tmp_path)

    database = rendering.manifest("StatefulSet", "heimdall-postgres")["spec"]["template"]["spec"]
    claims = [v["persistentVolumeClaim"]["claimName"] for v in database["volumes"] if "persistentVolumeClaim" in v]
    assert claims == ["heimdall-db-data"]
    server = containers(rendering.manifest("StatefulSet", "heimdall")["spec"]["template"]["spec"], "heimdall")
    env = env_of(server)
    assert env["JWT_SECRET"] == {"secret": ("heimdall", "jwtSecret")}
    assert env["API_KEY_SECRET"] == {"secret": ("heimdall", "apiKeySecret")}
    assert env["GITHUB_CLIENTSECRET"] == {"secret": ("heimdall", "githubClientSecret")}
    config = env_config_map(rendering)["data"]
    assert config["DATABASE_NAME"] == "heimdall-database"  # the chart's default, adopted as it is
    assert "RENAME" not in printed
    assert config["CLASSIFICATION_BANNER_TEXT"] == "UNCLASSIFIED"
    assert config["EXTERNAL_URL"] == "https://heimdall.example.com"  # the values' trailing '/' dropped, and said
    assert "must be a bare origin" in printed
    ingress = rendering.manifest("Ingress", "heimdall")["spec"]
    assert ingress["tls"] == [{"hosts": ["heimdall.example.com"], "secretName": "heimdall-example-com-tls"}]
    assert "  - heimdallReplicas" in printed  # unknown keys are listed
    assert "helm uninstall" in printed and "delete secret -l owner=helm,name=heimdall" in printed


def test_develop_values_with_an_external_database_and_existing_secrets(tmp_path, monkeypatch, capsys):
    stack_file, printed = convert(
        tmp_path, monkeypatch, capsys, DEVELOP, "--release", "prod", "--namespace", "heimdall-prod"
    )
    rendering = checked(stack_file, tmp_path)
    server = containers(rendering.manifest("StatefulSet", "heimdall")["spec"]["template"]["spec"], "heimdall")
    env = env_of(server)
    assert env["DATABASE_PASSWORD"] == {"secret": ("heimdall-db-credentials", "db-password")}
    assert env["JWT_SECRET"] == {"secret": ("heimdall-production-secrets", "JWT_SECRET")}
    assert env["OIDC_CLIENT_SECRET"] == {"secret": ("heimdall-production-secrets", "OIDC_CLIENT_SECRET")}
    assert rendering.provider == "external"
    assert rendering.namespace == "heimdall-prod"
    # OIDC and an autoscaler up to 4 pods behind Traefik: sticky sessions on the Service.
    service = rendering.manifest("Service", "heimdall")
    assert service["spec"]["sessionAffinity"] == "ClientIP"
    assert service["metadata"]["annotations"]["traefik.ingress.kubernetes.io/service.sticky.cookie"] == "true"
    assert "if Secret heimdall-production-secrets has no API_KEY_SECRET" in printed


def test_pulumi_secrets_mode_prints_commands_that_read_the_cluster_never_a_value(tmp_path, monkeypatch, capsys):
    stack_file, printed = convert(tmp_path, monkeypatch, capsys, RELEASED, "--secrets", "pulumi")
    written = yaml.safe_load(stack_file.read_text())["config"]
    assert "existingSecret" not in str(written)
    for value in secret_values(RELEASED):
        assert value not in printed and value not in stack_file.read_text()
    assert (
        "kubectl -n heimdall get secret heimdall -o jsonpath='{.data.jwtSecret}' | base64 -d | "
        "pulumi config set --stack converted --secret --path secrets.jwtSecret"
    ) in printed
    assert "--path auth.github.clientSecret" in printed
    # With the values the commands set (Pulumi secrets), the stack renders and validates.
    values = {key.split(":", 1)[1]: value for key, value in written.items() if key != "heimdall:auth"}
    secrets = {
        "secrets": {k: PLACEHOLDER for k in ("jwtSecret", "apiKeySecret", "adminPassword", "databasePassword")},
        "auth": {"github": {**written["heimdall:auth"]["github"], "clientSecret": PLACEHOLDER}},
    }
    config, secret_keys = stack_config(values, secrets)
    rendering = render.run_stack(config, "converted", secret_keys=secret_keys)
    assert render.validate_manifests(rendering.manifests(show_secrets=False)) == []


@pytest.mark.parametrize(
    ("values", "release", "claim"),
    [
        ({"postgresql": {"persistence": {"enabled": True}}}, "prod", "prod-heimdall-db-data"),
        ({"postgresql": {"persistence": {"enabled": True}}}, "heimdall-staging", "heimdall-staging-db-data"),
        ({"fullnameOverride": "scans", "postgresql": {"persistence": {"enabled": True}}}, "x", "scans-db-data"),
        ({"postgresql": {"auth": {"database": "heimdall"}}}, "prod", "data-prod-postgresql-0"),
        ({"postgresql": {"auth": {}}}, "my-postgresql", "data-my-postgresql-0"),
    ],
)
def test_the_claim_is_the_one_the_charts_templates_made(tmp_path, monkeypatch, capsys, values, release, claim):
    source = tmp_path / "values.yaml"
    source.write_text(yaml.safe_dump({**values, "jwtSecret": "j" * 64}))
    monkeypatch.chdir(tmp_path)
    assert main(["from-helm", str(source), "--release", release]) == 0
    written = yaml.safe_load(capsys.readouterr().out)["config"]
    assert written["heimdall:database"]["embedded"]["existingClaim"] == claim


def test_without_persistence_there_is_nothing_to_adopt_and_it_says_so(tmp_path, monkeypatch, capsys):
    source = tmp_path / "values.yaml"
    source.write_text("databasePassword: x-db-password\n")
    monkeypatch.chdir(tmp_path)
    assert main(["from-helm", str(source)]) == 0
    captured = capsys.readouterr()
    assert "existingClaim" not in captured.out
    assert "emptyDir" in captured.err and "dump it and restore it" in captured.err
    assert "x-db-password" not in captured.out + captured.err
    # The Secret's missing keys are added without the value on a command line.
    assert "printf '{\"stringData\":{\"apiKeySecret\":\"%s\"}}' \"$(openssl rand -hex 32)\"" in captured.err


def test_an_unreadable_values_file_is_one_line_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "values.yaml"
    bad.write_text("heimdall: [unclosed\n")
    assert main(["from-helm", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot read values file") and err.count("\n") == 1


def test_the_ldap_bind_password_never_reached_the_charts_secret_so_it_is_asked_for(tmp_path, monkeypatch, capsys):
    # 3.3.3 secrets.yaml line 72 writes ldapPassword only when the value is literally true.
    source = tmp_path / "values.yaml"
    source.write_text(yaml.safe_dump({
        "ldapEnabled": True, "ldapHost": "ldap.example.com", "ldapBindDn": "cn=heimdall,dc=example,dc=com",
        "ldapPassword": "ldap-bind-secret-42", "ldapSearchBase": "dc=example,dc=com",
    }))
    monkeypatch.chdir(tmp_path)
    assert main(["from-helm", str(source)]) == 0
    captured = capsys.readouterr()
    ldap = yaml.safe_load(captured.out)["config"]["heimdall:auth"]["ldap"]
    assert ldap["bindDn"] == "cn=heimdall,dc=example,dc=com" and "existingSecret" not in ldap
    assert "pulumi config set --secret --path auth.ldap.bindPassword    # prompts (no echo)" in captured.err
    assert "ldap-bind-secret-42" not in captured.out + captured.err


def test_a_conversion_the_program_would_refuse_writes_nothing(tmp_path, monkeypatch, capsys):
    # OIDC with an autoscaler behind an ingress class the program cannot make sticky.
    values = yaml.safe_load(DEVELOP.read_text())
    values["heimdall"]["ingress"]["className"] = "kong"
    values["heimdall"]["config"]["EXTERNAL_URL"] = "https://heimdall.corp.example.com/authn"
    source = tmp_path / "values.yaml"
    source.write_text(yaml.safe_dump(values))
    monkeypatch.chdir(tmp_path)
    assert main(["from-helm", str(source), "--stack", "refused"]) == 2
    err = capsys.readouterr().err
    assert not (tmp_path / "Pulumi.refused.yaml").exists()
    (last,) = [line for line in err.splitlines() if line.startswith("error:")]
    assert "needs sticky sessions" in last and "className is kong" in last


def test_develop_values_with_the_bitnami_subchart_and_inline_secrets(tmp_path, monkeypatch, capsys):
    values_file = DATA / "values-develop-embedded.yaml"
    stack_file, printed = convert(tmp_path, monkeypatch, capsys, values_file, "--release", "heimdall")
    inline = yaml.safe_load(values_file.read_text())["heimdall"]["secrets"].values()
    assert inline and not [v for v in inline if v in stack_file.read_text() or v in printed]
    rendering = checked(stack_file, tmp_path)
    database = rendering.manifest("StatefulSet", "heimdall-postgres")["spec"]["template"]["spec"]
    claims = [v["persistentVolumeClaim"]["claimName"] for v in database["volumes"] if "persistentVolumeClaim" in v]
    assert claims == ["data-heimdall-postgresql-0"]
    env = env_of(containers(rendering.manifest("StatefulSet", "heimdall")["spec"]["template"]["spec"], "heimdall"))
    assert env["GITHUB_CLIENTSECRET"] == {"secret": ("heimdall-secrets", "GITHUB_CLIENTSECRET")}
    assert env["JWT_SECRET"] == {"secret": ("heimdall-secrets", "JWT_SECRET")}
    # Bitnami's password goes into the chart's Secret through a file, never a command line.
    assert (
        "printf '{\"data\":{\"DATABASE_PASSWORD\":\"%s\"}}' \"$(kubectl -n heimdall get secret "
        "heimdall-postgresql -o jsonpath='{.data.postgres-password}')\" > patch.json"
    ) in printed
    assert "adopt-bitnami-data.sh" in printed
    assert env_config_map(rendering)["data"]["WARNING_BANNER"] == "Authorized use only"
