"""Reference codes patients read out on the phone: short and unambiguous.

The alphabet leaves out characters that look or sound alike (0/O, 1/I/L, 2/Z, 5/S, 8/B, U/V),
so a code read from a phone screen or spoken aloud survives. 6 random characters from 23 give
about 148 million codes; the store retries on the (unlikely) collision.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "ACDEFGHJKMNPQRTWXY34679"
PREFIX = "MG"
LENGTH = 6
_PATTERN = re.compile(rf"^{PREFIX}-[{ALPHABET}]{{3}}-[{ALPHABET}]{{3}}$")


def new_reference() -> str:
    """A random code such as ``MG-K7P-4XM``."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{PREFIX}-{chars[:3]}-{chars[3:]}"


def normalize_reference(text: str) -> str | None:
    """The canonical form of a code typed by staff ("mg k7p4xm" -> ``MG-K7P-4XM``), or None."""
    chars = re.sub(r"[^0-9A-Za-z]", "", text or "").upper()
    if chars.startswith(PREFIX):
        chars = chars[len(PREFIX):]
    if len(chars) != LENGTH:
        return None
    code = f"{PREFIX}-{chars[:3]}-{chars[3:]}"
    return code if _PATTERN.match(code) else None
