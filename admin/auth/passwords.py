"""Client secrets at rest: scrypt with a random salt, compared in constant time; the secret itself is never kept."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# scrypt's cost: ~16 MiB and a few tens of milliseconds per check, paid once per token request, not per RPC.
_N, _R, _P = 2**14, 8, 1


def new_secret() -> str:
    """A client secret: 256 random bits, URL-safe (flytekit URL-encodes secrets in its Basic header anyway)."""
    return secrets.token_urlsafe(32)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_secret(secret: str) -> str:
    """`scrypt$N$r$p$salt$digest`. Blocking (tens of ms): call it off the event loop."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def secret_matches(secret: str, stored: str) -> bool:
    """Whether `secret` is the one `stored` was made from. Blocking: call it off the event loop."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(secret.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)
