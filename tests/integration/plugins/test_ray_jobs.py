"""`ray` tasks on a real Ray cluster without Kubernetes: a local head (`ray start --head`) and its Jobs API (ray-jobs).

Needs the Ray task environment (flytekit + flytekitplugins-ray + ray[default], a cached
virtualenv that takes ~2 minutes to build the first time). The head runs from that environment,
so the job's entrypoint finds `pyflyte-execute` and flytekitplugins-ray on its PATH.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from flyteidl_py.core import execution_pb2, literals_pb2
from flyteplane.storage import Storage
from plugins.core import Phase
from plugins.ray_jobs import RayJobsConfig, RayJobsPlugin
from tests.integration.plugins.conftest import RayHead
from tests.integration.plugins.helpers import Wakeups, drive, int_inputs, write_inputs
from tests.unit.plugins.k8s.contexts import context


@pytest.fixture
async def ray_plugin(ray_head: RayHead) -> AsyncIterator[RayJobsPlugin]:
    plugin = RayJobsPlugin(
        RayJobsConfig(address=ray_head.dashboard, python_path=(str(ray_head.code),), poll_interval_seconds=0.5)
    )
    yield plugin
    await plugin.aclose()


async def test_ray_task_runs_remote_functions_through_the_jobs_api(
    ray_plugin: RayJobsPlugin, ray_head: RayHead, storage: Storage
) -> None:
    ctx = context(storage, ray_head.templates["sum_of_squares"], execution="rayjobs", wake=Wakeups())
    await write_inputs(ctx, int_inputs(n=5))
    transition = await drive(ray_plugin, ctx, time_limit=240)
    assert transition.phase is Phase.SUCCESS, transition.reason
    outputs = await storage.read_proto(ctx.paths.outputs, literals_pb2.LiteralMap)
    assert outputs.literals["o0"].scalar.primitive.integer == 0 + 1 + 4 + 9 + 16
    details = await ray_plugin.job(ctx.generated_name)
    assert details is not None and details["status"] == "SUCCEEDED"
    assert details["runtime_env"]["env_vars"]["FROM_RUNTIME_ENV"] == "yes"  # the task's runtime env
    assert {log.name for log in transition.logs} == {"Ray job log", "Ray dashboard"}
    assert await storage.exists(storage.join(ctx.paths.output_prefix, "task.log"))
    # Handling the attempt again finds the job instead of submitting a second one.
    again = await ray_plugin.handle(ctx)
    assert again.phase is Phase.SUCCESS


async def test_ray_user_error_comes_back_as_the_tasks_error(
    ray_plugin: RayJobsPlugin, ray_head: RayHead, storage: Storage
) -> None:
    ctx = context(storage, ray_head.templates["ray_fails"], execution="rayfail", wake=Wakeups())
    await write_inputs(ctx, int_inputs(n=4))
    transition = await drive(ray_plugin, ctx, time_limit=240)
    if transition.phase is Phase.SUCCESS:  # flytekit exited 0 and left error.pb: propeller's verdict
        assert await storage.exists(ctx.paths.error)
    else:
        assert transition.error is not None and transition.error.kind == execution_pb2.ExecutionError.USER
        assert "ray task refuses 4" in transition.error.message


async def test_abort_stops_the_job(ray_plugin: RayJobsPlugin, ray_head: RayHead, storage: Storage) -> None:
    ctx = context(storage, ray_head.templates["sum_of_squares"], execution="rayabort")
    await write_inputs(ctx, int_inputs(n=3))
    started = await ray_plugin.handle(ctx)
    assert started.phase in (Phase.INITIALIZING, Phase.RUNNING)
    await ray_plugin.abort(ctx)
    deadline = time.monotonic() + 60
    while (details := await ray_plugin.job(ctx.generated_name)) and details["status"] not in ("STOPPED", "SUCCEEDED"):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.5)
    await ray_plugin.finalize(ctx)
