"""A task class of the user's own, with a task type no plugin names: Flyte runs it like any container task."""

from typing import Any

from flytekit import kwtypes, workflow
from flytekit.core.interface import Interface
from flytekit.core.python_function_task import PythonInstanceTask


class Scale(PythonInstanceTask[None]):
    """Multiplies its input by a factor fixed when the task is declared."""

    def __init__(self, name: str, factor: int) -> None:
        super().__init__(
            name=name,
            task_config=None,
            task_type="scale",
            interface=Interface(inputs=kwtypes(x=int), outputs=kwtypes(o0=int)),
        )
        self._factor = factor

    def execute(self, **kwargs: Any) -> int:
        return int(kwargs["x"]) * self._factor


triple = Scale(name="triple", factor=3)


@workflow
def tripled(x: int) -> int:
    return triple(x=x)
