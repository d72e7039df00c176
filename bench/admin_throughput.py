"""Admin throughput: CreateExecution/s and GetExecution/s with 1, 16 and 64 concurrent clients.

Admin runs as its own process (`flyteplane serve admin`, engine = in-process recorder, so this
measures admin alone) on SQLite and on a throwaway PostgreSQL; the clients run here over gRPC.

`--auth` measures what authentication costs instead: admin on SQLite three times -- auth off, auth on
(every call carries a client-credentials token from admin's /oauth2/token, verified by admin: RS256
signature, expiry, audience, issuer, revocation), and auth on with roles checked per project and domain
(`admin.auth.authorization`, the bench client bound as a launcher in the bench project) -- and prints
the latency of one GetExecution at a time (median and 99th percentile of `--latency-calls`) and the
rates with 1/16/64 clients for each, then the added latency per authenticated call.
Run: .venv/bin/python bench/admin_throughput.py [--seconds-per-point 5] [--auth [--latency-calls 2000]]
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
from pathlib import Path

import grpc
import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flyteidl_py.admin import execution_pb2
from flyteidl_py.service import admin_pb2_grpc
from tests.integration.admin.helpers import DOMAIN, PROJECT, ints, lp_id, register
from tests.support.postgres import create_database, free_port, postgres_server

CONCURRENCY = (1, 16, 64)


BENCH_CLIENT = "bench"
Metadata = tuple[tuple[str, str], ...]


@contextmanager
def admin_process(database_url: str, root: Path, auth: dict[str, object] | None = None) -> Iterator[tuple[int, int]]:
    """(gRPC port, HTTP port) of a `flyteplane serve admin` on `database_url`; with `auth`, that `admin.auth`
    section in its config file and the data directory beside `root` (where its signing key is made)."""
    port, http_port = free_port(), free_port()
    env = dict(
        os.environ,
        FLYTEPLANE_ADMIN__DATABASE_URL=database_url,
        FLYTEPLANE_ADMIN__GRPC_PORT=str(port),
        FLYTEPLANE_ADMIN__HTTP_PORT=str(http_port),
        FLYTEPLANE_STORAGE__LOCAL_ROOT=str(root),
        FLYTEPLANE_LOGGING__LEVEL="WARNING",
        FLYTEPLANE_DATA_DIR=str(root.with_name(root.name + "-data")),
    )
    config: list[str] = []
    if auth is not None:
        config_file = root.with_name(root.name + "-config.yaml")
        config_file.write_text(yaml.safe_dump({"admin": {"auth": auth}}))
        config = ["--config", str(config_file)]
    exe = Path(sys.executable).with_name("flyteplane")
    subprocess.run([str(exe), "migrate", *config], env=env, check=True, capture_output=True)
    proc = subprocess.Popen([str(exe), "serve", "admin", *config], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # "admin: gRPC on ..." once it serves
        yield port, http_port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def client_token(database_url: str, root: Path, http_port: int) -> str:
    """A client-credentials token for a new service client `bench`, from admin's own token endpoint."""
    env = dict(os.environ, FLYTEPLANE_ADMIN__DATABASE_URL=database_url)
    exe = Path(sys.executable).with_name("flyteplane")
    made = subprocess.run(
        [str(exe), "auth", "clients", "create", BENCH_CLIENT, "--data-dir", str(root.with_name(root.name + "-data"))],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    answer = httpx.post(
        f"http://127.0.0.1:{http_port}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(BENCH_CLIENT, made.stdout.strip()),
        timeout=30,
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


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


async def measure(port: int, label: str, seconds: float, metadata: Metadata = (), latency_calls: int = 0) -> float:
    """Prints the rates (and, with `latency_calls`, one-at-a-time GetExecution latency); the median latency in ms."""
    interceptors = [_Bearer(metadata)] if metadata else None
    channels = [
        grpc.aio.insecure_channel(f"127.0.0.1:{port}", interceptors=interceptors) for _ in range(max(CONCURRENCY))
    ]
    stubs = [admin_pb2_grpc.AdminServiceStub(c) for c in channels]
    await register(stubs[0])
    names: list[str] = []
    median = 0.0
    if latency_calls:
        await _create(stubs[0], names)
        for _ in range(50):  # warm up the channel and admin's caches
            await _get(stubs[0], names[0])
        took = []
        for _ in range(latency_calls):
            start = time.perf_counter()
            await _get(stubs[0], names[0])
            took.append((time.perf_counter() - start) * 1e3)
        took.sort()
        median = statistics.median(took)
        p99 = took[int(len(took) * 0.99)]
        print(f"{label:26} GetExecution one at a time: median {median:.3f} ms, p99 {p99:.3f} ms", flush=True)
    for concurrency in CONCURRENCY:
        # Calibrate the call count so each point runs about `seconds`.
        probe = 20
        rate = await _rate(probe, concurrency, lambda i, c=concurrency: _create(stubs[i % c], names))
        calls = max(probe, int(rate * seconds))
        create_rate = await _rate(calls, concurrency, lambda i, c=concurrency: _create(stubs[i % c], names))
        get_rate = await _rate(calls, concurrency, lambda i, c=concurrency: _get(stubs[i % c], names[i % len(names)]))
        print(
            f"{label:26} clients={concurrency:3}  CreateExecution/s={create_rate:8.1f}  GetExecution/s={get_rate:8.1f}",
            flush=True,
        )
    for c in channels:
        await c.close()
    return median


class _Bearer(grpc.aio.UnaryUnaryClientInterceptor):
    """Adds the token to every call of a channel, as flytekit's auth interceptor does."""

    def __init__(self, metadata: Metadata) -> None:
        self._metadata = metadata

    async def intercept_unary_unary(self, continuation, details, request):  # type: ignore[no-untyped-def]
        details = details._replace(metadata=(*(details.metadata or ()), *self._metadata))
        return await continuation(details, request)


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


def measure_auth(tmp: Path, seconds: float, latency_calls: int) -> None:
    """Auth off, auth on, auth on with roles: each on a fresh SQLite admin; then the added latency per call."""
    roles = {
        "enabled": True,
        "bindings": [
            {"role": "admin", "clients": [BENCH_CLIENT], "projects": [PROJECT]},
        ],
    }
    cases: list[tuple[str, dict[str, object] | None]] = [
        ("sqlite, auth off", None),
        ("sqlite, auth on", {"enabled": True}),
        ("sqlite, auth on + roles", {"enabled": True, "authorization": roles}),
    ]
    medians: dict[str, float] = {}
    for number, (label, auth) in enumerate(cases):
        url = f"sqlite:///{tmp}/admin-{number}.db"
        root = tmp / f"store-{number}"
        with admin_process(url, root, auth) as (port, http_port):
            metadata: Metadata = ()
            if auth is not None:
                metadata = (("authorization", f"Bearer {client_token(url, root, http_port)}"),)
            medians[label] = asyncio.run(measure(port, label, seconds, metadata, latency_calls))
    off = medians["sqlite, auth off"]
    for label, median in medians.items():
        if label != "sqlite, auth off":
            print(f"added latency per call, {label.removeprefix('sqlite, ')}: {median - off:+.3f} ms (median)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds-per-point", type=float, default=5.0)
    parser.add_argument("--auth", action="store_true", help="measure what token verification (and roles) add")
    parser.add_argument("--latency-calls", type=int, default=2000, help="one-at-a-time calls timed with --auth")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; admin in its own process; clients over loopback gRPC")
    with tempfile.TemporaryDirectory() as tmp:
        if args.auth:
            measure_auth(Path(tmp), args.seconds_per_point, args.latency_calls)
            return
        with admin_process(f"sqlite:///{tmp}/admin.db", Path(tmp) / "store") as (port, _):
            asyncio.run(measure(port, "sqlite", args.seconds_per_point))
        with (
            postgres_server() as base,
            admin_process(create_database(base, "bench"), Path(tmp) / "store2") as (port, _),
        ):
            asyncio.run(measure(port, "postgresql", args.seconds_per_point))


if __name__ == "__main__":
    main()
