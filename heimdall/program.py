"""The Pulumi program: read the stack's settings, build Heimdall, export its outputs."""

from __future__ import annotations

import pulumi

from heimdall.settings.loader import SettingsError, load_settings
from heimdall.settings.secrecy import plain_secret_leaf, stack_file_secure_leaves
from heimdall.stack import deploy


def main() -> None:
    try:
        settings = load_settings()
        # Pulumi marks secret only whole top-level keys: the stack file says which leaves
        # are encrypted (heimdall/settings/secrecy.py).
        secure = stack_file_secure_leaves(pulumi.get_stack())
        plain = plain_secret_leaf(settings, secure) if secure is not None else None
        if plain is not None:
            raise SettingsError(plain)
    except SettingsError as error:
        # RunError ends the program with this one line and no traceback.
        raise pulumi.RunError(str(error)) from None
    deploy(settings)
