"""Notification delivery: how long after a FAILED event its Slack message reaches a webhook, with the
default retry settings; and how long after a receiver that was down comes back its messages arrive.

Admin runs in this process on SQLite with its recording engine; the phases come from workflow events
over gRPC (as propeller sends them); the receiver is a real HTTP server on loopback.
Run: .venv/bin/python bench/notification_delivery.py [--executions 50] [--down-seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from admin.config import NotificationsConfig, SlackConfig
from flyteidl_py.admin import common_pb2, execution_pb2, launch_plan_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2
from flyteidl_py.service import admin_pb2_grpc
from tests.integration.admin.helpers import DOMAIN, PROJECT, WF, lp_id, package, register, wf_event
from tests.support.admin import running_admin
from tests.support.receivers import WebhookReceiver, eventually


async def _fail_one(stub: admin_pb2_grpc.AdminServiceStub, lp: identifier_pb2.Identifier, name: str) -> float:
    """Creates and fails an execution; returns when admin answered the FAILED event."""
    request = execution_pb2.ExecutionCreateRequest(
        project=PROJECT, domain=DOMAIN, name=name, spec=execution_pb2.ExecutionSpec(launch_plan=lp)
    )
    ident = (await stub.CreateExecution(request)).id
    await stub.CreateWorkflowEvent(wf_event(ident, WF.RUNNING, 1))
    await stub.CreateWorkflowEvent(wf_event(ident, WF.FAILED, 2, error=core.ExecutionError(message="boom")))
    return time.monotonic()


def _arrivals(hook: WebhookReceiver) -> dict[str, float]:
    return {p.json()["text"].split("/")[2].split(" ")[0]: p.at for p in hook.posts}


async def main(executions: int, down_seconds: float) -> None:
    hook = WebhookReceiver()
    await hook.start()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        notifications = NotificationsConfig(slack=SlackConfig(webhook_url=hook.url))  # default retry and poll
        async with running_admin(f"sqlite:///{directory}/admin.db", directory, notifications=notifications) as admin:
            stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
            await register(stub)
            base = next(p for p in package().launch_plans if p.id.name == "examples.configured.configured_wf")
            spec = launch_plan_pb2.LaunchPlanSpec()
            spec.CopyFrom(base.spec)
            spec.entity_metadata.notifications.append(
                common_pb2.Notification(phases=[WF.FAILED], slack=common_pb2.SlackNotification(recipients_email=["#a"]))
            )
            lp = lp_id("bench_notified")
            await stub.CreateLaunchPlan(launch_plan_pb2.LaunchPlanCreateRequest(id=lp, spec=spec))

            recorded: dict[str, float] = {}
            for i in range(executions):
                name = f"bench-{i}"
                recorded[name] = await _fail_one(stub, lp, name)
                await asyncio.sleep(0.05)
            await eventually(lambda: len(hook.posts) == executions, limit=120)
            arrived = _arrivals(hook)
            latencies = sorted(arrived[n] - recorded[n] for n in recorded)
            print(
                f"{executions} FAILED events -> Slack webhook (poll 1 s): "
                f"p50 {statistics.median(latencies):.3f}s, p90 {latencies[int(len(latencies) * 0.9) - 1]:.3f}s, "
                f"max {latencies[-1]:.3f}s"
            )

            await hook.stop()
            hook.posts.clear()
            await _fail_one(stub, lp, "while-down")
            await asyncio.sleep(down_seconds)
            await hook.start()
            back = time.monotonic()
            await eventually(lambda: len(hook.posts) == 1, limit=900)
            print(
                f"receiver down {down_seconds:.0f}s (default backoff 5 s doubling, max 600 s): "
                f"message arrived {hook.posts[0].at - back:.1f}s after it came back"
            )
    await hook.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--executions", type=int, default=50)
    parser.add_argument("--down-seconds", type=float, default=60.0)
    args = parser.parse_args()
    asyncio.run(main(args.executions, args.down_seconds))
