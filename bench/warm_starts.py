"""Per-task cost of the local backend, warm (forked from a fork server) vs cold (a fresh interpreter).

Runs real flytekit's trivial `examples.configured.retried` (`x + 1`) through `plugins.local.backend.LocalPlugin`
directly, as propeller would drive it (inputs.pb written, `handle` called again whenever the plugin
wakes it, until a terminal phase), with no admin or propeller. For each path it prints the median and
p90 of, per task:

- wall: first `handle` to the terminal transition (what propeller waits for);
- start: first `handle` to RUNNING (the dispatch path);
- process: the supervised process's lifetime (runner.json's start to status.json's finish);
- flytekit: flytekit's own work inside the process, from its first log line ("Welcome to Flyte") to
  "Engine folder written" -- timestamps with millisecond resolution, so this needs the task's
  flytekit loggers at INFO, which the bench sets for every path alike;
- user: the task function itself ("Execute user level code");
- overhead: wall - flytekit, what the backend and interpreter add around the task's own execution.

Then a fan-out: `--fanout` tasks started together, total wall time and wall time per task, and where the CPU
went per task: this process (the plugin and the driver), the fork servers or reuse workers it started, and
the task processes (those a fork server forked, or cold runners), with the task processes' minor page faults
-- on the fork path most of those are copy-on-write copies of the server's pages.
Rows: cold; warm; warm with the task's module imported by the fork server (`preload_task_modules`,
what a fast-registered bundle gets); reuse (attempts in long-lived warm workers, `warm_mode: reuse`); and, when
asked for with --paths (they need root), cold-isolated and warm-isolated: the same with `isolation.mode: users`
(`plugins.local.isolation`: the project's own uid in a private mount namespace).
A quick warm attempt is often reported done by the call that started it (`linger_seconds`): then
start = wall. Run: .venv/bin/python bench/warm_starts.py [-n 30] [--fanout 20] [--paths cold,warm,cold-isolated,...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import re
import resource
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flyteplane.storage import Storage, StorageConfig
from plugins.config import LocalEnvironment, LocalPluginConfig
from plugins.core import Phase, TaskExecutionContext, Transition
from plugins.local.backend import LocalPlugin
from tests.integration.plugins.helpers import Wakeups, fixture_task, int_inputs, task_context, write_inputs
from tests.support.flytekit import flytekit_bin
from tests.support.paths import examples_dir

TASK = "examples.configured.retried"
_USER_CODE = re.compile(r"Execute user level code\. \[Time: ([0-9.]+)s\]")


@dataclasses.dataclass(frozen=True)
class Sample:
    wall: float
    start: float
    process: float | None
    flytekit: float | None
    user: float | None


@dataclasses.dataclass(frozen=True)
class Row:
    name: str
    warm: bool
    preload_task_modules: bool = False
    warm_mode: str = "fork"
    isolated: bool = False  # isolation.mode: users (needs root): the project's own uid, in a mount namespace


def _log_time(line: str) -> float | None:
    try:
        stamp = json.loads(line)["asctime"]
    except (ValueError, KeyError, TypeError):
        return None
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()


def _flytekit_times(log: str) -> tuple[float | None, float | None]:
    """(flytekit's time in the process, the user function's time) from an INFO-level task log."""
    lines = log.splitlines()
    begin = next((_log_time(line) for line in lines if "Welcome to Flyte" in line), None)
    end = next((_log_time(line) for line in lines if "Engine folder written" in line), None)
    user = _USER_CODE.search(log)
    spent = end - begin if begin is not None and end is not None else None
    return spent, float(user.group(1)) if user else None


_TICK = os.sysconf("SC_CLK_TCK")


@dataclasses.dataclass(frozen=True)
class Cpu:
    """CPU seconds so far: this process, its live children (fork servers, reuse workers), the processes
    those children and this process reaped (task processes, cold runners); and those reaped processes' minor
    page faults."""

    plugin: float
    servers: float
    tasks: float
    task_faults: int

    @classmethod
    def now(cls) -> Cpu:
        me = resource.getrusage(resource.RUSAGE_SELF)
        reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
        servers, tasks, faults = 0.0, reaped.ru_utime + reaped.ru_stime, reaped.ru_minflt
        for pid in _children(os.getpid()):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            servers += (int(fields[11]) + int(fields[12])) / _TICK
            tasks += (int(fields[13]) + int(fields[14])) / _TICK
            faults += int(fields[8])
        return cls(me.ru_utime + me.ru_stime, servers, tasks, faults)

    def since(self, before: Cpu) -> Cpu:
        return Cpu(
            self.plugin - before.plugin,
            self.servers - before.servers,
            self.tasks - before.tasks,
            self.task_faults - before.task_faults,
        )


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found.extend(int(child) for child in (task / "children").read_text().split())
    return found


def _process_time(work_dir: Path) -> float | None:
    try:
        started = json.loads((work_dir / "runner.json").read_text())["started_at"]
        finished = json.loads((work_dir / "status.json").read_text())["finished_at"]
    except (OSError, ValueError, KeyError):
        return None
    return float(finished) - float(started)


async def run_task(plugin: LocalPlugin, ctx: TaskExecutionContext) -> Sample:
    """Drives one attempt like propeller: handle, then again each time the plugin wakes it."""
    wake = ctx.wake
    assert isinstance(wake, Wakeups)
    began = time.perf_counter()
    started: float | None = None
    while True:
        transition: Transition = await plugin.handle(ctx)
        if transition.phase is Phase.RUNNING and started is None:
            started = time.perf_counter() - began
        if transition.phase.is_terminal:
            break
        ctx = dataclasses.replace(ctx, plugin_state=transition.state or ctx.plugin_state)
        if not await wake.wait(60.0):
            raise RuntimeError(f"no wake-up within 60s: {transition.phase.name} {transition.reason}")
    wall = time.perf_counter() - began
    if transition.phase is not Phase.SUCCESS:
        raise RuntimeError(f"task failed: {transition.reason}")
    assert transition.custom_info is not None
    work_dir = Path(transition.custom_info["work_dir"])
    spent, user = _flytekit_times((work_dir / "task.log").read_text())
    sample = Sample(wall, started if started is not None else wall, _process_time(work_dir), spent, user)
    await plugin.finalize(dataclasses.replace(ctx, plugin_state=transition.state))
    return sample


async def measure(
    row: Row, root: Path, venv: Path, code: Path, count: int, fanout: int
) -> tuple[list[Sample], float, Cpu]:
    storage = Storage(StorageConfig(local_root=root / "store"))
    environment = LocalEnvironment(
        venv=venv,
        python_path=(code,),
        env={"FLYTE_SDK_LOGGING_LEVEL": "20"},
        preload_task_modules=row.preload_task_modules,
    )
    config = LocalPluginConfig.model_validate(
        {
            "work_dir": root / "work",
            "default_environment": environment,
            "warm": row.warm,
            "warm_mode": row.warm_mode,
            "log_upload_interval_seconds": 0.0,
            "isolation": {"mode": "users" if row.isolated else "off"},
        }
    )
    plugin = LocalPlugin(config)
    template = fixture_task(TASK)
    sequence = 0

    def context() -> TaskExecutionContext:
        nonlocal sequence
        sequence += 1
        return task_context(storage, template, execution=f"bench-{row.name}", node=f"n{sequence}", wake=Wakeups())

    try:
        await plugin.start()
        for _ in range(2):  # warm-up: the fork server's start, the first imports
            ctx = context()
            await write_inputs(ctx, int_inputs(x=1))
            await run_task(plugin, ctx)
        samples = []
        for _ in range(count):
            ctx = context()
            await write_inputs(ctx, int_inputs(x=1))
            samples.append(await run_task(plugin, ctx))
        batch = [context() for _ in range(fanout)]
        for ctx in batch:
            await write_inputs(ctx, int_inputs(x=1))
        await asyncio.sleep(0.5)  # spares forked for the batch are ready before the clock starts
        cpu_before = Cpu.now()
        began = time.perf_counter()
        await asyncio.gather(*(run_task(plugin, ctx) for ctx in batch))
        fanout_wall = time.perf_counter() - began
        cpu = Cpu.now().since(cpu_before)
    finally:
        await plugin.aclose()
    return samples, fanout_wall, cpu


def _quantiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return statistics.median(ordered), p90


def _cell(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "n/a"
    median, p90 = _quantiles(known)
    return f"{median * 1000:7.1f} / {p90 * 1000:7.1f}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--tasks", type=int, default=30, help="sequential tasks per path (after 2 warm-ups)")
    parser.add_argument("--fanout", type=int, default=20, help="tasks started together per path")
    parser.add_argument("--paths", default="cold,warm,warm-preloaded,reuse", help="rows to run, comma-separated")
    args = parser.parse_args()
    rows = {
        "cold": Row("cold", warm=False),
        "warm": Row("warm", warm=True),
        "warm-preloaded": Row("warm-preloaded", warm=True, preload_task_modules=True),
        "reuse": Row("reuse", warm=True, warm_mode="reuse"),
        "cold-isolated": Row("cold-isolated", warm=False, isolated=True),
        "warm-isolated": Row("warm-isolated", warm=True, isolated=True),
    }
    venv = flytekit_bin().parent
    results = []
    with tempfile.TemporaryDirectory(prefix="warm-bench-") as scratch:
        code = Path(scratch) / "code"
        code.mkdir()
        (code / "examples").symlink_to(examples_dir(), target_is_directory=True)
        for name in args.paths.split(","):
            row = rows[name]
            print(f"running {row.name}: {args.tasks} sequential tasks, then {args.fanout} at once ...", file=sys.stderr)
            measured = await measure(row, Path(scratch) / row.name, venv, code, args.tasks, args.fanout)
            results.append((row, *measured))

    print(f"\nlocal backend, {TASK} (x + 1), flytekit 1.16.31; milliseconds, median / p90 over {args.tasks} tasks\n")
    header = (
        "path",
        "wall",
        "start",
        "process",
        "flytekit",
        "user",
        "overhead",
        f"fan-out {args.fanout}: total, /task",
    )
    print(f"{header[0]:<15} " + " ".join(f"{h:>17}" for h in header[1:7]) + f"   {header[7]}")
    for row, samples, fanout_wall, _ in results:
        overhead = [s.wall - s.flytekit if s.flytekit is not None else None for s in samples]
        cells = [
            _cell([s.wall for s in samples]),
            _cell([s.start for s in samples]),
            _cell([s.process for s in samples]),
            _cell([s.flytekit for s in samples]),
            _cell([s.user for s in samples]),
            _cell(overhead),
        ]
        per_task = fanout_wall / args.fanout * 1000 if args.fanout else 0.0
        fan = f"{fanout_wall * 1000:8.0f}, {per_task:6.1f}"
        print(f"{row.name:<15} " + " ".join(f"{c:>17}" for c in cells) + f"   {fan}")
    if not args.fanout:
        return
    print(f"\nCPU per task in the fan-out of {args.fanout}, milliseconds (minor page faults of the task processes)\n")
    print(f"{'path':<15} {'plugin':>9} {'servers':>9} {'tasks':>9} {'all':>9} {'faults':>9}")
    for row, _, _, cpu in results:
        n = args.fanout
        spent = [cpu.plugin, cpu.servers, cpu.tasks, cpu.plugin + cpu.servers + cpu.tasks]
        print(f"{row.name:<15} " + " ".join(f"{c / n * 1000:9.1f}" for c in spent) + f" {cpu.task_faults / n:9.0f}")


if __name__ == "__main__":
    asyncio.run(main())
