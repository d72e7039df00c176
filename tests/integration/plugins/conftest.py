"""Fixtures for plugin tests: a file:// store, and the Spark and Ray task environments (with a Ray head)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
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


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    return Storage(StorageConfig(local_root=tmp_path / "store"))


@pytest.fixture(scope="session")
def spark_env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, tasks_pb2.TaskTemplate]]:
    venv = spark_venv()
    root = code_root(tmp_path_factory.mktemp("spark-code"), "spark_tasks")
    templates = package(venv, root, "localhost/spark-task:1", root.parent / "spark.tgz")
    return venv, root, templates


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
    port, dashboard_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", RAY_USAGE_STATS_ENABLED="0")
    log = (workdir / "ray.log").open("wb")
    head = subprocess.Popen(
        [str(venv / "bin" / "ray"), "start", "--head", "--block", f"--port={port}", "--node-ip-address=127.0.0.1",
         "--dashboard-host=127.0.0.1", f"--dashboard-port={dashboard_port}", "--include-dashboard=true",
         "--num-cpus=2", f"--temp-dir={temp}", "--disable-usage-stats"],
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
