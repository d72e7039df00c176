"""An eager workflow of three tasks: one called twice, one in a loop, one over what the loop computed."""

from flytekit import eager, task


@task
def add_one(x: int) -> int:
    return x + 1


@task
def square(x: int) -> int:
    return x * x


@task
def total(values: list[int]) -> int:
    return sum(values)


@eager
async def eager_pipeline(x: int) -> int:
    first = add_one(x=x)
    second = add_one(x=first)  # the same task again, on what it returned
    squares = [square(x=second + i) for i in range(3)]  # a task in a loop
    return total(values=squares)
