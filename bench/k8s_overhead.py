"""W1 (a 100-task fan-out + reduce) through the `k8s-pod` backend on a real Kubernetes node, next to the local backend.

Two fresh `flyteplane start --data-dir <tmp>` subprocesses run one after the other (bench/peer_workloads.py's
`Plane`, whose `warm` path is the local backend's default: a warm fork server per code bundle):

- local: W1 exactly as bench/peer_workloads.py runs it (`workflows.trivial.fan_out100`, the plane's local store);
- k8s-pod: `python-task` mapped to `k8s-pod`; W1 as `workflows.pods.fan_out100` (the same tasks, with the
  requests a pod needs: see bench/workflows/pods.py) in the task image of tests/support/kube_node.py
  (Debian's python3 + flytekit 1.16.31), typed data in an S3 store (moto, a subprocess here) that the
  pods reach on loopback (`hostNetwork`), its credentials in a Kubernetes Secret, pods kept after they
  finish (`delete_resource_on_finalize: false`) so their timestamps can be read, then deleted.

Both register bench/workflows with `pyflyte register --image <task image>` (fast registration), run a one-task
warm-up, then W1 submitted with CreateExecution and waited for with GetExecution polled every `--poll-ms`,
the output read and checked (bench/peer_workloads.py's `run_workload`). Printed: wall time, per-task
overhead (wall / 101 tasks), CPU per task of the plane process and of the machine; for k8s-pod, also per
pod percentiles from the API server's timestamps (whole seconds): created -> container started, container
started -> finished, created -> finished, and how many pods ran at once at most.

The node: the machine-wide one the tests share (`tests.support.kube_node.shared_node`: reused when up, else
brought up and taken down at the end; FLYTEPLANE_K8S_NODE_DIR gives it another directory), or with
`--node-dir` one brought up by hand (`FLYTEPLANE_K8S_NODE_DIR=<dir> scripts/k8s-node.sh up`), left running.
Its allocatable CPU (2 cores here) caps how many pods run at once: requests of 200m give ten.

CPU weights (cgroup v1): all of the node's pods live under one cgroup root whose `cpu.shares` is
tests/support/kube_node.py's NODE_CPU_SHARES (4096, four processes' weight) at the machine's top level, where
the local backend's task processes compete one weight each. On a busy machine the pods then get a small
fraction of what local tasks get (seen at the default 1024: ten pods at ~1% of a core each for minutes under a
load of 30). `--node-cpu-shares 10240` gives the node the weight of ten processes, one per pod that runs at once.

Run (as root): .venv/bin/python bench/k8s_overhead.py [--backends local,k8s-pod] [--port-base P]
[--node-dir DIR] [--node-cpu-shares N] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.map_scale import use_ports  # noqa: E402
from bench.peer_workloads import (  # noqa: E402
    DOMAIN,
    PROJECT,
    VERSION,
    WORKLOADS,
    Client,
    Plane,
    Result,
    Workload,
    run_workload,
)
from tests.support.flytekit import flytekit_bin  # noqa: E402
from tests.support.kube_node import TASK_IMAGE, Node, shared_node  # noqa: E402
from tests.support.kube_node import _cgroup_root as cgroup_root  # noqa: E402
from tests.support.postgres import free_port  # noqa: E402

NAMESPACE = "bench-k8s-overhead"
SECRET = "flyte-storage"
BUCKET = "k8s-overhead"
S3_KEY, S3_SECRET = "bench", "bench-secret"  # moto accepts any
CGROUP_CPU = Path("/sys/fs/cgroup/cpu")
POD_W1 = Workload("W1", "workflows.pods.fan_out100", 101, 1, False, "100-task fan-out + reduce")


@dataclass(frozen=True)
class PodTimes:
    """One pod's life from the API server's timestamps (seconds, whole-second resolution)."""

    created: datetime
    started: datetime
    finished: datetime


def start_moto(port: int, log: Path) -> subprocess.Popen[bytes]:
    """moto's S3 server on 127.0.0.1:`port`, with the bench's bucket."""
    endpoint = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=out
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(f"moto did not start: {log.read_text()[-2000:]}") from None
            time.sleep(0.2)
    import boto3

    boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=S3_KEY, aws_secret_access_key=S3_SECRET
    ).create_bucket(Bucket=BUCKET)
    return process


def prepare_namespace(node: Node, endpoint: str) -> None:
    """The bench's namespace (emptied) with the store's credentials as a Secret every task pod gets."""
    if not node.kubectl("get", "namespace", NAMESPACE, "--ignore-not-found", "-o", "name"):
        node.kubectl("create", "namespace", NAMESPACE)
    node.kubectl("wait", "--for=jsonpath={.metadata.name}=default", "-n", NAMESPACE, "serviceaccount/default",
                 "--timeout=60s")  # fmt: skip
    delete_pods(node)
    values = {
        "FLYTE_AWS_ENDPOINT": endpoint, "FLYTE_AWS_ACCESS_KEY_ID": S3_KEY, "FLYTE_AWS_SECRET_ACCESS_KEY": S3_SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
    }  # fmt: skip
    node.kubectl("delete", "secret", "-n", NAMESPACE, SECRET, "--ignore-not-found")
    node.kubectl("create", "secret", "generic", "-n", NAMESPACE, SECRET,
                 *(f"--from-literal={k}={v}" for k, v in values.items()))  # fmt: skip


def delete_pods(node: Node) -> None:
    """Every pod of the bench's namespace deleted, our finalizer removed first (unfinished ones keep it)."""
    for pod in node.kubectl("get", "pods", "-n", NAMESPACE, "-o", "name").split():
        node.kubectl("patch", "-n", NAMESPACE, pod, "--type=merge", "-p", '{"metadata": {"finalizers": null}}')
    node.kubectl("delete", "pods", "-n", NAMESPACE, "--all", "--wait=true", "--timeout=120s")


def set_cpu_shares(node: Node, shares: int) -> None:
    """The CPU weight of the node's cgroup root (cgroup v1), where all its pods' cgroups are."""
    (CGROUP_CPU / cgroup_root(node.ports).lstrip("/") / "cpu.shares").write_text(str(shares))


@contextlib.contextmanager
def the_node(directory: str) -> Iterator[Node]:
    """The node running in `directory` (left running), else the machine-wide one the tests share."""
    if directory:
        node = Node.load(Path(directory))
        if node is None:
            raise SystemExit(f"no node in {directory}: bring one up with scripts/k8s-node.sh up")
        yield node
        return
    with shared_node() as node:
        yield node


def pod_plugins(node: Node) -> dict[str, Any]:
    backend = {
        "kube": {
            "connection": {"host": node.api_url, "token": node.token, "verify_ssl": False},
            "namespace_template": NAMESPACE,
            "delete_resource_on_finalize": False,  # read their timestamps afterwards
        },
        "image_pull_policy": "Never",
        "default_env_from_secrets": [SECRET],
        "default_pod_template": {"spec": {"hostNetwork": True}},
    }
    return {"task_types": {"python-task": "k8s-pod", "container": "k8s-pod"}, "backends": {"k8s-pod": backend}}


def k8s_plane(scratch: Path, venv: Path, node: Node, endpoint: str) -> Plane:
    plane = Plane(scratch, "warm", venv)
    plane.data, plane.log = scratch / "plane-k8s-pod", scratch / "plane-k8s-pod.log"
    plane.env["FLYTEPLANE_PROPELLER__PLUGINS"] = json.dumps(pod_plugins(node))
    plane.env.update({
        "FLYTEPLANE_STORAGE__DEFAULT_SCHEME": "s3", "FLYTEPLANE_STORAGE__DEFAULT_BUCKET": BUCKET,
        "FLYTEPLANE_STORAGE__S3__ENDPOINT_URL": endpoint, "FLYTEPLANE_STORAGE__S3__ACCESS_KEY_ID": S3_KEY,
        "FLYTEPLANE_STORAGE__S3__SECRET_ACCESS_KEY": S3_SECRET,
    })  # fmt: skip
    return plane


def register(bin_dir: Path, plane: Plane, project: Path) -> float:
    began = time.perf_counter()
    subprocess.run(
        [str(bin_dir / "pyflyte"), "--config", str(plane.config), "register", "-p", PROJECT, "-d", DOMAIN,
         "--version", VERSION, "--image", TASK_IMAGE, "workflows"],
        cwd=project, check=True, capture_output=True,
    )  # fmt: skip
    return time.perf_counter() - began


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def pod_times(node: Node) -> list[PodTimes]:
    """The timestamps of the namespace's pods (W1's: the warm-up's were deleted before it)."""
    listed = node.kubectl("get", "pods", "-n", NAMESPACE, "-o", "json")
    times = []
    for pod in json.loads(listed)["items"]:
        states = [
            (c.get("state") or {}).get("terminated") for c in (pod.get("status") or {}).get("containerStatuses") or []
        ]
        if not states or not states[0]:
            continue
        times.append(PodTimes(_time(pod["metadata"]["creationTimestamp"]), _time(states[0]["startedAt"]),
                              _time(states[0]["finishedAt"])))  # fmt: skip
    return times


def _percentiles(values: list[float]) -> str:
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return f"p50 {statistics.median(ordered):4.1f}s  p90 {at(0.9):4.1f}s  max {ordered[-1]:4.1f}s"


def pod_report(times: list[PodTimes]) -> list[str]:
    if not times:
        return ["no finished pods found"]
    events = sorted([(t.started, 1) for t in times] + [(t.finished, -1) for t in times])
    running = most = 0
    for _, step in events:  # a pod finishing in the second another starts counts as finished first
        running += step
        most = max(most, running)
    return [
        f"pods: {len(times)} finished; at most {most} containers running at once",
        "created -> container started:  " + _percentiles([(t.started - t.created).total_seconds() for t in times]),
        "container started -> finished: " + _percentiles([(t.finished - t.started).total_seconds() for t in times]),
        "created -> finished:           " + _percentiles([(t.finished - t.created).total_seconds() for t in times]),
    ]


async def measure(
    backend: str,
    plane: Plane,
    workload: Workload,
    bin_dir: Path,
    project: Path,
    poll: float,
    node: Node | None = None,
) -> Result:
    healthy = plane.start()
    try:
        registered = register(bin_dir, plane, project)
        client = Client(plane.grpc_port, poll)
        try:
            began = time.perf_counter()
            await client.run(workload.launch_plan.replace("fan_out100", "one_task"), 0)  # warm-up
            first = time.perf_counter() - began
            print(f"[{backend}] healthy {healthy:.1f}s, registered {registered:.1f}s, first run {first:.1f}s",
                  file=sys.stderr)  # fmt: skip
            if node is not None:  # W1's pods alone in the namespace afterwards
                await asyncio.to_thread(delete_pods, node)
            result = await run_workload(client, workload, plane, backend)
            print(f"[{backend}] W1: {result.wall:.2f}s", file=sys.stderr)
            return result
        finally:
            await client.close()
    finally:
        plane.stop()


def report(results: list[Result], pods: list[str], allocatable: str, poll: float) -> None:
    print(f"\nW1 (100-task fan-out + reduce, 101 real flytekit 1.16.31 `x + 1` tasks) through `flyteplane start`, "
          f"gRPC client polling GetExecution every {poll * 1000:g} ms")  # fmt: skip
    print(
        f"k8s-pod: one pod per task on a single node (allocatable CPU {allocatable}), requests cpu 200m / "
        "memory 300Mi, limits cpu 1 / memory 300Mi; local: the local backend's default (warm fork)\n"
    )
    print(f"{'backend':<8} {'tasks':>5} {'wall':>9} {'per task':>9} {'CPU/task plane/all':>19}")
    for result in results:
        print(
            f"{result.path:<8} {result.tasks:>5} {result.wall:>8.2f}s {result.wall / result.tasks * 1000:>7.0f}ms "
            f"{result.plane_cpu / result.tasks * 1000:>8.1f} /{result.machine_cpu / result.tasks * 1000:>6.1f}ms"
        )
    for line in pods:
        print(f"    k8s-pod {line}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="local,k8s-pod", help="comma-separated: local, k8s-pod")
    # 100 ms, not the 5 ms of the short local workloads: over a run of minutes a 5 ms poll is most of the plane's
    # CPU (1.6 s per task through k8s-pod at 5 ms, 0.75 s at 100 ms).
    parser.add_argument("--poll-ms", type=float, default=100.0, help="GetExecution polling interval")
    parser.add_argument("--port-base", type=int, default=0, help="use ten ports from here on (default: free ports)")
    parser.add_argument("--node-dir", default="", help="a node brought up by scripts/k8s-node.sh (left running)")
    parser.add_argument("--node-cpu-shares", type=int, default=0, help="CPU weight of the node's cgroup root")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (plane logs) and print it")
    args = parser.parse_args()
    backends = [b for b in args.backends.split(",") if b]
    poll = args.poll_ms / 1000
    bin_dir = flytekit_bin()
    scratch = Path(tempfile.mkdtemp(prefix="k8s-overhead-"))
    project = scratch / "project"
    shutil.copytree(ROOT / "bench" / "workflows", project / "workflows", ignore=shutil.ignore_patterns("__pycache__"))
    results: list[Result] = []
    pods: list[str] = []
    allocatable = "?"
    try:
        if "local" in backends:
            plane = Plane(scratch, "warm", bin_dir.parent)
            if args.port_base:
                use_ports(plane, args.port_base)
            results.append(await measure("local", plane, WORKLOADS["W1"], bin_dir, project, poll))
        if "k8s-pod" in backends:
            moto_port = args.port_base + 9 if args.port_base else free_port()
            moto = start_moto(moto_port, scratch / "moto.log")
            try:
                with the_node(args.node_dir) as node:
                    if args.node_cpu_shares:
                        set_cpu_shares(node, args.node_cpu_shares)
                    allocatable = node.kubectl("get", "node", "-o", "jsonpath={.items[0].status.allocatable.cpu}")
                    endpoint = f"http://127.0.0.1:{moto_port}"
                    await asyncio.to_thread(prepare_namespace, node, endpoint)
                    plane = k8s_plane(scratch, bin_dir.parent, node, endpoint)
                    if args.port_base:
                        use_ports(plane, args.port_base + 4)
                    try:
                        results.append(await measure("k8s-pod", plane, POD_W1, bin_dir, project, poll, node))
                        pods = pod_report(await asyncio.to_thread(pod_times, node))
                    finally:
                        await asyncio.to_thread(delete_pods, node)
            finally:
                moto.terminate()
                moto.wait()
        report(results, pods, allocatable, poll)
    finally:
        if args.keep:
            print(f"\nscratch directory (plane logs): {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
