"""Engine throughput with echo tasks (no task processes): node completions/s, propeller peak RSS, round time.

Admin and propeller run as their own processes (`flyteplane serve`) on SQLite in a scratch directory;
this script registers echo workflows through admin, launches one execution at a time, waits for it
through GetExecution and reads propeller's peak RSS (VmHWM) from /proc.
Run: .venv/bin/python bench/engine.py [--chain 1000] [--fan-out 10000] [--map 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flyteidl_py.core import literals_pb2
from flyteidl_py.service import admin_pb2_grpc
from tests.integration.propeller.helpers import ints, launch, register, wait
from tests.support.echo import chain, echo_list_task, echo_task, fan_out, mapped
from tests.support.plane import plane_config
from tests.support.processes import ServedComponent, flyteplane_env


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU seconds the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def run_case(
    label: str, nodes: int, requests: list[object], lp: str, inputs: literals_pb2.LiteralMap, directory: Path
) -> None:
    config = plane_config(directory, f"sqlite:///{directory}/admin.db", f"sqlite:///{directory}/propeller.db")
    env = flyteplane_env(config)
    exe = Path(sys.executable).with_name("flyteplane")
    await asyncio.to_thread(
        subprocess.run, [str(exe), "migrate", "admin", "propeller"], env=env, check=True, capture_output=True
    )
    propeller = ServedComponent("propeller", env, directory / "propeller.log")
    admin = ServedComponent("admin", env, directory / "admin.log")
    await propeller.start()
    await admin.start()
    import grpc

    channel = grpc.aio.insecure_channel(f"127.0.0.1:{config.admin.grpc_port}")
    stub = admin_pb2_grpc.AdminServiceStub(channel)
    try:
        await register(stub, requests)
        assert propeller.process is not None and admin.process is not None
        cpu_before = [cpu_seconds(p.pid) for p in (propeller.process, admin.process)]
        start = time.perf_counter()
        execution = await launch(stub, lp, inputs)
        done = await wait(stub, execution, limit=3600)
        seconds = time.perf_counter() - start
        assert done.closure.phase == 4, done.closure.error  # SUCCEEDED
        assert propeller.process is not None
        rss = peak_rss_mib(propeller.process.pid)
        admin_rss = peak_rss_mib(admin.process.pid)
        cpu = [
            (user - user0, system - system0)
            for (user0, system0), (user, system) in zip(
                cpu_before, [cpu_seconds(p.pid) for p in (propeller.process, admin.process)], strict=True
            )
        ]
        print(
            f"{label:28} {nodes:8d} nodes {seconds:8.2f} s {nodes / seconds:9.1f} node completions/s "
            f"peak RSS propeller {rss:7.1f} MiB, admin {admin_rss:7.1f} MiB\n{'':28} CPU ms per node "
            f"(user+system): propeller {cpu[0][0] / nodes * 1e3:.2f}+{cpu[0][1] / nodes * 1e3:.2f}, "
            f"admin {cpu[1][0] / nodes * 1e3:.2f}+{cpu[1][1] / nodes * 1e3:.2f}",
            flush=True,
        )
    finally:
        await channel.close()
        await admin.stop()
        await propeller.stop()


def inode_cost_us(directory: Path, count: int = 300) -> float:
    """Microseconds of CPU the file system takes to create a directory with one file in it.

    On an ext4 without a journal (this machine's root), creating inodes soon after many were deleted
    (a previous run's scratch, a test suite) costs 10-50x more for a few minutes: the allocator
    steps over recently freed inodes one by one. Every node writes Flyte's layout (directories and
    files), so the figures below move with this number; it is printed so a run can be judged.
    """
    probe = directory / "inode-probe"
    probe.mkdir()
    before = os.times()
    for i in range(count):
        (probe / str(i)).mkdir()
        (probe / str(i) / "f").touch()
    after = os.times()
    return (after.user + after.system - before.user - before.system) / count * 1e6


def int_list(n: int) -> literals_pb2.LiteralMap:
    xs = literals_pb2.Literal(
        collection=literals_pb2.LiteralCollection(
            literals=[
                literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=i)))
                for i in range(n)
            ]
        )
    )
    return literals_pb2.LiteralMap(literals={"xs": xs})


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chain", type=int, default=1000)
    parser.add_argument("--fan-out", type=int, default=10000)
    parser.add_argument("--map", type=int, default=100000)
    parser.add_argument("--scratch", default=None, help="directory for the databases and store (default: $TMPDIR)")
    parser.add_argument(
        "--keep-scratch",
        action="store_true",
        help="leave the run's files in place (deleting them makes the next run's file system slower for minutes)",
    )
    args = parser.parse_args()
    print(
        "machine: 2 cores; admin and propeller as separate processes; SQLite; local file store; "
        f"scratch {args.scratch or tempfile.gettempdir()}; wall time from CreateExecution to SUCCEEDED in admin"
    )
    kept = tempfile.mkdtemp(dir=args.scratch) if args.keep_scratch else None
    with contextlib.nullcontext(kept) if kept else tempfile.TemporaryDirectory(dir=args.scratch) as tmp:
        root = Path(tmp)
        if kept:
            print(f"scratch kept in {root}", flush=True)
        cost = inode_cost_us(root)
        print(
            f"file system: {cost:.0f} us of CPU per new directory + file"
            + (" (slow: many inodes were freed in the last minutes; figures will be lower)" if cost > 150 else ""),
            flush=True,
        )
        for label, size in (("chain (echo)", args.chain), ("fan-out (echo)", args.fan_out)):
            if not size:
                continue
            directory = root / label.split()[0]
            directory.mkdir()
            maker = chain if label.startswith("chain") else fan_out
            await run_case(label, size, [echo_task(), *maker("bench", size)], "bench", ints(x=1), directory)
        if args.map:
            directory = root / "map"
            directory.mkdir()
            await run_case(
                "map task (echo elements)",
                args.map,
                [echo_list_task(), *mapped("bench-map")],
                "bench-map",
                int_list(args.map),
                directory,
            )


if __name__ == "__main__":
    asyncio.run(main())
