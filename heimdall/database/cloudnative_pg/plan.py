"""What `pulumi up` waits for among the provider's resources, for the deploy plan."""

# A helm.v4.Chart is a component whose objects the provider registers and awaits: the
# operator's Deployment (its readiness is its webhooks') above all. The Cluster's own
# await is its `pulumi.com/waitFor: condition=Ready` annotation, which the deploy plan
# reads from the manifest. It holds on creation only: CloudNativePG writes no
# observedGeneration, so on an update a Ready=True left from before satisfies the await at
# once, and a rolling restart of the instances (a new image, new parameters) goes on after
# `pulumi up` has moved on; the clients' wait-for-database and the migration Job's retries
# cover the one switchover it makes.
AWAITED = {
    "kubernetes:helm.sh/v4:Chart": "every chart object ready (Deployments: pods ready)",
}
