"""The echo backend: outputs are the inputs, in one handle call, idempotently, without a process."""

from __future__ import annotations

from flyteidl_py.core import interface_pb2, literals_pb2, tasks_pb2, types_pb2
from flyteplane.storage import Storage
from plugins.core import Phase
from plugins.echo import EchoPlugin
from tests.integration.plugins.helpers import int_inputs, task_context, write_inputs

ECHO = tasks_pb2.TaskTemplate(type="echo")
INT = types_pb2.LiteralType(simple=types_pb2.INTEGER)


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


def _echo_with(inputs: tuple[str, ...], outputs: tuple[str, ...]) -> tasks_pb2.TaskTemplate:
    def variables(names: tuple[str, ...]) -> interface_pb2.VariableMap:
        return interface_pb2.VariableMap(variables={n: interface_pb2.Variable(type=INT) for n in names})

    return tasks_pb2.TaskTemplate(
        type="echo", interface=interface_pb2.TypedInterface(inputs=variables(inputs), outputs=variables(outputs))
    )


async def test_echo_writes_its_input_under_the_declared_output_name(storage: Storage) -> None:
    # flytekit's Echo(inputs={"a": int}) declares the output `o0`; downstream nodes bind to `o0`.
    ctx = task_context(storage, _echo_with(("a",), ("o0",)), execution="e1")
    await write_inputs(ctx, int_inputs(a=5))
    assert (await EchoPlugin().handle(ctx)).phase is Phase.SUCCESS
    assert await storage.read_proto(ctx.paths.outputs, literals_pb2.LiteralMap) == int_inputs(o0=5)


async def test_echo_with_outputs_named_like_its_inputs_keeps_the_names(storage: Storage) -> None:
    ctx = task_context(storage, _echo_with(("a", "b"), ("a", "b")), execution="e1")
    await write_inputs(ctx, int_inputs(a=1, b=2))
    assert (await EchoPlugin().handle(ctx)).phase is Phase.SUCCESS
    assert await storage.read_proto(ctx.paths.outputs, literals_pb2.LiteralMap) == int_inputs(a=1, b=2)


async def test_echo_cannot_pair_several_renamed_inputs_and_says_so(storage: Storage) -> None:
    ctx = task_context(storage, _echo_with(("a", "b"), ("o0", "o1")), execution="e1")
    await write_inputs(ctx, int_inputs(a=1, b=2))
    transition = await EchoPlugin().handle(ctx)
    assert transition.phase is Phase.PERMANENT_FAILURE
    assert "name its outputs after its inputs" in transition.reason
