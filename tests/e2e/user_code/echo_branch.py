"""A conditional whose no-op branch is an Echo task: the value passes through unchanged."""

from flytekit import conditional, task, workflow
from flytekit.core.task import Echo

passthrough = Echo(name="passthrough", inputs={"a": int})


@task
def double(a: int) -> int:
    return a * 2


@workflow
def double_if_small(a: int) -> int:
    return conditional("small").if_(a < 10).then(double(a=a)).else_().then(passthrough(a=a))
