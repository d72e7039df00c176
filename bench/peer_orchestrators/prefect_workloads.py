"""W1-W4 as Prefect flows of `x + 1` tasks on the thread-pool task runner (run by the Prefect virtualenv's python).

Every flow runs as a local flow run in this process, with Prefect's default task runner
(`ThreadPoolTaskRunner`, default settings); every task is a Prefect task whose runs and states the API
server records. The server is the one Prefect's ephemeral mode starts (`SubprocessASGIServer`: uvicorn in
a subprocess, SQLite under PREFECT_HOME), started here on the port of PREFECT_API_URL instead of a random
one. bench/peers.py sets PREFECT_HOME, PREFECT_API_URL and turns the server's analytics off.

Prefect's defaults, as found in 3.9.1: the thread pool has no size limit (a thread per pending task);
task runs reach the server as events over a websocket, which the server records on its own time,
after the flow may have returned (so each repetition also waits for the server to have recorded all its
task runs as completed, `Records.settle`, timed separately); and a sync flow run's exit joins its heartbeat thread
(PREFECT_FLOWS_HEARTBEAT_FREQUENCY, default 180 s; the variable cannot turn it off), which sleeps in
one-second steps: a flow run shorter than about a second takes about a second. Under W4's 20
concurrent flow runs the SQLite-backed server answers some calls 503, which the client retries with
exponential backoff (up to ~30 s; PREFECT_LOGGING_LEVEL=DEBUG shows it): most of W4's time is waiting.
"""

import os
import sys
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import prefect
from harness import Workloads, main
from prefect import flow, task
from prefect.events.worker import EventsWorker
from prefect.logging.handlers import APILogWorker
from prefect.server.api.server import SubprocessASGIServer


@task
def plus_one(x: int) -> int:
    return x + 1


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@flow
def fan_out100(x: int = 0) -> int:
    # The reduce is called directly: Prefect waits for the 100 futures it is given and runs it in the flow's thread.
    return total([plus_one.submit(x) for _ in range(100)])


@flow
def chain50(x: int = 0) -> int:
    # Each task submitted to the pool once its predecessor's result is in: a chain, one task at a time.
    for _ in range(50):
        x = plus_one.submit(x).result()
    return x


@flow
def one_task(x: int = 0) -> int:
    return plus_one.submit(x).result()


@flow
def chain10(x: int = 0) -> int:
    for _ in range(10):
        x = plus_one.submit(x).result()
    return x


class Records:
    """What the server has recorded, read straight from its REST API."""

    def __init__(self, api_url: str) -> None:
        self.client = httpx.Client(base_url=api_url, timeout=30)

    def completed_task_runs(self) -> int:
        query = {"task_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}}
        return int(self.client.post("/task_runs/count", json=query).json())

    def settle(self, task_runs: int) -> None:
        """Wait until the server has recorded `task_runs` completed task runs (polled every 20 ms)."""
        deadline = time.monotonic() + 600
        while self.completed_task_runs() < task_runs:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server recorded {self.completed_task_runs()} of {task_runs} task runs")
            time.sleep(0.02)

    def summary(self) -> dict[str, Any]:
        return {
            "task_runs_recorded": int(self.client.post("/task_runs/count", json={}).json()),
            "flow_runs_recorded": int(self.client.post("/flow_runs/count", json={}).json()),
        }


if __name__ == "__main__":
    api_url = os.environ["PREFECT_API_URL"]
    server = SubprocessASGIServer(port=urlsplit(api_url).port)
    began = time.perf_counter()
    server.start()
    print(f"ephemeral server up in {time.perf_counter() - began:.1f}s at {server.api_url}", file=sys.stderr)
    try:
        records = Records(api_url)
        main(
            "prefect",
            prefect.__version__,
            Workloads(fan_out100, chain50, one_task, chain10, settle=records.settle),
            summary=records.summary,
            notes="W2-W4: plus_one.submit(x).result() one after the other; W4: 20 threads each calling the flow",
        )
    finally:
        # What is still queued for the server (logs, events) goes before it stops, not into errors at exit.
        APILogWorker.drain_all(timeout=5)
        EventsWorker.drain_all(timeout=5)
        server.stop()
