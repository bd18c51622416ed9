"""The stack's settings: one typed model, loaded once from the `heimdall:` config namespace.

Every key a stack file may set is declared in this package, with its default, by concern:
`types` (value types shared by all sections), `app` and `auth` (Heimdall's own settings),
`guardrails` (hardening, scheduling, availability), `operations` (backups and restore),
`database` (what every database provider shares), `root` (the `Settings` that composes
them, with `database` the union of the registered providers' models) and `loader` (from Pulumi's config to
`Settings`, with one-line errors). A provider's own section lives in its package under
heimdall/database/.

The model is validated before any resource is declared; components receive the model (or
a part of it) and never read `pulumi.Config` themselves.
"""

from heimdall.settings.loader import (
    SettingsError,
    load_settings,
    parse_settings,
    settings_from_config,
)
from heimdall.settings.root import Settings
from heimdall.settings.types import NAMESPACE, PROJECT_ROOT

__all__ = [
    "NAMESPACE",
    "PROJECT_ROOT",
    "Settings",
    "SettingsError",
    "load_settings",
    "parse_settings",
    "settings_from_config",
]
