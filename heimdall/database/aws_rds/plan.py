"""What `pulumi up` waits for among the provider's resources, for the deploy plan."""

# The create of these waits until the instance is available.
AWAITED = {
    "aws:rds/instance:Instance": "instance available",
    "aws:rds/cluster:Cluster": "cluster available",
    "aws:rds/clusterInstance:ClusterInstance": "instance available",
}
