"""Fixtures for plugin tests: a file:// store, and the Spark and Ray task environments (with a Ray head)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from flyteidl_py.core import tasks_pb2
from flyteplane.storage import Storage, StorageConfig
from tests.integration.plugins.task_envs import code_root, package, ray_venv, spark_venv
from tests.support.postgres import free_port


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    return Storage(StorageConfig(local_root=tmp_path / "store"))


@pytest.fixture(scope="session")
def spark_env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, tasks_pb2.TaskTemplate]]:
    venv = spark_venv()
    root = code_root(tmp_path_factory.mktemp("spark-code"), "spark_tasks")
    templates = package(venv, root, "localhost/spark-task:1", root.parent / "spark.tgz")
    return venv, root, templates


def _worker_port_range() -> tuple[int, int]:
    """Ray's worker ports (default 10002-19999), a quarter of that range per pytest-xdist worker."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) % 4 if worker[2:].isdigit() else 0
    return 10002 + index * 2400, 10002 + index * 2400 + 2399


@dataclass(frozen=True)
class RayHead:
    dashboard: str
    code: Path
    templates: dict[str, tasks_pb2.TaskTemplate]


@pytest.fixture(scope="session")
def ray_head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RayHead]:
    """A Ray head with its dashboard on loopback, started from the Ray task environment, stopped by its pid."""
    venv = ray_venv()
    root = code_root(tmp_path_factory.mktemp("ray-code"), "ray_tasks")
    templates = package(venv, root, "localhost/ray-task:1", root.parent / "ray.tgz")
    workdir = tmp_path_factory.mktemp("ray-head")
    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # Ray's unix sockets live here: paths must stay short
    # Every port Ray would otherwise take at a fixed default (client server 10001, dashboard agent
    # 52365, ...) is chosen here, so two heads (one per pytest-xdist worker) never meet.
    port, dashboard_port = free_port(), free_port()
    fixed = {
        name: free_port()
        for name in ("ray-client-server", "dashboard-agent-listen", "dashboard-agent-grpc", "node-manager",
                     "object-manager", "metrics-export", "runtime-env-agent")
    }  # fmt: skip
    lowest_worker_port, highest_worker_port = _worker_port_range()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", RAY_USAGE_STATS_ENABLED="0")
    log = (workdir / "ray.log").open("wb")
    head = subprocess.Popen(
        [str(venv / "bin" / "ray"), "start", "--head", "--block", f"--port={port}", "--node-ip-address=127.0.0.1",
         "--dashboard-host=127.0.0.1", f"--dashboard-port={dashboard_port}", "--include-dashboard=true",
         "--num-cpus=2", f"--temp-dir={temp}", "--disable-usage-stats",
         *(f"--{name}-port={number}" for name, number in fixed.items()),
         f"--min-worker-port={lowest_worker_port}", f"--max-worker-port={highest_worker_port}"],
        cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{dashboard_port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/api/version", timeout=2) as answer:
                if answer.status == 200:
                    break
            if head.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Ray head did not start: {(workdir / 'ray.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield RayHead(url, root, templates)
    finally:
        head.send_signal(signal.SIGTERM)  # `ray start --block` stops the processes it started
        try:
            head.wait(60)
        except subprocess.TimeoutExpired:
            head.kill()
            head.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(head.pid, signal.SIGKILL)  # whatever of the head's own process group is left
        log.close()
        shutil.rmtree(temp, ignore_errors=True)
