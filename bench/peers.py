"""The peer orchestrators on the peer workloads W1-W4: Prefect (thread-pool task runner) and Dagster (in process).

The same workloads bench/peer_workloads.py runs through `flyteplane start`, written for each peer by us
(bench/peer_orchestrators/), with trivial `x + 1` tasks:

- W1: a 100-task fan-out and a reduce (101 tasks);
- W2: a chain of 50 tasks;
- W3: a one-task flow or job, call -> output, 10 times in a row (`--w3-runs`); median / p90 per run;
- W4: 20 concurrent runs of a 10-task chain (200 tasks), each run started from its own thread.

Prefect (prefect_workloads.py): flows run as local flow runs in the benchmark's process, tasks on Prefect's
default `ThreadPoolTaskRunner`, states recorded by the server Prefect's ephemeral mode starts (uvicorn
in a subprocess, SQLite under a scratch PREFECT_HOME, analytics off; started on `--prefect-port`). W1
submits the 100 tasks and calls the reduce on their futures; W2-W4 submit each task once its predecessor's
result is in. Dagster (dagster_workloads.py): jobs of ops, `execute_in_process` (ops one after another in
the calling thread) against one SQLite instance in a scratch DAGSTER_HOME; W1 is 100 aliased ops fanned in.
A Dagster run returns once its events are written; a Prefect flow can return before the server has
recorded its task runs (they travel as events), so for Prefect the time until the server's API counts
them all as completed is shown too ("all recorded", polled every 20 ms), and each repetition waits for it.

Each peer runs in its own virtualenv (never the project's), built once and cached under
~/.cache/flyteplane-bench/peers/ with the pinned version, or the nearest one the package index has; the
version that ran is printed. Per peer one process: it imports the peer, warms up with one W3 run, then runs
each workload `--runs` times (3); the table shows the median repetition's wall time and wall time per task
(for W3, the medians of each repetition's per-run median and p90). Like peer_workloads.py's figures these
include everything the orchestrator does (its server, its records, its logging at default settings).
Run: .venv/bin/python bench/peers.py [--peers prefect,dagster] [--workloads W1,W2,W3,W4] [--runs 3]
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import venv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.postgres import free_port  # noqa: E402

MODULES = ROOT / "bench" / "peer_orchestrators"
TIME_LIMIT_SECONDS = 1800.0  # for all of one peer's workloads


@dataclass(frozen=True)
class Peer:
    name: str
    package: str
    version: str  # the pin; the nearest available one if the index lacks it
    module: str
    column: str  # the table's column header, given the version that ran


PEERS = {
    "prefect": Peer("prefect", "prefect", "3.9.1", "prefect_workloads.py", "Prefect {version} threads"),
    "dagster": Peer("dagster", "dagster", "1.13.29", "dagster_workloads.py", "Dagster {version} in-process"),
}

ROWS = {
    "W1": "W1 100 fan-out + reduce",
    "W2": "W2 chain of 50",
    "W3": "W3 one task, submit -> outputs (median of {n} in a row, per run)",
    "W4": "W4 20 x 10-chain concurrently",
}


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "flyteplane-bench" / "peers"


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def nearest_version(python: Path, package: str, pinned: str) -> str:
    """The newest version the index has that is not newer than `pinned`, else the oldest newer one."""
    listing = subprocess.run(
        [str(python), "-m", "pip", "index", "versions", package, "--disable-pip-version-check"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    match = re.search(r"Available versions: (.*)", listing)
    if not match:
        raise RuntimeError(f"the package index lists no versions of {package}:\n{listing}")
    versions = sorted((v.strip() for v in match.group(1).split(",")), key=_version_key)
    older = [v for v in versions if _version_key(v) <= _version_key(pinned)]
    return older[-1] if older else versions[0]


def _install(root: Path, requirement: str) -> bool:
    """A fresh virtualenv at `root` with `requirement` installed and marked ready; False if pip failed."""
    venv.EnvBuilder(with_pip=True, clear=True).create(root)
    installed = subprocess.run(
        [str(root / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", requirement],
        check=False,
    )
    if installed.returncode == 0:
        (root / ".ready").write_text(requirement)
    return installed.returncode == 0


def peer_python(peer: Peer) -> Path:
    """The python of a cached virtualenv holding the peer at its pinned version (or the nearest available)."""
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    root = cache / f"{peer.package}-{peer.version}"
    with open(cache / f".{peer.package}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (root / ".ready").exists():
            return root / "bin" / "python"
        print(f"[{peer.name}] installing {peer.package}=={peer.version} into {root}", file=sys.stderr)
        if _install(root, f"{peer.package}=={peer.version}"):
            return root / "bin" / "python"
        # The pin is not installable here: the nearest version the index has, in a directory named after it.
        version = nearest_version(root / "bin" / "python", peer.package, peer.version)
        shutil.rmtree(root, ignore_errors=True)
        root = cache / f"{peer.package}-{version}"
        print(f"[{peer.name}] {peer.version} is not installable; {version} instead, into {root}", file=sys.stderr)
        if (root / ".ready").exists() or _install(root, f"{peer.package}=={version}"):
            return root / "bin" / "python"
        raise RuntimeError(f"could not install {peer.package} {peer.version}, nor {version}")


def peer_env(scratch: Path, prefect_port: int) -> dict[str, str]:
    """The environment of a peer's process: nothing of ours or the caller's orchestrator settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PREFECT_", "DAGSTER_", "PYTHON", "VIRTUAL_ENV", "FLYTE"))
    }
    prefect_home, dagster_home = scratch / "prefect-home", scratch / "dagster-home"
    prefect_home.mkdir(parents=True, exist_ok=True)
    dagster_home.mkdir(parents=True, exist_ok=True)
    (dagster_home / "dagster.yaml").write_text("")  # empty on purpose: see dagster_workloads.py
    env.update(
        PYTHONUNBUFFERED="1",
        PREFECT_HOME=str(prefect_home),
        PREFECT_API_URL=f"http://127.0.0.1:{prefect_port}/api",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DAGSTER_HOME=str(dagster_home),
        DAGSTER_DISABLE_TELEMETRY="1",
    )
    return env


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def run_peer(peer: Peer, python: Path, args: argparse.Namespace, scratch: Path) -> list[dict[str, Any]]:
    """Run the peer's workload module; its JSON lines (progress to stderr, the peer's own log to a file)."""
    log = scratch / f"{peer.name}.log"
    env = peer_env(scratch / peer.name, args.prefect_port or free_port())
    argv = [str(python), str(MODULES / peer.module), "--workloads", args.workloads, "--runs", str(args.runs),
            "--w3-runs", str(args.w3_runs)]  # fmt: skip
    records: list[dict[str, Any]] = []
    with log.open("w") as stderr:
        process = subprocess.Popen(
            argv, cwd=scratch, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True, start_new_session=True
        )
        assert process.stdout is not None
        # A peer that hangs (threads deadlocked, say) prints nothing more: the timer ends its process group.
        timer = threading.Timer(TIME_LIMIT_SECONDS, _kill_group, (process.pid,))
        timer.start()
        try:
            for line in process.stdout:
                record = json.loads(line)
                records.append(record)
                if record["kind"] == "result":
                    print(f"[{peer.name}] {record['workload']} #{record['repetition'] + 1}: {record['wall']:.2f}s",
                          file=sys.stderr)  # fmt: skip
                elif record["kind"] == "failure":
                    print(f"[{peer.name}] {record['workload']} #{record['repetition'] + 1} failed: {record['error']}",
                          file=sys.stderr)  # fmt: skip
                elif record["kind"] == "peer":
                    print(f"[{peer.name}] {record['version']} warmed up in {record['warmup']:.2f}s", file=sys.stderr)
            process.wait()
        finally:
            timer.cancel()
            # The peer's process group: its own children too (Prefect's server), should any be left.
            _kill_group(process.pid)
            process.wait()
    if process.returncode != 0 or not records or records[-1]["kind"] != "summary":
        tail = log.read_text()[-4000:]
        raise RuntimeError(f"{peer.name}'s workloads failed (exit {process.returncode}); log {log}:\n{tail}")
    return records


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def cell(results: list[dict[str, Any]], failures: int = 0) -> str:
    """The median repetition of one workload: wall and per task; for W3 the per-run median and p90; and how many
    repetitions failed, when some did (the median is of the others)."""
    if not results:
        return f"failed ({failures} of {failures})" if failures else ""
    failed = f"; {failures} of {failures + len(results)} failed" if failures else ""
    walls = [r["wall"] for r in results]
    wall = statistics.median(walls)
    tasks = results[0]["tasks"]
    if results[0]["workload"] == "W3":
        median = statistics.median(statistics.median(r["per_run"]) for r in results)
        p90 = statistics.median(_p90(r["per_run"]) for r in results)
        return f"{median * 1000:.0f} ms (p90 {p90 * 1000:.0f} ms){failed}"
    text = f"{wall:.2f} s, {wall / tasks * 1000:.1f} ms/task"
    recorded = [r["settled"] for r in results if r["settled"] is not None]
    if recorded:
        settled = statistics.median(recorded)
        text += f"; all recorded: {settled:.2f} s, {settled / tasks * 1000:.1f} ms/task"
    return text + failed


def report(outcomes: dict[str, list[dict[str, Any]]], workloads: list[str], args: argparse.Namespace) -> None:
    peers = list(outcomes)
    heads = {p: next(r for r in outcomes[p] if r["kind"] == "peer") for p in peers}
    columns = [PEERS[p].column.format(version=heads[p]["version"]) for p in peers]
    print(f"\nPeer orchestrators on the peer workloads, trivial `x + 1` tasks; median of {args.runs} repetitions")
    print("per task := wall time / number of tasks (everything the orchestrator spends, task code ~0)\n")
    print("| workload | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name in workloads:
        cells = []
        for p in peers:
            results = [r for r in outcomes[p] if r["kind"] == "result" and r["workload"] == name]
            failures = [r for r in outcomes[p] if r["kind"] == "failure" and r["workload"] == name]
            cells.append(cell(results, len(failures)))
        print(f"| {ROWS[name].format(n=args.w3_runs)} | " + " | ".join(cells) + " |")
    print()
    for p in peers:
        head = heads[p]
        warmup = head["warmup"] * 1000
        print(f"{p} {head['version']} (python {head['python']}): warm-up run {warmup:.0f} ms; {head['notes']}")
        for name in workloads:
            for failure in (r for r in outcomes[p] if r["kind"] == "failure" and r["workload"] == name):
                print(f"    {name} repetition {failure['repetition'] + 1} failed: {failure['error'][:300]}")
            results = [r for r in outcomes[p] if r["kind"] == "result" and r["workload"] == name]
            if not results:
                continue
            walls = ", ".join(f"{r['wall']:.2f}" for r in results)
            settled = [r["settled"] for r in results if r["settled"] is not None]
            if settled:
                walls += " (all recorded: " + ", ".join(f"{s:.2f}" for s in settled) + ")"
            cpu = statistics.median(r["machine_cpu"] / r["tasks"] for r in results) * 1000
            print(f"    {name}: walls {walls} s; machine CPU {cpu:.1f} ms/task (2 cores, whatever else runs included)")
        summary = next(r for r in outcomes[p] if r["kind"] == "summary")
        recorded = {k: v for k, v in summary.items() if k != "kind"}
        if recorded:
            print(f"    recorded by the peer: {recorded}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peers", default="prefect,dagster", help="comma-separated: prefect, dagster")
    parser.add_argument("--workloads", default="W1,W2,W3,W4", help="comma-separated: W1, W2, W3, W4")
    parser.add_argument("--runs", type=int, default=3, help="repetitions of each workload; the median is shown")
    parser.add_argument("--w3-runs", type=int, default=10, help="W3's runs in a row per repetition")
    parser.add_argument("--prefect-port", type=int, default=0, help="the Prefect server's port (0: a free one)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (peer logs) and print it")
    args = parser.parse_args()
    peers = [PEERS[p] for p in args.peers.split(",") if p]
    workloads = [w for w in args.workloads.split(",") if w]
    unknown = set(workloads) - set(ROWS)
    if unknown:
        parser.error(f"unknown workloads: {', '.join(sorted(unknown))}")
    scratch = Path(tempfile.mkdtemp(prefix="peers-"))
    try:
        outcomes = {}
        for peer in peers:
            outcomes[peer.name] = run_peer(peer, peer_python(peer), args, scratch)
        report(outcomes, workloads, args)
    finally:
        if args.keep:
            print(f"\nscratch directory (peer logs): {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
