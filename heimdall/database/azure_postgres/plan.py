"""What `pulumi up` waits for among the provider's resources, for the deploy plan."""

# Versioned azure-native tokens (azure-native:dbforpostgresql/v20240801:Server) match too.
AWAITED = {"azure-native:dbforpostgresql:Server": "server Ready"}
