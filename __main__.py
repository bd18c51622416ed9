"""Entry point of `pulumi up` / `pulumi preview`: everything lives in the heimdall package."""

from heimdall.program import main

main()
