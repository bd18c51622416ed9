"""The floor of the benchmark: the same Kubernetes objects, declared directly.

`python bench/floor.py STACK.json` declares every object of the file's `manifests` (a
stack's rendered Kubernetes objects) with pulumi-kubernetes' classes, under the same mocks
and monitor as `heimdall.tooling.render.run_stack`, waits for the registrations, and prints one
JSON line: seconds (imports included), peak RSS, objects declared. No settings,
components, Outputs between resources or other resources: what any program declaring
these objects pays at least.

With `--all` it also declares the file's `others`, the stack's other resources (managed
databases, firewall rules, random passwords...) with their SDK's classes: the floor of a
program that needs those too, cloud SDK imports included.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import asyncio  # noqa: E402 - the clock starts before the imports
import importlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

# Run as a script (`python bench/...py`), Python puts bench/ first on the path, not the
# repository: the project is not installed in the venv, so add the repository.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# First, as the program does: the same interpreter settings (its entry points tune the
# garbage collector before importing anything), then the same mocks.
from heimdall.startup import tune_gc  # noqa: E402

tune_gc()

from heimdall.tooling.mocks import HeimdallMocks, RecordingMonitor  # noqa: E402

# isort: split
import pulumi  # noqa: E402
import pulumi_kubernetes as k8s  # noqa: E402
from pulumi.runtime import settings as runtime_settings  # noqa: E402


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def resource_class(api_version: str, kind: str) -> Any:
    """The typed class for apiVersion/kind, e.g. networking.k8s.io/v1 Ingress."""
    group, _, version = api_version.rpartition("/")
    package = group.split(".")[0] if group else "core"
    try:
        module = importlib.import_module(f"pulumi_kubernetes.{package}.{version}")
    except ImportError:
        return None
    return getattr(module, kind, None)


def declare(manifest: dict[str, Any], index: int) -> None:
    body = dict(manifest)
    api_version, kind = body.pop("apiVersion"), body.pop("kind")
    name = f"floor-{index}-{kind.lower()}"
    cls = resource_class(api_version, kind)
    if cls is None:
        k8s.apiextensions.CustomResource(name, api_version=api_version, kind=kind, **body)
        return
    cls(name, **{_snake(key): value for key, value in body.items()})


# Resource type package -> the Python SDK that declares it.
SDKS = {
    "random": "pulumi_random",
    "aws": "pulumi_aws",
    "gcp": "pulumi_gcp",
    "azure-native": "pulumi_azure_native",
}


def declare_other(resource: dict[str, Any], index: int) -> bool:
    """Declare a non-Kubernetes resource from its type token and engine inputs."""
    package, module, class_name = resource["type"].split(":")
    if package not in SDKS:
        return False
    top = module.split("/")[0]
    try:
        sdk = importlib.import_module(SDKS[package] if top == "index" else f"{SDKS[package]}.{top}")
        cls = getattr(sdk, class_name)
        cls(f"floor-{index}-{resource['name']}", **{_snake(k): v for k, v in resource["inputs"].items()})
    except (ImportError, AttributeError, TypeError):
        return False
    return True


def _provider_outputs() -> dict[str, Any]:
    from heimdall.database import registry

    return {token: f for provider in registry.PROVIDERS for token, f in provider.mocks().items()}


def main(path: str, everything: bool = False) -> None:
    with open(path) as handle:
        stack = json.load(handle)
    manifests = stack["manifests"]
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # The cloud resources (--all) get their providers' computed outputs, as in the program.
    mocks = HeimdallMocks(provider_outputs=_provider_outputs() if everything else {})
    monitor = RecordingMonitor(mocks)
    runtime_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project="heimdall", stack="floor", preview=False, monitor=monitor)
    for index, manifest in enumerate(manifests):
        declare(manifest, index)
    skipped = 0
    if everything:
        for index, other in enumerate(stack["others"]):
            skipped += not declare_other(other, index)
    loop.run_until_complete(pulumi.runtime.stack.wait_for_rpcs())
    loop.close()
    print(
        json.dumps(
            {
                "seconds": time.perf_counter() - STARTED,
                "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "objects": sum(1 for r in monitor.registrations if r.type.startswith("kubernetes:")),
                "resources": len(monitor.registrations),
                "skipped": skipped,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], everything="--all" in sys.argv[2:])
