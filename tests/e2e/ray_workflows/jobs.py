"""A Ray task run as a RayJob through KubeRay: remote functions spread over the head and a worker pod."""

import ray
from flytekit import Resources, task, workflow
from flytekitplugins.ray import RayJobConfig, WorkerNodeConfig


@ray.remote
def square(x: int) -> int:
    return x * x


@ray.remote
def runtime_env_var() -> str:
    import os

    return os.environ.get("FROM_RUNTIME_ENV", "")


@task(
    task_config=RayJobConfig(
        worker_node_config=[WorkerNodeConfig(group_name="workers", replicas=1)],
        runtime_env={"env_vars": {"FROM_RUNTIME_ENV": "yes"}},
        shutdown_after_job_finishes=True,
        ttl_seconds_after_finished=30,
    ),
    # A quarter core requested by each of the head, the worker and the submitter: they fit a 2-core node.
    requests=Resources(cpu="250m", mem="1Gi"),
    limits=Resources(cpu="1", mem="3Gi"),
)
def sum_of_squares(n: int) -> tuple[int, int, str]:
    """0² + ... + (n-1)² by Ray remote functions; the cluster's live nodes; the job's runtime env as a task sees it."""
    total = sum(ray.get([square.remote(i) for i in range(n)]))
    nodes = sum(1 for node in ray.nodes() if node["Alive"])
    return total, nodes, ray.get(runtime_env_var.remote())


@workflow
def ray_wf(n: int = 5) -> tuple[int, int, str]:
    return sum_of_squares(n=n)
