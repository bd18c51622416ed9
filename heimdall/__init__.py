"""heimdall-pulumi: MITRE Heimdall2 and its PostgreSQL database on Kubernetes, with Pulumi.

The program (`program.py`, run by the project's `__main__.py` on `pulumi up`) reads the
settings (`settings/`), then builds the stack (`stack.py`) from the Heimdall-side
components and the chosen database provider (`database/`). The offline tooling (render,
mocks, deploy plan, reference, schema: `tooling/`) is not on the `pulumi up` path.
"""
