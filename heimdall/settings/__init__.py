"""The stack's settings: one typed model, loaded once from the `heimdall:` config namespace.

Every key a stack file may set is declared in this package, with its default, by concern:
`types` (value types shared by all sections), `app` and `auth` (Heimdall's own settings),
`guardrails` (hardening, scheduling, availability), `operations` (backups and restore),
`database` (what every database provider shares), `root` (the `Settings` that composes
them, with `database` the registry's union of the providers' members) and `loader` (from
Pulumi's config to `Settings`, with one-line errors: `load_settings`, `parse_settings`,
`SettingsError`). A provider's own section lives in its package under heimdall/database/.

This module imports none of them: the providers' members import this package's modules,
and `root` imports the registry that lists the members, so importing `Settings` here would
make the registry's first import go round in a circle. Import from the modules themselves
(`from heimdall.settings.root import Settings`).

The model is validated before any resource is declared; components receive the model (or
a part of it) and never read `pulumi.Config` themselves.
"""
