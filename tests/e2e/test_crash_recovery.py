"""Propeller killed with SIGKILL at random moments while 20 executions run: all finish, correctly, once.

Each task claims a marker file for its (execution, step, attempt) with O_EXCL, so an attempt that a
restarted engine started a second time would fail its workflow instead of passing unnoticed.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from flyteidl_py.admin import execution_pb2, task_execution_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2, literals_pb2
from tests.integration.propeller.helpers import wait
from tests.support.flytekit import Flytekit
from tests.support.plane import plane_config
from tests.support.processes import ServedComponent, flyteplane_env

ENGINE_CASES = Path(__file__).with_name("engine_cases")
VERSION = "crash-v1"
EXECUTIONS = 20


@pytest.fixture
async def crash_setup(tmp_path: Path, flytekit_venv: Path) -> AsyncIterator[tuple[object, ServedComponent, Flytekit]]:
    from admin.server import start_admin
    from launcher.migrate import migrate

    plugins = {
        "backends": {
            "local": {
                "default_environment": {"venv": str(flytekit_venv.parent)},
                "work_dir": str(tmp_path / "local-tasks"),
            }
        }
    }
    config = plane_config(
        tmp_path, f"sqlite:///{tmp_path}/admin.db", f"sqlite:///{tmp_path}/propeller.db", plugins=plugins
    )
    config = config.model_copy(
        update={
            "propeller": config.propeller.model_copy(
                update={"owner_id": "crash-test", "resync_seconds": 1.0, "workers": 8}
            )
        }
    )
    await migrate(config, ("admin", "propeller"), quiet=True)
    propeller = ServedComponent("propeller", flyteplane_env(config), tmp_path / "propeller.log")
    await propeller.start()
    admin = await start_admin(config)
    client = Flytekit.for_admin(flytekit_venv, admin.grpc_port, admin.http_port, tmp_path / "project")
    client.add_package(ENGINE_CASES, "engine_cases")
    try:
        yield admin, propeller, client
    finally:
        await propeller.stop()
        await admin.stop(0)


async def test_executions_survive_repeated_sigkills_of_the_engine(
    crash_setup: tuple[object, ServedComponent, Flytekit], tmp_path: Path
) -> None:
    import grpc

    from flyteidl_py.service import admin_pb2_grpc

    admin, propeller, client = crash_setup
    await client.register("engine_cases", version=VERSION)
    markers = tmp_path / "markers"
    markers.mkdir()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{admin.grpc_port}")  # type: ignore[attr-defined]
    stub = admin_pb2_grpc.AdminServiceStub(channel)
    lp = identifier_pb2.Identifier(
        resource_type=identifier_pb2.LAUNCH_PLAN,
        project="flytesnacks",
        domain="development",
        name="engine_cases.behaviours.crash_wf",
        version=VERSION,
    )
    ids = []
    for i in range(EXECUTIONS):
        inputs = literals_pb2.LiteralMap(
            literals={
                "marker_dir": literals_pb2.Literal(
                    scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(string_value=str(markers)))
                ),
                "x": literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=i))),
            }
        )
        created = await stub.CreateExecution(
            execution_pb2.ExecutionCreateRequest(
                project="flytesnacks",
                domain="development",
                spec=execution_pb2.ExecutionSpec(launch_plan=lp),
                inputs=inputs,
            )
        )
        ids.append(created.id)
    rng = random.Random(7)
    for _ in range(3):
        await asyncio.sleep(rng.uniform(1.5, 4.0))
        await propeller.kill()
        await asyncio.sleep(rng.uniform(0.0, 1.0))
        await propeller.start()
    for i, ident in enumerate(ids):
        done = await wait(stub, ident, limit=300)
        assert done.closure.phase == core.WorkflowExecution.SUCCEEDED, (ident.name, done.closure.error)
        data = await stub.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=ident))
        assert data.full_outputs.literals["o0"].scalar.primitive.integer == i + 3
        for node in ("n0", "n1", "n2"):
            attempts = await stub.ListTaskExecutions(
                task_execution_pb2.TaskExecutionListRequest(
                    node_execution_id=identifier_pb2.NodeExecutionIdentifier(execution_id=ident, node_id=node), limit=10
                )
            )
            assert [a.closure.phase for a in attempts.task_executions][-1] == core.TaskExecution.SUCCEEDED
    # Every step of every execution ran exactly once per attempt (no marker was claimed twice), and
    # an attempt beyond the first appears only where admin recorded a retry.
    assert propeller.starts == 4
    assert len(list(markers.iterdir())) >= EXECUTIONS * 3
    await channel.close()
