"""The peer workloads through `flyteplane start` with real flytekit: wall time and per-task overhead, cold and warm.

For each path (`--paths`, default cold,warm,reuse) a fresh `flyteplane start --data-dir <tmp>` runs as a
subprocess with the local backend set to that path (task environment: the cached flytekit 1.16.31
virtualenv the tests use); `pyflyte register` registers bench/workflows once (fast registration: a code
bundle, whose fork servers import the task module); then the workloads run, each submitted with
CreateExecution and waited for with GetExecution polled every `--poll-ms` (5) milliseconds, outputs
read with GetExecutionData -- gRPC straight from this process (our flyteidl_py stubs), so no client
library adds time. Tasks are trivial flytekit `x + 1` tasks.

- W1: a 100-task fan-out and a reduce (101 tasks);
- W2: a chain of 50 tasks;
- W3: a one-task workflow, submit -> outputs read, 10 times in a row;
- W4: 20 concurrent runs of a 10-task chain (200 tasks).

Per-task overhead is defined as the workload's wall time (first CreateExecution to the last outputs
read) divided by its number of tasks -- everything the plane, the task processes and flytekit spend,
task code included (which is ~0 here). For W3, submit -> outputs read per run (median / p90).
Before the workloads one warm-up execution runs (the bundle's fork servers start on the first task).

Paths: cold (a fresh interpreter per attempt), warm (a process forked from a warm fork server per
attempt), reuse (attempts run one after another in long-lived warm workers; `warm_mode: reuse`).
Run: .venv/bin/python bench/peer_workloads.py [--paths cold,warm,reuse] [--workloads W1,W2,W3,W4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flyteidl_py.admin import execution_pb2  # noqa: E402
from flyteidl_py.core import execution_pb2 as core_execution_pb2  # noqa: E402
from flyteidl_py.core import identifier_pb2, literals_pb2  # noqa: E402
from flyteidl_py.service import admin_pb2_grpc  # noqa: E402
from tests.support.flytekit import flytekit_bin  # noqa: E402
from tests.support.postgres import free_port  # noqa: E402

PROJECT, DOMAIN, VERSION = "flytesnacks", "development", "peer-v1"
Phase = core_execution_pb2.WorkflowExecution.Phase
TERMINAL = {Phase.SUCCEEDED, Phase.FAILED, Phase.TIMED_OUT, Phase.ABORTED}

# The local backend's settings per path (`plugins.config.LocalPluginConfig`).
PATHS: dict[str, dict[str, Any]] = {
    "cold": {"warm": False},
    "warm": {"warm": True, "warm_mode": "fork"},
    "reuse": {"warm": True, "warm_mode": "reuse"},
}


@dataclass(frozen=True)
class Workload:
    name: str
    launch_plan: str
    tasks_per_run: int
    runs: int
    concurrent: bool
    description: str


WORKLOADS = {
    "W1": Workload("W1", "workflows.trivial.fan_out100", 101, 1, False, "100-task fan-out + reduce"),
    "W2": Workload("W2", "workflows.trivial.chain50", 50, 1, False, "chain of 50"),
    "W3": Workload("W3", "workflows.trivial.one_task", 1, 10, False, "one task, 10 runs in a row"),
    "W4": Workload("W4", "workflows.trivial.chain10", 10, 20, True, "20 concurrent 10-task chains"),
}


@dataclass(frozen=True)
class Result:
    path: str
    workload: Workload
    wall: float
    per_run: list[float]
    plane_cpu: float = 0.0  # CPU seconds of the `flyteplane start` process (admin + propeller + datacatalog)
    machine_cpu: float = 0.0  # CPU seconds of the whole machine (also task processes, this client, the rest)

    @property
    def tasks(self) -> int:
        return self.workload.tasks_per_run * self.workload.runs


_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) `pid` has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def machine_cpu() -> float:
    """CPU seconds every core of the machine has been busy since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / _TICK


def int_map(**values: int) -> literals_pb2.LiteralMap:
    return literals_pb2.LiteralMap(
        literals={
            k: literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=v)))
            for k, v in values.items()
        }
    )


class Client:
    """CreateExecution, GetExecution polled, GetExecutionData: nothing else between the bench and admin."""

    def __init__(self, port: int, poll_seconds: float) -> None:
        self.channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        self.stub = admin_pb2_grpc.AdminServiceStub(self.channel)
        self.poll_seconds = poll_seconds

    async def submit(self, launch_plan: str, x: int) -> identifier_pb2.WorkflowExecutionIdentifier:
        lp = identifier_pb2.Identifier(
            resource_type=identifier_pb2.LAUNCH_PLAN, project=PROJECT, domain=DOMAIN, name=launch_plan, version=VERSION
        )
        spec = execution_pb2.ExecutionSpec(
            launch_plan=lp, metadata=execution_pb2.ExecutionMetadata(mode=execution_pb2.ExecutionMetadata.MANUAL)
        )
        request = execution_pb2.ExecutionCreateRequest(project=PROJECT, domain=DOMAIN, spec=spec, inputs=int_map(x=x))
        response = await self.stub.CreateExecution(request)
        return response.id

    async def wait(self, ident: identifier_pb2.WorkflowExecutionIdentifier) -> None:
        request = execution_pb2.WorkflowExecutionGetRequest(id=ident)
        while True:
            execution = await self.stub.GetExecution(request)
            if execution.closure.phase in TERMINAL:
                break
            await asyncio.sleep(self.poll_seconds)
        if execution.closure.phase != Phase.SUCCEEDED:
            raise RuntimeError(f"{ident.name} ended {Phase.Name(execution.closure.phase)}: {execution.closure.error}")

    async def outputs(self, ident: identifier_pb2.WorkflowExecutionIdentifier) -> literals_pb2.LiteralMap:
        data = await self.stub.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=ident))
        return data.full_outputs

    async def run(self, launch_plan: str, x: int) -> literals_pb2.LiteralMap:
        ident = await self.submit(launch_plan, x)
        await self.wait(ident)
        return await self.outputs(ident)

    async def run_concurrently(self, launch_plan: str, xs: Sequence[int]) -> list[literals_pb2.LiteralMap]:
        """All submitted at once, then waited for in order with one poller (the last to finish decides the
        wall time; one poller keeps the client's own load on admin as small as a single run's)."""
        idents = await asyncio.gather(*(self.submit(launch_plan, x) for x in xs))
        outputs = []
        for ident in idents:
            await self.wait(ident)
            outputs.append(await self.outputs(ident))
        return outputs

    async def close(self) -> None:
        await self.channel.close()


def expected(workload: Workload, x: int) -> int:
    if workload.name == "W1":
        return 100 * (x + 1)
    return x + workload.tasks_per_run


async def run_workload(client: Client, workload: Workload, plane_pid: int) -> Result:
    cpu_before, machine_before = process_cpu(plane_pid), machine_cpu()
    began = time.perf_counter()
    per_run: list[float] = []
    if workload.concurrent:
        xs = list(range(workload.runs))
        outputs = await client.run_concurrently(workload.launch_plan, xs)
    else:
        xs, outputs = [], []
        for x in range(workload.runs):
            run_began = time.perf_counter()
            outputs.append(await client.run(workload.launch_plan, x))
            per_run.append(time.perf_counter() - run_began)
            xs.append(x)
    wall = time.perf_counter() - began
    plane_cpu, machine = process_cpu(plane_pid) - cpu_before, machine_cpu() - machine_before
    for x, literals in zip(xs, outputs, strict=True):
        got = literals.literals["o0"].scalar.primitive.integer
        if got != expected(workload, x):
            raise RuntimeError(f"{workload.name} computed {got} for x={x}, expected {expected(workload, x)}")
    return Result("", workload, wall, per_run, plane_cpu, machine)


class Plane:
    """`flyteplane start` as a subprocess in a scratch data directory, with the local backend set for one path."""

    def __init__(self, scratch: Path, path: str, venv: Path) -> None:
        self.data = scratch / f"plane-{path}"
        self.log = scratch / f"plane-{path}.log"
        self.grpc_port = free_port()
        env = dict(os.environ)
        ports = {
            "ADMIN__GRPC_PORT": self.grpc_port,
            "ADMIN__HTTP_PORT": free_port(),
            "PROPELLER__GRPC_PORT": free_port(),
            "DATACATALOG__GRPC_PORT": free_port(),
        }
        env.update({f"FLYTEPLANE_{k}": str(v) for k, v in ports.items()})
        local = {"default_environment": {"venv": str(venv)}, **PATHS[path]}
        env["FLYTEPLANE_PROPELLER__PLUGINS"] = json.dumps({"backends": {"local": local}})
        self.env = env
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> float:
        began = time.perf_counter()
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).with_name("flyteplane")), "start", "--data-dir", str(self.data),
                 "--no-task-env"],
                env=self.env, stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True,
            )  # fmt: skip
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if "flyteplane is running" in line:
                return time.perf_counter() - began
        raise RuntimeError(f"flyteplane start did not come up; see {self.log}")

    @property
    def config(self) -> Path:
        return self.data / "config.yaml"

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def register(bin_dir: Path, config: Path, project: Path) -> float:
    began = time.perf_counter()
    subprocess.run(
        [str(bin_dir / "pyflyte"), "--config", str(config), "register", "-p", PROJECT, "-d", DOMAIN,
         "--version", VERSION, "workflows"],
        cwd=project, check=True, capture_output=True,
    )  # fmt: skip
    return time.perf_counter() - began


async def measure_path(path: str, workloads: list[Workload], scratch: Path, bin_dir: Path, poll: float) -> list[Result]:
    project = scratch / "project"
    if not project.exists():
        shutil.copytree(ROOT / "bench" / "workflows", project / "workflows")
    plane = Plane(scratch, path, bin_dir.parent)
    healthy = plane.start()
    try:
        registered = register(bin_dir, plane.config, project)
        client = Client(plane.grpc_port, poll)
        try:
            began = time.perf_counter()
            await client.run("workflows.trivial.one_task", 0)  # the bundle's fork servers start here
            first = time.perf_counter() - began
            print(
                f"[{path}] healthy {healthy:.1f}s, registered {registered:.1f}s, first run {first * 1000:.0f} ms",
                file=sys.stderr,
            )
            results = []
            for workload in workloads:
                assert plane.process is not None
                result = await run_workload(client, workload, plane.process.pid)
                results.append(
                    Result(path, workload, result.wall, result.per_run, result.plane_cpu, result.machine_cpu)
                )
                print(f"[{path}] {workload.name}: {result.wall:.2f}s", file=sys.stderr)
        finally:
            await client.close()
    finally:
        plane.stop()
    return results


def _quantiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def report(results: list[Result], poll: float) -> None:
    print(
        "\nPeer workloads through `flyteplane start`, real flytekit 1.16.31 `x + 1` tasks, "
        f"gRPC client polling GetExecution every {poll * 1000:g} ms."
    )
    print("per-task overhead := wall time / number of tasks (everything the plane, processes and flytekit spend)\n")
    print("CPU per task: of the plane process (admin + propeller + datacatalog) / of the whole machine (2 cores)\n")
    print(
        f"{'workload':<34} {'path':<6} {'tasks':>5} {'wall':>9} {'per task':>9} {'CPU/task plane/all':>19}"
        "   submit -> outputs per run"
    )
    for result in results:
        workload = result.workload
        runs = ""
        if workload.runs > 1 and result.per_run:
            median, p90 = _quantiles(result.per_run)
            runs = f"median {median * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms"
        label = f"{workload.name} {workload.description}"
        print(
            f"{label:<34} {result.path:<6} {result.tasks:>5} {result.wall * 1000:>7.0f}ms "
            f"{result.wall / result.tasks * 1000:>7.1f}ms "
            f"{result.plane_cpu / result.tasks * 1000:>8.1f} /{result.machine_cpu / result.tasks * 1000:>6.1f}ms"
            f"   {runs}"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", default="cold,warm,reuse", help="comma-separated: cold, warm, reuse")
    parser.add_argument("--workloads", default="W1,W2,W3,W4", help="comma-separated: W1, W2, W3, W4")
    parser.add_argument("--poll-ms", type=float, default=5.0, help="GetExecution polling interval")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (plane logs) and print it")
    args = parser.parse_args()
    paths = [p for p in args.paths.split(",") if p]
    workloads = [WORKLOADS[w] for w in args.workloads.split(",") if w]
    bin_dir = flytekit_bin()
    poll = args.poll_ms / 1000
    scratch = Path(tempfile.mkdtemp(prefix="peer-workloads-"))
    try:
        results = []
        for path in paths:
            results.extend(await measure_path(path, workloads, scratch, bin_dir, poll))
        order = {w.name: i for i, w in enumerate(workloads)}
        report(sorted(results, key=lambda r: (order[r.workload.name], paths.index(r.path))), poll)
    finally:
        if args.keep:
            print(f"\nscratch directory (plane logs): {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
