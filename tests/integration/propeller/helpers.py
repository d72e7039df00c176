"""Registering, launching and waiting on executions through admin, as a client would."""

from __future__ import annotations

import asyncio
import time

from flyteidl_py.admin import execution_pb2, launch_plan_pb2, task_pb2, workflow_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2, literals_pb2
from flyteidl_py.service import admin_pb2_grpc
from tests.support.echo import DOMAIN, PROJECT, ident

TERMINAL = {
    core.WorkflowExecution.SUCCEEDED,
    core.WorkflowExecution.FAILED,
    core.WorkflowExecution.ABORTED,
    core.WorkflowExecution.TIMED_OUT,
}


async def register(stub: admin_pb2_grpc.AdminServiceStub, requests: list[object]) -> None:
    for request in requests:
        if isinstance(request, task_pb2.TaskCreateRequest):
            await stub.CreateTask(request)
        elif isinstance(request, workflow_pb2.WorkflowCreateRequest):
            await stub.CreateWorkflow(request)
        else:
            assert isinstance(request, launch_plan_pb2.LaunchPlanCreateRequest)
            await stub.CreateLaunchPlan(request)


def ints(**values: int) -> literals_pb2.LiteralMap:
    return literals_pb2.LiteralMap(
        literals={
            k: literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=v)))
            for k, v in values.items()
        }
    )


def int_list(name: str, count: int) -> literals_pb2.LiteralMap:
    """`{name: [0, 1, ..., count - 1]}`: a map task's list input."""
    items = [
        literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=i)))
        for i in range(count)
    ]
    return literals_pb2.LiteralMap(
        literals={name: literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=items))}
    )


async def launch(
    stub: admin_pb2_grpc.AdminServiceStub, lp: str, inputs: literals_pb2.LiteralMap, name: str = ""
) -> identifier_pb2.WorkflowExecutionIdentifier:
    response = await stub.CreateExecution(
        execution_pb2.ExecutionCreateRequest(
            project=PROJECT,
            domain=DOMAIN,
            name=name,
            spec=execution_pb2.ExecutionSpec(launch_plan=ident(identifier_pb2.LAUNCH_PLAN, lp)),
            inputs=inputs,
        )
    )
    return response.id


async def wait(
    stub: admin_pb2_grpc.AdminServiceStub, execution: identifier_pb2.WorkflowExecutionIdentifier, limit: float = 60.0
) -> execution_pb2.Execution:
    deadline = time.monotonic() + limit
    while True:
        result = await stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=execution))
        if result.closure.phase in TERMINAL:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{execution.name} still {core.WorkflowExecution.Phase.Name(result.closure.phase)}")
        await asyncio.sleep(0.05)


async def outputs(
    stub: admin_pb2_grpc.AdminServiceStub, execution: identifier_pb2.WorkflowExecutionIdentifier
) -> literals_pb2.LiteralMap:
    data = await stub.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=execution))
    return data.full_outputs
