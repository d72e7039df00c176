"""A user's own agent task: the client side of an agent served by `pyflyte serve agent` (task type
`flyteplane-test-agent`, the agent in tests/integration/plugins/agent_code answers {"o0": 2n})."""

from flytekit import kwtypes, task, workflow
from flytekit.core.base_task import PythonTask
from flytekit.core.interface import Interface
from flytekit.extend.backend.base_agent import AsyncAgentExecutorMixin


class CountingTask(AsyncAgentExecutorMixin, PythonTask):
    _TASK_TYPE = "flyteplane-test-agent"

    def __init__(self, name: str, **kwargs: object) -> None:
        super().__init__(
            name=name,
            task_type=self._TASK_TYPE,
            interface=Interface(inputs=kwtypes(n=int, seconds=float, mode=str), outputs=kwtypes(o0=int)),
            **kwargs,
        )


count = CountingTask(name="count")


@task
def describe(doubled: int) -> str:
    return f"the agent doubled it: {doubled}"


@workflow
def custom_agent_wf(n: int = 21) -> str:
    doubled = count(n=n, seconds=2.0, mode="outputs")
    return describe(doubled=doubled)
