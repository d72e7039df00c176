"""Short-lived S3 credentials for one task attempt: STS AssumeRole with a session policy that admits only its data.

With `storage.s3.task_credentials.mode: sts` a task process never sees the plane's keys. For each attempt the
engine describes what the attempt may touch (`TaskScope`: its execution's metadata and raw data to read, its
output and raw-output prefixes to write, its project's uploads), `session_policy` turns that into an IAM policy,
and `TaskCredentialsIssuer` assumes the configured role (per project and domain when its ARN names them) with
that policy as the session policy. AWS grants the intersection of the role's policy and the session policy, so
the role bounds a project and the session policy narrows it to one attempt.

STS answers take tens of milliseconds and boto3 blocks, so calls run in a thread, concurrent requests for the same
attempt share one call, and an answer is reused for the same attempt until `refresh_margin` before it expires.
Any failure is `CredentialsUnavailable` (retryable): a task is never started with the plane's keys instead.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from flyteplane.errors import Unavailable
from flyteplane.storage.config import S3Config, TaskCredentialsConfig
from flyteplane.storage.uri import parse_bucket_key

if TYPE_CHECKING:
    from mypy_boto3_sts import STSClient

# AWS refuses a session policy longer than this (plain text, whitespace excluded).
MAX_SESSION_POLICY_CHARS = 2048
_SESSION_NAME_CHARS = re.compile(r"[^\w+=,.@-]")
_MAX_CACHED = 10_000

Statement = dict[str, str | list[str] | dict[str, dict[str, list[str]]]]


class CredentialsUnavailable(Unavailable):
    """STS did not give an attempt its credentials (unreachable, refused, policy too large): retry the attempt."""


@dataclass(frozen=True)
class TaskScope:
    """What one attempt may touch. URIs are `s3://bucket/key`: a key ending in "/" is a prefix (everything under
    it), any other an object (or, for prefixes `writes` names, the prefix `key/`)."""

    project: str
    domain: str
    execution: str
    attempt_key: str  # execution, node and attempt: which requests may share credentials
    reads: tuple[str, ...]
    writes: tuple[str, ...]


@dataclass(frozen=True)
class TaskCredentials:
    """An attempt's credentials; the secret parts never appear in a repr."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: datetime

    def environment(self) -> dict[str, str]:
        """The variables that boto3, s3fs (so flytekit's fsspec) and the AWS CLI read credentials from."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
            # botocore then knows the credentials expire and says so, instead of sending requests S3 refuses.
            "AWS_CREDENTIAL_EXPIRATION": self.expiration.isoformat(),
        }


def _object_arn(uri: str) -> str:
    where = parse_bucket_key(uri, key_required=False)
    return f"arn:aws:s3:::{where.bucket}/{where.key}"


def _as_prefix(uri: str) -> str:
    return uri if uri.endswith("/") else f"{uri}/"


def _covering(uris: Iterable[str]) -> list[str]:
    """`uris` without those another of them (a prefix) already covers: the policy is kept short, as STS wants."""
    unique = sorted(set(uris))
    prefixes = [uri for uri in unique if uri.endswith("/")]
    return [uri for uri in unique if not any(uri != prefix and uri.startswith(prefix) for prefix in prefixes)]


def _resources(uris: Iterable[str]) -> list[str]:
    """Object ARNs: everything under a prefix, or the object itself."""
    return [_object_arn(uri) + ("*" if uri.endswith("/") else "") for uri in _covering(uris)]


def _listing(uris: Iterable[str]) -> dict[str, list[str]]:
    """Per bucket, the `s3:prefix` values a listing may ask for: a prefix itself (with and without its slash,
    as s3fs asks for a directory both ways) and anything under it; an object's own key."""
    per_bucket: dict[str, set[str]] = {}
    for uri in _covering(uris):
        where = parse_bucket_key(uri, key_required=False)
        values = per_bucket.setdefault(where.bucket, set())
        if uri.endswith("/"):
            values.update({where.key.rstrip("/"), f"{where.key}*"})
        else:
            values.add(where.key)
    return {bucket: sorted(values) for bucket, values in per_bucket.items()}


def session_policy(scope: TaskScope) -> dict[str, object]:
    """The IAM policy of an attempt's session: read `reads` and `writes`, write (and abort uploads to) `writes`,
    list only under them. No other action (no delete, no bucket settings) and no other key."""
    writes = [_as_prefix(uri) for uri in scope.writes]
    readable = [*scope.reads, *writes]
    statements: list[Statement] = [
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": _resources(readable)},
        {
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
            "Resource": _resources(writes),
        },
    ]
    for bucket, prefixes in sorted(_listing(readable).items()):
        statements.append(
            {
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": f"arn:aws:s3:::{bucket}",
                "Condition": {"StringLike": {"s3:prefix": prefixes}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def session_policy_text(scope: TaskScope) -> str:
    """`session_policy` as STS takes it; CredentialsUnavailable when it is longer than AWS accepts."""
    text = json.dumps(session_policy(scope), separators=(",", ":"), sort_keys=False)
    if len(text) > MAX_SESSION_POLICY_CHARS:
        raise CredentialsUnavailable(
            f"the session policy of {scope.attempt_key} is {len(text)} characters, more than STS accepts "
            f"({MAX_SESSION_POLICY_CHARS}): shorten the store's prefixes or task_credentials.read_prefixes"
        )
    return text


def role_arn(config: TaskCredentialsConfig, project: str, domain: str) -> str:
    """The role an execution's attempts assume: `config.role_arn` with its project and domain."""
    return config.role_arn.format(project=project, domain=domain)


def read_prefixes(config: TaskCredentialsConfig, bucket: str, project: str, domain: str) -> tuple[str, ...]:
    """`config.read_prefixes` for one execution."""
    return tuple(prefix.format(bucket=bucket, project=project, domain=domain) for prefix in config.read_prefixes)


def session_name(scope: TaskScope) -> str:
    """A RoleSessionName (2-64 of `[\\w+=,.@-]`) that names the execution: CloudTrail shows it for each request."""
    name = _SESSION_NAME_CHARS.sub("-", f"fp-{scope.project}-{scope.domain}-{scope.execution}")
    return name[:64]


class TaskCredentialsIssuer:
    """Credentials per attempt from STS AssumeRole, with the plane's own credentials as the caller."""

    def __init__(self, config: S3Config, *, clock: Callable[[], float] = time.time) -> None:
        self._s3 = config
        self.config = config.task_credentials
        self._clock = clock
        self._lock = threading.Lock()
        self._client_instance: STSClient | None = None
        self._cached: dict[str, TaskCredentials] = {}
        self._pending: dict[str, asyncio.Future[TaskCredentials]] = {}

    @property
    def refresh_margin(self) -> float:
        """How long before expiry cached credentials stop being handed out: a task started then gets fresh ones."""
        return min(300.0, self.config.duration_seconds / 3)

    def _client(self) -> STSClient:
        """The boto3 STS client, created on first use; call only from worker threads (creation reads files)."""
        with self._lock:
            if self._client_instance is None:
                s3 = self._s3
                session = boto3.session.Session(
                    aws_access_key_id=s3.access_key_id,
                    aws_secret_access_key=s3.secret_access_key.get_secret_value() if s3.secret_access_key else None,
                    region_name=s3.region,
                )
                self._client_instance = session.client(
                    "sts",
                    endpoint_url=self.config.endpoint_url or s3.endpoint_url,
                    config=BotoConfig(
                        retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=10
                    ),
                )
            return self._client_instance

    async def credentials(self, scope: TaskScope) -> TaskCredentials:
        """The attempt's credentials: cached ones while they have `refresh_margin` left, else a new AssumeRole
        (one at a time per attempt). CredentialsUnavailable when STS gives none."""
        cached = self._cached.get(scope.attempt_key)
        if cached is not None and cached.expiration.timestamp() - self._clock() > self.refresh_margin:
            return cached
        pending = self._pending.get(scope.attempt_key)
        if pending is None:
            pending = asyncio.ensure_future(self._assume(scope))
            self._pending[scope.attempt_key] = pending
            pending.add_done_callback(lambda _: self._pending.pop(scope.attempt_key, None))
        return await asyncio.shield(pending)

    async def _assume(self, scope: TaskScope) -> TaskCredentials:
        policy = session_policy_text(scope)
        arn = role_arn(self.config, scope.project, scope.domain)
        try:
            answer = await asyncio.to_thread(
                lambda: self._client().assume_role(
                    RoleArn=arn,
                    RoleSessionName=session_name(scope),
                    DurationSeconds=self.config.duration_seconds,
                    Policy=policy,
                )
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            reason = f"{error.get('Code', 'error')}: {error.get('Message', '')}"
            raise CredentialsUnavailable(f"STS refused to assume {arn} for {scope.attempt_key}: {reason}") from None
        except BotoCoreError as exc:
            raise CredentialsUnavailable(f"STS could not be asked to assume {arn}: {exc}") from None
        given = answer["Credentials"]
        credentials = TaskCredentials(
            access_key_id=given["AccessKeyId"],
            secret_access_key=given["SecretAccessKey"],
            session_token=given["SessionToken"],
            expiration=given["Expiration"],
        )
        self._remember(scope.attempt_key, credentials)
        return credentials

    def _remember(self, key: str, credentials: TaskCredentials) -> None:
        if len(self._cached) >= _MAX_CACHED:
            now = self._clock()
            self._cached = {
                k: c for k, c in self._cached.items() if c.expiration.timestamp() - now > self.refresh_margin
            }
            if len(self._cached) >= _MAX_CACHED:
                self._cached.clear()
        self._cached[key] = credentials
