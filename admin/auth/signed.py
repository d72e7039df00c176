"""Short-lived values signed with the plane's secret: a login's state, kept in the browser's cookie meanwhile."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class Signer:
    """Signs a JSON object valid for some seconds; reading it back checks the signature and the time."""

    def __init__(self, secret: str, purpose: str) -> None:
        # The purpose is part of the key, so a value signed for one use is refused by another.
        self._key = hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())

    def sign(self, payload: dict[str, Any], seconds: float) -> str:
        body = _b64(json.dumps({**payload, "until": time.time() + seconds}).encode())
        return f"{body}.{self._mac(body)}"

    def unsign(self, value: str) -> dict[str, Any] | None:
        """The payload, or None when the value is forged, altered or too old."""
        body, _, signature = value.partition(".")
        if not hmac.compare_digest(signature, self._mac(body)):
            return None
        try:
            payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            return None
        return payload if float(payload.get("until", 0)) > time.time() else None
