"""Building blocks for admin tests: register the fixture package, launch executions, send events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from flyteidl_py.admin import (
    event_pb2 as admin_event_pb2,
)
from flyteidl_py.admin import (
    execution_pb2,
    launch_plan_pb2,
    task_pb2,
    workflow_pb2,
)
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2, literals_pb2
from flyteidl_py.event import event_pb2
from flyteidl_py.service import admin_pb2_grpc
from tests.support.packages import Package, load_package
from tests.support.paths import fixtures_dir

PROJECT, DOMAIN = "flytesnacks", "development"
_T0 = datetime(2026, 1, 1, tzinfo=UTC)


def package(version: str = "v1") -> Package:
    return load_package(fixtures_dir() / "examples-package-fast.tgz", version=version)


async def register(stub: admin_pb2_grpc.AdminServiceStub, version: str = "v1") -> Package:
    pkg = package(version)
    for request in pkg.requests():
        if isinstance(request, task_pb2.TaskCreateRequest):
            await stub.CreateTask(request)
        elif isinstance(request, workflow_pb2.WorkflowCreateRequest):
            await stub.CreateWorkflow(request)
        else:
            assert isinstance(request, launch_plan_pb2.LaunchPlanCreateRequest)
            await stub.CreateLaunchPlan(request)
    return pkg


def lp_id(name: str, version: str = "v1") -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(
        resource_type=identifier_pb2.LAUNCH_PLAN, project=PROJECT, domain=DOMAIN, name=name, version=version
    )


def task_id(name: str, version: str = "v1") -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(
        resource_type=identifier_pb2.TASK, project=PROJECT, domain=DOMAIN, name=name, version=version
    )


def ints(**values: int) -> literals_pb2.LiteralMap:
    return literals_pb2.LiteralMap(
        literals={
            k: literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=v)))
            for k, v in values.items()
        }
    )


async def launch(
    stub: admin_pb2_grpc.AdminServiceStub,
    name: str = "",
    lp: str = "examples.configured.configured_wf",
    **inputs: int,
) -> identifier_pb2.WorkflowExecutionIdentifier:
    response = await stub.CreateExecution(
        execution_pb2.ExecutionCreateRequest(
            project=PROJECT,
            domain=DOMAIN,
            name=name,
            spec=execution_pb2.ExecutionSpec(launch_plan=lp_id(lp)),
            inputs=ints(**inputs),
        )
    )
    return response.id


def at(seconds: float) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(_T0 + timedelta(seconds=seconds))
    return ts


def wf_event(
    ident: identifier_pb2.WorkflowExecutionIdentifier, phase: int, t: float, **result: object
) -> admin_event_pb2.WorkflowExecutionEventRequest:
    event = event_pb2.WorkflowExecutionEvent(
        execution_id=ident,
        phase=phase,
        occurred_at=at(t),
        producer_id="propeller",
        **result,  # type: ignore[arg-type]
    )
    return admin_event_pb2.WorkflowExecutionEventRequest(request_id=f"wf-{phase}-{t}", event=event)


def node_event(
    ident: identifier_pb2.WorkflowExecutionIdentifier, node: str, phase: int, t: float, **extra: object
) -> admin_event_pb2.NodeExecutionEventRequest:
    event = event_pb2.NodeExecutionEvent(
        id=identifier_pb2.NodeExecutionIdentifier(execution_id=ident, node_id=node),
        phase=phase,
        occurred_at=at(t),
        producer_id="propeller",
        spec_node_id=node,
        **extra,  # type: ignore[arg-type]
    )
    return admin_event_pb2.NodeExecutionEventRequest(request_id=f"n-{node}-{phase}-{t}", event=event)


def task_event(
    ident: identifier_pb2.WorkflowExecutionIdentifier,
    node: str,
    task: str,
    attempt: int,
    phase: int,
    t: float,
    **extra: object,
) -> admin_event_pb2.TaskExecutionEventRequest:
    event = event_pb2.TaskExecutionEvent(
        task_id=task_id(task),
        retry_attempt=attempt,
        phase=phase,
        occurred_at=at(t),
        producer_id="propeller",
        parent_node_execution_id=identifier_pb2.NodeExecutionIdentifier(execution_id=ident, node_id=node),
        **extra,  # type: ignore[arg-type]
    )
    return admin_event_pb2.TaskExecutionEventRequest(request_id=f"t-{node}-{attempt}-{phase}-{t}", event=event)


WF = core.WorkflowExecution.Phase
NODE = core.NodeExecution.Phase
TASK = core.TaskExecution.Phase
