"""What must never be repeated in a refusal: a URL that carries a password
(`postgres://user:pw@host`, `http://user:pw@proxy`) and PEM blocks. Imports nothing of
the package, so that every settings module may use it."""

from __future__ import annotations

import re
from typing import Optional

# After "://": user:password@ (the password may be empty: `user:@host` still says "a
# login"). Matched from each "://" only, so that a long value costs linear time.
_USERINFO = re.compile(r"[^\s/@:]*:[^\s/@]*@")
_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]{1,40}-----")


def pasted_credential(value: str) -> Optional[str]:
    """What kind of credential `value` carries ("a URL with a password", "a PEM block"),
    or None."""
    start = value.find("://")
    while start != -1:
        if _USERINFO.match(value, start + 3):
            return "a URL with a password"
        start = value.find("://", start + 3)
    if "-----BEGIN " in value and _PEM.search(value):
        return "a PEM block"
    return None
