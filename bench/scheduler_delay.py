"""Scheduler firing delay: tick -> execution created in admin, over 100 ticks that all fall on one minute.

100 launch plans with the cron schedule `* * * * *` (the worst case: every tick of the minute at
once) are registered and activated in admin (`flyteplane serve admin`, SQLite, engine = in-process
recorder, so launching costs nothing beyond admin); `flyteplane serve scheduler` (its own SQLite)
fires them. The delay of each tick is its execution's `created_at` minus its `scheduled_at`, both
as admin records them. `--minutes N` measures N consecutive minutes (N x 100 ticks).
Run: .venv/bin/python bench/scheduler_delay.py [--launch-plans 100] [--minutes 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flyteidl_py.admin import common_pb2, launch_plan_pb2, schedule_pb2
from flyteidl_py.service import admin_pb2_grpc
from tests.integration.admin.helpers import DOMAIN, PROJECT, lp_id, package, register
from tests.support.postgres import free_port


@contextmanager
def served(component: str, env: dict[str, str], log: Path) -> Iterator[None]:
    exe = Path(sys.executable).with_name("flyteplane")
    with open(log, "ab") as err:
        proc = subprocess.Popen([str(exe), "serve", component], env=env, stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # the line it prints once it runs
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def measure(launch_plans: int, minutes: int) -> list[float]:
    """Run admin and the scheduler as processes on SQLite in a scratch directory, and measure."""
    with tempfile.TemporaryDirectory(prefix="scheduler-delay-") as scratch:
        root = Path(scratch)
        port = free_port()
        env = dict(
            os.environ,
            FLYTEPLANE_DATA_DIR=str(root),
            FLYTEPLANE_ADMIN__GRPC_PORT=str(port),
            FLYTEPLANE_ADMIN__HTTP_PORT=str(free_port()),
            FLYTEPLANE_STORAGE__LOCAL_ROOT=str(root / "store"),
            FLYTEPLANE_SCHEDULER__ADMIN_ENDPOINT=f"127.0.0.1:{port}",
            FLYTEPLANE_LOGGING__LEVEL="WARNING",
        )
        exe = Path(sys.executable).with_name("flyteplane")
        subprocess.run([str(exe), "migrate", "admin", "scheduler"], env=env, check=True, capture_output=True)
        with served("admin", env, root / "admin.log"), served("scheduler", env, root / "scheduler.log"):
            return asyncio.run(_delays(port, launch_plans, minutes))


async def _delays(port: int, launch_plans: int, minutes: int) -> list[float]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = admin_pb2_grpc.AdminServiceStub(channel)
        await register(stub)
        base = next(r for r in package().launch_plan_requests() if r.id.name.endswith("configured_wf"))
        for i in range(launch_plans):
            request = launch_plan_pb2.LaunchPlanCreateRequest()
            request.CopyFrom(base)
            request.id.CopyFrom(lp_id(f"bench.every_minute_{i:03d}"))
            request.spec.entity_metadata.schedule.CopyFrom(
                schedule_pb2.Schedule(cron_schedule=schedule_pb2.CronSchedule(schedule="* * * * *"))
            )
            await stub.CreateLaunchPlan(request)
            await stub.UpdateLaunchPlan(
                launch_plan_pb2.LaunchPlanUpdateRequest(id=request.id, state=launch_plan_pb2.ACTIVE)
            )
        # The first minute that starts at least 3 s after the last activation (the scheduler sees it in 0.5 s).
        ready = datetime.now(UTC) + timedelta(seconds=3)
        first = ready.replace(second=0, microsecond=0) + timedelta(minutes=1)
        last = first + timedelta(minutes=minutes - 1)
        print(f"{launch_plans} launch plans active; measuring the ticks {first:%H:%M} .. {last:%H:%M}", flush=True)
        wanted = launch_plans * minutes
        deadline = time.monotonic() + (last - datetime.now(UTC)).total_seconds() + 120
        while True:
            listed = await stub.ListExecutions(
                common_pb2.ResourceListRequest(
                    id=common_pb2.NamedEntityIdentifier(project=PROJECT, domain=DOMAIN), limit=10000
                )
            )
            delays = [
                (e.closure.created_at.ToDatetime(tzinfo=UTC) - scheduled).total_seconds()
                for e in listed.executions
                if first <= (scheduled := e.spec.metadata.scheduled_at.ToDatetime(tzinfo=UTC)) <= last
            ]
            if len(delays) >= wanted or time.monotonic() > deadline:
                return delays
            await asyncio.sleep(2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launch-plans", type=int, default=100)
    parser.add_argument("--minutes", type=int, default=1)
    args = parser.parse_args()
    delays = sorted(measure(args.launch_plans, args.minutes))
    wanted = args.launch_plans * args.minutes
    if len(delays) < wanted:
        print(f"only {len(delays)} of {wanted} ticks fired")
    if delays:
        p95 = delays[max(0, round(0.95 * len(delays)) - 1)]
        print(
            f"firing delay over {len(delays)} ticks (tick -> execution created): "
            f"min {delays[0]:.3f}s  median {statistics.median(delays):.3f}s  p95 {p95:.3f}s  max {delays[-1]:.3f}s"
        )


if __name__ == "__main__":
    main()
