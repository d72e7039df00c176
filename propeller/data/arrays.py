"""Array nodes: the size of the array, each sub-node's inputs, the success threshold and the gathered outputs.

Flytepropeller's `array/handler.go` (§3.11.8). Inputs named in `bound_inputs` are passed to every sub-node
verbatim; every other collection input is split element-wise, and all of them must have the same length.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

from flyteidl_py.core import literals_pb2, workflow_pb2
from propeller.data.errors import INVALID_ARRAY_LENGTH, ArrayUserError
from propeller.data.literals import none_literal


def array_size(inputs: literals_pb2.LiteralMap, bound_inputs: Collection[str]) -> int:
    """How many sub-nodes the array runs: the common length of its unbound collection inputs.

    With no unbound collection input the array runs once when it has inputs and all of them are bound;
    otherwise (including no inputs at all) it fails "no input array provided". Offloaded literals must be
    loaded by the caller first: an offloaded collection input is refused (ValueError).
    """
    size: int | None = None
    for name in sorted(inputs.literals):
        if name in bound_inputs:
            continue
        literal = inputs.literals[name]
        if literal.WhichOneof("value") == "offloaded_metadata":
            if literal.offloaded_metadata.inferred_type.WhichOneof("type") == "collection_type":
                raise ValueError(f"input [{name}] is offloaded: load it before sizing the array")
            continue
        if literal.WhichOneof("value") != "collection":
            continue
        length = len(literal.collection.literals)
        if size is None:
            size = length
        elif size != length:
            raise ArrayUserError(
                INVALID_ARRAY_LENGTH, f"input arrays have different lengths: expecting '{size}' found '{length}'"
            )
    if size is not None:
        return size
    if inputs.literals and all(name in bound_inputs for name in inputs.literals):
        return 1
    raise ArrayUserError(INVALID_ARRAY_LENGTH, "no input array provided")


def element_inputs(
    inputs: literals_pb2.LiteralMap, bound_inputs: Collection[str], index: int
) -> literals_pb2.LiteralMap:
    """Sub-node `index`'s inputs: element `index` of each unbound collection input, every other input as is."""
    element = literals_pb2.LiteralMap()
    for name, literal in inputs.literals.items():
        if name not in bound_inputs and literal.WhichOneof("value") == "collection":
            elements = literal.collection.literals
            if not 0 <= index < len(elements):
                raise IndexError(f"index {index} out of bounds for input [{name}] of length {len(elements)}")
            element.literals[name].CopyFrom(elements[index])
        else:
            element.literals[name].CopyFrom(literal)
    return element


def narrowed_inputs(
    inputs: literals_pb2.LiteralMap, bound_inputs: Collection[str], index: int
) -> literals_pb2.LiteralMap | None:
    """The array's inputs narrowed to sub-node `index`: each collection it splits holds only element `index`
    (at position 0), every other input as is. A task that picks its element by index (flytekit's map tasks)
    reads these with index 0 as it would read the whole array's with `index`, without decoding n elements.
    None when an input the array may split is offloaded (only its whole value says where the element is)."""
    narrowed = literals_pb2.LiteralMap()
    for name, literal in inputs.literals.items():
        if name in bound_inputs:
            narrowed.literals[name].CopyFrom(literal)
            continue
        kind = literal.WhichOneof("value")
        if kind == "offloaded_metadata":
            return None
        if kind != "collection":
            narrowed.literals[name].CopyFrom(literal)
            continue
        elements = literal.collection.literals
        if not 0 <= index < len(elements):
            raise IndexError(f"index {index} out of bounds for input [{name}] of length {len(elements)}")
        narrowed.literals[name].collection.literals.add().CopyFrom(elements[index])
    return narrowed


def min_successes(array_node: workflow_pb2.ArrayNode, size: int) -> int:
    """How many sub-nodes must succeed: `min_successes`, else ceil(`min_success_ratio` * size), else all."""
    criterion = array_node.WhichOneof("success_criteria")
    if criterion == "min_successes":
        return array_node.min_successes
    if criterion == "min_success_ratio":
        # The ratio is a float32 on the wire; widened to a double before multiplying, as Go does.
        return math.ceil(array_node.min_success_ratio * size)
    return size


def gather_outputs(
    output_names: Sequence[str],
    results: Sequence[literals_pb2.LiteralMap | None],
    gathered: literals_pb2.LiteralMap | None = None,
) -> literals_pb2.LiteralMap:
    """The array's outputs: per output variable, a collection with sub-node i's value at position i.

    `results[i]` is sub-node i's outputs if it succeeded, None otherwise; a None contributes a NONE scalar.
    A succeeded sub-node's outputs must hold every variable in `output_names` (ValueError otherwise).
    With `gathered` (what an earlier call returned), `results` are the next sub-nodes' and are appended
    to it, so a large array's outputs can be gathered a slice at a time.
    """
    if gathered is None:
        gathered = literals_pb2.LiteralMap()
    for name in output_names:
        collection = gathered.literals[name].collection
        collection.SetInParent()
        for index, result in enumerate(results):
            if result is None:
                collection.literals.append(none_literal())
            elif name in result.literals:
                collection.literals.append(result.literals[name])
            else:
                raise ValueError(f"outputs of succeeded sub-node {index} have no variable [{name}]")
    return gathered
