"""What tracing costs per task: the plane in-process running echo chains, tracing off vs on (OTLP/gRPC to a receiver).

The plane (admin, propeller, DataCatalog; tests/support/plane.py) runs echo tasks, so the figure is the
plane's own work per task -- RPCs, rounds, events, and with tracing on the spans of every RPC, the
execution, each node and attempt, and their export -- with no task process to hide it. The receiver
(tests/support/otlp.py) runs in a subprocess, so its work is not counted; the exporter's is (its
thread is in this process, and the spans are flushed before the clock stops).

Trials alternate off, on, off, on, ... each on a fresh plane, so a change in the machine's load
hits both modes alike; each trial runs `--executions` chains of `--nodes` tasks one after another
after one warm-up execution. Printed per mode: wall ms per task and CPU ms per task of this process
(all its threads), median over trials and their spread. CPU time is the steadier figure on a busy
machine: it does not count time spent waiting for a core.

Run: .venv/bin/python bench/tracing_overhead.py [--trials 4] [--executions 5] [--nodes 20] [--modes off,on]
In a checkout from before tracing (e.g. for "off costs nothing"), copy this file there and pass `--modes off`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flyteidl_py.core import execution_pb2 as core  # noqa: E402
from tests.integration.propeller.helpers import ints, launch, register, wait  # noqa: E402
from tests.support.echo import chain, echo_task  # noqa: E402
from tests.support.plane import plane_config, running_plane  # noqa: E402


async def _receive() -> None:
    """The receiver subprocess: prints its gRPC port, then the number of spans it got once stdin closes."""
    from tests.support.otlp import otlp_receiver

    async with otlp_receiver() as receiver:
        print(receiver.grpc_port, flush=True)
        await asyncio.to_thread(sys.stdin.read)
        print(len(receiver.received()), flush=True)


async def trial(traced: bool, endpoint: str, executions: int, nodes: int, scratch: str | None) -> tuple[float, float]:
    """(wall ms, CPU ms) per task of one fresh plane."""
    try:
        from flyteplane.config import TracingConfig
        from flyteplane.tracing import configure_tracing, force_flush, shutdown_tracing
    except ImportError:  # a tree from before tracing (`--modes base`): the same work, nothing to configure
        assert not traced, "this tree has no tracing"

        def force_flush() -> None:
            pass

        def shutdown_tracing() -> None:
            pass
    else:
        configure_tracing(TracingConfig(enabled=traced, endpoint=endpoint, protocol="grpc"), env={})
    try:
        with tempfile.TemporaryDirectory(dir=scratch) as tmp:
            config = plane_config(Path(tmp), f"sqlite:///{tmp}/admin.db", f"sqlite:///{tmp}/propeller.db")
            async with running_plane(config) as plane:
                await register(plane.stub, [echo_task(), *chain("bench_chain", nodes)])
                warm = await launch(plane.stub, "bench_chain", ints(x=0))
                assert (await wait(plane.stub, warm)).closure.phase == core.WorkflowExecution.SUCCEEDED
                await asyncio.to_thread(force_flush)
                wall, cpu = time.perf_counter(), time.process_time()
                for i in range(executions):
                    ident = await launch(plane.stub, "bench_chain", ints(x=i))
                    result = await wait(plane.stub, ident, limit=300)
                    assert result.closure.phase == core.WorkflowExecution.SUCCEEDED
                await asyncio.to_thread(force_flush)  # the export is part of tracing's cost
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        shutdown_tracing()
    tasks = executions * nodes
    return wall * 1000 / tasks, cpu * 1000 / tasks


def _summary(values: list[float]) -> str:
    return f"median {statistics.median(values):7.3f}  (min {min(values):.3f}, max {max(values):.3f})"


async def trials(endpoint: str, args: argparse.Namespace) -> dict[bool, list[tuple[float, float]]]:
    results: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    modes = [mode == "on" for mode in args.modes.split(",")]
    for n in range(args.trials):
        for traced in modes if n % 2 == 0 else modes[::-1]:
            wall, cpu = await trial(traced, endpoint, args.executions, args.nodes, args.scratch)
            results[traced].append((wall, cpu))
            label = "on " if traced else "off"
            print(f"trial {n + 1} tracing {label}: {wall:7.3f} wall ms/task  {cpu:7.3f} CPU ms/task", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--trials", type=int, default=4, help="trials per mode (alternating)")
    parser.add_argument("--executions", type=int, default=5)
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--scratch", help="directory for the planes' data (default: the system's temp)")
    parser.add_argument("--modes", default="off,on", help="off,on; `off` alone in a tree from before tracing")
    parser.add_argument("--receiver", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver:
        asyncio.run(_receive())
        return
    if "on" not in args.modes.split(","):  # no receiver: a tree from before tracing has none
        results, spans = asyncio.run(trials("", args)), "0"
    else:
        receiver = subprocess.Popen(
            [sys.executable, __file__, "--receiver"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert receiver.stdout is not None and receiver.stdin is not None
        endpoint = f"http://127.0.0.1:{receiver.stdout.readline().strip()}"
        try:
            results = asyncio.run(trials(endpoint, args))
        finally:
            receiver.stdin.close()
            spans = receiver.stdout.readline().strip()
            receiver.wait()
    tasks = args.executions * args.nodes
    print(f"\n{args.trials} trials per mode, {args.executions} x {args.nodes}-task echo chains ({tasks} tasks) each")
    if not results[True]:
        print(f"tracing off: wall ms/task {_summary([w for w, _ in results[False]])}")
        print(f"             CPU  ms/task {_summary([c for _, c in results[False]])}")
        return
    for traced in (False, True):
        print("tracing on  (OTLP/gRPC to a local receiver)" if traced else "tracing off")
        print(f"  wall ms/task {_summary([w for w, _ in results[traced]])}")
        print(f"  CPU  ms/task {_summary([c for _, c in results[traced]])}")
    off_wall, off_cpu = (statistics.median(v) for v in zip(*results[False], strict=True))
    on_wall, on_cpu = (statistics.median(v) for v in zip(*results[True], strict=True))
    print(
        f"on - off: {on_wall - off_wall:+.3f} wall ms/task ({(on_wall / off_wall - 1) * 100:+.1f}%), "
        f"{on_cpu - off_cpu:+.3f} CPU ms/task ({(on_cpu / off_cpu - 1) * 100:+.1f}%)"
    )
    print(f"spans the receiver got: {spans}")


if __name__ == "__main__":
    main()
