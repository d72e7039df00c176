"""A custom async agent for the agent plugin's tests, loaded into a real agent server (never into the test process).

Task type `flyteplane-test-agent`, inputs `n` (int), `seconds` (float, how long the remote task runs),
`mode` (str: "outputs" returns {"o0": 2n} in the resource, "writes" writes outputs.pb itself, "fail"
ends FAILED); and a sync agent, `flyteplane-test-sync-agent`, answering n + 1.
Every CreateTask appends the attempt's id to `creates.log` in $FLYTEPLANE_TEST_AGENT_DIR, and
the remote task's start time is a file there too, so a restarted agent server picks its tasks up again.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from flyteidl.core.execution_pb2 import TaskExecution, TaskLog
from flytekit.extend.backend.base_agent import AgentRegistry, AsyncAgentBase, Resource, ResourceMeta, SyncAgentBase
from flytekit.models.literals import LiteralMap
from flytekit.models.task import TaskTemplate

TASK_TYPE = "flyteplane-test-agent"
SYNC_TASK_TYPE = "flyteplane-test-sync-agent"
ROOT = Path(os.environ["FLYTEPLANE_TEST_AGENT_DIR"])


@dataclass
class CountingMeta(ResourceMeta):
    job_id: str
    n: int
    seconds: float
    mode: str
    output_prefix: str


def _value(inputs: LiteralMap | None, name: str, default: object) -> object:
    if inputs is None or name not in inputs.literals:
        return default
    primitive = inputs.literals[name].scalar.primitive
    return primitive.value


class CountingAgent(AsyncAgentBase):
    name = "Flyteplane test agent"

    def __init__(self) -> None:
        super().__init__(task_type_name=TASK_TYPE, metadata_type=CountingMeta)

    def create(
        self, task_template: TaskTemplate, output_prefix: str, inputs: LiteralMap | None = None, **kwargs
    ) -> CountingMeta:
        metadata = kwargs.get("task_execution_metadata")
        ident = metadata.task_execution_id if metadata is not None else None
        job_id = (
            f"{ident.node_execution_id.execution_id.name}-{ident.node_execution_id.node_id}-{ident.retry_attempt}"
            if ident is not None
            else f"job-{time.time_ns()}"
        )
        ROOT.mkdir(parents=True, exist_ok=True)
        with open(ROOT / "creates.log", "a") as log:
            log.write(job_id + "\n")
        (ROOT / f"{job_id}.started").write_text(str(time.time()))
        return CountingMeta(
            job_id=job_id,
            n=int(_value(inputs, "n", 0)),
            seconds=float(_value(inputs, "seconds", 0.0)),
            mode=str(_value(inputs, "mode", "outputs")),
            output_prefix=output_prefix,
        )

    def get(self, resource_meta: CountingMeta, **kwargs) -> Resource:
        started = float((ROOT / f"{resource_meta.job_id}.started").read_text())
        links = [TaskLog(uri=f"http://agent.example/jobs/{resource_meta.job_id}", name="Test agent job")]
        info = {"job_id": resource_meta.job_id}
        if (ROOT / f"{resource_meta.job_id}.deleted").exists():
            return Resource(phase=TaskExecution.ABORTED, message="deleted", log_links=links, custom_info=info)
        if time.time() - started < resource_meta.seconds:
            return Resource(phase=TaskExecution.RUNNING, message="counting", log_links=links, custom_info=info)
        if resource_meta.mode == "fail":
            return Resource(
                phase=TaskExecution.FAILED, message="the test agent was told to fail", log_links=links, custom_info=info
            )
        if resource_meta.mode == "writes":
            from flyteidl.core import literals_pb2

            literal = literals_pb2.Literal(
                scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=resource_meta.n * 3))
            )
            path = Path(resource_meta.output_prefix.removeprefix("file://")) / "outputs.pb"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(literals_pb2.LiteralMap(literals={"o0": literal}).SerializeToString())
            return Resource(phase=TaskExecution.SUCCEEDED, message="wrote its outputs", log_links=links)
        return Resource(
            phase=TaskExecution.SUCCEEDED,
            message="done",
            log_links=links,
            custom_info=info,
            outputs={"o0": resource_meta.n * 2},
        )

    def delete(self, resource_meta: CountingMeta, **kwargs) -> None:
        (ROOT / f"{resource_meta.job_id}.deleted").write_text("")


class AddingAgent(SyncAgentBase):
    """A sync agent (task type `flyteplane-test-sync-agent`): answers n + 1 in the same call."""

    name = "Flyteplane test sync agent"

    def __init__(self) -> None:
        super().__init__(task_type_name=SYNC_TASK_TYPE)

    def do(
        self, task_template: TaskTemplate, output_prefix: str, inputs: LiteralMap | None = None, **kwargs
    ) -> Resource:
        n = int(_value(inputs, "n", 0))
        return Resource(phase=TaskExecution.SUCCEEDED, message="added one", outputs={"o0": n + 1})


AgentRegistry.register(CountingAgent())
AgentRegistry.register(AddingAgent())
