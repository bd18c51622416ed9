"""A database provider that lives in the test suite: proof that a provider is its package
plus one registry line (tests/test_provider_packages.py copies the program, adds this
package and the line `FakeSettings,` to the union in heimdall/database/registry.py, and
runs a stack with it); the provider contract suite (tests/database) runs it beside the
registered ones.

settings.py: `database.fakeDb` and the provider itself, its member `FakeSettings`;
component.py: `FakeDatabaseServer`.
"""
