"""A database provider that lives in the test suite: proof that a provider is its package
plus one registry line (tests/test_provider_packages.py registers it)."""
