"""What `pulumi up` waits for among the provider's resources, for the deploy plan."""

AWAITED = {"gcp:sql/databaseInstance:DatabaseInstance": "instance RUNNABLE"}
