"""flyteplane's object store: one async, URI-keyed API over file://, s3:// and gs://."""

from flyteplane.storage.base import HttpMethod, ObjectInfo, SignedUrl
from flyteplane.storage.config import GCSConfig, S3Config, StorageConfig
from flyteplane.storage.signing import LocalUrlSigner, SignedRequest
from flyteplane.storage.store import Storage
from flyteplane.storage.uri import LOCAL_ALIAS, file_uri, join

__all__ = [
    "LOCAL_ALIAS",
    "GCSConfig",
    "HttpMethod",
    "LocalUrlSigner",
    "ObjectInfo",
    "S3Config",
    "SignedRequest",
    "SignedUrl",
    "Storage",
    "StorageConfig",
    "file_uri",
    "join",
]
