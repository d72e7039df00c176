"""Engine throughput with echo tasks (no task processes): node completions/s, peak RSS, CPU per node.

Admin and propeller run as their own processes (`flyteplane serve`) on SQLite in a scratch directory;
this script registers echo workflows through admin, launches one execution at a time, waits for it
through GetExecution and reads propeller's peak RSS (VmHWM) from /proc.
`--database postgresql` runs the same cases on a throwaway PostgreSQL server (tests/support/postgres.py,
fsync off; one fresh database per case, shared by admin and the engines) with each engine count of
`--engines` (several propeller processes, which admin spreads launches over round-robin), and
`--executions K` adds a case of K executions at once (half chains of --chain nodes, half fan-outs with
--fan-out nodes between them), where a second engine can help: one execution runs on one engine.
Run: .venv/bin/python bench/engine.py [--chain 1000] [--fan-out 10000] [--map 100000]
     .venv/bin/python bench/engine.py --database sqlite,postgresql --engines 1,2 --executions 8 --map 0
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flyteidl_py.core import literals_pb2
from flyteidl_py.service import admin_pb2_grpc
from tests.integration.propeller.helpers import ints, launch, register, wait
from tests.support.echo import chain, echo_list_task, echo_task, fan_out, mapped
from tests.support.plane import plane_config
from tests.support.postgres import create_database, free_port, postgres_server
from tests.support.processes import ServedComponent, flyteplane_env

REPO = Path(__file__).resolve().parents[1]


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


def tree_cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of a process, its live children and the children it has reaped
    (PostgreSQL's postmaster: a backend's time moves to the postmaster's account when it exits)."""
    ticks = os.sysconf("SC_CLK_TCK")
    user = system = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # exited meanwhile: its time is now in the parent's reaped-children fields
        if stat.parent.name == str(pid):
            user += (int(fields[11]) + int(fields[13])) / ticks
            system += (int(fields[12]) + int(fields[14])) / ticks
        elif fields[1] == str(pid):
            user += int(fields[11]) / ticks
            system += int(fields[12]) / ticks
    return user, system


def postmaster_pid(port: int) -> int:
    """The PostgreSQL server listening on `port` (its command line says `-p PORT`)."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            argv = cmdline.read_bytes().decode(errors="replace").split("\0")
            if Path(argv[0]).name == "postgres" and any(
                a == "-p" and b == str(port) for a, b in itertools.pairwise(argv)
            ):
                return int(cmdline.parent.name)
    raise LookupError(f"no postgres process with -p {port}")


@dataclass
class Ports:
    """Ports for the servers: free ones as the tests pick them, or taken in turn from `--ports LOW-HIGH`."""

    low: int = 0
    high: int = 0
    _next: int = field(default=0, init=False)

    def take(self) -> int:
        if not self.low:
            return free_port()
        for _ in range(self.high - self.low + 1):
            port = self.low + self._next
            self._next = (self._next + 1) % (self.high - self.low + 1)
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
        raise RuntimeError(f"no free port in {self.low}-{self.high}")


@dataclass(frozen=True)
class Postgres:
    base_url: str
    pid: int  # the postmaster: its CPU time covers every backend


@dataclass(frozen=True)
class Workload:
    label: str
    nodes: int
    requests: list[object]  # what to register
    launches: list[tuple[str, literals_pb2.LiteralMap]]  # launch plan and inputs, in launch order


def single(label: str, nodes: int, requests: list[object], lp: str, inputs: literals_pb2.LiteralMap) -> Workload:
    return Workload(label, nodes, requests, [(lp, inputs)])


def concurrent(executions: int, chain_length: int, fan_out_width: int) -> Workload:
    """`executions` at once, chains and fan-outs in the order c f f c c f f c ...: admin's round-robin then
    gives each of two engines as many of either (a plain alternation would send every chain to one)."""
    kinds = ["chain" if i % 4 in (0, 3) else "fan-out" for i in range(executions)]
    width = fan_out_width // max(kinds.count("fan-out"), 1)
    launches = [("bench-chain" if kind == "chain" else "bench-fan-out", ints(x=i)) for i, kind in enumerate(kinds)]
    nodes = kinds.count("chain") * chain_length + kinds.count("fan-out") * width
    label = f"{executions} at once ({kinds.count('chain')}x{chain_length}c, {kinds.count('fan-out')}x{width}f)"
    return Workload(
        label,
        nodes,
        [echo_task(), *chain("bench-chain", chain_length), *fan_out("bench-fan-out", width)],
        launches,
    )


@dataclass
class Plane:
    """Admin and `engines` propeller processes (`flyteplane serve`), sharing one database when there are several."""

    admin: ServedComponent
    engines: dict[str, ServedComponent]  # owner id -> its process
    admin_port: int
    propeller_url: str

    def pids(self) -> dict[str, int]:
        processes = {**self.engines, "admin": self.admin}
        pids = {name: component.process.pid for name, component in processes.items() if component.process}
        assert len(pids) == len(processes)
        return pids


@contextlib.asynccontextmanager
async def served_plane(
    directory: Path, admin_url: str, propeller_url: str, engines: int, ports: Ports
) -> AsyncIterator[Plane]:
    base = plane_config(directory, admin_url, propeller_url)
    names = ["propeller"] if engines == 1 else [f"propeller-{i + 1}" for i in range(engines)]
    engine_ports = {name: ports.take() for name in names}
    admin_port = ports.take()
    base = base.model_copy(
        update={
            "admin": base.admin.model_copy(
                update={
                    "grpc_port": admin_port,
                    "http_port": ports.take(),
                    "engine_endpoint": ",".join(f"127.0.0.1:{port}" for port in engine_ports.values()),
                }
            ),
            "propeller": base.propeller.model_copy(
                update={"admin_endpoint": f"127.0.0.1:{admin_port}", "datacatalog_endpoint": None}
            ),
        }
    )
    env = flyteplane_env(base)
    # The served processes run this tree's code, not the one the virtualenv's `flyteplane` was installed from.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    exe = Path(sys.executable).with_name("flyteplane")
    await asyncio.to_thread(
        subprocess.run, [str(exe), "migrate", "admin", "propeller"], env=env, check=True, capture_output=True
    )
    served = {}
    for name, port in engine_ports.items():
        config = base.model_copy(
            update={"propeller": base.propeller.model_copy(update={"grpc_port": port, "owner_id": name})}
        )
        served[name] = ServedComponent(
            "propeller", {**flyteplane_env(config), "PYTHONPATH": env["PYTHONPATH"]}, directory / f"{name}.log"
        )
    admin = ServedComponent("admin", env, directory / "admin.log")
    plane = Plane(admin, served, admin_port, propeller_url)
    try:
        await asyncio.gather(*(engine.start() for engine in served.values()))
        await admin.start()
        yield plane
    finally:
        await admin.stop()
        for engine in served.values():
            await engine.stop()


async def owners(propeller_url: str) -> Counter[str]:
    """Executions per owning engine, as the engines' shared table records them; every one finished."""
    from sqlalchemy import select

    from flyteplane.database import Database
    from propeller.models import WorkflowRecord

    db = Database.connect(propeller_url)
    try:
        async with db.session() as session:
            rows = list(await session.execute(select(WorkflowRecord.owner, WorkflowRecord.terminal)))
    finally:
        await db.dispose()
    assert all(terminal for _, terminal in rows), rows
    return Counter(owner for owner, _ in rows)


def per_node(cpu: tuple[float, float], nodes: int) -> str:
    return f"{cpu[0] / nodes * 1e3:.2f}+{cpu[1] / nodes * 1e3:.2f}"


async def run_case(
    workload: Workload, directory: Path, ports: Ports, *, engines: int = 1, postgres: Postgres | None = None
) -> float:
    """Runs `workload` on a fresh plane; prints and returns node completions/s."""
    if postgres is None:
        admin_url, propeller_url = f"sqlite:///{directory}/admin.db", f"sqlite:///{directory}/propeller.db"
    else:
        admin_url = propeller_url = create_database(postgres.base_url, directory.name.replace("-", "_"))
    import grpc

    async with served_plane(directory, admin_url, propeller_url, engines, ports) as plane:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{plane.admin_port}")
        stub = admin_pb2_grpc.AdminServiceStub(channel)
        try:
            await register(stub, workload.requests)
            pids = plane.pids()
            if postgres is not None:
                pids["postgres"] = postgres.pid
            measure = {name: tree_cpu_seconds if name == "postgres" else cpu_seconds for name in pids}
            cpu_before = {name: measure[name](pid) for name, pid in pids.items()}
            start = time.perf_counter()
            executions = [await launch(stub, lp, inputs) for lp, inputs in workload.launches]
            for execution in executions:  # one at a time: the polls stay a small load on admin
                done = await wait(stub, execution, limit=3600)
                assert done.closure.phase == 4, (execution.name, done.closure.error)  # SUCCEEDED
            seconds = time.perf_counter() - start
            cpu = {
                name: (user - before[0], system - before[1])
                for name, before in cpu_before.items()
                for user, system in [measure[name](pids[name])]
            }
            rss = {name: peak_rss_mib(pid) for name, pid in pids.items() if name != "postgres"}
        finally:
            await channel.close()
    owned = await owners(propeller_url)
    assert sum(owned.values()) == len(executions) and set(owned) <= set(plane.engines), owned
    if len(executions) >= engines:
        assert set(owned) == set(plane.engines), f"an engine owned no execution: {dict(owned)}"
    # The owner at the end ran it throughout: no engine took an execution over from another.
    assert not [name for name, served in plane.engines.items() if "took over" in served.log.read_text()]
    label, nodes = workload.label, workload.nodes
    if postgres is None and engines == 1:
        print(
            f"{label:28} {nodes:8d} nodes {seconds:8.2f} s {nodes / seconds:9.1f} node completions/s "
            f"peak RSS propeller {rss['propeller']:7.1f} MiB, admin {rss['admin']:7.1f} MiB\n{'':28} CPU ms per "
            f"node (user+system): propeller {per_node(cpu['propeller'], nodes)}, admin {per_node(cpu['admin'], nodes)}",
            flush=True,
        )
    else:
        label = f"{label}, {engines} engine{'s' if engines > 1 else ''}"
        print(
            f"{label:39} {nodes:8d} nodes {seconds:8.2f} s {nodes / seconds:9.1f} node completions/s peak RSS "
            + ", ".join(f"{name} {mib:.1f} MiB" for name, mib in rss.items())
            + f"\n{'':39} CPU ms per node (user+system): "
            + ", ".join(f"{name} {per_node(used, nodes)}" for name, used in cpu.items())
            + (
                f"\n{'':39} executions per engine: " + ", ".join(f"{name} {owned[name]}" for name in plane.engines)
                if engines > 1
                else ""
            ),
            flush=True,
        )
    return nodes / seconds


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


def port_range(text: str) -> Ports:
    low, _, high = text.partition("-")
    return Ports(int(low), int(high))


def postgres_or_none(databases: list[str], ports: Ports) -> contextlib.AbstractContextManager[Postgres | None]:
    if "postgresql" not in databases:
        return contextlib.nullcontext()

    @contextlib.contextmanager
    def running() -> Iterator[Postgres]:
        port = ports.take()
        with postgres_server(port) as base_url:
            yield Postgres(base_url, postmaster_pid(port))

    return running()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chain", type=int, default=1000)
    parser.add_argument("--fan-out", type=int, default=10000)
    parser.add_argument("--map", type=int, default=100000)
    parser.add_argument(
        "--database", default="sqlite", help="sqlite, postgresql or both (sqlite,postgresql): the cases run on each"
    )
    parser.add_argument(
        "--engines", default="1", help="propeller processes on PostgreSQL, e.g. 1,2 (SQLite: always one)"
    )
    parser.add_argument(
        "--executions",
        type=int,
        default=0,
        help="add a case of this many executions at once: half chains of --chain, half fan-outs sharing --fan-out",
    )
    parser.add_argument("--ports", type=port_range, default=Ports(), help="LOW-HIGH: take the servers' ports here")
    parser.add_argument("--scratch", default=None, help="directory for the databases and store (default: $TMPDIR)")
    parser.add_argument(
        "--keep-scratch",
        action="store_true",
        help="leave the run's files in place (deleting them makes the next run's file system slower for minutes)",
    )
    args = parser.parse_args()
    databases = args.database.split(",")
    engine_counts = [int(n) for n in args.engines.split(",")]
    assert set(databases) <= {"sqlite", "postgresql"}, databases
    print(
        "machine: 2 cores; admin and propeller as separate processes; "
        + " then ".join(
            {"sqlite": "SQLite", "postgresql": "PostgreSQL (throwaway server, fsync off)"}[d] for d in databases
        )
        + f"; local file store; scratch {args.scratch or tempfile.gettempdir()}; "
        "wall time from CreateExecution to SUCCEEDED in admin"
    )
    kept = tempfile.mkdtemp(dir=args.scratch) if args.keep_scratch else None
    with (
        contextlib.nullcontext(kept) if kept else tempfile.TemporaryDirectory(dir=args.scratch) as tmp,
        postgres_or_none(databases, args.ports) as postgres,
    ):
        root = Path(tmp)
        if kept:
            print(f"scratch kept in {root}", flush=True)
        cost = inode_cost_us(root)
        print(
            f"file system: {cost:.0f} us of CPU per new directory + file"
            + (" (slow: many inodes were freed in the last minutes; figures will be lower)" if cost > 150 else ""),
            flush=True,
        )
        workloads = [
            single(label, size, [echo_task(), *maker("bench", size)], "bench", ints(x=1))
            for label, size, maker in (
                ("chain (echo)", args.chain, chain),
                ("fan-out (echo)", args.fan_out, fan_out),
            )
            if size
        ]
        if args.map:
            workloads.append(
                single(
                    "map task (echo elements)",
                    args.map,
                    [echo_list_task(), *mapped("bench-map")],
                    "bench-map",
                    int_list(args.map),
                )
            )
        if args.executions:
            workloads.append(concurrent(args.executions, args.chain, args.fan_out))
        rates: dict[tuple[str, int], float] = {}
        for database in databases:
            if database == "postgresql":
                # Each workload with every engine count in turn, so that the ratio compares runs close in time.
                print(f"PostgreSQL: each workload with {' then '.join(map(str, engine_counts))} engine(s)", flush=True)
            for n, workload in enumerate(workloads):
                for engines in engine_counts if database == "postgresql" else [1]:
                    directory = root / f"{database}-{n}-{workload.label.split()[0]}-{engines}"
                    directory.mkdir()
                    rates[workload.label, engines] = await run_case(
                        workload,
                        directory,
                        args.ports,
                        engines=engines,
                        postgres=postgres if database == "postgresql" else None,
                    )
        if "postgresql" in databases and 1 in engine_counts and len(engine_counts) > 1:
            for engines in engine_counts:
                if engines != 1:
                    print(
                        f"scaling on PostgreSQL, {engines} engines / 1 (node completions/s): "
                        + ", ".join(f"{w.label} {rates[w.label, engines] / rates[w.label, 1]:.2f}x" for w in workloads),
                        flush=True,
                    )


if __name__ == "__main__":
    asyncio.run(main())
