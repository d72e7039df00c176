"""W1 (a 100-task fan-out of `x + 1` and a reduce) for pods, for bench/k8s_overhead.py: trivial.fan_out100 with
resources, since a pod's requests decide how many run at once on the node."""

from flytekit import Resources, task, workflow

# A fifth of a core requested, so ten pods fit on two allocatable cores; up to a whole one used (the limit),
# because flytekit's start in the pod is most of a trivial task's CPU.
POD_RESOURCES = {"requests": Resources(cpu="200m", mem="300Mi"), "limits": Resources(cpu="1", mem="300Mi")}


@task(**POD_RESOURCES)
def plus_one(x: int) -> int:
    return x + 1


@task(**POD_RESOURCES)
def total(xs: list[int]) -> int:
    return sum(xs)


@workflow
def one_task(x: int = 0) -> int:
    return plus_one(x=x)


@workflow
def fan_out100(x: int = 0) -> int:
    return total(xs=[plus_one(x=x) for _ in range(100)])
