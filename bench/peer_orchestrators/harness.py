"""The measuring loop the peers' workload modules share: warm-up, timed repetitions, JSON lines out (stdlib only).

A peer module defines W1-W4 as four functions, each running one whole flow or job with input `x` and
returning its output, and hands them to `main`. Results go to the original stdout as one JSON object
per line; anything else the peer prints to stdout is moved to stderr, so it cannot break the stream.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

Run = Callable[[int], int]

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Workloads:
    """One peer's flows or jobs: each call is one whole run with input x, returning its output."""

    fan_out100: Run  # W1: 100 x `x + 1` in parallel, then their sum
    chain50: Run  # W2: `x + 1` 50 times in a row
    one_task: Run  # W3: one `x + 1`
    chain10: Run  # W4: `x + 1` 10 times in a row, 20 runs at once
    # Blocks until the peer has recorded this many finished task runs in all (warm-up included), for a peer
    # that records them after the run returns; None when a run returns only once everything is recorded.
    settle: Callable[[int], None] | None = None


def machine_cpu() -> float:
    """CPU seconds every core of the machine has been busy since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / _TICK


def _check(name: str, got: int, want: int) -> None:
    if got != want:
        raise RuntimeError(f"{name} computed {got}, expected {want}")


def measure(workloads: Workloads, name: str, w3_runs: int, done: int | None) -> dict[str, Any]:
    """One repetition of a workload: wall seconds, tasks, per-run seconds (W3), machine CPU seconds, and
    when the peer settles its records late, seconds until it has (`done`: task runs before this one; None when
    that is unknown, after a failed repetition: then not waited for)."""
    per_run: list[float] = []
    cpu_before = machine_cpu()
    began = time.perf_counter()
    if name == "W1":
        _check(name, workloads.fan_out100(1), 200)
        tasks = 101
    elif name == "W2":
        _check(name, workloads.chain50(1), 51)
        tasks = 50
    elif name == "W3":
        for x in range(w3_runs):
            run_began = time.perf_counter()
            _check(name, workloads.one_task(x), x + 1)
            per_run.append(time.perf_counter() - run_began)
        tasks = w3_runs
    elif name == "W4":
        # 20 runs started together, each from its own thread, as a user would start concurrent runs.
        with ThreadPoolExecutor(max_workers=20) as pool:
            outputs = list(pool.map(workloads.chain10, range(20)))
        for x, got in enumerate(outputs):
            _check(name, got, x + 10)
        tasks = 200
    else:
        raise ValueError(f"unknown workload {name}")
    wall = time.perf_counter() - began
    settled = None
    if workloads.settle is not None and done is not None:
        workloads.settle(done + tasks)
        settled = time.perf_counter() - began
    return {
        "wall": wall,
        "settled": settled,
        "tasks": tasks,
        "per_run": per_run,
        "machine_cpu": machine_cpu() - cpu_before,
    }


def _claim_stdout() -> TextIO:
    """The original stdout for our JSON lines; file descriptor 1 now points at stderr."""
    sys.stdout.flush()
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    return out


def emit(out: TextIO, **record: Any) -> None:
    out.write(json.dumps(record) + "\n")


def main(
    peer: str,
    version: str,
    workloads: Workloads,
    summary: Callable[[], dict[str, Any]] | None = None,
    notes: str = "",
) -> None:
    """Parse the arguments bench/peers.py passes, warm up with one W3 run, measure, print JSON lines."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--workloads", default="W1,W2,W3,W4")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--w3-runs", type=int, default=10)
    args = parser.parse_args()
    out = _claim_stdout()
    began = time.perf_counter()
    _check("warm-up", workloads.one_task(0), 1)
    if workloads.settle is not None:
        workloads.settle(1)
    warmup = time.perf_counter() - began
    done: int | None = 1
    python = sys.version.split()[0]
    emit(out, kind="peer", peer=peer, version=version, python=python, warmup=warmup, notes=notes)
    for name in [w for w in args.workloads.split(",") if w]:
        for repetition in range(args.runs):
            # A peer that fails a repetition (Prefect's server answering 503 under load, say) is reported as
            # failing it, and the comparison goes on; how many task runs it recorded is then unknown.
            try:
                result = measure(workloads, name, args.w3_runs, done)
            except Exception as error:
                traceback.print_exc()
                error_text = f"{type(error).__name__}: {error}"
                emit(out, kind="failure", workload=name, repetition=repetition, error=error_text)
                done = None
                continue
            if done is not None:
                done += result["tasks"]
            emit(out, kind="result", workload=name, repetition=repetition, **result)
    emit(out, kind="summary", **(summary() if summary else {}))
