"""A real multi-node Ray cluster on this machine: a head (`ray start --head`) and nodes joined to it (`--address`).

Every node runs from a given virtualenv (ray and flytekit), on loopback, with every port Ray would otherwise take
at a fixed default or at random chosen here: from `FLYTEPLANE_TEST_RAY_PORTS` ("<low>-<high>", all of them in
that range) when it is set, else single ports from `free_port` and worker ports from the top of Ray's default
worker range (below the kernel's ephemeral range either way). Each node gets its own short temp directory (Ray's
unix sockets live there) and the environment variable `FLYTEPLANE_RAY_NODE=<node name>`, which its workers -- and
so the tasks they run -- inherit: a task can tell which node ran it. Nodes are stopped by their pids.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.postgres import free_port

PORTS_VARIABLE = "FLYTEPLANE_TEST_RAY_PORTS"
NODE_VARIABLE = "FLYTEPLANE_RAY_NODE"
_SINGLE_PORTS = ("node-manager", "object-manager", "metrics-export", "runtime-env-agent", "dashboard-agent-listen",
                 "dashboard-agent-grpc")  # fmt: skip
_WORKER_PORTS = 96


@dataclass(frozen=True)
class NodeSpec:
    """A node to start: its name, logical CPUs and custom resources."""

    name: str
    num_cpus: int
    resources: Mapping[str, float] = field(default_factory=dict)


@dataclass
class RayCluster:
    address: str  # the head's GCS, for `ray.init(address=...)` and `ray start --address`
    dashboard: str
    venv: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    temp_dirs: list[str] = field(default_factory=list)


class _Ports:
    def __init__(self) -> None:
        configured = os.environ.get(PORTS_VARIABLE, "")
        if configured:
            low, high = (int(part) for part in configured.split("-"))
            self._next = itertools.count(low)
            self._worker_base = high + 1  # worker ranges from the top, downwards
        else:
            self._next = None
            self._worker_base = 20000  # the top of Ray's default worker range (10002-19999)

    def single(self) -> int:
        return next(self._next) if self._next is not None else free_port()

    def workers(self) -> tuple[int, int]:
        self._worker_base -= _WORKER_PORTS
        return self._worker_base, self._worker_base + _WORKER_PORTS - 1


def _env(venv: Path, node: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "PYTHON", "VIRTUAL_ENV", "FLYTE"))}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", RAY_USAGE_STATS_ENABLED="0")
    env[NODE_VARIABLE] = node
    return env


def _start_node(cluster: RayCluster, ports: _Ports, node: NodeSpec, log: Path, *, head: bool) -> None:
    temp = tempfile.mkdtemp(prefix="rt-", dir="/tmp")  # short: Ray's socket paths must stay under 108 bytes
    cluster.temp_dirs.append(temp)
    low, high = ports.workers()
    args = [str(cluster.venv / "bin" / "ray"), "start", "--block", "--node-ip-address=127.0.0.1",
            f"--num-cpus={node.num_cpus}", f"--temp-dir={temp}", "--disable-usage-stats",
            f"--resources={json.dumps(dict(node.resources))}",
            *(f"--{name}-port={ports.single()}" for name in _SINGLE_PORTS),
            f"--min-worker-port={low}", f"--max-worker-port={high}"]  # fmt: skip
    if head:
        args += [f"--port={cluster.address.rsplit(':', 1)[1]}", "--head", "--dashboard-host=127.0.0.1",
                 f"--dashboard-port={cluster.dashboard.rsplit(':', 1)[1]}", "--include-dashboard=true",
                 f"--ray-client-server-port={ports.single()}"]  # fmt: skip
    else:
        args.append(f"--address={cluster.address}")
    with log.open("wb") as out:
        cluster.processes.append(
            subprocess.Popen(
                args,
                cwd=log.parent,
                env=_env(cluster.venv, node.name),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )


def _alive_nodes(cluster: RayCluster) -> int:
    answer = subprocess.run(
        [str(cluster.venv / "bin" / "ray"), "list", "nodes", f"--address={cluster.dashboard}", "--format=json",
         "--filter", "state=ALIVE"],
        check=False, env=_env(cluster.venv, "client"), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    if answer.returncode != 0:
        return 0
    with contextlib.suppress(ValueError):
        return len(json.loads(answer.stdout))
    return 0


def stop(cluster: RayCluster) -> None:
    """Stops every node (last started first) by its pid, then whatever is left of its process group."""
    for process in reversed(cluster.processes):
        process.send_signal(signal.SIGTERM)  # `ray start --block` stops the processes it started
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    for temp in cluster.temp_dirs:
        shutil.rmtree(temp, ignore_errors=True)


@contextlib.contextmanager
def ray_cluster(venv: Path, workdir: Path, nodes: list[NodeSpec], *, timeout: float = 180) -> Iterator[RayCluster]:
    """The cluster of `nodes` (the first is the head), once every node is alive; stopped on exit."""
    ports = _Ports()
    cluster = RayCluster(f"127.0.0.1:{ports.single()}", f"http://127.0.0.1:{ports.single()}", venv)
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        for index, node in enumerate(nodes):
            _start_node(cluster, ports, node, workdir / f"ray-{node.name}.log", head=index == 0)
            if index == 0:
                time.sleep(3)  # the GCS must answer before a node joins
        deadline = time.monotonic() + timeout
        while _alive_nodes(cluster) < len(nodes):
            dead = [p for p in cluster.processes if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                logs = "\n".join((workdir / f"ray-{n.name}.log").read_text()[-2000:] for n in nodes)
                raise RuntimeError(f"the Ray cluster did not come up:\n{logs}")
            time.sleep(1)
        yield cluster
    finally:
        stop(cluster)
