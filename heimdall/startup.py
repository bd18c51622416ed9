"""What the program's entry points do first: garbage-collector tuning.

For the short-lived processes that run the program (`pulumi up`'s `__main__.py`, the
offline tooling's `python -m heimdall`, the benchmark's program run).

A Pulumi program imports large SDKs (pulumi-kubernetes alone creates hundreds of
thousands of objects) and then allocates many small ones. With CPython's default
thresholds (700, 10, 10) the collector re-scans that heap over and over: measured with
`make bench`, about a fifth of the program's time. Collecting young objects less often
costs little memory in a process that lives for seconds. Entry points call `tune_gc()`
before they import the program; this module imports nothing else.
"""

import gc


def tune_gc() -> None:
    gc.set_threshold(10_000, 20, 20)
