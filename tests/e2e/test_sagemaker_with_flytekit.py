"""The AWS SageMaker plugin (flytekitplugins-awssagemaker) through `flyteplane start`: deploy, invoke, delete, train.

No AWS account can be reached from here, so moto's server (`python -m moto.server`, SageMaker, SageMaker
Runtime and S3 on one port) stands in for AWS: the only stand-in in these tests. Everything else is real:
the plane is the command a user types, flytekit registers and launches with `pyflyte run --remote`, and the
plugin's own agents (task types `boto`, `sagemaker-endpoint`, `sagemaker-training-job`) run in the agent
server `flyteplane start` runs, pointed at moto by the task environment's `env` (`AWS_ENDPOINT_URL`) with
credentials from the plane's own environment; the region is the tasks' own (`region=`), as the plugin wants.

What moto does not do, and so is not tested here: an endpoint is `InService` and a training job
`Completed` as soon as they are created (no `Creating`/`InProgress` phase to poll through; the agent is
killed between the plane's CreateTask and its first GetTask instead); `stop_training_job` is not implemented
(aborting a training job, which calls it, is not exercised); `invoke_endpoint_async` neither checks the
endpoint nor reads the input, and answers with the result queued through moto's API; a model, endpoint
config or endpoint created again under its name is replaced where AWS refuses ("Cannot create already
existing"), so the agents' handling of that refusal is not exercised (the kill test checks instead, by the
endpoint's creation time, that CreateEndpoint was not called again).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import msgpack
import pytest

from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import literals_pb2
from tests.e2e.test_runs_with_flytekit import _outputs
from tests.e2e.test_sandbox import Sandbox, _client, _env, _wait
from tests.integration.flyteplane.storage.conftest import _start_server, _stop
from tests.support.flytekit import Flytekit
from tests.support.postgres import free_port

AGENT_WORKFLOWS = Path(__file__).with_name("agent_workflows")
REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"
# moto takes any credentials; these only show that the plane's environment reaches the agents.
AWS_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "moto-key", "AWS_SECRET_ACCESS_KEY": "moto-secret"}


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's server: the stand-in for AWS (no account can be reached from here)."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    process = _start_server(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        f"{endpoint}/moto-api/",
        tmp_path_factory.mktemp("aws") / "log",
    )
    yield endpoint
    _stop(process)


def _aws_client(endpoint: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=AWS_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=AWS_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture(scope="module")
async def sandbox(tmp_path_factory: pytest.TempPathFactory, flytekit_venv: Path, aws: str) -> AsyncIterator[Sandbox]:
    plugins = {
        "backends": {
            "local": {
                "default_environment": {
                    "venv": str(flytekit_venv.parent),
                    "env": {"AWS_ENDPOINT_URL": aws},
                }
            },
            # The first GetTask comes 2 s after CreateTask: the window in which the agent server is killed.
            "agent": {"poll_interval_seconds": 2},
        }
    }
    env = _env(flytekit_venv, {**AWS_CREDENTIALS, "FLYTEPLANE_PROPELLER__PLUGINS": json.dumps(plugins)})
    plane = Sandbox(tmp_path_factory.mktemp("sagemaker") / "plane", [], env)
    await plane.start()
    yield plane
    if plane.process is not None and plane.process.returncode is None:
        await plane.interrupt()


@pytest.fixture(scope="module")
def client(sandbox: Sandbox, flytekit_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Flytekit:
    client = _client(sandbox, flytekit_venv, tmp_path_factory.mktemp("project"))
    client.add_package(AGENT_WORKFLOWS, "agent_workflows")
    return client


def _unpacked(answer: dict[str, Any], name: str) -> Any:
    """An output flytekit wrote as msgpack (a dict, a list of dicts) as a Python value."""
    literal = literals_pb2.LiteralMap.FromString(base64.b64decode(answer["outputs"])).literals[name]
    if literal.HasField("collection"):
        return [msgpack.unpackb(item.scalar.binary.value) for item in literal.collection.literals]
    return msgpack.unpackb(literal.scalar.binary.value)


async def test_a_model_is_deployed_invoked_and_deleted(client: Flytekit, aws: str) -> None:
    prediction = json.dumps({"predictions": [0.42]})
    # The answer moto gives the next asynchronous invocation (its API for configuring results).
    async with httpx.AsyncClient() as http:
        queued = await http.post(
            f"{aws}/moto-api/static/sagemaker/async-endpoint-results", json={"results": [{"data": prediction}]}
        )
    assert queued.status_code == 201, queued.text
    await client.run_remote(
        "agent_workflows/sagemaker.py",
        "deploy_invoke_delete",
        *("--model_path", "s3://models/xgboost/model.tar.gz", "--execution_role_arn", ROLE),
        *("--instance_type", "ml.m4.xlarge", "--input_location", "s3://inputs/batch-1.json"),
        name="deployed-1",
    )
    answer = await _wait(client, "deployed-1")
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")

    model, endpoint_config, endpoint = _unpacked(answer, "o0")
    prefix = f"arn:aws:sagemaker:{REGION}:123456789012:"
    # Names carry the plugin's idempotence token: a hash of the call, made by the agent.
    assert model["ModelArn"].startswith(prefix + "model/xgboost-")
    assert endpoint_config["EndpointConfigArn"].startswith(prefix + "endpoint-config/xgboost-")
    assert endpoint["EndpointArn"].startswith(prefix + "endpoint/xgboost-")
    # The async agent polled the endpoint until InService; the invocation's answer is where SageMaker put it.
    invoked = _unpacked(answer, "o1")
    bucket, _, key = invoked["OutputLocation"].removeprefix("s3://").partition("/")
    body = _aws_client(aws, "s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    assert body == prediction
    # The teardown subworkflow ran after the invocation: nothing of the deployment is left.
    sagemaker = _aws_client(aws, "sagemaker")
    assert endpoint["EndpointArn"] not in [e["EndpointArn"] for e in sagemaker.list_endpoints()["Endpoints"]]
    configs = sagemaker.list_endpoint_configs()["EndpointConfigs"]
    assert endpoint_config["EndpointConfigArn"] not in [c["EndpointConfigArn"] for c in configs]
    assert model["ModelArn"] not in [m["ModelArn"] for m in sagemaker.list_models()["Models"]]


async def test_a_training_job_runs_and_is_described(client: Flytekit, aws: str) -> None:
    await client.run_remote(
        "agent_workflows/sagemaker.py",
        "train_and_describe",
        *("--job_name", "xgboost-train-1", "--execution_role_arn", ROLE, "--output_path", "s3://models/out"),
        name="trained-1",
    )
    answer = await _wait(client, "trained-1")
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    trained = _unpacked(answer, "o0")
    assert trained["TrainingJobArn"] == f"arn:aws:sagemaker:{REGION}:123456789012:training-job/xgboost-train-1"
    assert trained["ModelArtifacts"] == {"S3ModelArtifacts": "s3://models/out/xgboost-train-1/output/model.tar.gz"}
    assert trained["FinalMetricDataList"], trained  # the job's metrics, as the agent projects them
    # The describe call's answer (with dates: pickled by flytekit) read by a plain task downstream.
    assert _outputs(answer, "o1") == {"o1": "Completed 5"}
    job = _aws_client(aws, "sagemaker").describe_training_job(TrainingJobName="xgboost-train-1")
    assert job["HyperParameters"] == {"max_depth": "5", "num_round": "10"}


async def test_an_aws_error_fails_the_task_with_its_message(client: Flytekit) -> None:
    await client.run_remote(
        "agent_workflows/sagemaker.py", "describe_only", "--job_name", "no-such-job", name="missing-1"
    )
    answer = await _wait(client, "missing-1")
    assert answer["phase"] == core.WorkflowExecution.FAILED
    assert "Could not find training job" in answer.get("error", ""), answer


async def test_an_agent_server_killed_mid_task_does_not_lose_the_endpoint_task(
    sandbox: Sandbox, client: Flytekit, aws: str
) -> None:
    sagemaker = _aws_client(aws, "sagemaker")
    before = {e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]}
    await client.run_remote(
        "agent_workflows/sagemaker.py",
        "deploy",
        *("--model_path", "s3://models/xgboost/v2.tar.gz", "--execution_role_arn", ROLE),
        *("--instance_type", "ml.m5.xlarge"),
        name="survives-1",
    )
    # The plane records the agent's resource meta beside the attempt's outputs once CreateTask answered.
    recorded = await _appears(sandbox.data_dir / "data", "survives-1", "agent-resource.json")
    old = _agent_server_pid(sandbox)
    os.kill(old, signal.SIGKILL)
    assert not (recorded.parent / "outputs.pb").exists(), "the endpoint task finished before the kill"
    (created,) = [e for e in sagemaker.list_endpoints()["Endpoints"] if e["EndpointName"] not in before]

    answer = await _wait(client, "survives-1")
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    assert _agent_server_pid(sandbox) != old  # the supervisor started another; the task was polled there
    (_, _, endpoint) = _unpacked(answer, "o0")
    assert endpoint["EndpointArn"] == created["EndpointArn"]
    # One attempt, and CreateEndpoint was not called again (moto would have replaced the endpoint).
    assert [p for p in (sandbox.data_dir / "data").rglob("agent-resource.json") if "survives-1" in str(p)] == [recorded]
    again = sagemaker.describe_endpoint(EndpointName=created["EndpointName"])
    assert again["CreationTime"] == created["CreationTime"]


async def _appears(root: Path, execution: str, name: str, within: float = 120.0) -> Path:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = await asyncio.to_thread(lambda: [p for p in root.rglob(name) if execution in str(p)])
        if found:
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {name} for {execution} under {root} within {within} s")


def _agent_server_pid(sandbox: Sandbox) -> int:
    """The agent server `flyteplane start` runs: its child whose program serves flytekit's agent services."""
    assert sandbox.process is not None
    parent = str(sandbox.process.pid)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue  # a process that ended meanwhile
        if fields[1] == parent and b"AsyncConnectorService" in command:
            return int(stat.parent.name)
    raise AssertionError("flyteplane start runs no agent server")
