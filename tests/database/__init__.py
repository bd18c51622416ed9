"""Tests of heimdall/database/: each provider, TLS, protection, the embedded database."""
