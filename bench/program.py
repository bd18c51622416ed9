"""One measurement of the program: `python bench/program.py STACK_FILE`.

Runs the real program under mocks (`heimdall.tooling.render.run_stack_file`) once and prints one
JSON line: seconds (imports included), the part of it spent importing pydantic and the
settings model, peak RSS, Kubernetes objects and all resources registered, and which cloud
SDKs the run imported next to the ones the stack uses.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import json  # noqa: E402 - the clock starts before the imports
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402

# Run as a script (`python bench/...py`), Python puts bench/ first on the path, not the
# repository: the project is not installed in the venv, so add the repository.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from heimdall.startup import tune_gc  # noqa: E402 - as in `pulumi up`'s __main__.py

tune_gc()

# isort: split
import pulumi  # noqa: E402, F401 - next, so that what follows is what the settings add

SETTINGS_STARTED = time.perf_counter()
import heimdall.settings.loader  # noqa: E402, F401 - pydantic and the settings model, timed apart

SETTINGS_IMPORTED = time.perf_counter()

from heimdall.tooling.render import run_stack_file  # noqa: E402

# Resource type package -> the SDK module that declares its resources.
CLOUD_SDKS = {"aws": "pulumi_aws", "gcp": "pulumi_gcp", "azure-native": "pulumi_azure_native"}


def main(stack: str) -> None:
    rendering = run_stack_file(stack)
    seconds = time.perf_counter() - STARTED
    packages = {r.type.split(":", 1)[0] for r in rendering.registrations}
    print(
        json.dumps(
            {
                "seconds": seconds,
                "settings_import_seconds": SETTINGS_IMPORTED - SETTINGS_STARTED,
                "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "objects": len(rendering.manifests()),  # Kubernetes objects (Patch resources change one)
                "resources": len(rendering.registrations),
                "cloud_sdks_imported": sorted(m for m in CLOUD_SDKS.values() if m in sys.modules),
                "cloud_sdks_used": sorted(CLOUD_SDKS[p] for p in packages if p in CLOUD_SDKS),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
