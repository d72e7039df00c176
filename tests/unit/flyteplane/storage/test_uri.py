"""Storage URIs: which are accepted, how they split, and how `join` builds them."""

from __future__ import annotations

import pytest

from flyteplane.errors import InvalidArgument
from flyteplane.storage import join
from flyteplane.storage.uri import BucketKey, parse_bucket_key, split_scheme


@pytest.mark.parametrize(
    ("base", "parts", "joined"),
    [
        ("s3://bucket", ("a", "b"), "s3://bucket/a/b"),
        ("s3://bucket/runs/", ("/x/", "y"), "s3://bucket/runs/x/y"),
        ("gs://bucket/p", ("", "q"), "gs://bucket/p/q"),
        ("file:///data", ("a/b", "c.pb"), "file:///data/a/b/c.pb"),
        ("file:///", ("a",), "file:///a"),
        ("s3://bucket/k", (), "s3://bucket/k"),
    ],
)
def test_join_puts_single_slashes_between_parts(base: str, parts: tuple[str, ...], joined: str) -> None:
    assert join(base, *parts) == joined


@pytest.mark.parametrize("parts", [("..",), ("a/../b",), (".", "x")])
def test_join_refuses_dot_segments(parts: tuple[str, ...]) -> None:
    with pytest.raises(InvalidArgument):
        join("s3://bucket", *parts)


def test_keys_are_taken_literally() -> None:
    assert parse_bucket_key("s3://bucket/a b/c?d#e%20") == BucketKey("s3", "bucket", "a b/c?d#e%20")


@pytest.mark.parametrize(
    "uri",
    [
        "bucket/key",
        "http://bucket/key",
        "s3:/bucket/key",
        "s3://Bucket/key",
        "s3://b/key",
        "s3://bucket",
        "s3://bucket/",
        "s3://bucket/dir/",
        "gs://bucket/a/../b",
        "s3://bucket/a\x00b",
    ],
)
def test_malformed_object_uris_are_invalid_arguments(uri: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_bucket_key(uri)


def test_a_bucket_alone_is_a_valid_listing_prefix() -> None:
    assert parse_bucket_key("gs://bucket", key_required=False) == BucketKey("gs", "bucket", "")


def test_split_scheme_names_the_backend() -> None:
    assert split_scheme("file:///data/x") == ("file", "/data/x")
    assert split_scheme("local:///data/x") == ("file", "/data/x")  # fsspec's other name for it
