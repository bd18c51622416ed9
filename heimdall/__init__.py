"""heimdall-pulumi: MITRE Heimdall2 and its PostgreSQL database on Kubernetes, with Pulumi."""

import gc

# A Pulumi program is a short-lived process that imports large SDKs (pulumi-kubernetes
# alone creates hundreds of thousands of objects) and then allocates many small ones. With
# CPython's default thresholds (700, 10, 10) the collector re-scans that heap over and over:
# about a fifth of the program's time. Collecting young objects less often costs little
# memory in a process that lives for seconds.
gc.set_threshold(10_000, 20, 20)
