"""Only the plane's own components reach its internal channels: a client cannot forge what an
execution did (admin's event RPCs) nor launch past admin (the engine's API).

Before the plane credential, any client could send WorkflowExecutionEvent(SUCCEEDED, output_data)
for a running execution and admin recorded it as the outcome.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import SecretStr

from flyteidl_py.admin import event_pb2 as admin_event_pb2
from flyteidl_py.admin import execution_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2
from flyteidl_py.event import event_pb2
from flyteidl_py.flyteplane.engine.v1 import engine_pb2, engine_pb2_grpc
from flyteidl_py.flyteplane.events.v1 import events_pb2, events_pb2_grpc
from flyteplane.credentials import CREDENTIAL_FILE, METADATA_KEY, presenting
from tests.integration.propeller.helpers import ints, launch, outputs, register, wait
from tests.support.echo import echo_task, fan_out
from tests.support.plane import RunningPlane, plane_config, running_plane

PLUGINS = {
    "factories": {"sleep": "tests.support.plugin_doubles:sleep"},
    "backends": {"sleep": {"seconds": 2.0}},
}


@pytest.fixture
async def plane(tmp_path: Path) -> AsyncIterator[RunningPlane]:
    config = plane_config(
        tmp_path, f"sqlite:///{tmp_path}/admin.db", f"sqlite:///{tmp_path}/propeller.db", plugins=PLUGINS
    )
    async with running_plane(config) as running:
        yield running


def _sleep_task() -> object:
    request = echo_task("sleep.int")
    request.spec.template.type = "sleep"
    return request


def _forged_success(execution: identifier_pb2.WorkflowExecutionIdentifier) -> event_pb2.WorkflowExecutionEvent:
    now = Timestamp()
    now.GetCurrentTime()
    return event_pb2.WorkflowExecutionEvent(
        execution_id=execution,
        producer_id="propeller",
        phase=core.WorkflowExecution.SUCCEEDED,
        occurred_at=now,
        output_data=ints(x=666),
    )


async def test_forged_events_are_refused_and_the_execution_keeps_its_own_outcome(plane: RunningPlane) -> None:
    await register(plane.stub, [_sleep_task(), *fan_out("slow", 1, task="sleep.int")])
    execution = await launch(plane.stub, "slow", ints(x=5))
    forged = _forged_success(execution)
    for metadata in ((), ((METADATA_KEY, "not-the-credential"),)):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await plane.stub.CreateWorkflowEvent(
                admin_event_pb2.WorkflowExecutionEventRequest(request_id="r1", event=forged), metadata=metadata
            )
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert METADATA_KEY in (refused.value.details() or "")
    batch = events_pb2_grpc.EventSinkServiceStub(plane.channel)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await batch.RecordEvents(
            events_pb2.RecordEventsRequest(
                events=[events_pb2.Event(workflow=admin_event_pb2.WorkflowExecutionEventRequest(event=forged))]
            )
        )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    node = event_pb2.NodeExecutionEvent(
        id=identifier_pb2.NodeExecutionIdentifier(node_id="n0", execution_id=execution),
        phase=core.NodeExecution.SUCCEEDED,
        occurred_at=forged.occurred_at,
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await plane.stub.CreateNodeEvent(admin_event_pb2.NodeExecutionEventRequest(request_id="r2", event=node))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED

    running = await plane.stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=execution))
    assert running.closure.phase in (
        core.WorkflowExecution.UNDEFINED,
        core.WorkflowExecution.QUEUED,
        core.WorkflowExecution.RUNNING,
    )
    finished = await wait(plane.stub, execution)
    assert finished.closure.phase == core.WorkflowExecution.SUCCEEDED
    assert (await outputs(plane.stub, execution)).literals["x"].scalar.primitive.integer == 5


async def test_the_engine_api_refuses_callers_without_the_credential(plane: RunningPlane) -> None:
    port = plane.config.propeller.grpc_port
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        engine = engine_pb2_grpc.EngineServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await engine.Launch(engine_pb2.LaunchRequest())
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    # With it, the same empty request gets as far as validation.
    credential = plane.config.plane_credential()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}", interceptors=presenting(credential)) as channel:
        engine = engine_pb2_grpc.EngineServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await engine.Launch(engine_pb2.LaunchRequest())
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_the_credential_is_kept_in_the_data_directory_unless_configured(tmp_path: Path) -> None:
    config = plane_config(tmp_path, f"sqlite:///{tmp_path}/admin.db", f"sqlite:///{tmp_path}/propeller.db")
    first = config.plane_credential()
    assert (tmp_path / CREDENTIAL_FILE).stat().st_mode & 0o077 == 0
    assert config.plane_credential() == first  # a restart presents and expects the same one
    configured = config.model_copy(update={"credential": SecretStr("shared-by-replicas")})
    assert configured.plane_credential() == "shared-by-replicas"
    # A plane whose components are configured with one value works end to end with it.
    async with running_plane(configured) as running:
        await register(running.stub, [echo_task(), *fan_out("one", 1)])
        execution = await launch(running.stub, "one", ints(x=2))
        assert (await wait(running.stub, execution)).closure.phase == core.WorkflowExecution.SUCCEEDED
