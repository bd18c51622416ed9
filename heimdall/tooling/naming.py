"""What the offline render's mocks make up the way providers would: stable pseudo-random
names, and names from a resource's inputs or its logical name. Each database provider's
mocks.py uses these for its own resources."""

from __future__ import annotations

import hashlib
import string
from typing import Any

import pulumi


def stable_token(*parts: str, length: int = 8, alphabet: str = string.ascii_lowercase + string.digits) -> str:
    """A deterministic pseudo-random string, so renders are reproducible."""
    digest = hashlib.sha256("\0".join(parts).encode()).digest()
    while len(digest) < length:
        digest += hashlib.sha256(digest).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


def auto_name(args: pulumi.runtime.MockResourceArgs, key: str = "name") -> str:
    """The input `key`, or what the provider's auto-naming would make of the logical name."""
    return str(args.inputs.get(key) or f"{args.name}-{stable_token(args.typ, args.name, length=7)}")


def stack_config(key: str, default: str) -> str:
    """A config value of the stack (aws:region, gcp:project, ...), or `default`."""
    return pulumi.runtime.get_config(key) or default


def named(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    """The computed `name` of a resource the cloud auto-names."""
    return {"name": auto_name(args)}
