"""Tests of heimdall/settings/: the model, its rules and refusals, partial sections."""
