"""The policy pack's entry point: `pulumi preview --policy-pack policy`.

Only this file constructs the PolicyPack (which starts a server and never returns); the
policies live in heimdall_policies.py, where the tests import them.
"""

from heimdall_policies import POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name="heimdall-guardrails",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=POLICIES,
)
