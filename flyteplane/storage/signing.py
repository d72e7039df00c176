"""HMAC-signed URLs for the file:// store: signing them, and verifying them in the server that serves them.

A URL lets its holder GET or PUT one object under the local root until it expires:

    {public_base_url}/storage/{path}?method=PUT&expires=1767225600&md5=XUFAKrxLKna5cZ2REBfFkg%3D%3D&signature=9f0c...

- `path` is the object's path relative to the local root, percent-encoded (`/` kept).
- `method` is `GET` or `PUT`; the request must use it.
- `expires` is the unix time (seconds) from which the URL is refused.
- `md5` is the standard base64 of the content MD5 a PUT must carry, or absent. When present, the PUT
  must send the same value as `Content-MD5`, and a body with another digest is refused.
- `signature` is the lowercase hex HMAC-SHA256, under the store's signing secret, of

      FLYTEPLANE-HMAC-SHA256 \\n METHOD \\n path \\n expires \\n md5

  (joined by newlines, `path` decoded, `md5` empty when absent).

Verification refuses malformed URLs with `InvalidArgument` (HTTP 400) and everything else -- a
signature that does not match, an expired URL, another method, a path with dot or empty segments --
with `PermissionDenied` (HTTP 403).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import os
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

from flyteplane.errors import InvalidArgument, PermissionDenied
from flyteplane.storage.base import HttpMethod, SignedUrl

ALGORITHM = "FLYTEPLANE-HMAC-SHA256"
ROUTE_PREFIX = "/storage/"
_METHODS: tuple[HttpMethod, ...] = ("GET", "PUT")


@dataclass(frozen=True)
class SignedRequest:
    """What a verified URL allows: `method` on the object at root-relative `path`."""

    method: HttpMethod
    path: str
    expires: int
    content_md5: bytes | None


def string_to_sign(method: str, path: str, expires: int, md5_b64: str) -> bytes:
    return "\n".join((ALGORITHM, method, path, str(expires), md5_b64)).encode()


def _is_safe(path: str) -> bool:
    return bool(path) and all(segment not in ("", ".", "..") for segment in path.split("/"))


@dataclass(frozen=True)
class LocalUrlSigner:
    """Signs and verifies file:// URLs with one secret; `public_base_url` is where they are served."""

    secret: bytes = field(repr=False)
    public_base_url: str

    def _signature(self, method: str, path: str, expires: int, md5_b64: str) -> str:
        message = string_to_sign(method, path, expires, md5_b64)
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def sign(
        self,
        path: str,
        method: HttpMethod,
        expires_in: timedelta,
        content_md5: bytes | None = None,
        *,
        now: float | None = None,
    ) -> SignedUrl:
        """A URL for `method` on root-relative `path`, valid `expires_in` from `now` (default: the clock)."""
        if method not in _METHODS:
            raise InvalidArgument(f"cannot sign method {method!r}", field="method")
        if not _is_safe(path):
            raise InvalidArgument(f"cannot sign path {path!r}", field="uri")
        issued = time.time() if now is None else now
        expires = int(issued) + math.ceil(expires_in.total_seconds())
        md5_b64 = base64.b64encode(content_md5).decode() if content_md5 is not None else ""
        query = {"method": method, "expires": str(expires)}
        if md5_b64:
            query["md5"] = md5_b64
        query["signature"] = self._signature(method, path, expires, md5_b64)
        url = f"{self.public_base_url.rstrip('/')}{ROUTE_PREFIX}{quote(path, safe='/')}?{urlencode(query)}"
        headers = {"Content-MD5": md5_b64} if md5_b64 else {}
        return SignedUrl(url, method, datetime.fromtimestamp(expires, UTC), headers)

    def verify(self, method: str, path: str, query: Mapping[str, str], *, now: float | None = None) -> SignedRequest:
        """Checks a request for `path` (decoded, root-relative) made with `method` and the URL's query."""
        try:
            signed_method = query["method"]
            expires = int(query["expires"])
            signature = query["signature"]
        except KeyError as missing:
            raise InvalidArgument(f"signed URL lacks {missing.args[0]!r}", field="url") from None
        except ValueError:
            raise InvalidArgument("signed URL has a non-integer 'expires'", field="url") from None
        md5_b64 = query.get("md5", "")
        content_md5: bytes | None = None
        if md5_b64:
            try:
                content_md5 = base64.b64decode(md5_b64, validate=True)
            except binascii.Error:
                raise InvalidArgument("signed URL has a malformed 'md5'", field="url") from None
            if len(content_md5) != 16:
                raise InvalidArgument("signed URL has a malformed 'md5'", field="url")
        allowed: HttpMethod
        if signed_method == "GET":
            allowed = "GET"
        elif signed_method == "PUT":
            allowed = "PUT"
        else:
            raise InvalidArgument(f"signed URL has unknown method {signed_method!r}", field="url")

        if not _is_safe(path):
            raise PermissionDenied(f"path {path!r} is not allowed", field="url")
        expected = self._signature(allowed, path, expires, md5_b64)
        # Bytes, not str: compare_digest refuses non-ASCII text (a TypeError, answered 500).
        if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
            raise PermissionDenied("signature does not match", field="url")
        if method != allowed:
            raise PermissionDenied(f"URL was signed for {signed_method}, not {method}", field="url")
        if (time.time() if now is None else now) >= expires:
            raise PermissionDenied("signed URL has expired", field="url")
        return SignedRequest(allowed, path, expires, content_md5)


def persistent_secret(path: Path, make: Callable[[], bytes] = lambda: secrets.token_bytes(32)) -> bytes:
    """The secret kept at `path`, created by `make` (readable by its owner only) the first time.

    Signed URLs are handed out for up to an hour; a secret that outlives the process keeps them
    valid across a restart. Two processes creating it at once agree on one. Blocking: call it off the event loop.
    """
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = make()
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, secret)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temp, path)  # fails if another process created it first: theirs wins
    except FileExistsError:
        pass
    finally:
        os.remove(temp)
    return path.read_bytes()
