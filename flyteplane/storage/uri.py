"""Parsing, checking and joining the storage URIs every component passes around.

URIs are taken literally, as Flyte writes them: `s3://bucket/some/key`, `gs://bucket/some/key`,
`file:///absolute/path`. Nothing is percent-decoded, and `?` and `#` are ordinary key characters.
`local:///absolute/path` is another name for `file:///absolute/path` (fsspec reads both locally):
the data proxy hands it to flytekit, which treats `file://` and plain paths as the client's own
files but anything else as a store's object (see admin.managers.dataproxy).
Dot segments (`.`, `..`) and NUL bytes are refused in every scheme, so that a key means the same
object in all of them and never climbs out of a local root.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flyteplane.errors import InvalidArgument

SCHEMES = ("file", "s3", "gs")
LOCAL_ALIAS = "local"  # read as "file"

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")


@dataclass(frozen=True)
class BucketKey:
    """An object-store location: `bucket` plus a `key` that may be empty (the whole bucket)."""

    scheme: str
    bucket: str
    key: str

    def uri(self, key: str | None = None) -> str:
        """This location's URI, or that of another key in the same bucket."""
        return f"{self.scheme}://{self.bucket}/{self.key if key is None else key}"


def split_scheme(uri: str) -> tuple[str, str]:
    """`("s3", "bucket/key")` for `s3://bucket/key` (and `"file"` for `local://`); refuses unknown schemes
    and malformed text."""
    if not isinstance(uri, str) or "://" not in uri:
        raise InvalidArgument(f"not a storage URI: {uri!r}", field="uri")
    scheme, rest = uri.split("://", 1)
    if scheme == LOCAL_ALIAS:
        scheme = "file"
    if scheme not in SCHEMES:
        raise InvalidArgument(f"unsupported scheme {scheme!r} in {uri!r}", field="uri")
    if "\x00" in rest:
        raise InvalidArgument(f"NUL byte in {uri!r}", field="uri")
    check_segments(rest, uri)
    return scheme, rest


def file_uri(uri: str) -> str:
    """`uri` with a `local://` scheme spelled `file://`; any other text as it is."""
    prefix = LOCAL_ALIAS + "://"
    return "file://" + uri.removeprefix(prefix) if uri.startswith(prefix) else uri


def check_segments(path: str, uri: str) -> None:
    """Refuses `.` and `..` path segments, which would make one key name several objects."""
    if any(segment in (".", "..") for segment in path.split("/")):
        raise InvalidArgument(f"dot segments are not allowed in {uri!r}", field="uri")


def parse_bucket_key(uri: str, *, key_required: bool = True) -> BucketKey:
    """Splits an `s3://` or `gs://` URI into bucket and key."""
    scheme, rest = split_scheme(uri)
    if scheme == "file":
        raise InvalidArgument(f"expected an object-store URI, got {uri!r}", field="uri")
    bucket, _, key = rest.partition("/")
    if not _BUCKET.match(bucket):
        raise InvalidArgument(f"invalid bucket name {bucket!r} in {uri!r}", field="uri")
    if key_required and (not key or key.endswith("/")):
        raise InvalidArgument(f"{uri!r} names no object", field="uri")
    return BucketKey(scheme, bucket, key)


def join(base: str, *parts: str) -> str:
    """`join("s3://b/runs", "x/", "/y")` is `s3://b/runs/x/y`: parts joined by single slashes."""
    scheme, rest = split_scheme(base)
    pieces = [f"{scheme}://{rest.rstrip('/')}"]
    for part in parts:
        stripped = part.strip("/")
        if stripped:
            pieces.append(stripped)
    joined = "/".join(pieces)
    split_scheme(joined)
    return joined
