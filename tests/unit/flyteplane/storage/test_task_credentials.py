"""The session policy of an attempt and the settings of scoped task credentials (the server side is in
tests/integration/flyteplane/storage/test_task_credentials.py)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from flyteplane.storage.config import TaskCredentialsConfig
from flyteplane.storage.task_credentials import (
    MAX_SESSION_POLICY_CHARS,
    CredentialsUnavailable,
    TaskScope,
    read_prefixes,
    role_arn,
    session_name,
    session_policy,
    session_policy_text,
)

SCOPE = TaskScope(
    project="alpha",
    domain="development",
    execution="exec1",
    attempt_key="alpha/development/exec1/n0/0",
    reads=("s3://bkt/metadata/propeller/alpha-development-exec1/", "s3://bkt/bundles/code.tar.gz", "s3://raw-data/x/"),
    writes=("s3://bkt/metadata/propeller/alpha-development-exec1/n0/0",),
)


def _statement(policy: dict[str, Any], action: str) -> dict[str, Any]:
    return next(s for s in policy["Statement"] if s["Action"][0] == action)


def test_reads_cover_prefixes_objects_and_what_the_attempt_writes() -> None:
    read = _statement(session_policy(SCOPE), "s3:GetObject")
    assert read["Action"] == ["s3:GetObject"]
    # What the attempt writes lies under its execution's prefix here: named once.
    assert read["Resource"] == [
        "arn:aws:s3:::bkt/bundles/code.tar.gz",
        "arn:aws:s3:::bkt/metadata/propeller/alpha-development-exec1/*",
        "arn:aws:s3:::raw-data/x/*",
    ]
    elsewhere = TaskScope("p", "d", "e", "k", reads=(), writes=("s3://bkt/out",))
    assert _statement(session_policy(elsewhere), "s3:GetObject")["Resource"] == ["arn:aws:s3:::bkt/out/*"]


def test_writes_are_puts_under_the_attempts_prefixes_only_and_nothing_deletes() -> None:
    policy = session_policy(SCOPE)
    write = _statement(policy, "s3:PutObject")
    assert write["Resource"] == ["arn:aws:s3:::bkt/metadata/propeller/alpha-development-exec1/n0/0/*"]
    actions = {action for statement in policy["Statement"] for action in statement["Action"]}
    assert actions == {
        "s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:ListBucket",
    }  # fmt: skip


def test_listing_is_per_bucket_and_bounded_by_prefix() -> None:
    policy = session_policy(SCOPE)
    lists = [s for s in policy["Statement"] if s["Action"] == ["s3:ListBucket"]]
    assert [s["Resource"] for s in lists] == ["arn:aws:s3:::bkt", "arn:aws:s3:::raw-data"]
    assert lists[0]["Condition"]["StringLike"]["s3:prefix"] == [
        "bundles/code.tar.gz",
        "metadata/propeller/alpha-development-exec1",
        "metadata/propeller/alpha-development-exec1/*",
    ]


def test_a_policy_of_a_real_sized_attempt_fits_what_sts_accepts() -> None:
    bucket, execution = "my-company-flyte-data-bucket", "a" * 20
    metadata = f"s3://{bucket}/metadata/propeller/myproject-development-{execution}/"
    raw = f"s3://{bucket}/raw/myproject/development/{execution}/"
    scope = TaskScope(
        "myproject", "development", execution, "k",
        reads=(metadata, f"s3://{bucket}/metadata/myproject/development/{execution}/", raw,
               f"s3://{bucket}/uploads/myproject/development/",
               f"s3://{bucket}/uploads/myproject/development/{'B' * 26}/fast{'0' * 32}.tar.gz"),
        writes=(f"{metadata}end-node-with-a-long-name/data/0", f"{raw}ab/f{'x' * 20}"),
    )  # fmt: skip
    assert len(session_policy_text(scope)) < 1500


def test_a_policy_longer_than_sts_accepts_is_refused_before_asking() -> None:
    many = tuple(f"s3://bkt/prefix-{i:04d}-{'x' * 40}/" for i in range(40))
    with pytest.raises(CredentialsUnavailable, match="more than STS accepts"):
        session_policy_text(TaskScope("p", "d", "e", "k", reads=many, writes=()))
    assert len(session_policy_text(SCOPE)) <= MAX_SESSION_POLICY_CHARS


def test_role_and_prefixes_are_per_project_and_domain() -> None:
    config = TaskCredentialsConfig(mode="sts", role_arn="arn:aws:iam::1:role/fp-{project}-{domain}")
    assert role_arn(config, "alpha", "prod") == "arn:aws:iam::1:role/fp-alpha-prod"
    assert read_prefixes(config, "bkt", "alpha", "prod") == ("s3://bkt/uploads/alpha/prod/",)


def test_session_name_is_what_sts_accepts() -> None:
    scope = TaskScope("a b", "d", "x" * 80, "k", reads=(), writes=())
    name = session_name(scope)
    assert len(name) == 64 and " " not in name and name.startswith("fp-a-b-d-")


@pytest.mark.parametrize(
    ("settings", "complaint"),
    [
        ({"mode": "sts"}, "needs role_arn"),
        ({"mode": "sts", "role_arn": "arn:aws:iam::1:role/{projct}"}, "projct"),
        ({"read_prefixes": ["uploads/{project}/"]}, "must be s3://"),
        ({"read_prefixes": ["s3://{bucket}/{execution}/"]}, "execution"),
        ({"duration_seconds": 60}, "greater than or equal to 900"),
    ],
)
def test_settings_that_would_fail_every_attempt_are_refused_at_load(settings: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        TaskCredentialsConfig.model_validate(settings)
