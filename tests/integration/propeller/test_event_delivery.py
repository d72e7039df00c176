"""Event delivery from the outbox: the engine keeps going while admin is away, and admin gets every event,
in order, once it is back."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlalchemy import func, select

from admin.server import start_admin
from flyteidl_py.admin import node_execution_pb2
from flyteidl_py.core import execution_pb2 as core
from propeller.models import OutboxEvent
from tests.integration.propeller.helpers import ints, launch, register, wait
from tests.support.echo import chain, echo_task
from tests.support.plane import plane_config, running_plane


async def test_events_wait_in_the_outbox_while_admin_is_down_and_all_arrive_once_it_is_back(tmp_path: Path) -> None:
    config = plane_config(tmp_path, f"sqlite:///{tmp_path}/admin.db", f"sqlite:///{tmp_path}/propeller.db")
    async with running_plane(config) as plane:
        await register(plane.stub, [echo_task(), *chain("outbox5", 5)])
        execution = await launch(plane.stub, "outbox5", ints(x=7))
        await plane.admin.stop(0)
        engine = plane.propeller.engine

        deadline = time.monotonic() + 30
        while not (await engine.store.find(execution)).terminal:
            assert time.monotonic() < deadline, "the engine did not finish without admin"
            await asyncio.sleep(0.05)
        async with engine.store.db.session() as session:
            waiting = await session.scalar(select(func.count()).select_from(OutboxEvent))
        assert waiting, "the engine finished, so its events must be waiting for admin"

        plane.admin = await start_admin(config)  # same port and database: admin is back
        done = await wait(plane.stub, execution, limit=30)

        assert done.closure.phase == core.WorkflowExecution.SUCCEEDED
        assert done.closure.outputs.uri
        nodes = await plane.stub.ListNodeExecutions(
            node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=execution, limit=100)
        )
        phases = {n.id.node_id: n.closure.phase for n in nodes.node_executions}
        assert {f"n{i}" for i in range(5)} <= set(phases)
        assert all(phase == core.NodeExecution.SUCCEEDED for phase in phases.values()), phases
        async with engine.store.db.session() as session:
            assert await session.scalar(select(func.count()).select_from(OutboxEvent)) == 0
