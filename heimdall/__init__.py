"""heimdall-pulumi: MITRE Heimdall2 and its PostgreSQL database on Kubernetes, with Pulumi."""
