"""`python -m heimdall`: the offline tooling's command line (heimdall/tooling/cli.py)."""

import sys

from heimdall.startup import tune_gc

tune_gc()

from heimdall.tooling.cli import main  # noqa: E402 - after the tuning, which speeds imports

sys.exit(main())
