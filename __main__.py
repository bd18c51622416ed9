"""Entry point of `pulumi up` / `pulumi preview`: everything lives in the heimdall package."""

from heimdall.startup import tune_gc

tune_gc()

from heimdall.program import main  # noqa: E402 - after the tuning, which speeds imports

main()
