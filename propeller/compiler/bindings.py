"""Binding validation: node inputs and workflow outputs against the variables they feed."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, MutableSequence
from dataclasses import dataclass
from typing import Protocol

from flyteidl_py.core import interface_pb2, literals_pb2, types_pb2
from propeller.compiler.errors import CompileError, ErrorCode
from propeller.compiler.ids import START_NODE
from propeller.compiler.literals import scalar_type, union_of_distinct
from propeller.compiler.types import LiteralType, is_castable, is_optional, type_str

# Unanchored on purpose: a var must yield exactly one match, so "a.b" (two matches) is a syntax error.
_PROMISE_VAR = re.compile(r"(\[(\d+)\]\.)?(\w+)", re.ASCII)


class NodeScope(Protocol):
    """The nodes a binding's promises may reference."""

    def has_node(self, node_id: str) -> bool: ...

    def outputs_of(self, node_id: str) -> Mapping[str, LiteralType] | None:
        """The node's outputs as other nodes see them (aliases applied); None if its interface is unknown."""
        ...


def validate_bindings(
    node_id: str,
    bindings: MutableSequence[literals_pb2.Binding],
    expected: Mapping[str, interface_pb2.Variable] | None,
    scope: NodeScope,
    errors: list[CompileError],
) -> dict[str, LiteralType]:
    """Validate `bindings` against the `expected` input variables and return each bound var's type.

    With `expected` None the bindings are checked untyped (branch and approve-gate nodes): any var name is
    accepted and the returned types become the node's inputs. Promises are resolved in place (an empty
    node id becomes `start-node`).
    """
    checker = _Checker(node_id, scope, typed=expected is not None, errors=errors)
    resolved: dict[str, LiteralType] = {}
    bound: set[str] = set()
    for binding in bindings:
        if binding.var in bound:
            errors.append(
                CompileError(
                    ErrorCode.PARAMETER_BOUND_MORE_THAN_ONCE,
                    node_id,
                    f"Input [{binding.var}] is bound more than once.",
                )
            )
            continue
        bound.add(binding.var)
        if not binding.HasField("binding"):
            errors.append(CompileError(ErrorCode.VALUE_REQUIRED, node_id, f"Value required [{binding.var}.Binding]."))
            continue
        expected_type: LiteralType | None = None
        if expected is not None:
            variable = expected.get(binding.var)
            if variable is None:
                errors.append(
                    CompileError(
                        ErrorCode.VARIABLE_NAME_NOT_FOUND,
                        node_id,
                        f"Variable [{binding.var}] not found on node [{node_id}].",
                    )
                )
                continue
            expected_type = variable.type
        found = checker.check(binding.binding, expected_type, binding.var)
        if found is not None:
            resolved[binding.var] = found
    if expected is not None:
        for name in sorted(expected):
            if name not in bound and not is_optional(expected[name].type):
                errors.append(CompileError(ErrorCode.PARAMETER_NOT_BOUND, node_id, f"Parameter not bound [{name}]."))
    return resolved


def promise_sources(bindings: Iterable[literals_pb2.Binding]) -> set[str]:
    """The node ids every promise in these bindings (at any depth) refers to, as resolved."""
    sources: set[str] = set()
    for binding in bindings:
        _collect_sources(binding.binding, sources)
    return sources


def _collect_sources(data: literals_pb2.BindingData, sources: set[str]) -> None:
    kind = data.WhichOneof("value")
    if kind == "promise":
        sources.add(data.promise.node_id or START_NODE)
    elif kind == "collection":
        for item in data.collection.bindings:
            _collect_sources(item, sources)
    elif kind == "map":
        for item in data.map.bindings.values():
            _collect_sources(item, sources)


@dataclass
class _Checker:
    node_id: str
    scope: NodeScope
    typed: bool
    errors: list[CompileError]

    def error(self, code: ErrorCode, message: str) -> None:
        self.errors.append(CompileError(code, self.node_id, message))

    def check(self, data: literals_pb2.BindingData, expected: LiteralType | None, var: str) -> LiteralType | None:
        """Validate one binding value; returns the type it resolves to, None when it cannot be resolved."""
        kind = data.WhichOneof("value")
        if kind == "scalar":
            return self._scalar(data.scalar, expected, var)
        if kind == "offloaded_metadata":
            return self._typed_value(data.offloaded_metadata.inferred_type, expected, var)
        if kind == "promise":
            return self._promise(data.promise, expected, var)
        if kind in ("collection", "map"):
            if self.typed and expected is not None and expected.WhichOneof("type") == "union_type":
                return self._union_container(data, expected, var)
            return self._container(data, expected, var)
        self.error(ErrorCode.UNRECOGNIZED_VALUE, f"Unrecognized value in binding [{var}].")
        return None

    def _typed_value(self, found: LiteralType, expected: LiteralType | None, var: str) -> LiteralType:
        if self.typed and expected is not None and not is_castable(found, expected):
            self.error(
                ErrorCode.MISMATCHING_TYPES,
                f"Variable [{var}] (type [{type_str(found)}]) doesn't match expected type [{type_str(expected)}].",
            )
        return found

    def _scalar(self, scalar: literals_pb2.Scalar, expected: LiteralType | None, var: str) -> LiteralType | None:
        found = scalar_type(scalar)
        if found is None:
            self.error(ErrorCode.UNRECOGNIZED_VALUE, f"Unrecognized value in binding [{var}].")
            return None
        self._typed_value(found, expected, var)
        if self.typed and expected is not None and expected.WhichOneof("type") == "enum_type":
            value = scalar.primitive.string_value
            if value not in expected.enum_type.values:
                allowed = ", ".join(expected.enum_type.values)
                self.error(
                    ErrorCode.ILLEGAL_ENUM_VALUE,
                    f"Value [{value}] for variable [{var}] is not one of the enum values [{allowed}].",
                )
        return found

    def _container(self, data: literals_pb2.BindingData, expected: LiteralType | None, var: str) -> LiteralType | None:
        is_list = data.WhichOneof("value") == "collection"
        wanted_kind = "collection_type" if is_list else "map_value_type"
        element_expected: LiteralType | None = None
        if self.typed and expected is not None:
            if expected.WhichOneof("type") != wanted_kind:
                shape = "a collection" if is_list else "a map"
                self.error(
                    ErrorCode.MISMATCHING_BINDINGS,
                    f"Binding for [{var}] is {shape} but the expected type is [{type_str(expected)}].",
                )
                return None
            element_expected = expected.collection_type if is_list else expected.map_value_type
        items = list(data.collection.bindings) if is_list else [data.map.bindings[k] for k in sorted(data.map.bindings)]
        distinct: dict[str, LiteralType] = {}
        for item in items:
            item_type = self.check(item, element_expected, var)
            if item_type is not None:
                distinct.setdefault(type_str(item_type), item_type)
        element = element_expected if element_expected is not None else union_of_distinct(distinct, None)
        return LiteralType(collection_type=element) if is_list else LiteralType(map_value_type=element)

    def _union_container(self, data: literals_pb2.BindingData, expected: LiteralType, var: str) -> LiteralType | None:
        matches: list[LiteralType] = []
        for variant in expected.union_type.variants:
            trial = _Checker(self.node_id, self.scope, typed=True, errors=[])
            found = trial.check(data, variant, var)
            if found is not None and not trial.errors:
                matches.append(found)
        if len(matches) == 1:
            return matches[0]
        if matches:
            self.error(
                ErrorCode.AMBIGUOUS_BINDING_UNION_VALUE,
                f"Binding for [{var}] matches more than one variant of union type [{type_str(expected)}].",
            )
        else:
            self.error(
                ErrorCode.INCOMPATIBLE_BINDING_UNION_VALUE,
                f"Binding for [{var}] matches no variant of union type [{type_str(expected)}].",
            )
        return None

    def _promise(
        self, promise: types_pb2.OutputReference, expected: LiteralType | None, var: str
    ) -> LiteralType | None:
        if not promise.var:
            self.error(ErrorCode.PARAMETER_NOT_BOUND, f"Parameter not bound [{var}]: the promise names no output.")
            return None
        if not promise.node_id:
            promise.node_id = START_NODE
        source = promise.node_id
        if not self.scope.has_node(source):
            self.error(ErrorCode.NODE_REFERENCE_NOT_FOUND, f"Referenced node [{source}] not found (input [{var}]).")
            return None
        matches = _PROMISE_VAR.findall(promise.var)
        if len(matches) != 1:
            self.error(
                ErrorCode.SYNTAX_ERROR,
                f"Failed to parse output variable [{promise.var}] of node [{source}] (input [{var}]).",
            )
            return None
        outputs = self.scope.outputs_of(source)
        if outputs is None:  # the upstream interface failed; that failure is reported where it happened
            return None
        _, index, name = matches[0]
        found = outputs.get(name)
        if found is None:
            self.error(ErrorCode.VARIABLE_NAME_NOT_FOUND, f"Variable [{name}] not found on node [{source}].")
            return None
        if index:
            if found.WhichOneof("type") != "collection_type":
                self.error(
                    ErrorCode.MISMATCHING_TYPES,
                    f"Output [{source}.{name}] of type [{type_str(found)}] is indexed but is not a list.",
                )
                return None
            found = found.collection_type
        walked = self._walk(found, promise, source, name)
        if walked is None:
            return None
        if self.typed and expected is not None and not is_castable(walked, expected):
            self.error(
                ErrorCode.MISMATCHING_TYPES,
                f"The output variable '{source}.{name}' has type [{type_str(walked)}], but it's assigned to "
                f"the input variable '{self.node_id}.{var}' which has type type [{type_str(expected)}].",
            )
        return found

    def _walk(
        self, found: LiteralType, promise: types_pb2.OutputReference, source: str, name: str
    ) -> LiteralType | None:
        """Follow `attr_path` into list elements, map values and dataclass fields; other types stay."""
        current = found
        for attribute in promise.attr_path:
            kind = current.WhichOneof("type")
            if kind == "collection_type":
                current = current.collection_type
            elif kind == "map_value_type":
                current = current.map_value_type
            elif current.structure.dataclass_type:
                key = attribute.string_value
                field = current.structure.dataclass_type.get(key)
                if field is None:
                    self.error(
                        ErrorCode.FIELD_NOT_FOUND,
                        f"Field [{key}] not found in the dataclass type of output [{source}.{name}].",
                    )
                    return None
                current = field
        return current
