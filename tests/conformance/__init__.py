"""Upstream behaviours the offline render mirrors, one case per behaviour, each citing the
upstream file and line it mirrors (owner/repo@tag:path:line). The mirrors were read at
pulumi/pulumi@v3.259.0 (the newest tag the source mirror holds; the SDK pin is 3.272) and
go-yaml/yaml@v3.0.1 (gopkg.in/yaml.v3 as pulumi's sdk/go.mod requires it)."""
