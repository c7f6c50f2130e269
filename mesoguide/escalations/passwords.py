"""Staff passwords: salted scrypt hashes (stdlib), never the password itself."""

from __future__ import annotations

import hashlib
import hmac
import secrets

# scrypt cost: N = 2^15 (32 MiB, ~100 ms per check on this machine's cores): slows guessing,
# cheap to log in. Hashes keep their own parameters, so older ones still verify.
N, R, P = 2**15, 8, 1
MAXMEM = 64 * 1024 * 1024  # scrypt needs 128 * N * r bytes; OpenSSL's default cap is just below that
MIN_LENGTH = 10


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$hash`` (hex) for a password.

    Raises:
        ValueError: The password is shorter than MIN_LENGTH characters.
    """
    if len(password) < MIN_LENGTH:
        raise ValueError(f"a staff password needs at least {MIN_LENGTH} characters")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=32, maxmem=MAXMEM)
    return f"scrypt${N}${R}${P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a hash made by :func:`hash_password` (constant time)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=len(digest) // 2,
            maxmem=MAXMEM,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(candidate.hex(), digest)
