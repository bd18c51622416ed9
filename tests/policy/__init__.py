"""The scans of every rendered stack: the policy pack (policy/) and checkov."""
