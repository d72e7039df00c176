"""Admin throughput: CreateExecution/s and GetExecution/s with 1, 16 and 64 concurrent clients.

Admin runs as its own process (`flyteplane serve admin`, engine = in-process recorder, so this
measures admin alone) on SQLite and on a throwaway PostgreSQL; the clients run here over gRPC.
Run: .venv/bin/python bench/admin_throughput.py [--seconds-per-point 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flyteidl_py.admin import execution_pb2
from flyteidl_py.service import admin_pb2_grpc
from tests.integration.admin.helpers import DOMAIN, PROJECT, ints, lp_id, register
from tests.support.postgres import create_database, free_port, postgres_server

CONCURRENCY = (1, 16, 64)


@contextmanager
def admin_process(database_url: str, root: Path) -> Iterator[int]:
    port = free_port()
    env = dict(
        os.environ,
        FLYTEPLANE_ADMIN__DATABASE_URL=database_url,
        FLYTEPLANE_ADMIN__GRPC_PORT=str(port),
        FLYTEPLANE_ADMIN__HTTP_PORT=str(free_port()),
        FLYTEPLANE_STORAGE__LOCAL_ROOT=str(root),
        FLYTEPLANE_LOGGING__LEVEL="WARNING",
    )
    exe = Path(sys.executable).with_name("flyteplane")
    subprocess.run([str(exe), "migrate"], env=env, check=True, capture_output=True)
    proc = subprocess.Popen([str(exe), "serve", "admin"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # "admin: gRPC on ..." once it serves
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def _rate(calls: int, concurrency: int, make_call) -> float:  # type: ignore[no-untyped-def]
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(calls):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            await make_call(i)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return calls / (time.perf_counter() - start)


async def measure(port: int, label: str, seconds: float) -> None:
    channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}") for _ in range(max(CONCURRENCY))]
    stubs = [admin_pb2_grpc.AdminServiceStub(c) for c in channels]
    await register(stubs[0])
    names: list[str] = []
    for concurrency in CONCURRENCY:
        # Calibrate the call count so each point runs about `seconds`.
        probe = 20
        rate = await _rate(probe, concurrency, lambda i, c=concurrency: _create(stubs[i % c], names))
        calls = max(probe, int(rate * seconds))
        create_rate = await _rate(calls, concurrency, lambda i, c=concurrency: _create(stubs[i % c], names))
        get_rate = await _rate(calls, concurrency, lambda i, c=concurrency: _get(stubs[i % c], names[i % len(names)]))
        print(
            f"{label:11} clients={concurrency:3}  CreateExecution/s={create_rate:8.1f}  GetExecution/s={get_rate:8.1f}",
            flush=True,
        )
    for c in channels:
        await c.close()


async def _create(stub: admin_pb2_grpc.AdminServiceStub, names: list[str]) -> None:
    response = await stub.CreateExecution(
        execution_pb2.ExecutionCreateRequest(
            project=PROJECT,
            domain=DOMAIN,
            spec=execution_pb2.ExecutionSpec(launch_plan=lp_id("examples.configured.configured_wf")),
            inputs=ints(x=3),
        )
    )
    names.append(response.id.name)


async def _get(stub: admin_pb2_grpc.AdminServiceStub, name: str) -> None:
    from flyteidl_py.core import identifier_pb2

    await stub.GetExecution(
        execution_pb2.WorkflowExecutionGetRequest(
            id=identifier_pb2.WorkflowExecutionIdentifier(project=PROJECT, domain=DOMAIN, name=name)
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds-per-point", type=float, default=5.0)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; admin in its own process; clients over loopback gRPC")
    with tempfile.TemporaryDirectory() as tmp:
        with admin_process(f"sqlite:///{tmp}/admin.db", Path(tmp) / "store") as port:
            asyncio.run(measure(port, "sqlite", args.seconds_per_point))
        with postgres_server() as base, admin_process(create_database(base, "bench"), Path(tmp) / "store2") as port:
            asyncio.run(measure(port, "postgresql", args.seconds_per_point))


if __name__ == "__main__":
    main()
