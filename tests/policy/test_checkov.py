"""The security scan: checkov over every rendered stack reports zero failed checks.

checkov lives in a virtualenv of its own (it pins packaging<24, which Pulumi cannot use):
`CHECKOV` (a path), else .venv-checkov/bin/checkov, else /tmp/checkov-venv/bin/checkov.
A skipped check is listed in .checkov.yaml with a one-line reason.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from heimdall.tooling.render import run_stack, run_stack_file, write
from tests.conftest import REPO, STACK_FILES, stack_config

CONFIG = REPO / ".checkov.yaml"


def checkov_binary() -> Path | None:
    candidates = [os.environ.get("CHECKOV"), REPO / ".venv-checkov/bin/checkov", "/tmp/checkov-venv/bin/checkov"]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


CHECKOV = checkov_binary()
needs_checkov = pytest.mark.skipif(
    CHECKOV is None,
    reason="checkov not found: set CHECKOV, or create .venv-checkov (make checkov-venv)",
)


def scan(directory: Path) -> list[dict[str, Any]]:
    """checkov's failed checks for the manifests below `directory` (one process: checkov's
    start-up, loading every check, costs more than scanning a stack)."""
    assert CHECKOV is not None
    result = subprocess.run(
        [str(CHECKOV), "-d", str(directory), "--config-file", str(CONFIG), "-o", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    assert reports and all(r["summary"]["parsing_errors"] == 0 for r in reports)
    assert sum(r["summary"]["passed"] for r in reports) > 0, "checkov checked nothing"
    manifests = len(list(directory.rglob("*.yaml")))
    assert sum(r["summary"]["resource_count"] for r in reports) >= manifests, "checkov skipped files"
    return [check for r in reports for check in r["results"]["failed_checks"]]


def describe(failed: list[dict[str, Any]]) -> str:
    return "\n".join(f"{c['check_id']} {c['check_name']} on {c['resource']}" for c in failed)


def _optional_objects() -> Any:
    values = {
        "externalUrl": "https://heimdall.example.com",
        "autoscaling": {"enabled": True},
        "gateway": {"enabled": True, "parentRefs": [{"name": "public"}], "hostnames": ["heimdall.example.com"]},
        "ingress": {"enabled": True, "host": "heimdall.example.com", "tlsSecretName": "tls"},
        "caCertificates": {"files": [str(REPO / "tests" / "data" / "test-ca.pem")]},
        # LDAP: an OAuth login with an autoscaler behind a gateway route is refused (sessions
        # cannot be made sticky there); the sticky objects are scanned in tests/tooling/test_from_helm.py.
        "auth": {"ldap": {"host": "ldap.example.com", "searchBase": "dc=x", "bindDn": "cn=h"}},
    }
    config, secret_keys = stack_config(values, {"auth": {"ldap": {"bindPassword": "x"}}})
    return run_stack(config, "full", secret_keys=secret_keys)


def _sticky() -> Any:
    """Sessions made sticky (an OAuth login on two pods behind ingress-nginx)."""
    values = {"externalUrl": "https://heimdall.example.com", "replicas": 2,
              "ingress": {"enabled": True, "className": "nginx", "host": "heimdall.example.com",
                          "tlsSecretName": "tls"}}
    config, secret_keys = stack_config(values, {"auth": {"github": {"clientId": "gh", "clientSecret": "x"}}})
    rendering = run_stack(config, "sticky", secret_keys=secret_keys)
    assert rendering.manifest("Service", "heimdall")["spec"]["sessionAffinity"] == "ClientIP"
    return rendering


# What tests/tooling/test_from_helm.py converts, each values file with the arguments it uses there.
FROM_HELM = {
    "helm-3.3.3": ("values-3.3.3.yaml", "--release", "heimdall"),
    "helm-develop": ("values-develop.yaml", "--release", "prod", "--namespace", "heimdall-prod"),
    "helm-develop-embedded": ("values-develop-embedded.yaml", "--release", "heimdall"),
}


def _from_helm(directory: Path, values: str, *args: str) -> Any:
    """A stack file written by `python -m heimdall from-helm`, rendered."""
    import contextlib
    import io

    from heimdall.tooling.cli import main

    directory.mkdir()
    with contextlib.chdir(directory), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        assert main(["from-helm", str(REPO / "tests/data/helm" / values), "--stack", "converted", *args]) == 0
    return run_stack_file(str(directory / "Pulumi.converted.yaml"))


def _insecure() -> Any:
    config, _ = stack_config({"securityContext": {"privileged": True, "allowPrivilegeEscalation": True}})
    return run_stack(config, "insecure")


@pytest.fixture(scope="module")
def failed_checks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """Every scenario rendered into a folder of its own, scanned by one checkov run; its
    failed checks by folder."""
    root = tmp_path_factory.mktemp("checkov")
    for stack in STACK_FILES:
        write(run_stack_file(str(stack)), root / stack.name)
    write(_optional_objects(), root / "optional")
    write(_sticky(), root / "sticky")
    for name, (values, *args) in FROM_HELM.items():
        write(_from_helm(tmp_path_factory.mktemp(name) / "project", values, *args), root / name)
    write(_insecure(), root / "insecure")
    by_folder: dict[str, list[dict[str, Any]]] = {p.name: [] for p in root.iterdir()}
    for check in scan(root):
        by_folder[Path(check["file_abs_path"]).relative_to(root).parts[0]].append(check)
    return by_folder


@needs_checkov
@pytest.mark.parametrize("stack", STACK_FILES, ids=lambda p: p.name)
def test_every_stack_renders_with_zero_checkov_failures(stack, failed_checks):
    failed = failed_checks[stack.name]
    assert not failed, describe(failed)


@needs_checkov
def test_every_optional_object_passes_checkov_too(failed_checks):
    failed = failed_checks["optional"]
    assert not failed, describe(failed)


@needs_checkov
@pytest.mark.parametrize("scenario", ["sticky", *FROM_HELM])
def test_sticky_sessions_and_from_helm_stacks_pass_checkov_too(scenario, failed_checks):
    failed = failed_checks[scenario]
    assert not failed, describe(failed)


@needs_checkov
def test_the_scan_has_teeth(failed_checks):
    failed = {c["check_id"] for c in failed_checks["insecure"]}
    assert {"CKV_K8S_16", "CKV_K8S_20"} <= failed  # privileged, allowPrivilegeEscalation


def test_every_skipped_check_has_a_reason():
    lines = CONFIG.read_text().splitlines()
    start = lines.index("skip-check:")
    entries = [line for line in lines[start + 1 :] if line.startswith("  - ")]
    assert entries, "no skip-check entries"
    for line in entries:
        match = re.match(r"^  - (CKV2?_K8S_\d+)  # (.{20,})$", line)
        assert match, f"skip without a one-line reason: {line!r}"
