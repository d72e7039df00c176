"""Map tasks of N instant elements through `flyteplane start` with real flytekit: wall time, elements/s, plane CPU.

A fresh `flyteplane start --data-dir <tmp>` runs as a subprocess with the local backend's defaults (warm
fork servers; task environment: the cached flytekit 1.16.31 virtualenv the tests use); `pyflyte register`
registers bench/workflows once; then for each N (`--sizes`, default 1000,10000) one execution of each
shape (`--shapes`) runs, submitted with CreateExecution and waited for with GetExecution polled every
`--poll-ms` (100) milliseconds, its output read with GetExecutionData and checked.

- produced: `workflows.maps.mapped(n=N)`: a task returns `list(range(N))`, `map_task(plus_one)` maps it,
  a task sums the results (N + 2 tasks, N of them the map's elements);
- input: `workflows.maps.mapped_input(xs=list(range(N)))`: the same map over a list given as the
  execution's input, then the sum.

Printed per run: wall time (CreateExecution to outputs read), elements/s (N / wall), CPU seconds of the
plane process (admin, propeller and datacatalog share it) per element and of the whole machine (task
processes, this client and whatever else runs) per element; then, from admin's node executions, where
the wall time went: submit -> map node started, the map node's own duration, map end -> outputs read.

Run: .venv/bin/python bench/map_scale.py [--sizes 1000,10000] [--shapes produced,input] [--path warm|reuse|cold]
     [--port-base P]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import grpc
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.peer_workloads import (  # noqa: E402
    DOMAIN,
    PROJECT,
    TERMINAL,
    VERSION,
    Phase,
    Plane,
    machine_cpu,
    process_cpu,
    register,
)
from flyteidl_py.admin import execution_pb2, node_execution_pb2  # noqa: E402
from flyteidl_py.core import identifier_pb2, literals_pb2  # noqa: E402
from flyteidl_py.service import admin_pb2_grpc  # noqa: E402
from tests.support.flytekit import flytekit_bin  # noqa: E402

SHAPES = {"produced": "workflows.maps.mapped", "input": "workflows.maps.mapped_input"}


def _integer(value: int) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=value)))


def shape_inputs(shape: str, n: int) -> literals_pb2.LiteralMap:
    if shape == "produced":
        return literals_pb2.LiteralMap(literals={"n": _integer(n)})
    items = literals_pb2.LiteralCollection(literals=[_integer(i) for i in range(n)])
    return literals_pb2.LiteralMap(literals={"xs": literals_pb2.Literal(collection=items)})


@dataclass(frozen=True)
class Run:
    shape: str
    size: int
    wall: float | None  # None: not finished within the timeout
    plane_cpu: float
    machine_cpu: float
    map_started: float | None  # seconds after submit
    map_seconds: float | None
    note: str = ""


def _seconds(ts: Timestamp | Duration) -> float:
    return ts.seconds + ts.nanos / 1e9


async def run_once(
    stub: admin_pb2_grpc.AdminServiceStub, plane: Plane, shape: str, n: int, poll: float, limit: float
) -> Run:
    assert plane.process is not None
    pid = plane.process.pid
    lp = identifier_pb2.Identifier(
        resource_type=identifier_pb2.LAUNCH_PLAN, project=PROJECT, domain=DOMAIN, name=SHAPES[shape], version=VERSION
    )
    request = execution_pb2.ExecutionCreateRequest(
        project=PROJECT, domain=DOMAIN, spec=execution_pb2.ExecutionSpec(launch_plan=lp), inputs=shape_inputs(shape, n)
    )
    cpu_before, machine_before = process_cpu(pid), machine_cpu()
    submitted_wall = time.time()
    began = time.perf_counter()
    ident = (await stub.CreateExecution(request)).id
    get = execution_pb2.WorkflowExecutionGetRequest(id=ident)
    wall: float | None = None
    note = ""
    while True:
        execution = await stub.GetExecution(get)
        if execution.closure.phase in TERMINAL:
            break
        if time.perf_counter() - began > limit:
            note = f"still {Phase.Name(execution.closure.phase)} after {limit:.0f}s"
            break
        await asyncio.sleep(poll)
    if not note:
        data = await stub.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=ident))
        wall = time.perf_counter() - began
        if execution.closure.phase != Phase.SUCCEEDED:
            note = f"ended {Phase.Name(execution.closure.phase)}: {execution.closure.error.message[:200]}"
        else:
            got = data.full_outputs.literals["o0"].scalar.primitive.integer
            want = n * (n - 1) // 2 + n
            if got != want:
                note = f"computed {got}, expected {want}"
    plane_cpu, machine = process_cpu(pid) - cpu_before, machine_cpu() - machine_before
    map_started = map_seconds = None
    nodes = await stub.ListNodeExecutions(
        node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=ident, limit=100)
    )
    for node in nodes.node_executions:
        if node.metadata.spec_node_id == ("n1" if shape == "produced" else "n0"):
            if node.closure.HasField("started_at"):
                map_started = _seconds(node.closure.started_at) - submitted_wall
            if node.closure.HasField("duration"):
                map_seconds = _seconds(node.closure.duration)
    if wall is None:
        await stub.TerminateExecution(execution_pb2.ExecutionTerminateRequest(id=ident, cause="bench timeout"))
    return Run(shape, n, wall, plane_cpu, machine, map_started, map_seconds, note)


def use_ports(plane: Plane, base: int) -> None:
    """Moves the plane's ports to base, base+1, ... (for machines where only a range may be used)."""
    names = ["ADMIN__GRPC_PORT", "ADMIN__HTTP_PORT", "PROPELLER__GRPC_PORT", "DATACATALOG__GRPC_PORT"]
    for offset, name in enumerate(names):
        plane.env[f"FLYTEPLANE_{name}"] = str(base + offset)
    plane.grpc_port = base


def report(runs: list[Run], poll: float, path: str) -> None:
    print(
        f"\nMap tasks through `flyteplane start` (local backend path: {path}), real flytekit 1.16.31 "
        f"`x + 1` elements, client polling GetExecution every {poll * 1000:g} ms."
    )
    print("CPU per element: of the plane process (admin + propeller + datacatalog) / of the whole machine\n")
    print(
        f"{'shape':<9} {'N':>6} {'wall':>9} {'elements/s':>11} {'CPU/element plane/all':>22}"
        f" {'submit->map start':>18} {'map node':>9}"
    )
    for run in runs:
        wall = f"{run.wall:8.1f}s" if run.wall is not None else "       --"
        rate = f"{run.size / run.wall:11.0f}" if run.wall else "         --"
        started = f"{run.map_started:17.1f}s" if run.map_started is not None else "                --"
        took = f"{run.map_seconds:8.1f}s" if run.map_seconds is not None else "       --"
        print(
            f"{run.shape:<9} {run.size:>6} {wall} {rate} "
            f"{run.plane_cpu / run.size * 1000:>11.2f} /{run.machine_cpu / run.size * 1000:>6.2f} ms"
            f" {started} {took}  {run.note}"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated element counts")
    parser.add_argument("--shapes", default="produced,input", help="comma-separated: produced, input")
    parser.add_argument("--poll-ms", type=float, default=100.0, help="GetExecution polling interval")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds one run may take before it is abandoned")
    parser.add_argument("--port-base", type=int, default=0, help="use ports from here on (default: free ports)")
    parser.add_argument("--path", default="warm", choices=("warm", "reuse", "cold"),
                        help="the local backend's path: warm (fork, the default), reuse or cold")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (plane log) and print it")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    shapes = [s for s in args.shapes.split(",") if s]
    poll = args.poll_ms / 1000
    bin_dir = flytekit_bin()
    scratch = Path(tempfile.mkdtemp(prefix="map-scale-"))
    project = scratch / "project"
    shutil.copytree(ROOT / "bench" / "workflows", project / "workflows")
    plane = Plane(scratch, args.path, bin_dir.parent)
    if args.port_base:
        use_ports(plane, args.port_base)
    runs: list[Run] = []
    try:
        healthy = plane.start()
        registered = register(bin_dir, plane.config, project)
        print(f"healthy {healthy:.1f}s, registered {registered:.1f}s", file=sys.stderr)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{plane.grpc_port}") as channel:
            stub = admin_pb2_grpc.AdminServiceStub(channel)
            await run_once(stub, plane, "produced", 2, poll, args.timeout)  # warm-up: fork servers start
            for size in sizes:
                for shape in shapes:
                    run = await run_once(stub, plane, shape, size, poll, args.timeout)
                    runs.append(run)
                    print(f"{shape} N={size}: {json.dumps(run.__dict__)}", file=sys.stderr)
    finally:
        plane.stop()
        if args.keep:
            print(f"\nscratch directory (plane log): {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    report(runs, poll, args.path)


if __name__ == "__main__":
    asyncio.run(main())
