"""moto's S3 and STS server with IAM enforced: every request needs a known key whose policies allow it.

moto checks the signature of each request against its IAM users' and assumed roles' keys and evaluates their
identity policies (inline and attached) against the action and the resource, so a role's policy really refuses
what it does not allow. What moto does not enforce, and AWS does: session policies (the `Policy` of
AssumeRole), policy conditions on S3 requests (`s3:prefix`), and the expiry of assumed-role credentials. Tests
that need a session policy enforced create a role whose own policy is that document.

`INITIAL_NO_AUTH_ACTION_COUNT` lets the first requests through unauthenticated: exactly the three that make the
plane's user (user, access key, policy); everything after them is checked.

moto names a few S3 requests by their operation rather than the IAM action AWS checks (a v2 listing is
`s3:ListObjectsV2`, AWS's `s3:ListBucket`): `moto_policy` adds those names wherever a policy grants the action.
And moto (5.2) answers 403 to a HEAD of an object signed with an assumed role's keys even where the role may
read it (a GET succeeds): tests read objects with GET.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx

from tests.support.postgres import free_port

ACCOUNT = "123456789012"  # moto's default account
PLANE_USER = "flyteplane"
BOOTSTRAP_REQUESTS = 3


# The IAM action AWS checks -> the names moto checks for the same requests besides it.
_MOTO_NAMES = {"s3:ListBucket": ("s3:ListObjectsV2", "s3:ListObjects", "s3:HeadBucket")}


def moto_policy(policy: dict[str, Any]) -> dict[str, Any]:
    """`policy` with moto's own names of the S3 requests its actions allow (see the module's docstring)."""
    statements = []
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        extra = [name for action in actions for name in _MOTO_NAMES.get(action, ())]
        statements.append({**statement, "Action": [*actions, *extra]})
    return {**policy, "Statement": statements}


@dataclass(frozen=True)
class EnforcingS3:
    """A running moto with IAM enforced and the plane's user (allowed everything), whose keys are these."""

    endpoint: str
    plane_key: str
    plane_secret: str

    def client(self, service: str, key: str | None = None, secret: str | None = None, token: str | None = None) -> Any:
        """A boto3 client of `service`, as the plane unless other credentials are given."""
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=key or self.plane_key,
            aws_secret_access_key=secret or self.plane_secret,
            aws_session_token=token,
        )

    def role_arn(self, name: str) -> str:
        return f"arn:aws:iam::{ACCOUNT}:role/{name}"

    def create_role(self, name: str, policy: dict[str, Any]) -> str:
        """A role the plane's user may assume, whose only permissions are `policy` (as moto names them); its ARN."""
        iam = self.client("iam")
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/{PLANE_USER}"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        iam.put_role_policy(RoleName=name, PolicyName="data", PolicyDocument=json.dumps(moto_policy(policy)))
        return self.role_arn(name)


@contextmanager
def enforcing_s3(log: Path) -> Iterator[EnforcingS3]:
    """Starts moto (`python -m moto.server`) with IAM enforced after the plane's user is made."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(BOOTSTRAP_REQUESTS)}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=output, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    try:
        _wait_ready(process, endpoint, log)
        iam = boto3.client(
            "iam", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bootstrap",
            aws_secret_access_key="bootstrap",
        )  # fmt: skip
        iam.create_user(UserName=PLANE_USER)
        key = iam.create_access_key(UserName=PLANE_USER)["AccessKey"]
        everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        iam.put_user_policy(UserName=PLANE_USER, PolicyName="all", PolicyDocument=json.dumps(everything))
        yield EnforcingS3(endpoint, key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(process: subprocess.Popen[bytes], endpoint: str, log: Path) -> None:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto exited with {process.returncode}:\n{log.read_text()}")
        try:
            httpx.get(f"{endpoint}/moto-api/", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"moto did not answer on {endpoint} within 60 s:\n{log.read_text()}")
