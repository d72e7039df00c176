"""Dynamic workflows against static ones of the same size through `flyteplane start` with real flytekit: nodes/s,
the engine's round time, plane CPU and memory.

A fresh `flyteplane start --data-dir <tmp>` runs as a subprocess on the local backend's `--path` (reuse by
default: the tasks are `x + 1`, and what is compared is the plane's handling of the graph, not fork costs) with
its metrics on; `pyflyte register` registers bench/fanouts/dynamics.py once; then for each size N (`--sizes`,
2000 and 20000 by default) each shape runs once, submitted with CreateExecution and waited for with
GetExecution polled every `--poll-ms` (100) milliseconds, its output read and checked:

- static: `static_fan<N>`, a workflow of N `x + 1` tasks and their total (N = 2000 or 20000 only);
- dynamic: `dynamic_fan(n=N)`, a `@dynamic` that yields the same N tasks and their total;
- nested: `nested_fan(n=N, k=--k)`, dynamics three deep: k middles of k fans of N / k^2 tasks, a total each.

Every node that runs a task counts (the `x + 1`s, the totals, the dynamic tasks themselves). Printed per run:
wall time, nodes/s, the dynamic's rate relative to the static run of the same N, propeller's rounds and their
mean duration during the run (from flyteplane_propeller_round_seconds), plane CPU per node, and the plane
process's resident memory after the run and its peak (VmHWM, since it started).

Run: .venv/bin/python bench/dynamic_scale.py [--sizes 2000,20000] [--shapes static,dynamic,nested] [--k 10]
     [--path reuse|warm|cold] [--port-base P]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.map_scale import use_ports  # noqa: E402
from bench.peer_workloads import (  # noqa: E402
    DOMAIN,
    PROJECT,
    TERMINAL,
    VERSION,
    Phase,
    Plane,
    delta,
    int_map,
    process_cpu,
    register,
)
from flyteidl_py.admin import execution_pb2  # noqa: E402
from flyteidl_py.core import identifier_pb2  # noqa: E402
from flyteidl_py.service import admin_pb2_grpc  # noqa: E402
from tests.support.flytekit import flytekit_bin  # noqa: E402

MODULE = "workflows.dynamics"
STATIC_SIZES = (2000, 20000)


@dataclass(frozen=True)
class Run:
    shape: str
    size: int
    nodes: int
    wall: float | None
    plane_cpu: float
    rounds: float
    round_seconds: float
    rss_mib: float
    peak_mib: float
    note: str = ""


def nodes_of(shape: str, n: int, k: int) -> int:
    """The nodes of a run that execute a task."""
    if shape == "static":
        return n + 1
    if shape == "dynamic":
        return n + 2
    return n + 2 * (k * k + k + 1)


def memory_mib(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of `pid` in MiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


async def run_once(
    stub: admin_pb2_grpc.AdminServiceStub, plane: Plane, shape: str, n: int, k: int, poll: float, limit: float
) -> Run:
    assert plane.process is not None
    pid = plane.process.pid
    name = {"static": f"static_fan{n}", "dynamic": "dynamic_fan", "nested": "nested_fan"}[shape]
    inputs = {"static": int_map(), "dynamic": int_map(n=n), "nested": int_map(n=n, k=k)}[shape]
    lp = identifier_pb2.Identifier(
        resource_type=identifier_pb2.LAUNCH_PLAN,
        project=PROJECT,
        domain=DOMAIN,
        name=f"{MODULE}.{name}",
        version=VERSION,
    )
    request = execution_pb2.ExecutionCreateRequest(
        project=PROJECT, domain=DOMAIN, spec=execution_pb2.ExecutionSpec(launch_plan=lp), inputs=inputs
    )
    metrics_before = plane.metrics()
    cpu_before = process_cpu(pid)
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
            await stub.TerminateExecution(execution_pb2.ExecutionTerminateRequest(id=ident, cause="bench timeout"))
            break
        await asyncio.sleep(poll)
    if not note:
        data = await stub.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=ident))
        wall = time.perf_counter() - began
        if execution.closure.phase != Phase.SUCCEEDED:
            note = f"ended {Phase.Name(execution.closure.phase)}: {execution.closure.error.message[:200]}"
        else:
            got = data.full_outputs.literals["o0"].scalar.primitive.integer
            if got != n * (n + 1) // 2:
                note = f"computed {got}, expected {n * (n + 1) // 2}"
    plane_cpu = process_cpu(pid) - cpu_before
    metrics_after = plane.metrics()
    rounds = round_seconds = 0.0
    if metrics_before is not None and metrics_after is not None:
        after, before = metrics_after[0], metrics_before[0]
        rounds = delta(after, before, "flyteplane_propeller_round_seconds_count")
        round_seconds = delta(after, before, "flyteplane_propeller_round_seconds_sum")
    rss, peak = memory_mib(pid)
    return Run(shape, n, nodes_of(shape, n, k), wall, plane_cpu, rounds, round_seconds, rss, peak, note)


def report(runs: list[Run], poll: float, path: str, k: int) -> None:
    print(
        f"\nDynamic vs static fan-outs through `flyteplane start` (local backend path: {path}), real flytekit "
        f"1.16.31 `x + 1` tasks, client polling GetExecution every {poll * 1000:g} ms; nested: k = {k}."
    )
    print("nodes: those that run a task; vs static: nodes/s relative to the static run of the same N\n")
    print(
        f"{'shape':<8} {'N':>6} {'nodes':>6} {'wall':>8} {'nodes/s':>8} {'vs static':>9} {'rounds':>7}"
        f" {'mean round':>10} {'plane CPU/node':>14} {'RSS / peak':>16}  note"
    )
    static_rate = {r.size: r.nodes / r.wall for r in runs if r.shape == "static" and r.wall}
    for run in runs:
        rate = run.nodes / run.wall if run.wall else None
        relative = f"{rate / static_rate[run.size]:8.0%}" if rate and run.size in static_rate else "       --"
        mean_round = f"{run.round_seconds / run.rounds * 1000:8.1f}ms" if run.rounds else "        --"
        print(
            f"{run.shape:<8} {run.size:>6} {run.nodes:>6} "
            + (f"{run.wall:7.1f}s {rate:8.1f}" if run.wall and rate else f"{'--':>8} {'--':>8}")
            + f" {relative} {run.rounds:7.0f} {mean_round} {run.plane_cpu / run.nodes * 1000:11.2f} ms"
            f" {run.rss_mib:6.0f}/{run.peak_mib:5.0f} MiB  {run.note}"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,20000", help="comma-separated task counts")
    parser.add_argument("--shapes", default="static,dynamic,nested", help="comma-separated: static, dynamic, nested")
    parser.add_argument("--k", type=int, default=10, help="nested: middles per outer and fans per middle")
    parser.add_argument("--poll-ms", type=float, default=100.0, help="GetExecution polling interval")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds one run may take before it is abandoned")
    parser.add_argument("--port-base", type=int, default=0, help="use ports from here on (default: free ports)")
    parser.add_argument("--path", default="reuse", choices=("warm", "reuse", "cold"), help="the local backend's path")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (plane log) and print it")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    shapes = [s for s in args.shapes.split(",") if s]
    for size in sizes:
        if "static" in shapes and size not in STATIC_SIZES:
            parser.error(f"static fan-outs exist for {STATIC_SIZES} tasks only, not {size}")
        if "nested" in shapes and size % (args.k * args.k):
            parser.error(f"nested: {size} is not a multiple of k^2 = {args.k * args.k}")
    poll = args.poll_ms / 1000
    bin_dir = flytekit_bin()
    scratch = Path(tempfile.mkdtemp(prefix="dynamic-scale-"))
    package = scratch / "project" / "workflows"
    package.mkdir(parents=True)
    shutil.copy(ROOT / "bench" / "fanouts" / "__init__.py", package / "__init__.py")
    shutil.copy(ROOT / "bench" / "fanouts" / "dynamics.py", package / "dynamics.py")
    plane = Plane(scratch, args.path, bin_dir.parent, metrics=True)
    if args.port_base:
        use_ports(plane, args.port_base)
    runs: list[Run] = []
    try:
        healthy = plane.start()
        registered = register(bin_dir, plane.config, scratch / "project")
        print(f"healthy {healthy:.1f}s, registered {registered:.1f}s", file=sys.stderr)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{plane.grpc_port}") as channel:
            stub = admin_pb2_grpc.AdminServiceStub(channel)
            await run_once(stub, plane, "dynamic", 4, args.k, poll, args.timeout)  # warm-up: workers start
            for size in sizes:
                for shape in shapes:
                    run = await run_once(stub, plane, shape, size, args.k, poll, args.timeout)
                    runs.append(run)
                    print(f"{shape} N={size}: {run}", file=sys.stderr)
    finally:
        plane.stop()
        if args.keep:
            print(f"\nscratch directory (plane log): {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    report(runs, poll, args.path, args.k)


if __name__ == "__main__":
    asyncio.run(main())
