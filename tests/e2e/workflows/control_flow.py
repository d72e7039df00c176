"""Every node kind: @dynamic, map_task (ArrayNode), a conditional, a sub-workflow and a launch-plan node."""

from flytekit import LaunchPlan, conditional, dynamic, map_task, task, workflow


@task
def square(x: int) -> int:
    return x * x


@task
def add(a: int, b: int) -> int:
    return a + b


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@task
def halve(x: int) -> float:
    return x / 2


@task
def negate(x: int) -> float:
    return -float(x)


@dynamic
def sum_of_squares(n: int) -> int:
    acc = 0
    for i in range(n):
        acc = add(a=acc, b=square(x=i))
    return acc


@workflow
def square_plus(x: int, y: int) -> int:
    return add(a=square(x=x), b=y)


square_plus_lp = LaunchPlan.get_or_create(
    workflow=square_plus, name="workflows.control_flow.square_plus_lp", default_inputs={"y": 100}
)


@workflow
def control_flow_wf(
    n: int = 4,
    xs: list[int] = [1, 2, 3],  # noqa: B006 - flytekit turns defaults into launch plan literals
) -> tuple[int, list[int], int, float, int, int]:
    dynamic_sum = sum_of_squares(n=n)
    squares = map_task(square, concurrency=2, min_success_ratio=1.0)(x=xs)
    summed = total(xs=squares)
    signed = (
        conditional("sign")
        .if_(n > 3)
        .then(halve(x=summed))
        .elif_(n == 0)
        .then(halve(x=n))
        .else_()
        .then(negate(x=summed))
    )
    via_subworkflow = square_plus(x=n, y=summed)
    via_launch_plan = square_plus_lp(x=n)
    return dynamic_sum, squares, summed, signed, via_subworkflow, via_launch_plan
