"""A Ray task using remote functions (flytekitplugins-ray), and a workflow around it."""

import ray
from flytekit import task, workflow
from flytekitplugins.ray import HeadNodeConfig, RayJobConfig, WorkerNodeConfig


@ray.remote
def square(x: int) -> int:
    return x * x


@task(
    task_config=RayJobConfig(
        head_node_config=HeadNodeConfig(ray_start_params={"log-color": "false"}),
        worker_node_config=[WorkerNodeConfig(group_name="workers", replicas=2, min_replicas=1, max_replicas=3)],
        runtime_env={"env_vars": {"FROM_RUNTIME_ENV": "yes"}},
        enable_autoscaling=True,
        shutdown_after_job_finishes=True,
        ttl_seconds_after_finished=120,
    )
)
def sum_of_squares(n: int) -> int:
    """0² + 1² + ... + (n-1)², each square computed by a Ray remote function."""
    return sum(ray.get([square.remote(i) for i in range(n)]))


@task(task_config=RayJobConfig(worker_node_config=[WorkerNodeConfig(group_name="w", replicas=1)]))
def ray_fails(n: int) -> int:
    if n >= 0:
        raise ValueError(f"ray task refuses {n}")
    return n


@workflow
def ray_wf(n: int = 5) -> int:
    return sum_of_squares(n=n)
