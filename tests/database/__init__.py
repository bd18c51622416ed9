"""Tests of heimdall/database/: the registry, the provider contract, each provider, TLS, protection, the embedded database."""
