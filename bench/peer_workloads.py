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
- W3: a one-task workflow, submit -> outputs read, 10 times in a row (`--w3-runs`);
- W4: 20 concurrent runs of a 10-task chain (200 tasks).

Per-task overhead is defined as the workload's wall time (first CreateExecution to the last outputs
read) divided by its number of tasks -- everything the plane, the task processes and flytekit spend,
task code included (which is ~0 here). For W3, submit -> outputs read per run (median / p90).
Before the workloads one warm-up execution runs (the bundle's fork servers start on the first task).
Also printed: CPU seconds per task of the plane process (admin, propeller and datacatalog share one
event loop there) and of the whole machine (task processes, this client, and whatever else runs), and
for W3 where a run's time goes, from the attempt's own records: submit -> task process running, the
task process, its end -> outputs read. Polling is not free: every GetExecution is served by that same
event loop (`--poll-ms` changes the interval).

With `--breakdown`, admin's and propeller's Prometheus metrics are on and scraped around each workload:
engine rounds, time in the local plugin, events delivered, and admin's time per RPC, per task (the
metrics cost a little time themselves, so the headline figures come from runs without them).

Paths: cold (a fresh interpreter per attempt), warm (a process forked from a warm fork server per
attempt), reuse (attempts run one after another in long-lived warm workers; `warm_mode: reuse`).
With `--runs N` each workload runs N times on each path and the median repetition is shown; with
`--peers prefect,dagster` the same workloads then run on the peer orchestrators (bench/peers.py) with the same
repetitions, so one command measures the whole comparison on the same machine in one go.
Run: .venv/bin/python bench/peer_workloads.py [--paths cold,warm,reuse] [--workloads W1,W2,W3,W4] [--runs 3]
     [--peers prefect,dagster]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import selectors
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, replace
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
START_TIMEOUT_SECONDS = 120.0
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


Metrics = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(port: int) -> Metrics:
    """A Prometheus /metrics page as {(name, labels): value}."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    values: Metrics = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        name, _, rest = head.partition("{")
        labels = tuple(sorted(tuple(part.split("=", 1)) for part in rest.rstrip("}").split(",") if "=" in part))
        values[(name, tuple((k, v.strip('"')) for k, v in labels))] = float(value)
    return values


def delta(after: Metrics, before: Metrics, name: str, **labels: str) -> float:
    """The growth of every series of `name` whose labels include `labels`."""
    total = 0.0
    for (series, series_labels), value in after.items():
        if series == name and set(labels.items()) <= set(series_labels):
            total += value - before.get((series, series_labels), 0.0)
    return total


def breakdown(propeller: tuple[Metrics, Metrics], admin: tuple[Metrics, Metrics], tasks: int) -> list[str]:
    """Per-task lines: engine rounds, local plugin time, events, admin's busiest RPCs."""
    p_after, p_before = propeller
    a_after, a_before = admin
    rounds = delta(p_after, p_before, "flyteplane_propeller_round_seconds_count")
    round_seconds = delta(p_after, p_before, "flyteplane_propeller_round_seconds_sum")
    plugin = delta(p_after, p_before, "flyteplane_propeller_plugin_call_seconds_sum", plugin="local")
    events = delta(p_after, p_before, "flyteplane_propeller_events_delivered_total")
    lines = [
        f"engine: {rounds / tasks:.2f} rounds/task, {round_seconds / tasks * 1000:.1f} ms of rounds/task "
        f"(of which the local plugin's calls {plugin / tasks * 1000:.1f} ms); {events / tasks:.1f} events/task"
    ]
    methods: dict[str, tuple[float, float]] = {}
    for (name, labels), _ in a_after.items():
        if name == "grpc_server_handling_seconds_sum":
            method = dict(labels)["grpc_method"]
            seconds = delta(a_after, a_before, name, grpc_method=method)
            calls = delta(a_after, a_before, "grpc_server_handling_seconds_count", grpc_method=method)
            if calls:
                methods[method] = (seconds, calls)
    top = sorted(methods.items(), key=lambda item: -item[1][0])[:6]
    lines.append(
        "admin: "
        + ", ".join(f"{m} {c / tasks:.1f}x/{s / tasks * 1000:.1f} ms" for m, (s, c) in top)
        + " per task (calls / handling time)"
    )
    return lines


@dataclass(frozen=True)
class Result:
    path: str
    workload: Workload
    wall: float
    per_run: list[float]
    plane_cpu: float = 0.0  # CPU seconds of the `flyteplane start` process (admin + propeller + datacatalog)
    machine_cpu: float = 0.0  # CPU seconds of the whole machine (also task processes, this client, the rest)
    breakdown: tuple[str, ...] = ()

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

    async def run(self, launch_plan: str, x: int) -> tuple[literals_pb2.LiteralMap, str]:
        """The outputs of one execution (and its name), submitted and waited for."""
        ident = await self.submit(launch_plan, x)
        await self.wait(ident)
        return await self.outputs(ident), ident.name

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


def task_spans(data_dir: Path, execution: str, submitted: float, done: float) -> list[tuple[float, float, float]]:
    """For an execution's task attempts: (submit -> its process running, the process's time, its end -> `done`),
    from the attempt directories' runner.json and status.json (named after the execution)."""
    spans = []
    for attempt in (data_dir / "local-tasks").glob(f"{execution[:20]}-*"):
        try:
            started = json.loads((attempt / "runner.json").read_text())["started_at"]
            finished = json.loads((attempt / "status.json").read_text())["finished_at"]
        except (OSError, ValueError, KeyError):
            continue
        spans.append((started - submitted, finished - started, done - finished))
    return spans


def expected(workload: Workload, x: int) -> int:
    if workload.name == "W1":
        return 100 * (x + 1)
    return x + workload.tasks_per_run


async def run_workload(client: Client, workload: Workload, plane: Plane, path: str) -> Result:
    assert plane.process is not None
    pid = plane.process.pid
    metrics_before = plane.metrics()
    cpu_before, machine_before = process_cpu(pid), machine_cpu()
    began = time.perf_counter()
    per_run: list[float] = []
    spans: list[tuple[float, float, float]] = []
    if workload.concurrent:
        xs = list(range(workload.runs))
        outputs = await client.run_concurrently(workload.launch_plan, xs)
    else:
        xs, outputs = [], []
        for x in range(workload.runs):
            run_began, submitted = time.perf_counter(), time.time()
            literals, name = await client.run(workload.launch_plan, x)
            per_run.append(time.perf_counter() - run_began)
            if workload.tasks_per_run == 1:
                spans.extend(task_spans(plane.data, name, submitted, time.time()))
            outputs.append(literals)
            xs.append(x)
    wall = time.perf_counter() - began
    plane_cpu, machine = process_cpu(pid) - cpu_before, machine_cpu() - machine_before
    for x, literals in zip(xs, outputs, strict=True):
        got = literals.literals["o0"].scalar.primitive.integer
        if got != expected(workload, x):
            raise RuntimeError(f"{workload.name} computed {got} for x={x}, expected {expected(workload, x)}")
    lines: tuple[str, ...] = ()
    if spans:
        before, task, after = (statistics.median(values) * 1000 for values in zip(*spans, strict=True))
        lines += (
            f"one run, medians: submit -> task process running {before:.0f} ms, task process {task:.0f} ms, "
            f"task process done -> outputs read {after:.0f} ms (from the attempt's runner.json / status.json)",
        )
    if metrics_before is not None:
        metrics_after = plane.metrics()
        assert metrics_after is not None
        tasks = workload.tasks_per_run * workload.runs
        lines += tuple(breakdown((metrics_after[0], metrics_before[0]), (metrics_after[1], metrics_before[1]), tasks))
    return Result(path, workload, wall, per_run, plane_cpu, machine, lines)


class Plane:
    """`flyteplane start` as a subprocess in a scratch data directory, with the local backend set for one path."""

    def __init__(self, scratch: Path, path: str, venv: Path, *, metrics: bool = False) -> None:
        self.data = scratch / f"plane-{path}"
        self.log = scratch / f"plane-{path}.log"
        self.grpc_port = free_port()
        self.metrics_ports = (free_port(), free_port()) if metrics else None
        env = dict(os.environ)
        ports = {
            "ADMIN__GRPC_PORT": self.grpc_port,
            "ADMIN__HTTP_PORT": free_port(),
            "PROPELLER__GRPC_PORT": free_port(),
            "DATACATALOG__GRPC_PORT": free_port(),
        }
        if self.metrics_ports is not None:
            ports.update(PROPELLER__METRICS_PORT=self.metrics_ports[0], ADMIN__METRICS_PORT=self.metrics_ports[1])
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
        stdout = self.process.stdout
        assert stdout is not None
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline and selector.select(deadline - time.monotonic()):
                line = stdout.readline()
                if not line:
                    break
                if "flyteplane is running" in line:
                    return time.perf_counter() - began
        self.stop()
        tail = self.log.read_text()[-3000:]
        raise RuntimeError(f"flyteplane start did not come up within {START_TIMEOUT_SECONDS:.0f}s:\n{tail}")

    def metrics(self) -> tuple[Metrics, Metrics] | None:
        """(propeller's, admin's) metrics now, when the plane serves them."""
        if self.metrics_ports is None:
            return None
        return scrape(self.metrics_ports[0]), scrape(self.metrics_ports[1])

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


async def measure_path(
    path: str, workloads: list[Workload], scratch: Path, bin_dir: Path, poll: float, *, metrics: bool
) -> list[Result]:
    project = scratch / "project"
    if not project.exists():
        shutil.copytree(ROOT / "bench" / "workflows", project / "workflows")
    plane = Plane(scratch, path, bin_dir.parent, metrics=metrics)
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
                result = await run_workload(client, workload, plane, path)
                results.append(result)
                print(f"[{path}] {workload.name}: {result.wall:.2f}s", file=sys.stderr)
        finally:
            await client.close()
    finally:
        plane.stop()
    return results


def _quantiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def medians(results: list[Result]) -> tuple[list[Result], dict[tuple[str, str], list[float]]]:
    """Per workload and path, the repetition of median wall time (the lower middle one of an even count), and
    every repetition's wall time, in the order of first appearance."""
    groups: dict[tuple[str, str], list[Result]] = {}
    for result in results:
        groups.setdefault((result.workload.name, result.path), []).append(result)
    chosen = [sorted(group, key=lambda r: r.wall)[(len(group) - 1) // 2] for group in groups.values()]
    return chosen, {key: [r.wall for r in group] for key, group in groups.items()}


def report(results: list[Result], poll: float) -> None:
    results, walls = medians(results)
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
        repeated = walls[(workload.name, result.path)]
        if len(repeated) > 1:
            print(f"    median of {len(repeated)} repetitions; walls {', '.join(f'{w:.2f}' for w in repeated)} s")
        for line in result.breakdown:
            print(f"    {line}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", default="cold,warm,reuse", help="comma-separated: cold, warm, reuse")
    parser.add_argument("--workloads", default="W1,W2,W3,W4", help="comma-separated: W1, W2, W3, W4")
    parser.add_argument("--poll-ms", type=float, default=5.0, help="GetExecution polling interval")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (plane logs) and print it")
    parser.add_argument("--breakdown", action="store_true", help="turn the metrics on and print where time goes")
    parser.add_argument("--w3-runs", type=int, default=10, help="W3's runs in a row (more: a steadier median)")
    parser.add_argument("--runs", type=int, default=1, help="repetitions of each workload; the median is shown")
    parser.add_argument(
        "--peers",
        default="",
        help="then run the same workloads on these peers (bench/peers.py: prefect, dagster) with the same --runs, "
        "so that one command measures the whole comparison",
    )
    args = parser.parse_args()
    paths = [p for p in args.paths.split(",") if p]
    workloads = [WORKLOADS[w] for w in args.workloads.split(",") if w]
    workloads = [
        replace(w, runs=args.w3_runs, description=f"one task, {args.w3_runs} runs in a row") if w.name == "W3" else w
        for w in workloads
    ]
    workloads = [w for w in workloads for _ in range(max(1, args.runs))]
    bin_dir = flytekit_bin()
    poll = args.poll_ms / 1000
    scratch = Path(tempfile.mkdtemp(prefix="peer-workloads-"))
    try:
        results = []
        for path in paths:
            results.extend(await measure_path(path, workloads, scratch, bin_dir, poll, metrics=args.breakdown))
        order = {w.name: i for i, w in enumerate(workloads)}
        report(sorted(results, key=lambda r: (order[r.workload.name], paths.index(r.path))), poll)
    finally:
        if args.keep:
            print(f"\nscratch directory (plane logs): {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    if args.peers:
        peers = [sys.executable, str(ROOT / "bench" / "peers.py"), "--peers", args.peers, "--workloads", args.workloads]
        peers += ["--runs", str(max(1, args.runs)), "--w3-runs", str(args.w3_runs)]
        sys.stdout.flush()
        await asyncio.to_thread(subprocess.run, peers, check=True)


if __name__ == "__main__":
    asyncio.run(main())
