"""Binding resolution: a node's input bindings and the outputs of the nodes they name into its input LiteralMap.

Flytepropeller's `resolve.go` + `output_resolver.go`. Scalars are copied, collections and maps resolved
element by element, promises read the referenced node's outputs (aliases applied, `[i].var` selecting
element i of a collection output, then the attribute path), and a binding marked `union` is wrapped in a
union scalar of the stated type. A failure node's `err` input is the workflow's error (`with_error_input`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence

from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import literals_pb2, types_pb2, workflow_pb2
from propeller.compiler.ids import START_NODE
from propeller.data.attr_path import resolve_attr_path
from propeller.data.errors import BAD_SPECIFICATION, BINDING_RESOLUTION_FAILURE, BindingError

OutputReader = Callable[[str], Awaitable[literals_pb2.LiteralMap]]
"""Reads a node's outputs by node id ("start-node" for the workflow's inputs)."""

_INDEXED_VAR = re.compile(r"\[(\d+)\]\.(\w+)", re.ASCII)


async def resolve_bindings(
    bindings: Sequence[literals_pb2.Binding],
    read_outputs: OutputReader,
    *,
    output_aliases: Mapping[str, Mapping[str, str]] | None = None,
) -> literals_pb2.LiteralMap:
    """The LiteralMap the `bindings` describe, reading promised values through `read_outputs`.

    `read_outputs` receives each promise's node id as written in the binding, except that an empty node id
    (a workflow input in an uncompiled spec) is asked for as "start-node"; the caller maps "start-node" to
    the workflow's inputs. It is called at most once per distinct node id per call. `output_aliases` maps a
    node id to that node's `{alias: var}` (the node's `output_aliases`, see `alias_map`).

    Raises BindingError: "BadSpecification" for a malformed binding, "BindingResolutionFailure" for outputs
    that cannot be read or lack the variable, "PromiseAttributeResolveError" for a bad attribute key or index.
    """
    resolver = _Resolver(read_outputs, output_aliases or {})
    resolved = literals_pb2.LiteralMap()
    for binding in bindings:
        if binding.var in resolved.literals:
            raise BindingError(BAD_SPECIFICATION, f"Var [{binding.var}] is bound more than once.")
        if not binding.HasField("binding"):
            raise BindingError(BAD_SPECIFICATION, f"Var [{binding.var}] has no binding.")
        try:
            literal = await resolver.resolve(binding.binding)
        except BindingError as exc:
            # Keep the root cause (e.g. the reader's exception) as the cause, not the unprefixed copy.
            raise BindingError(exc.code, f"Error binding Var [{binding.var}]: {exc.message}") from (
                exc.__cause__ or exc
            )
        resolved.literals[binding.var].CopyFrom(literal)
    return resolved


ERROR_INPUT = "err"
_ERROR_TYPE = types_pb2.LiteralType(simple=types_pb2.ERROR, structure=types_pb2.TypeStructure(tag="FlyteError"))


def with_error_input(inputs: literals_pb2.LiteralMap, error: core.ExecutionError, failure_node_id: str) -> None:
    """Give a failure node the error its workflow failed with, as Flyte does: an input named `err` (flytekit's
    `FlyteError`, bound to None at registration) becomes a union of type ERROR tagged `FlyteError` holding
    `scalar.error`, whose `failed_node_id` is the failure node's own id (Flyte's choice, kept for fidelity)."""
    if ERROR_INPUT not in inputs.literals:
        return
    literal = inputs.literals[ERROR_INPUT]
    literal.Clear()
    union = literal.scalar.union
    union.type.CopyFrom(_ERROR_TYPE)
    union.value.scalar.error.message = error.message
    union.value.scalar.error.failed_node_id = failure_node_id


def alias_map(node: workflow_pb2.Node) -> dict[str, str]:
    """A node's output aliases as `{alias: var}`, the shape `resolve_bindings` takes per node id."""
    return {alias.alias: alias.var for alias in node.output_aliases}


def parse_promise_var(var: str) -> tuple[int | None, str]:
    """Split a promise's var into (index, name): "[2].o0" is element 2 of output o0, "o0" is (None, "o0")."""
    if not var:
        raise BindingError(BAD_SPECIFICATION, "Promise has an empty var name.")
    if not var.startswith("["):
        return None, var
    match = _INDEXED_VAR.fullmatch(var)
    if match is None:
        raise BindingError(BAD_SPECIFICATION, f"Promise var [{var}] is not of the form [index].name.")
    return int(match.group(1)), match.group(2)


class _Resolver:
    """One resolve_bindings call: the reader, the aliases and the outputs read so far."""

    def __init__(self, read_outputs: OutputReader, output_aliases: Mapping[str, Mapping[str, str]]) -> None:
        self._read_outputs = read_outputs
        self._aliases = output_aliases
        self._outputs: dict[str, literals_pb2.LiteralMap] = {}

    async def resolve(self, data: literals_pb2.BindingData) -> literals_pb2.Literal:
        kind = data.WhichOneof("value")
        literal = literals_pb2.Literal()
        if kind == "scalar":
            literal.scalar.CopyFrom(data.scalar)
        elif kind == "collection":
            literal.collection.SetInParent()
            for element in data.collection.bindings:
                literal.collection.literals.append(await self.resolve(element))
        elif kind == "map":
            literal.map.SetInParent()
            for key, value in data.map.bindings.items():
                literal.map.literals[key].CopyFrom(await self.resolve(value))
        elif kind == "promise":
            literal = await self._promise(data.promise)
        elif kind == "offloaded_metadata":
            literal.offloaded_metadata.CopyFrom(data.offloaded_metadata)
        else:
            raise BindingError(BAD_SPECIFICATION, "Binding data has no value.")
        if data.HasField("union"):
            wrapped = literals_pb2.Literal()
            wrapped.scalar.union.value.CopyFrom(literal)
            wrapped.scalar.union.type.CopyFrom(data.union.targetType)
            return wrapped
        return literal

    async def _promise(self, reference: types_pb2.OutputReference) -> literals_pb2.Literal:
        node_id = reference.node_id or START_NODE
        index, var = parse_promise_var(reference.var)
        var = self._aliases.get(node_id, {}).get(var, var)
        outputs = await self._outputs_of(node_id)
        if var not in outputs.literals:
            raise BindingError(BINDING_RESOLUTION_FAILURE, f"Failed to find [{node_id}].[{var}].")
        literal = outputs.literals[var]
        if index is not None:
            if literal.WhichOneof("value") != "collection":
                raise BindingError(
                    BAD_SPECIFICATION, f"Output [{node_id}].[{var}] is indexed with [{index}] but is not a collection."
                )
            if index >= len(literal.collection.literals):
                raise BindingError(BINDING_RESOLUTION_FAILURE, f"Failed to find [{node_id}[{index}].{var}].")
            literal = literal.collection.literals[index]
        if reference.attr_path:
            return resolve_attr_path(literal, reference.attr_path, node_id=node_id)
        return literal

    async def _outputs_of(self, node_id: str) -> literals_pb2.LiteralMap:
        cached = self._outputs.get(node_id)
        if cached is not None:
            return cached
        try:
            outputs = await self._read_outputs(node_id)
        except BindingError:
            raise
        except Exception as exc:
            raise BindingError(
                BINDING_RESOLUTION_FAILURE, f"Failed to read the outputs of node [{node_id}]: {exc}"
            ) from exc
        self._outputs[node_id] = outputs
        return outputs
