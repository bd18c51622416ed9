"""Tests of heimdall/database/: the registry and the provider contract."""
