"""The local signed-URL scheme: what a signature binds, and how verification refuses the rest."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from flyteplane.errors import InvalidArgument, PermissionDenied
from flyteplane.storage.signing import LocalUrlSigner, SignedRequest

SIGNER = LocalUrlSigner(b"secret", "http://admin.example:8088")
NOW = 1_800_000_000.0
MD5 = hashlib.md5(b"content").digest()


def _request(url: str) -> tuple[str, dict[str, str]]:
    """The decoded root-relative path and the query a server would see for `url`."""
    parts = urlsplit(url)
    assert parts.path.startswith("/storage/")
    return unquote(parts.path.removeprefix("/storage/")), dict(parse_qsl(parts.query))


def test_url_has_the_documented_shape() -> None:
    signed = SIGNER.sign("runs/a b/x.pb", "PUT", timedelta(minutes=10), MD5, now=NOW)
    parts = urlsplit(signed.url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "http",
        "admin.example:8088",
        "/storage/runs/a%20b/x.pb",
    )
    query = dict(parse_qsl(parts.query))
    assert query.keys() == {"method", "expires", "md5", "signature"}
    assert (query["method"], query["expires"]) == ("PUT", str(int(NOW) + 600))
    assert signed.headers == {"Content-MD5": query["md5"]}
    assert signed.expires_at.timestamp() == int(NOW) + 600


def test_a_signed_url_verifies_as_issued() -> None:
    path, query = _request(SIGNER.sign("runs/a b/x.pb", "PUT", timedelta(minutes=10), MD5, now=NOW).url)
    assert SIGNER.verify("PUT", path, query, now=NOW + 599) == SignedRequest(
        "PUT", "runs/a b/x.pb", int(NOW) + 600, MD5
    )


def test_a_get_url_carries_no_md5() -> None:
    path, query = _request(SIGNER.sign("x", "GET", timedelta(minutes=1), now=NOW).url)
    assert "md5" not in query
    assert SIGNER.verify("GET", path, query, now=NOW).content_md5 is None


@pytest.mark.parametrize(
    ("method", "path_change", "query_change", "now"),
    [
        pytest.param("PUT", None, {"signature": "0" * 64}, NOW, id="forged-signature"),
        # Non-ASCII: compare_digest on str raised TypeError, which the HTTP server answered with 500.
        pytest.param("PUT", None, {"signature": "\u00ff\u00fe" * 32}, NOW, id="non-ascii-signature"),
        pytest.param("PUT", "runs/other.pb", None, NOW, id="other-path"),
        pytest.param("PUT", None, {"expires": str(int(NOW) + 9999)}, NOW, id="stretched-expiry"),
        pytest.param("PUT", None, {"md5": "AAAAAAAAAAAAAAAAAAAAAA=="}, NOW, id="other-md5"),
        pytest.param("PUT", None, {"method": "GET"}, NOW, id="relabelled-method"),
        pytest.param("GET", None, None, NOW, id="wrong-method"),
        pytest.param("PUT", None, None, NOW + 600, id="expired"),
    ],
)
def test_any_change_to_a_signed_url_is_permission_denied(
    method: str, path_change: str | None, query_change: dict[str, str] | None, now: float
) -> None:
    path, query = _request(SIGNER.sign("runs/x.pb", "PUT", timedelta(minutes=10), MD5, now=NOW).url)
    with pytest.raises(PermissionDenied):
        SIGNER.verify(method, path_change or path, query | (query_change or {}), now=now)


def test_another_secret_does_not_verify() -> None:
    path, query = _request(SIGNER.sign("x", "GET", timedelta(minutes=1), now=NOW).url)
    with pytest.raises(PermissionDenied):
        LocalUrlSigner(b"other", "http://admin.example:8088").verify("GET", path, query, now=NOW)


@pytest.mark.parametrize("path", ["../x", "a/../../x", "a/./x", "a//x", "/abs", "", "a/"])
def test_paths_with_dot_or_empty_segments_are_refused(path: str) -> None:
    with pytest.raises(InvalidArgument):
        SIGNER.sign(path, "GET", timedelta(minutes=1), now=NOW)
    with pytest.raises(PermissionDenied):
        SIGNER.verify("GET", path, {"method": "GET", "expires": str(int(NOW) + 60), "signature": "0"}, now=NOW)


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"expires": "1", "signature": "00"}, id="no-method"),
        pytest.param({"method": "GET", "signature": "00"}, id="no-expires"),
        pytest.param({"method": "GET", "expires": "1"}, id="no-signature"),
        pytest.param({"method": "GET", "expires": "soon", "signature": "00"}, id="non-integer-expires"),
        pytest.param({"method": "GET", "expires": "1", "md5": "!!", "signature": "00"}, id="md5-not-base64"),
        pytest.param({"method": "GET", "expires": "1", "md5": "AAAA", "signature": "00"}, id="md5-too-short"),
        pytest.param({"method": "POST", "expires": "1", "signature": "00"}, id="unknown-method"),
    ],
)
def test_malformed_urls_are_invalid_arguments(query: dict[str, str]) -> None:
    with pytest.raises(InvalidArgument):
        SIGNER.verify("GET", "x", query, now=NOW)


def test_signing_an_unsupported_method_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        SIGNER.sign("x", "DELETE", timedelta(minutes=1))  # type: ignore[arg-type]
