"""A map task that can no longer succeed: its error names the failed elements with their own messages,
and the elements still running are aborted at once and reported ABORTED.

The elements run a `fail-or-hang` double (tests/support/plugin_doubles.py): element 3 fails with
"bad 3", every other one runs until it is aborted, so the execution ends only if they are aborted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from flyteidl_py.admin import execution_pb2, task_execution_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2
from tests.integration.propeller.helpers import int_list, launch, register, wait
from tests.support.echo import echo_list_task, mapped
from tests.support.plane import RunningPlane, plane_config, running_plane
from tests.support.plugin_doubles import read_records


@pytest.fixture
async def plane(tmp_path: Path) -> AsyncIterator[RunningPlane]:
    plugins = {
        "factories": {"fail-or-hang": "tests.support.plugin_doubles:fail_or_hang"},
        "backends": {"fail-or-hang": {"fail_index": 3, "record": str(tmp_path / "aborts.jsonl")}},
    }
    config = plane_config(
        tmp_path, f"sqlite:///{tmp_path}/admin.db", f"sqlite:///{tmp_path}/propeller.db", plugins=plugins
    )
    async with running_plane(config) as running:
        yield running


async def test_a_failed_map_task_names_the_failed_element_and_aborts_the_running_ones(
    plane: RunningPlane, tmp_path: Path
) -> None:
    task = echo_list_task("hang.map")
    task.spec.template.type = "fail-or-hang"
    await register(plane.stub, [task, *mapped("hang6", task="hang.map")])
    execution_id = await launch(plane.stub, "hang6", int_list("xs", 6))
    execution = await wait(plane.stub, execution_id)

    assert execution.closure.phase == core.WorkflowExecution.FAILED
    message = execution.closure.error.message
    assert "[3]: bad 3" in message
    assert "1 of the array's 6 elements failed" in message and "5 aborted" in message
    assert sorted(entry["index"] for entry in read_records(tmp_path / "aborts.jsonl")) == [0, 1, 2, 4, 5]
    attempts = await plane.stub.ListTaskExecutions(
        task_execution_pb2.TaskExecutionListRequest(
            node_execution_id=identifier_pb2.NodeExecutionIdentifier(execution_id=execution_id, node_id="n0"),
            limit=10,
        )
    )
    (array,) = attempts.task_executions
    assert array.closure.phase == core.TaskExecution.FAILED
    assert "[3]: bad 3" in array.closure.error.message
    phases = {r.index: r.phase for r in array.closure.metadata.external_resources}
    assert phases == {i: core.TaskExecution.ABORTED for i in (0, 1, 2, 4, 5)} | {3: core.TaskExecution.FAILED}


async def test_terminating_a_running_map_task_aborts_its_elements_and_reports_them_aborted(
    plane: RunningPlane, tmp_path: Path
) -> None:
    task = echo_list_task("hang.map")
    task.spec.template.type = "fail-or-hang"
    await register(plane.stub, [task, *mapped("hang3", task="hang.map")])
    execution_id = await launch(plane.stub, "hang3", int_list("xs", 3))  # element 3 does not exist: all three hang
    node = identifier_pb2.NodeExecutionIdentifier(execution_id=execution_id, node_id="n0")
    for _ in range(600):
        try:
            found = await plane.stub.ListTaskExecutions(
                task_execution_pb2.TaskExecutionListRequest(node_execution_id=node, limit=10)
            )
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.NOT_FOUND:
                raise
            found = task_execution_pb2.TaskExecutionList()
        if any(len(t.closure.metadata.external_resources) == 3 for t in found.task_executions):
            break
        await asyncio.sleep(0.05)
    await plane.stub.TerminateExecution(execution_pb2.ExecutionTerminateRequest(id=execution_id, cause="enough"))
    execution = await wait(plane.stub, execution_id)

    assert execution.closure.phase == core.WorkflowExecution.ABORTED
    assert sorted(entry["index"] for entry in read_records(tmp_path / "aborts.jsonl")) == [0, 1, 2]
    found = await plane.stub.ListTaskExecutions(
        task_execution_pb2.TaskExecutionListRequest(node_execution_id=node, limit=10)
    )
    (array,) = found.task_executions
    assert array.closure.phase == core.TaskExecution.ABORTED
    assert {r.index: r.phase for r in array.closure.metadata.external_resources} == dict.fromkeys(
        (0, 1, 2), core.TaskExecution.ABORTED
    )
