"""What entering an isolated task's sandbox costs a task process (`plugins.local.sandbox.enter`, root only).

Forks `-n` children; each enters a sandbox shaped like a task's (`plugins.local.isolation.plan_sandbox`: the data
directory, /tmp and a closed home hidden; the attempt, inputs, outputs, raw data and environment shown again) and
reports how long `enter` took: the mount namespace, the tmpfs and bind mounts, and becoming the project's user.
This is what isolation adds to every attempt's process, cold or forked; the plugin's side (the uid table, reading
the inputs for the paths they name, chown of the attempt's places) runs once per attempt before it starts.
Run: .venv/bin/python bench/isolation_entry.py [-n 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from plugins.local.isolation import plan_sandbox
from plugins.local.sandbox import enter

UID = 650_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--processes", type=int, default=50)
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("entering a sandbox needs root")
    with tempfile.TemporaryDirectory(prefix="isolation-bench-", dir="/var/tmp") as scratch:
        data = Path(scratch) / "data"
        shown = [data / "work" / "attempt", data / "store" / "node", data / "store" / "node" / "0", data / "raw" / "a"]
        for path in shown:
            path.mkdir(parents=True, exist_ok=True)
        venv = Path(sys.executable).resolve().parent.parent
        expose = [(str(shown[0]), True), (str(shown[1]), False), (str(shown[2]), True), (str(shown[3]), True)]
        sandbox = plan_sandbox(UID, [str(data)], [*expose, (str(venv), False)])
        times = []
        for _ in range(args.processes):
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:
                began = time.perf_counter()
                enter(sandbox)
                os.write(write, str(time.perf_counter() - began).encode())
                os._exit(0)
            os.close(write)
            times.append(float(os.read(read, 64)))
            os.close(read)
            os.waitpid(pid, 0)
    times.sort()
    p90 = times[min(len(times) - 1, round(0.9 * (len(times) - 1)))]
    print(
        f"sandbox.enter: median {statistics.median(times) * 1000:.2f} ms, p90 {p90 * 1000:.2f} ms over "
        f"{len(times)} processes ({len(sandbox['hide'])} tmpfs, {len(sandbox['expose'])} bind mounts)"
    )


if __name__ == "__main__":
    main()
