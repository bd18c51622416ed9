"""The Pulumi program: read the stack's settings, build Heimdall, export its outputs."""

from __future__ import annotations

from typing import Any

import pulumi

from heimdall.settings import Settings, SettingsError, load_settings
from heimdall.stack import Heimdall


def deploy(settings: Settings) -> dict[str, Any]:
    heimdall = Heimdall("heimdall", settings)
    for key, value in heimdall.outputs.items():
        pulumi.export(key, value)
    return heimdall.outputs


def main() -> None:
    try:
        settings = load_settings()
    except SettingsError as error:
        # RunError ends the program with this one line and no traceback.
        raise pulumi.RunError(str(error)) from None
    deploy(settings)
