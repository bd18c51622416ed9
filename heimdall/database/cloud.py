"""What the cloud providers share: the tags on their resources and name slugs."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pulumi


def slug(value: str, keep: str = "") -> str:
    """`value` in lowercase letters and digits (and the characters in `keep`), every run
    of anything else one hyphen: for resource names made from user input."""
    return re.sub(rf"[^a-z0-9{re.escape(keep)}]+", "-", value.lower()).strip("-")


def cloud_tags(user: Mapping[str, str], label: bool = False) -> dict[str, str]:
    """The tags on every cloud resource of the stack, then the user's. `label`: as a GCP
    label value (lowercase letters, digits, '_' and '-', at most 63 characters)."""
    stack = pulumi.get_stack()
    return {
        "app": "heimdall",
        "managed-by": "pulumi",
        "pulumi-stack": slug(stack, keep="_-")[:63] if label else stack,
        **user,
    }
