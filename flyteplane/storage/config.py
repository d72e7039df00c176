"""The storage section of flyteplane's configuration: where data lives and how to reach each backend."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

MiB = 1024 * 1024
GiB = 1024 * MiB

Scheme = Literal["file", "s3", "gs"]


ROLE_FIELDS = frozenset({"project", "domain"})
PREFIX_FIELDS = frozenset({"project", "domain", "bucket"})


def _template_fields(text: str, allowed: frozenset[str], name: str) -> str:
    """`text` once every `{field}` in it is one of `allowed` (a typo would otherwise fail each attempt at run time)."""
    try:
        fields = {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    unknown = fields - allowed
    if unknown:
        raise ValueError(f"{name} may name only {sorted(allowed)}, not {sorted(unknown)}")
    return text


class TaskCredentialsConfig(BaseModel):
    """Which S3 credentials task processes get: the plane's own, or short-lived ones scoped to their attempt."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["plane", "sts"] = Field(
        default="plane",
        description=(
            "`plane`: tasks get the store's own credentials (one tenant). `sts`: each attempt gets credentials from "
            "STS AssumeRole on `role_arn`, with a session policy that admits only the attempt's data, and never the "
            "plane's keys."
        ),
    )
    role_arn: str = Field(
        default="",
        description=(
            "The role to assume; `{project}` and `{domain}` are replaced by the execution's, so each project can "
            "have a role of its own (e.g. arn:aws:iam::123456789012:role/flyteplane-{project})."
        ),
    )
    duration_seconds: int = Field(
        default=900, ge=900, le=43200, description="Lifetime of an attempt's credentials (STS allows 900 to 43200)."
    )
    read_prefixes: tuple[str, ...] = Field(
        default=("s3://{bucket}/uploads/{project}/{domain}/",),
        description=(
            "More prefixes an attempt may read, besides its execution's data: the data proxy's uploads of its project "
            "and domain (code bundles, files passed from a user's machine) by default. `{bucket}` is the default "
            "bucket."
        ),
    )
    endpoint_url: str | None = Field(
        default=None, description="STS endpoint; None means the S3 endpoint_url (MinIO, moto) or AWS's."
    )

    @field_validator("role_arn")
    @classmethod
    def _role_fields(cls, value: str) -> str:
        return _template_fields(value, ROLE_FIELDS, "role_arn")

    @field_validator("read_prefixes")
    @classmethod
    def _prefix_fields(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for prefix in value:
            _template_fields(prefix, PREFIX_FIELDS, "read_prefixes")
            if not prefix.startswith("s3://"):
                raise ValueError(f"read_prefixes must be s3:// URIs, not {prefix!r}")
        return value

    @model_validator(mode="after")
    def _sts_needs_a_role(self) -> TaskCredentialsConfig:
        if self.mode == "sts" and not self.role_arn:
            raise ValueError("task_credentials.mode sts needs role_arn")
        return self


class S3Config(BaseModel):
    """How to reach an S3-compatible object store (AWS, MinIO, moto, ...)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    endpoint_url: str | None = Field(
        default=None, description="Custom endpoint, e.g. http://127.0.0.1:9000; None means AWS."
    )
    region: str = "us-east-1"
    access_key_id: str | None = Field(
        default=None, description="Static credentials; None uses boto3's default credential chain."
    )
    secret_access_key: SecretStr | None = None
    force_path_style: bool | None = Field(
        default=None,
        description="Path-style addressing (http://host/bucket/key); None means on when endpoint_url is set.",
    )
    multipart_part_size: int = Field(
        default=8 * MiB, ge=5 * MiB, le=5 * GiB, description="Part size of streamed multipart uploads."
    )
    task_credentials: TaskCredentialsConfig = TaskCredentialsConfig()

    @model_validator(mode="after")
    def _keys_come_in_pairs(self) -> S3Config:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError("access_key_id and secret_access_key must be set together")
        return self

    @property
    def path_style(self) -> bool:
        if self.force_path_style is None:
            return self.endpoint_url is not None
        return self.force_path_style


class GCSConfig(BaseModel):
    """How to reach Google Cloud Storage or an emulator of it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    endpoint_url: str | None = Field(
        default=None, description="Custom endpoint (an emulator); None means storage.googleapis.com."
    )
    project: str | None = None
    anonymous: bool = Field(default=False, description="Send API requests without credentials (emulators).")
    service_account_file: Path | None = Field(
        default=None,
        description=(
            "Service-account JSON key. Used for API calls unless `anonymous`, and always for signing URLs; "
            "None uses Application Default Credentials, which may not be able to sign."
        ),
    )
    upload_chunk_size: int = Field(
        default=8 * MiB, ge=256 * 1024, description="Chunk size of resumable uploads (multiple of 256 KiB)."
    )

    @field_validator("upload_chunk_size")
    @classmethod
    def _chunk_is_multiple_of_256k(cls, value: int) -> int:
        if value % (256 * 1024):
            raise ValueError("upload_chunk_size must be a multiple of 256 KiB")
        return value


class StorageConfig(BaseModel):
    """Everything `flyteplane.storage.Storage` needs; the defaults give a local store under ~/.flyteplane."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default_scheme: Scheme = Field(default="file", description="Where new data is written.")
    default_bucket: str = Field(
        default="flyteplane",
        pattern=r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$",
        description="Bucket for new data; for file:// a directory directly under local_root.",
    )
    local_root: Path = Field(
        default=Path("~/.flyteplane/data"),
        validate_default=True,
        description="Root of the file:// store; every file:// URI must resolve inside it.",
    )
    s3: S3Config = S3Config()
    gcs: GCSConfig = GCSConfig()
    signing_secret: SecretStr | None = Field(
        default=None,
        description=(
            "HMAC key for file:// signed URLs. None draws a random key per process, which is enough when "
            "the process that signs also serves the URLs; set it when several processes share the store."
        ),
    )
    public_base_url: str = Field(
        default="http://localhost:8088",
        description="Base URL of the HTTP server that serves file:// signed URLs (admin's HTTP port).",
    )
    fsync: bool = Field(
        default=False,
        description=(
            "fsync each file:// object before it becomes visible. Writes are atomic either way (temp file "
            "+ rename), so a killed process never leaves a torn object; fsync adds durability against "
            "power loss at about a millisecond per write."
        ),
    )
    stream_chunk_size: int = Field(default=1 * MiB, gt=0, description="Chunk size of streamed reads.")
    max_read_bytes: int = Field(
        default=64 * MiB,
        gt=0,
        description="Largest object read() and read_proto() load into memory; stream larger ones.",
    )
    max_upload_bytes: int = Field(
        default=5 * GiB, gt=0, description="Largest body the local signed-URL server accepts in one PUT."
    )

    @field_validator("local_root")
    @classmethod
    def _absolute_root(cls, value: Path) -> Path:
        return value.expanduser().absolute()

    @field_validator("public_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def default_prefix(self) -> str:
        """The URI prefix under which new data is written, e.g. `s3://flyteplane`."""
        if self.default_scheme == "file":
            return f"file://{self.local_root.as_posix().rstrip('/')}/{self.default_bucket}"
        return f"{self.default_scheme}://{self.default_bucket}"
