"""Scoped task credentials against a real S3/STS server that enforces IAM (moto with IAM on).

moto does not enforce a session policy, so the document `session_policy` builds is made the policy of the role
the issuer assumes: moto then refuses what it does not allow, as AWS refuses what a session policy does not.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pydantic import SecretStr

from flyteplane.storage import S3Config
from flyteplane.storage.config import TaskCredentialsConfig
from flyteplane.storage.task_credentials import (
    CredentialsUnavailable,
    TaskCredentials,
    TaskCredentialsIssuer,
    TaskScope,
    session_policy,
)
from tests.support.iam_s3 import ACCOUNT, EnforcingS3, enforcing_s3

BUCKET = "scoped"
EXECUTION = f"s3://{BUCKET}/metadata/propeller/alpha-development-exec1/"
RAW = f"s3://{BUCKET}/raw/alpha/development/exec1/"
SCOPE = TaskScope(
    project="alpha",
    domain="development",
    execution="exec1",
    attempt_key="alpha/development/exec1/n0/0",
    reads=(EXECUTION, RAW, f"s3://{BUCKET}/uploads/alpha/development/", f"s3://{BUCKET}/bundles/code.tar.gz"),
    writes=(f"{EXECUTION}n0/0", f"{RAW}ab/n0-0"),
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnforcingS3]:
    with enforcing_s3(tmp_path_factory.mktemp("moto-iam") / "log") as running:
        s3 = running.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        for key in (
            "metadata/propeller/alpha-development-exec1/n0/inputs.pb",
            "metadata/propeller/alpha-development-exec2/n0/0/outputs.pb",
            "metadata/propeller/beta-development-exec9/n0/0/outputs.pb",
            "raw/alpha/development/exec1/cd/upstream/file.txt",
            "raw/beta/development/exec9/cd/theirs/file.txt",
            "uploads/alpha/development/md5/input.txt",
            "uploads/beta/development/md5/input.txt",
            "bundles/code.tar.gz",
            "bundles/other.tar.gz",
        ):
            s3.put_object(Bucket=BUCKET, Key=key, Body=b"data")
        yield running


def _issuer(server: EnforcingS3, role: str, clock: Callable[[], float] = time.time) -> TaskCredentialsIssuer:
    config = S3Config(
        endpoint_url=server.endpoint,
        access_key_id=server.plane_key,
        secret_access_key=SecretStr(server.plane_secret),
        task_credentials=TaskCredentialsConfig(mode="sts", role_arn=role),
    )
    return TaskCredentialsIssuer(config, clock=clock)


@pytest.fixture(scope="module")
def attempt_role(server: EnforcingS3) -> str:
    """A role whose policy is the attempt's session policy (see the module's docstring)."""
    return server.create_role(f"attempt-{uuid.uuid4().hex[:8]}", session_policy(SCOPE))


@pytest.fixture(scope="module")
async def credentials(server: EnforcingS3, attempt_role: str) -> TaskCredentials:
    return await _issuer(server, attempt_role).credentials(SCOPE)


def _as_task(server: EnforcingS3, credentials: TaskCredentials) -> Any:
    return server.client("s3", credentials.access_key_id, credentials.secret_access_key, credentials.session_token)


def _refused(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as refused:
        call(Bucket=BUCKET, **kwargs)
    return str(refused.value.response["Error"]["Code"])


def test_the_attempt_reads_its_inputs_upstream_data_uploads_and_code_bundle(
    server: EnforcingS3, credentials: TaskCredentials
) -> None:
    s3 = _as_task(server, credentials)
    for key in (
        "metadata/propeller/alpha-development-exec1/n0/inputs.pb",
        "raw/alpha/development/exec1/cd/upstream/file.txt",
        "uploads/alpha/development/md5/input.txt",
        "bundles/code.tar.gz",
    ):
        assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"data"


def test_the_attempt_writes_its_outputs_and_raw_data_and_reads_them_back(
    server: EnforcingS3, credentials: TaskCredentials
) -> None:
    s3 = _as_task(server, credentials)
    for key in (
        "metadata/propeller/alpha-development-exec1/n0/0/outputs.pb",
        "raw/alpha/development/exec1/ab/n0-0/frame/part-0.parquet",
    ):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"mine")
        assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"mine"
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="raw/alpha/development/exec1/")
    assert {item["Key"] for item in listed["Contents"]} >= {"raw/alpha/development/exec1/cd/upstream/file.txt"}


def test_the_attempt_is_refused_other_executions_projects_and_bundles(
    server: EnforcingS3, credentials: TaskCredentials
) -> None:
    s3 = _as_task(server, credentials)
    for key in (
        "metadata/propeller/alpha-development-exec2/n0/0/outputs.pb",  # the same project's other execution
        "metadata/propeller/beta-development-exec9/n0/0/outputs.pb",  # another project's
        "raw/beta/development/exec9/cd/theirs/file.txt",
        "uploads/beta/development/md5/input.txt",
        "bundles/other.tar.gz",
    ):
        assert _refused(s3.get_object, Key=key) == "AccessDenied", key


def test_the_attempt_cannot_overwrite_its_inputs_or_delete_anything(
    server: EnforcingS3, credentials: TaskCredentials
) -> None:
    s3 = _as_task(server, credentials)
    inputs = "metadata/propeller/alpha-development-exec1/n0/inputs.pb"
    assert _refused(s3.put_object, Key=inputs, Body=b"forged") == "AccessDenied"
    assert _refused(s3.put_object, Key="raw/alpha/development/exec1/cd/upstream/file.txt", Body=b"x") == "AccessDenied"
    assert _refused(s3.delete_object, Key="raw/alpha/development/exec1/ab/n0-0/frame/part-0.parquet") == "AccessDenied"
    assert server.client("s3").get_object(Bucket=BUCKET, Key=inputs)["Body"].read() == b"data"


async def test_credentials_are_the_roles_short_lived_ones_not_the_planes(
    server: EnforcingS3, attempt_role: str, credentials: TaskCredentials
) -> None:
    assert credentials.access_key_id != server.plane_key
    assert credentials.session_token
    lifetime = (credentials.expiration - datetime.now(UTC)).total_seconds()
    assert 800 < lifetime <= 900
    identity = server.client(
        "sts", credentials.access_key_id, credentials.secret_access_key, credentials.session_token
    ).get_caller_identity()
    assert f":assumed-role/{attempt_role.rsplit('/', 1)[1]}/fp-alpha-development-exec1" in identity["Arn"]
    assert credentials.environment()["AWS_SESSION_TOKEN"] == credentials.session_token


async def test_an_attempt_reuses_its_credentials_and_another_attempt_gets_its_own(
    server: EnforcingS3, attempt_role: str
) -> None:
    issuer = _issuer(server, attempt_role)
    first = await issuer.credentials(SCOPE)
    assert await issuer.credentials(SCOPE) is first
    retry = TaskScope(**{**SCOPE.__dict__, "attempt_key": "alpha/development/exec1/n0/1"})
    assert (await issuer.credentials(retry)).access_key_id != first.access_key_id


async def test_credentials_near_expiry_are_not_handed_out_again(server: EnforcingS3, attempt_role: str) -> None:
    now = [time.time()]
    issuer = _issuer(server, attempt_role, clock=lambda: now[0])
    first = await issuer.credentials(SCOPE)
    now[0] = first.expiration.timestamp() - issuer.refresh_margin - 1
    assert await issuer.credentials(SCOPE) is first
    now[0] += 2  # within the margin of expiry: a task started now gets fresh ones
    assert (await issuer.credentials(SCOPE)).access_key_id != first.access_key_id


async def test_a_role_the_plane_may_not_assume_is_a_retryable_refusal_naming_it(server: EnforcingS3) -> None:
    name = f"someone-elses-{uuid.uuid4().hex[:8]}"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/other"}, "Action": "sts:AssumeRole"}
        ],
    }
    server.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    with pytest.raises(CredentialsUnavailable) as refused:
        await _issuer(server, server.role_arn(name)).credentials(SCOPE)
    assert server.role_arn(name) in str(refused.value)
    assert "AccessDenied" in str(refused.value)


async def test_an_unreachable_sts_is_a_retryable_refusal(tmp_path: Path) -> None:
    config = S3Config(
        endpoint_url="http://127.0.0.1:9",
        access_key_id="k",
        secret_access_key=SecretStr("s"),
        task_credentials=TaskCredentialsConfig(mode="sts", role_arn="arn:aws:iam::123456789012:role/r"),
    )
    with pytest.raises(CredentialsUnavailable, match="could not be asked"):
        await TaskCredentialsIssuer(config).credentials(SCOPE)
