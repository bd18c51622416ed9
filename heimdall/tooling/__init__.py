"""Offline tooling, not on the `pulumi up` path: the render under mocks (`render`,
`mocks`, `naming`), the deploy plan (`deploy_plan`), the configuration reference and JSON
Schema (`reference`, `schema`), and the command line (`cli`, `python -m heimdall`)."""
