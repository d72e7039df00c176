"""Tasks of two projects on one S3 store, each with short-lived credentials of its own project's role (issue 18).

The store is moto with IAM enforced (tests/support/iam_s3.py). The plane assumes `flyteplane-{project}` for each
attempt; each project's role may touch only that project's prefixes, as an operator would set it up on AWS. moto
does not enforce the session policy the plane also sends (AWS would, narrowing a task to its own execution:
tests/integration/flyteplane/storage/test_task_credentials.py shows that document enforced), so here the
boundary a task of project B meets is its project's.

The session policies the engine built are recorded and evaluated with moto's IAM policy evaluator against the
objects the tasks touched: what AWS would have allowed each attempt.

The code is registered without a bundle (`--copy none`) and inputs are plain values: moto checks no presigned
URL under IAM, so nothing goes through the data proxy's signed uploads.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from moto.iam.access_control import IAMPolicy, PermissionResult
from pydantic import SecretStr

from flyteidl_py.admin import project_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import literals_pb2
from flyteplane.storage import S3Config, StorageConfig
from flyteplane.storage.config import TaskCredentialsConfig
from flyteplane.storage.task_credentials import TaskCredentials, TaskCredentialsIssuer, TaskScope, session_policy
from tests.support.flytekit import Flytekit
from tests.support.iam_s3 import EnforcingS3, enforcing_s3
from tests.support.literals import plain_map
from tests.support.plane import RunningPlane, local_plane_config, running_plane

TENANT_CODE = Path(__file__).with_name("tenant_code")
PROBE = Path(__file__).with_name("flyteremote_probe.py")
IMAGE = "registry.example/tenants:1"
BUCKET = "tenants"
VERSION = "v1"
PROJECT_A, PROJECT_B = "flytesnacks", "rivals"


def project_role_policy(bucket: str, project: str) -> dict[str, Any]:
    """What an operator's role for one project allows: that project's metadata, raw data and uploads."""
    objects = [
        f"arn:aws:s3:::{bucket}/metadata/propeller/{project}-*",
        f"arn:aws:s3:::{bucket}/metadata/{project}/*",
        f"arn:aws:s3:::{bucket}/raw/{project}/*",
        f"arn:aws:s3:::{bucket}/uploads/{project}/*",
    ]
    actions = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": actions, "Resource": objects},
            {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": f"arn:aws:s3:::{bucket}"},
        ],
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnforcingS3]:
    with enforcing_s3(tmp_path_factory.mktemp("moto-iam") / "log") as running:
        running.client("s3").create_bucket(Bucket=BUCKET)
        for project in (PROJECT_A, PROJECT_B):
            running.create_role(f"flyteplane-{project}", project_role_policy(BUCKET, project))
        yield running


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tenants")


class RecordingIssuer(TaskCredentialsIssuer):
    """The plane's issuer, keeping the scope of every attempt it was asked for."""

    def __init__(self, config: S3Config) -> None:
        super().__init__(config)
        self.scopes: list[TaskScope] = []

    async def credentials(self, scope: TaskScope) -> TaskCredentials:
        self.scopes.append(scope)
        return await super().credentials(scope)


def _allows(scope: TaskScope, action: str, uri: str) -> bool:
    resource = f"arn:aws:s3:::{uri.removeprefix('s3://')}"
    return (
        IAMPolicy(json.dumps(session_policy(scope))).is_action_permitted(action, resource) is PermissionResult.PERMITTED
    )


@pytest.fixture(scope="module")
async def plane(
    tmp_path_factory: pytest.TempPathFactory, flytekit_venv: Path, project_dir: Path, server: EnforcingS3
) -> AsyncIterator[RunningPlane]:
    directory = tmp_path_factory.mktemp("plane")
    images = {IMAGE: {"venv": str(flytekit_venv.parent), "python_path": [str(project_dir)]}}
    config = local_plane_config(directory, flytekit_venv, images=images)
    credentials = TaskCredentialsConfig(mode="sts", role_arn=server.role_arn("flyteplane-{project}"))
    s3 = S3Config(
        endpoint_url=server.endpoint,
        access_key_id=server.plane_key,
        secret_access_key=SecretStr(server.plane_secret),
        task_credentials=credentials,
    )
    store = StorageConfig(default_scheme="s3", default_bucket=BUCKET, s3=s3, local_root=directory / "store")
    async with running_plane(config.model_copy(update={"storage": store})) as running:
        running.propeller.engine.services.task_credentials = RecordingIssuer(s3)
        await running.stub.RegisterProject(
            project_pb2.ProjectRegisterRequest(project=project_pb2.Project(id=PROJECT_B, name=PROJECT_B))
        )
        yield running


@pytest.fixture(scope="module")
async def tenants(plane: RunningPlane, flytekit_venv: Path, project_dir: Path) -> tuple[Flytekit, Flytekit]:
    alpha = Flytekit.for_admin(flytekit_venv, plane.admin.grpc_port, plane.admin.http_port, project_dir)
    alpha.add_package(TENANT_CODE, "tenant_code")
    rival = dataclasses.replace(alpha, project=PROJECT_B)
    for client in (alpha, rival):
        await client.pyflyte(
            "register", "-p", client.project, "-d", client.domain, "--version", VERSION, "--copy", "none",
            "--image", IMAGE, "tenant_code/tenants.py",
        )  # fmt: skip
    return alpha, rival


async def _run(client: Flytekit, workflow: str, **inputs: Any) -> tuple[str, dict[str, Any]]:
    params = {
        "action": "execute_and_wait",
        "name": f"tenant_code.tenants.{workflow}",
        "version": VERSION,
        "inputs": inputs,
        "timeout": 200,
    }
    answer: dict[str, Any] = await client.remote(PROBE, params, time_limit=240)
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    return answer["name"], plain_map(literals_pb2.LiteralMap.FromString(base64.b64decode(answer["outputs"])))


async def test_a_task_of_another_project_is_refused_a_projects_output_with_its_own_short_lived_keys(
    tenants: tuple[Flytekit, Flytekit], server: EnforcingS3, plane: RunningPlane
) -> None:
    alpha, rival = tenants
    # Project A's tasks pass a file between them with their scoped credentials.
    producer, produced = await _run(alpha, "produce", text="alpha's secret")
    uri, length = produced["o0"], produced["o1"]
    assert length == len("alpha's secret")
    assert uri.startswith(f"s3://{BUCKET}/raw/{PROJECT_A}/development/")
    assert server.client("s3").get_object(Bucket=BUCKET, Key=uri.split("/", 3)[3])["Body"].read() == b"alpha's secret"

    started = time.time()
    looker, looked = await _run(rival, "look", uri=uri)
    report = json.loads(looked["o0"])
    finished = time.time()
    assert "read" not in report, report
    assert report["error"] == "PermissionError: Access Denied", report["error"]  # s3fs's word for AccessDenied
    # Its credentials are an assumed role's (moto's keys for those begin ASIA), not the plane's, and expire.
    assert report["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    assert report["AWS_ACCESS_KEY_ID"] != server.plane_key
    assert report["AWS_SESSION_TOKEN"] and not report["FLYTE_AWS_ACCESS_KEY_ID"]
    expires = datetime.fromisoformat(report["AWS_CREDENTIAL_EXPIRATION"]).timestamp()
    assert started + 900 - 1 <= expires <= finished + 900 + 1  # issued for the attempt, for 15 minutes

    # The same URI handed to a task of project A is read: the refusal is the project's boundary.
    second, seen = await _run(alpha, "look", uri=uri)
    own = json.loads(seen["o0"])
    assert own.get("read") == "alpha's secret", own.get("error")

    # The session policies sent with them: AWS would also keep A's other execution out of the file, and let each
    # attempt write only its own outputs.
    issuer = plane.propeller.engine.services.task_credentials
    assert isinstance(issuer, RecordingIssuer)
    scopes = {(scope.execution, scope.attempt_key.split("/")[3]): scope for scope in issuer.scopes}
    writer, counter = scopes[(producer, "n0")], scopes[(producer, "n1")]
    assert _allows(writer, "s3:PutObject", uri) and _allows(counter, "s3:GetObject", uri)
    assert not _allows(counter, "s3:PutObject", uri)  # read-only for the task downstream
    assert not _allows(scopes[(looker, "n0")], "s3:GetObject", uri)
    assert not _allows(scopes[(second, "n0")], "s3:GetObject", uri)
