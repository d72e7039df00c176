"""StorageConfig: defaults that run with no configuration, and the rules on its fields."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from flyteplane.storage import GCSConfig, S3Config, StorageConfig


def test_defaults_give_a_local_store_under_the_home_directory() -> None:
    config = StorageConfig()
    assert config.local_root == Path.home() / ".flyteplane" / "data"
    assert config.default_prefix == f"file://{Path.home().as_posix()}/.flyteplane/data/flyteplane"


def test_default_prefix_names_the_default_bucket_of_a_cloud_scheme() -> None:
    assert StorageConfig(default_scheme="s3", default_bucket="my-data").default_prefix == "s3://my-data"
    assert StorageConfig(default_scheme="gs", default_bucket="my-data").default_prefix == "gs://my-data"


def test_path_style_is_on_by_default_only_with_a_custom_endpoint() -> None:
    assert not S3Config().path_style
    assert S3Config(endpoint_url="http://127.0.0.1:9000").path_style
    assert not S3Config(endpoint_url="http://127.0.0.1:9000", force_path_style=False).path_style


def test_s3_keys_come_in_pairs() -> None:
    with pytest.raises(ValidationError):
        S3Config(access_key_id="only-the-id")


def test_gcs_upload_chunks_are_multiples_of_256_kib() -> None:
    with pytest.raises(ValidationError):
        GCSConfig(upload_chunk_size=300 * 1024)


def test_config_is_frozen() -> None:
    with pytest.raises(ValidationError):
        StorageConfig().default_bucket = "other"


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        StorageConfig.model_validate({"local_rot": "/data"})
