"""The echo backend: outputs are the inputs, in one handle call, idempotently, without a process."""

from __future__ import annotations

from flyteidl_py.core import literals_pb2, tasks_pb2
from flyteplane.storage import Storage
from plugins.core import Phase
from plugins.echo import EchoPlugin
from tests.integration.plugins.helpers import int_inputs, task_context, write_inputs

ECHO = tasks_pb2.TaskTemplate(type="echo")


async def test_echo_succeeds_at_once_with_its_inputs_as_outputs(storage: Storage) -> None:
    ctx = task_context(storage, ECHO, execution="e1")
    await write_inputs(ctx, int_inputs(a=1, b=2))
    transition = await EchoPlugin().handle(ctx)
    assert transition.phase is Phase.SUCCESS
    assert await storage.read_proto(ctx.paths.outputs, literals_pb2.LiteralMap) == int_inputs(a=1, b=2)


async def test_echo_handled_again_gives_the_same_outputs(storage: Storage) -> None:
    ctx = task_context(storage, ECHO, execution="e1")
    await write_inputs(ctx, int_inputs(a=1))
    plugin = EchoPlugin()
    await plugin.handle(ctx)
    first = await storage.read(ctx.paths.outputs)
    assert (await plugin.handle(ctx)).phase is Phase.SUCCESS
    assert await storage.read(ctx.paths.outputs) == first


async def test_echo_without_inputs_outputs_an_empty_map(storage: Storage) -> None:
    ctx = task_context(storage, ECHO, execution="e1")
    assert (await EchoPlugin().handle(ctx)).phase is Phase.SUCCESS
    assert await storage.read_proto(ctx.paths.outputs, literals_pb2.LiteralMap) == literals_pb2.LiteralMap()
