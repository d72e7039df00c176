"""The retry backoff policy: a task's next attempt waits as configured after a retryable failure, and the
wait, persisted with the failure, holds across an engine restart.

The task is a `flaky` double (tests/support/plugin_doubles.py): it fails its first attempts and records
when each attempt started and failed. Only lower bounds on the waits are asserted: a slow machine may
start an attempt late, never early.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from flyteidl_py.admin import task_execution_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2, literals_pb2
from propeller.config import RetryBackoff
from tests.integration.propeller.helpers import ints, launch, register, wait
from tests.support.echo import chain, echo_list_task, echo_task, mapped
from tests.support.plane import RunningPlane, plane_config, running_plane
from tests.support.plugin_doubles import read_records


def _config(tmp_path: Path, backoff: RetryBackoff, **flaky: Any) -> Any:
    plugins = {
        "factories": {"flaky": "tests.support.plugin_doubles:flaky"},
        "backends": {"flaky": {"record": str(tmp_path / "attempts.jsonl"), **flaky}},
    }
    config = plane_config(
        tmp_path, f"sqlite:///{tmp_path}/admin.db", f"sqlite:///{tmp_path}/propeller.db", plugins=plugins
    )
    # A fixed owner: a restarted engine takes its executions back at once instead of after the lease.
    propeller = config.propeller.model_copy(update={"retry_backoff": backoff, "owner_id": "backoff-test"})
    return config.model_copy(update={"propeller": propeller})


def _flaky_workflow(name: str, retries: int) -> list[object]:
    task = echo_task("flaky.int")
    task.spec.template.type = "flaky"
    task.spec.template.metadata.retries.retries = retries
    return [task, *chain(name, 1, task="flaky.int")]


def _times(record: Path, event: str) -> dict[int, float]:
    """attempt -> when it last did `event` (an attempt re-run after a restart counts from its last run)."""
    return {entry["attempt"]: entry["at"] for entry in read_records(record) if entry["event"] == event}


@pytest.mark.parametrize(
    ("system", "backoff", "waits"),
    [
        (False, RetryBackoff(base_seconds=2, factor=2), [2.0, 4.0]),
        (True, RetryBackoff(base_seconds=0.5, factor=3, max_seconds=1.0), [0.5, 1.0]),
    ],
    ids=["user-recoverable", "system"],
)
async def test_each_retry_of_a_task_waits_as_the_backoff_policy_says(
    tmp_path: Path, system: bool, backoff: RetryBackoff, waits: list[float]
) -> None:
    async with running_plane(_config(tmp_path, backoff, failures=2, system=system)) as plane:
        await register(plane.stub, _flaky_workflow("flaky2", retries=0 if system else 2))
        execution = await wait(plane.stub, await launch(plane.stub, "flaky2", ints(x=5)))
    assert execution.closure.phase == core.WorkflowExecution.SUCCEEDED, execution.closure.error.message
    started, failed = _times(tmp_path / "attempts.jsonl", "started"), _times(tmp_path / "attempts.jsonl", "failed")
    assert sorted(started) == [0, 1, 2]
    for attempt, seconds in enumerate(waits, start=1):
        assert started[attempt] - failed[attempt - 1] >= seconds, (attempt, started, failed)


async def test_without_a_policy_a_retry_starts_at_once(tmp_path: Path) -> None:
    """Flyte's behaviour stays the default: no wait configured, none added (the bound only shows the
    attempts were not held back by seconds)."""
    async with running_plane(_config(tmp_path, RetryBackoff(), failures=2)) as plane:
        await register(plane.stub, _flaky_workflow("flaky2", retries=2))
        execution = await wait(plane.stub, await launch(plane.stub, "flaky2", ints(x=5)))
    assert execution.closure.phase == core.WorkflowExecution.SUCCEEDED
    assert sorted(_times(tmp_path / "attempts.jsonl", "started")) == [0, 1, 2]


async def test_each_retry_of_a_map_task_element_waits_as_the_backoff_policy_says(tmp_path: Path) -> None:
    async with running_plane(_config(tmp_path, RetryBackoff(base_seconds=2, factor=2), failures=2)) as plane:
        task = echo_list_task("flaky.map")
        task.spec.template.type = "flaky"
        task.spec.template.metadata.retries.retries = 2
        await register(plane.stub, [task, *mapped("flakymap", task="flaky.map")])
        xs = literals_pb2.LiteralCollection(
            literals=[
                literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=i)))
                for i in range(2)
            ]
        )
        inputs = literals_pb2.LiteralMap(literals={"xs": literals_pb2.Literal(collection=xs)})
        execution = await wait(plane.stub, await launch(plane.stub, "flakymap", inputs))
    assert execution.closure.phase == core.WorkflowExecution.SUCCEEDED, execution.closure.error.message
    records = read_records(tmp_path / "attempts.jsonl")
    for index in (0, 1):
        started = {e["attempt"]: e["at"] for e in records if e["index"] == index and e["event"] == "started"}
        failed = {e["attempt"]: e["at"] for e in records if e["index"] == index and e["event"] == "failed"}
        assert sorted(started) == [0, 1, 2]
        assert started[1] - failed[0] >= 2.0 and started[2] - failed[1] >= 4.0, (index, started, failed)


async def _failed_attempt_reported(plane: RunningPlane, execution: identifier_pb2.WorkflowExecutionIdentifier) -> None:
    """Until admin lists attempt 0 as FAILED: the engine committed the failure (and its wait) first."""
    node = identifier_pb2.NodeExecutionIdentifier(execution_id=execution, node_id="n0")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            found = await plane.stub.ListTaskExecutions(
                task_execution_pb2.TaskExecutionListRequest(node_execution_id=node, limit=10)
            )
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.NOT_FOUND:  # the node is not reported yet
                raise
            found = task_execution_pb2.TaskExecutionList()
        if any(t.closure.phase == core.TaskExecution.FAILED for t in found.task_executions):
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("attempt 0 never reported FAILED")


@pytest.fixture
async def restartable(tmp_path: Path) -> AsyncIterator[RunningPlane]:
    async with running_plane(_config(tmp_path, RetryBackoff(base_seconds=3, factor=1), failures=1)) as plane:
        yield plane


async def test_a_restarted_engine_waits_out_the_remainder_of_a_retry_backoff(
    restartable: RunningPlane, tmp_path: Path
) -> None:
    from propeller.server import start_propeller

    plane = restartable
    await register(plane.stub, _flaky_workflow("flaky1", retries=1))
    execution = await launch(plane.stub, "flaky1", ints(x=5), name="restarted")
    await _failed_attempt_reported(plane, execution)
    await plane.propeller.stop(0)  # during the 3 s wait before attempt 1
    plane.propeller = await start_propeller(plane.config)
    try:
        result = await wait(plane.stub, execution)
    finally:
        await plane.propeller.stop(0)
    assert result.closure.phase == core.WorkflowExecution.SUCCEEDED, result.closure.error.message
    record = tmp_path / "attempts.jsonl"
    runs = [e["attempt"] for e in read_records(record) if e["event"] == "started"]
    assert runs == [0, 1]  # attempt 0 was not run again by the new engine, attempt 1 ran once
    assert _times(record, "started")[1] - _times(record, "failed")[0] >= 3.0
