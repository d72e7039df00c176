"""W1 and a 2,000-task fan-out through `flyteplane start` on the `ray-tasks` backend, on a two-node Ray cluster.

A Ray cluster of two nodes on this machine (`ray start --head` and `ray start --address`, tests.support.ray_cluster;
`--cpus` logical CPUs each, default 2,2) runs from the Ray task environment the tests use (flytekit 1.16.31, ray);
a fresh `flyteplane start --data-dir <tmp>` runs as a subprocess with every python task on `ray-tasks` (its driver
under that environment's python); `pyflyte register` registers bench/workflows once; then, as in
bench/peer_workloads.py (whose client, plane and measurements this reuses), each workload is submitted with
CreateExecution, waited for with GetExecution polled every `--poll-ms` and its outputs read and checked:

- W1: `workflows.trivial.fan_out100`, a 100-task fan-out of `x + 1` and a reduce (101 tasks);
- F2000: `workflows.maps.mapped_input(xs=range(2000))`, a map task of 2,000 `x + 1` elements (each its own Ray task)
  and a reduce (2,001 tasks).

A warm-up execution runs first (Ray starts its workers, flytekit is imported in them, the code bundle is extracted
on each node). Printed per workload: wall time (first CreateExecution to outputs read), ms per task (wall / tasks),
CPU per task of the plane process (admin, propeller and datacatalog), of its ray-tasks driver (a child process) and
of the whole machine (Ray workers and raylets included).

Ports: the plane's from `--port-base` (4 consecutive), the cluster's from `--ray-ports` ("low-high").
Run: .venv/bin/python bench/ray_tasks.py [--workloads W1,F2000] [--repeat 1] [--cpus 2,2] [--port-base 23400]
     [--ray-ports 23000-23399]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.peer_workloads import PROJECT, VERSION, Client, Plane, machine_cpu, process_cpu, register  # noqa: E402
from flyteidl_py.core import literals_pb2  # noqa: E402
from tests.integration.plugins.task_envs import ray_venv  # noqa: E402
from tests.support.ray_cluster import PORTS_VARIABLE, NodeSpec, ray_cluster  # noqa: E402

FAN_OUT = 2000


def int_list(values: list[int]) -> literals_pb2.LiteralMap:
    items = [
        literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=v))) for v in values
    ]
    return literals_pb2.LiteralMap(
        literals={"xs": literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=items))}
    )


def driver_pid(plane_pid: int) -> int | None:
    """The plane's ray-tasks driver (a child process running plugins/ray_tasks/driver.py)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == plane_pid and b"ray_tasks/driver.py" in cmdline:
            return int(entry.name)
    return None


def ray_plane(scratch: Path, venv: Path, address: str, port_base: int) -> Plane:
    plane = Plane(scratch, "reuse", venv)
    plane.grpc_port = port_base
    plane.env.update(
        FLYTEPLANE_ADMIN__GRPC_PORT=str(port_base),
        FLYTEPLANE_ADMIN__HTTP_PORT=str(port_base + 1),
        FLYTEPLANE_PROPELLER__GRPC_PORT=str(port_base + 2),
        FLYTEPLANE_DATACATALOG__GRPC_PORT=str(port_base + 3),
        FLYTEPLANE_PROPELLER__PLUGINS=json.dumps(
            {
                "task_types": {"python-task": "ray-tasks"},
                "backends": {
                    "ray-tasks": {
                        "address": address,
                        "python": str(venv / "bin" / "python"),
                        "work_dir": str(scratch / "ray-tasks"),
                        "namespace": f"bench-{os.getpid()}",
                    }
                },
            }
        ),
    )
    return plane


async def measure(client: Client, plane: Plane, name: str) -> str:
    assert plane.process is not None
    pid = plane.process.pid
    driver = driver_pid(pid)
    before = (process_cpu(pid), process_cpu(driver) if driver else 0.0, machine_cpu())
    began = time.perf_counter()
    if name == "W1":
        ident = await client.submit("workflows.trivial.fan_out100", 0)
        tasks, expected = 101, 100
    else:
        ident = await client.stub.CreateExecution(execution_request(list(range(FAN_OUT))))
        ident = ident.id
        tasks, expected = FAN_OUT + 1, sum(range(FAN_OUT)) + FAN_OUT
    await client.wait(ident)
    got = (await client.outputs(ident)).literals["o0"].scalar.primitive.integer
    wall = time.perf_counter() - began
    after = (process_cpu(pid), process_cpu(driver) if driver else 0.0, machine_cpu())
    if got != expected:
        raise RuntimeError(f"{name} computed {got}, expected {expected}")
    plane_cpu, driver_cpu, machine = (a - b for a, b in zip(after, before, strict=True))
    return (
        f"{name:<6} {tasks:>5} tasks  wall {wall:7.2f} s  {wall / tasks * 1000:6.1f} ms/task  CPU/task: plane "
        f"{plane_cpu / tasks * 1000:5.1f} ms, driver {driver_cpu / tasks * 1000:5.1f} ms, machine "
        f"{machine / tasks * 1000:6.1f} ms"
    )


def execution_request(xs: list[int]) -> object:
    from flyteidl_py.admin import execution_pb2
    from flyteidl_py.core import identifier_pb2

    lp = identifier_pb2.Identifier(resource_type=identifier_pb2.LAUNCH_PLAN, project=PROJECT, domain="development",
                                   name="workflows.maps.mapped_input", version=VERSION)  # fmt: skip
    spec = execution_pb2.ExecutionSpec(
        launch_plan=lp, metadata=execution_pb2.ExecutionMetadata(mode=execution_pb2.ExecutionMetadata.MANUAL)
    )
    return execution_pb2.ExecutionCreateRequest(project=PROJECT, domain="development", spec=spec, inputs=int_list(xs))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="W1,F2000", help="comma-separated: W1, F2000")
    parser.add_argument("--cpus", default="2,2", help="logical CPUs of the head and of the second node")
    parser.add_argument("--port-base", type=int, default=23400, help="the plane's 4 ports start here")
    parser.add_argument("--ray-ports", default="23000-23399", help="every port of the Ray cluster, low-high")
    parser.add_argument("--poll-ms", type=float, default=20.0, help="GetExecution polling interval")
    parser.add_argument("--repeat", type=int, default=1, help="measure each workload this many times")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (logs) and print it")
    args = parser.parse_args()
    os.environ[PORTS_VARIABLE] = args.ray_ports
    head_cpus, second_cpus = (int(n) for n in args.cpus.split(","))
    venv = ray_venv()
    scratch = Path(tempfile.mkdtemp(prefix="ray-tasks-bench-", dir=os.environ.get("TMPDIR")))
    try:
        nodes = [NodeSpec("head", head_cpus), NodeSpec("second", second_cpus)]
        with ray_cluster(venv, scratch / "ray", nodes) as cluster:
            project = scratch / "project"
            shutil.copytree(ROOT / "bench" / "workflows", project / "workflows")
            plane = ray_plane(scratch, venv, cluster.address, args.port_base)
            healthy = plane.start()
            try:
                registered = register(venv / "bin", plane.config, project)
                client = Client(plane.grpc_port, args.poll_ms / 1000)
                try:
                    began = time.perf_counter()
                    await client.run("workflows.trivial.fan_out100", 0)  # warm-up: workers, imports, bundles
                    warm_up = time.perf_counter() - began
                    print(f"healthy {healthy:.1f}s, registered {registered:.1f}s, warm-up W1 {warm_up:.1f}s",
                          file=sys.stderr)  # fmt: skip
                    names = [name for name in args.workloads.split(",") if name]
                    lines = [await measure(client, plane, name) for _ in range(args.repeat) for name in names]
                finally:
                    await client.close()
            finally:
                plane.stop()
        print(f"\nray-tasks on a two-node Ray cluster (CPUs {args.cpus}), real flytekit 1.16.31 `x + 1` tasks, "
              f"polling every {args.poll_ms:g} ms, {os.cpu_count()} cores")  # fmt: skip
        for line in lines:
            print(line)
    finally:
        if args.keep:
            print(f"\nscratch directory: {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
