"""Task execution contexts laid out as propeller lays them out, and a driver that calls `handle` like propeller."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from pathlib import Path

from flyteidl_py.core import identifier_pb2, literals_pb2, tasks_pb2
from flyteplane.storage import Storage
from plugins.core import DataPaths, Plugin, TaskExecutionContext, Transition
from tests.support.packages import load_package
from tests.support.paths import fixtures_dir

PROJECT, DOMAIN, VERSION = "flytesnacks", "development", "v1"


def fixture_task(name: str, package: str = "examples-package.tgz") -> tasks_pb2.TaskTemplate:
    """The TaskTemplate of task `name` (e.g. `examples.basics.scalars`) from a real flytekit package."""
    templates = {spec.template.id.name: spec.template for spec in load_package(fixtures_dir() / package).tasks}
    if name in templates:
        return templates[name]
    (match,) = [template for full, template in templates.items() if full.startswith(name)]
    return match


def runtime_fixture(name: str) -> bytes:
    return (fixtures_dir() / "runtime" / name).read_bytes()


def container_task(*argv: str, name: str = "tests.shell", task_type: str = "container") -> tasks_pb2.TaskTemplate:
    """A plain container task (no flytekit) running `argv`."""
    return tasks_pb2.TaskTemplate(
        id=identifier_pb2.Identifier(
            resource_type=identifier_pb2.TASK, project=PROJECT, domain=DOMAIN, name=name, version=VERSION
        ),
        type=task_type,
        container=tasks_pb2.Container(image="local", command=list(argv)),
    )


class Wakeups:
    """Stands in for propeller's work queue: counts `ctx.wake()` calls and lets a driver wait for one."""

    def __init__(self) -> None:
        self.count = 0
        self._event = asyncio.Event()

    def __call__(self) -> None:
        self.count += 1
        self._event.set()

    async def wait(self, seconds: float) -> bool:
        try:
            async with asyncio.timeout(seconds):
                await self._event.wait()
        except TimeoutError:
            return False
        self._event.clear()
        return True


def task_context(
    storage: Storage,
    template: tasks_pb2.TaskTemplate,
    *,
    execution: str,
    node: str = "n0",
    attempt: int = 0,
    array_index: int | None = None,
    wake: Wakeups | None = None,
    remote_package_path: str = "",
    resources: tasks_pb2.Resources | None = None,
) -> TaskExecutionContext:
    """The context of one attempt, with Flyte's storage layout under the store's default prefix."""
    base = storage.default_prefix
    data_dir = f"{base}/metadata/propeller/{PROJECT}-{DOMAIN}-{execution}/{node}/data"
    output_dir = f"{data_dir}/{attempt}" if array_index is None else f"{data_dir}/{array_index}/{attempt}"
    raw = f"{base}/raw/{execution}-{node}-{attempt}" + ("" if array_index is None else f"-{array_index}")
    previous = f"{base}/raw/{execution}-{node}-{attempt - 1}/_flytecheckpoints" if attempt else ""
    ident = identifier_pb2.TaskExecutionIdentifier(
        task_id=template.id,
        node_execution_id=identifier_pb2.NodeExecutionIdentifier(
            node_id=node,
            execution_id=identifier_pb2.WorkflowExecutionIdentifier(project=PROJECT, domain=DOMAIN, name=execution),
        ),
        retry_attempt=attempt,
    )
    workflow = identifier_pb2.Identifier(
        resource_type=identifier_pb2.WORKFLOW, project=PROJECT, domain=DOMAIN, name="tests.wf", version=VERSION
    )
    return TaskExecutionContext(
        task_execution_id=ident,
        template=template,
        paths=DataPaths(
            inputs=f"{data_dir}/inputs.pb",
            output_prefix=output_dir,
            raw_output_prefix=raw,
            checkpoint_prefix=f"{raw}/_flytecheckpoints",
            previous_checkpoint_prefix=previous,
        ),
        storage=storage,
        array_index=array_index,
        wake=wake or Wakeups(),
        workflow_id=workflow,
        launch_plan_id=identifier_pb2.Identifier(
            resource_type=identifier_pb2.LAUNCH_PLAN, project=PROJECT, domain=DOMAIN, name="tests.wf", version=VERSION
        ),
        remote_package_path=remote_package_path,
        resources=resources,
    )


async def write_inputs(ctx: TaskExecutionContext, inputs: literals_pb2.LiteralMap | bytes) -> None:
    data = inputs if isinstance(inputs, bytes) else inputs.SerializeToString()
    await ctx.storage.write(ctx.paths.inputs, data)


def int_inputs(**values: int) -> literals_pb2.LiteralMap:
    return literals_pb2.LiteralMap(
        literals={
            k: literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=v)))
            for k, v in values.items()
        }
    )


async def drive(plugin: Plugin, ctx: TaskExecutionContext, time_limit: float = 120.0) -> Transition:
    """Calls `handle` until the task is terminal, as propeller would: again whenever woken, persisting the state."""
    wake = ctx.wake
    deadline = time.monotonic() + time_limit
    while True:
        transition = await plugin.handle(ctx)
        if transition.phase.is_terminal:
            return transition
        ctx = dataclasses.replace(ctx, plugin_state=transition.state or ctx.plugin_state)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"task still {transition.phase.name} after {time_limit}s: {transition.reason}")
        if isinstance(wake, Wakeups):
            await wake.wait(min(remaining, 5.0))
        else:
            await asyncio.sleep(0.2)


def local_path(uri: str) -> Path:
    return Path(uri.removeprefix("file://"))


def runner_record(transition: Transition) -> dict[str, object]:
    """The runner.json of the attempt a local-backend transition reports on."""
    assert transition.custom_info is not None, transition.reason
    record: dict[str, object] = json.loads((Path(transition.custom_info["work_dir"]) / "runner.json").read_text())
    return record


def started_warm(transition: Transition) -> bool:
    """Whether the attempt was forked from a warm fork server (its runner.json says so)."""
    return runner_record(transition).get("warm") is True


def started_reused(transition: Transition) -> bool:
    """Whether the attempt ran in a long-lived reuse worker (runner.json says so)."""
    return runner_record(transition).get("reuse") is True
