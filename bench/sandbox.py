"""`flyteplane start` as a user meets it: seconds to healthy, submit -> outputs, idle memory of the plane.

Starts `flyteplane start` in a scratch data directory (task environment: the cached flytekit venv the
tests use), registers bench/workflows with pyflyte, times one-task executions end to end through
FlyteRemote (first and repeated), and reads the plane's resident memory while idle.
Run: .venv/bin/python bench/sandbox.py [--repeats 10]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.flytekit import flytekit_bin  # noqa: E402
from tests.support.postgres import free_port  # noqa: E402


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    bin_dir = flytekit_bin()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "plane"
        env = dict(os.environ)
        ports = {
            "ADMIN__GRPC_PORT": free_port(),
            "ADMIN__HTTP_PORT": free_port(),
            "PROPELLER__GRPC_PORT": free_port(),
            "DATACATALOG__GRPC_PORT": free_port(),
        }
        env.update({f"FLYTEPLANE_{k}": str(v) for k, v in ports.items()})
        env["FLYTEPLANE_PROPELLER__PLUGINS"] = json.dumps(
            {"backends": {"local": {"default_environment": {"venv": str(bin_dir.parent)}}}}
        )
        began = time.perf_counter()
        plane = subprocess.Popen(
            [str(Path(sys.executable).with_name("flyteplane")), "start", "--data-dir", str(data), "--no-task-env"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert plane.stdout is not None
            for line in plane.stdout:
                if "flyteplane is running" in line:
                    break
            healthy = time.perf_counter() - began
            print(f"flyteplane start -> healthy: {healthy:.2f} s (includes creating the databases)")
            project = Path(tmp) / "project"
            shutil.copytree(ROOT / "bench" / "workflows", project / "workflows")
            config = data / "config.yaml"
            subprocess.run(
                [
                    str(bin_dir / "pyflyte"),
                    "--config",
                    str(config),
                    "register",
                    "-p",
                    "flytesnacks",
                    "-d",
                    "development",
                    "--version",
                    "b1",
                    "workflows",
                ],
                cwd=project,
                check=True,
                capture_output=True,
            )
            time.sleep(2)
            idle = rss_mib(plane.pid)
            probe = ROOT / "bench" / "sandbox_probe.py"
            out = subprocess.run(
                [
                    str(bin_dir / "python"),
                    str(probe),
                    str(config),
                    "workflows.trivial.one_task",
                    "b1",
                    str(args.repeats),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            seconds = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"one-task workflow, submit -> outputs read: first {seconds[0] * 1000:.0f} ms, "
                f"repeated median {statistics.median(seconds[1:]) * 1000:.0f} ms "
                f"(min {min(seconds[1:]) * 1000:.0f}, max {max(seconds[1:]) * 1000:.0f}, n={len(seconds) - 1})"
            )
            print(f"idle memory of the plane (one process: admin + propeller + datacatalog): {idle:.0f} MiB RSS")
        finally:
            plane.send_signal(signal.SIGINT)
            plane.wait(timeout=60)


if __name__ == "__main__":
    main()
