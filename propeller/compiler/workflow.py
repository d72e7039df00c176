"""Workflow compilation: a WorkflowTemplate with its sub-workflows, tasks and launch plans into a closure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from google.protobuf.message import Message

from flyteidl_py.core import compiler_pb2, identifier_pb2, interface_pb2, workflow_pb2
from propeller.compiler.bindings import promise_sources, validate_bindings
from propeller.compiler.branch import (
    branch_children,
    branch_conditions,
    branch_outputs,
    rewrite_child_ids,
    validate_condition,
)
from propeller.compiler.errors import CompilationFailed, CompileError, ErrorCode
from propeller.compiler.graph import Edges, walk_from
from propeller.compiler.ids import END_NODE, START_NODE, IdKey, id_key, id_str
from propeller.compiler.launch_plan import LaunchPlanInterface
from propeller.compiler.task import duration_problem
from propeller.compiler.types import LiteralType, collection_of

_M = TypeVar("_M", bound=Message)


def compile_workflow(
    primary: workflow_pb2.WorkflowTemplate,
    sub_workflows: Sequence[workflow_pb2.WorkflowTemplate],
    tasks: Sequence[compiler_pb2.CompiledTask],
    launch_plans: Sequence[LaunchPlanInterface],
) -> compiler_pb2.CompiledWorkflowClosure:
    """Compile `primary` into a CompiledWorkflowClosure; raises CompilationFailed with every error found.

    `sub_workflows` are the templates the primary may reference by `sub_workflow_ref`, `tasks` the compiled
    tasks and `launch_plans` the interfaces of the launch plans its nodes reference (see `requirements`).
    The closure carries each reachable sub-workflow and each referenced task once, sorted by identifier.
    """
    errors: list[CompileError] = []
    task_index: dict[IdKey, compiler_pb2.CompiledTask] = {}
    for task in tasks:
        if not task.template.HasField("id"):
            errors.append(CompileError(ErrorCode.VALUE_REQUIRED, "root", "Value required [Task.Template.Id]."))
            continue
        task_index.setdefault(id_key(task.template.id), task)
    workflow_index: dict[IdKey, workflow_pb2.WorkflowTemplate] = {}
    for sub_workflow in sub_workflows:
        key = id_key(sub_workflow.id)
        if key in workflow_index:
            errors.append(
                CompileError(
                    ErrorCode.DUPLICATE_ID,
                    sub_workflow.id.name,
                    f"Duplicate sub-workflow id [{id_str(sub_workflow.id)}].",
                )
            )
            continue
        workflow_index[key] = sub_workflow
    compilation = _Compilation(
        tasks=task_index,
        launch_plans={id_key(lp.id): lp for lp in launch_plans},
        workflows=workflow_index,
        errors=errors,
    )
    compilation.in_progress.add(id_key(primary.id))
    compiled_primary = _WorkflowBuilder(compilation, primary).build()
    if errors or compiled_primary is None:
        raise CompilationFailed(errors)
    closure = compiler_pb2.CompiledWorkflowClosure(primary=compiled_primary)
    for key in sorted(compilation.compiled):
        compiled = compilation.compiled[key]
        if compiled is not None:
            closure.sub_workflows.append(compiled)
    for key in sorted(compilation.used_tasks):
        closure.tasks.append(compilation.used_tasks[key])
    return closure


def _clone(message: _M) -> _M:
    copy = type(message)()
    copy.CopyFrom(message)
    return copy


def _normalized(interface: interface_pb2.TypedInterface) -> interface_pb2.TypedInterface:
    """A copy of the interface whose inputs and outputs maps are present even when empty."""
    result = _clone(interface)
    result.inputs.SetInParent()
    result.outputs.SetInParent()
    return result


def _interface(
    inputs: Mapping[str, interface_pb2.Variable], outputs: Mapping[str, interface_pb2.Variable]
) -> interface_pb2.TypedInterface:
    result = interface_pb2.TypedInterface()
    result.inputs.SetInParent()
    result.outputs.SetInParent()
    for name, variable in inputs.items():
        result.inputs.variables[name].CopyFrom(variable)
    for name, variable in outputs.items():
        result.outputs.variables[name].CopyFrom(variable)
    return result


def _variables(types: Mapping[str, LiteralType]) -> dict[str, interface_pb2.Variable]:
    return {name: interface_pb2.Variable(type=literal_type) for name, literal_type in types.items()}


@dataclass
class _Compilation:
    """State shared by the primary and every sub-workflow compiled in one `compile_workflow` call."""

    tasks: Mapping[IdKey, compiler_pb2.CompiledTask]
    launch_plans: Mapping[IdKey, LaunchPlanInterface]
    workflows: Mapping[IdKey, workflow_pb2.WorkflowTemplate]
    errors: list[CompileError]
    compiled: dict[IdKey, compiler_pb2.CompiledWorkflow | None] = field(default_factory=dict)
    in_progress: set[IdKey] = field(default_factory=set)
    used_tasks: dict[IdKey, compiler_pb2.CompiledTask] = field(default_factory=dict)

    def error(self, code: ErrorCode, node_id: str, message: str) -> None:
        self.errors.append(CompileError(code, node_id, message))

    def task(self, node_id: str, ref: identifier_pb2.Identifier) -> compiler_pb2.CompiledTask | None:
        key = id_key(ref)
        task = self.tasks.get(key)
        if task is None:
            self.error(ErrorCode.TASK_REFERENCE_NOT_FOUND, node_id, f"Referenced Task [{id_str(ref)}] not found.")
            return None
        self.used_tasks.setdefault(key, task)
        return task

    def sub_workflow(self, node_id: str, template: workflow_pb2.WorkflowTemplate) -> None:
        """Compile a referenced sub-workflow once; a reference back into one being compiled is a cycle."""
        key = id_key(template.id)
        if key in self.compiled:
            return
        if key in self.in_progress:
            self.error(
                ErrorCode.CYCLE_DETECTED,
                node_id,
                f"Sub-workflow [{id_str(template.id)}] references itself (maybe indirectly).",
            )
            return
        self.in_progress.add(key)
        self.compiled[key] = _WorkflowBuilder(self, template).build()
        self.in_progress.discard(key)


class _WorkflowBuilder:
    """Compiles one workflow template: node interfaces, bindings, edges, reachability, compiled template."""

    def __init__(self, compilation: _Compilation, template: workflow_pb2.WorkflowTemplate) -> None:
        self.compilation = compilation
        self.template = _clone(template)
        self.nodes: dict[str, workflow_pb2.Node] = {}
        self.user_node_ids: list[str] = []
        self.interfaces: dict[str, interface_pb2.TypedInterface | None] = {}
        self.resolving: set[str] = set()
        self.edges = Edges()

    # ---- NodeScope (what promises may reference: the top-level nodes and start-node) -------------------

    def has_node(self, node_id: str) -> bool:
        return node_id in self.nodes

    def outputs_of(self, node_id: str) -> Mapping[str, LiteralType] | None:
        interface = self._top_level_interface(node_id)
        if interface is None:
            return None
        outputs = {name: variable.type for name, variable in interface.outputs.variables.items()}
        for alias in self.nodes[node_id].output_aliases:
            if alias.var in interface.outputs.variables:
                outputs.pop(alias.var, None)
        for alias in self.nodes[node_id].output_aliases:
            if alias.var in interface.outputs.variables:
                outputs[alias.alias] = interface.outputs.variables[alias.var].type
        return outputs

    # ---- pipeline ---------------------------------------------------------------------------------

    @property
    def errors(self) -> list[CompileError]:
        return self.compilation.errors

    def error(self, code: ErrorCode, node_id: str, message: str) -> None:
        self.compilation.error(code, node_id, message)

    def build(self) -> compiler_pb2.CompiledWorkflow | None:
        template = self.template
        if not template.nodes:
            self.error(
                ErrorCode.NO_NODES_FOUND,
                template.id.name,
                f"Can't find any nodes in workflow [{id_str(template.id)}].",
            )
            return None
        template.interface.CopyFrom(_normalized(template.interface))
        self._check_interface(template.interface)
        for node in template.nodes:
            rewrite_child_ids(node)
        if template.HasField("failure_node"):
            rewrite_child_ids(template.failure_node)

        start = workflow_pb2.Node(id=START_NODE)
        end = workflow_pb2.Node(id=END_NODE, inputs=template.outputs)
        self.nodes[START_NODE] = start
        self.nodes[END_NODE] = end
        self.interfaces[START_NODE] = _interface({}, template.interface.inputs.variables)
        self.interfaces[END_NODE] = _interface(template.interface.outputs.variables, {})
        for node in template.nodes:
            if not node.id:
                self.error(ErrorCode.VALUE_REQUIRED, "", "Value required [Node.Id].")
            elif node.id not in self.nodes:  # duplicates (and user nodes named start/end-node) are dropped
                self.nodes[node.id] = _clone(node)
                self.user_node_ids.append(node.id)

        for node_id in self.user_node_ids:
            self._validate_node(self.nodes[node_id], top_level=True)
        validate_bindings(END_NODE, end.inputs, template.interface.outputs.variables, self, self.errors)
        self.edges.add(END_NODE, self._existing(promise_sources(end.inputs)), downstream=True)
        failure_node = template.failure_node if template.HasField("failure_node") else None
        if failure_node is not None:
            self._validate_node(failure_node, top_level=False)

        for node_id in self.user_node_ids:
            if not self.edges.upstream.get(node_id):
                self.edges.add(node_id, [START_NODE], downstream=True)
            if not self.edges.downstream.get(node_id):
                self.edges.add(END_NODE, [node_id], downstream=True)
        self._check_reachability()

        compiled = compiler_pb2.CompiledWorkflow()
        compiled.template.CopyFrom(template)
        del compiled.template.nodes[:]
        compiled.template.nodes.extend([start, end, *(self.nodes[node_id] for node_id in self.user_node_ids)])
        del compiled.template.outputs[:]
        compiled.template.outputs.extend(end.inputs)
        compiled.connections.CopyFrom(self.edges.connections())
        return compiled

    def _check_interface(self, interface: interface_pb2.TypedInterface) -> None:
        for node_id, variables in ((START_NODE, interface.inputs), (END_NODE, interface.outputs)):
            for name, variable in variables.variables.items():
                if not name:
                    self.error(ErrorCode.VALUE_REQUIRED, node_id, "Value required [Variable.Name].")
                if not variable.HasField("type") or variable.type.WhichOneof("type") is None:
                    self.error(ErrorCode.VALUE_REQUIRED, node_id, f"Value required [{name}.Type].")

    def _existing(self, node_ids: set[str]) -> list[str]:
        return sorted(node_id for node_id in node_ids if node_id in self.nodes)

    def _check_reachability(self) -> None:
        cycle, visited = walk_from(START_NODE, self.edges.downstream)
        if cycle is not None:
            self.error(ErrorCode.CYCLE_DETECTED, cycle[0], f"A cycle has been detected: {'>'.join(cycle)}.")
            return
        unreachable = [node_id for node_id in self.user_node_ids if node_id not in visited]
        if unreachable:
            self.error(
                ErrorCode.UNREACHABLE_NODES,
                ",".join(unreachable),
                f"The workflow contains unreachable nodes [{','.join(unreachable)}].",
            )

    # ---- nodes ------------------------------------------------------------------------------------

    def _validate_node(self, node: workflow_pb2.Node, *, top_level: bool) -> None:
        interface = self._top_level_interface(node.id) if top_level else self._node_interface(node)
        kind = node.WhichOneof("target")
        for where, duration in (
            ("timeout", node.metadata.timeout if node.metadata.HasField("timeout") else None),
            ("gate_node.sleep.duration", node.gate_node.sleep.duration if kind == "gate_node" else None),
        ):
            problem = duration_problem(duration) if duration is not None else None
            if problem:
                self.error(ErrorCode.INVALID_VALUE, node.id, f"{where}: {problem}")
        if interface is not None:
            self._check_aliases(node, interface)
        inputs: dict[str, LiteralType] = {}
        untyped = kind == "branch_node" or (kind == "gate_node" and node.gate_node.WhichOneof("condition") == "approve")
        if untyped:
            inputs = validate_bindings(node.id, node.inputs, None, self, self.errors)
        elif interface is not None:
            validate_bindings(node.id, node.inputs, interface.inputs.variables, self, self.errors)
        if kind == "branch_node":
            # A var bound to an unresolvable promise is still an input of the branch, just of unknown type.
            operands = {binding.var: inputs.get(binding.var) for binding in node.inputs}
            for condition in branch_conditions(node):
                validate_condition(node.id, condition, operands, self.errors)
            for child in branch_children(node, self.errors):
                self._validate_node(child, top_level=False)
        for upstream_id in node.upstream_node_ids:
            if upstream_id not in self.nodes:
                self.error(ErrorCode.NODE_REFERENCE_NOT_FOUND, node.id, f"Referenced node [{upstream_id}] not found.")
        node.upstream_node_ids.sort()
        sources = self._existing(promise_sources(node.inputs) | set(node.upstream_node_ids))
        self.edges.add(node.id, sources, downstream=top_level)

    def _check_aliases(self, node: workflow_pb2.Node, interface: interface_pb2.TypedInterface) -> None:
        seen: set[str] = set()
        for alias in node.output_aliases:
            if alias.alias in seen:
                self.error(ErrorCode.DUPLICATE_ALIAS, node.id, f"Duplicate alias [{alias.alias}].")
            seen.add(alias.alias)
            if alias.var not in interface.outputs.variables:
                self.error(
                    ErrorCode.PARAMETER_NOT_BOUND,
                    node.id,
                    f"Alias [{alias.alias}] refers to output [{alias.var}], which the node does not have.",
                )

    def _top_level_interface(self, node_id: str) -> interface_pb2.TypedInterface | None:
        if node_id in self.interfaces:
            return self.interfaces[node_id]
        if node_id in self.resolving:  # a promise loop; the cycle itself is reported by the reachability walk
            return None
        self.resolving.add(node_id)
        interface = self._node_interface(self.nodes[node_id])
        self.resolving.discard(node_id)
        self.interfaces[node_id] = interface
        return interface

    def _node_interface(self, node: workflow_pb2.Node) -> interface_pb2.TypedInterface | None:
        """The interface a node's bindings are checked against and its outputs are read from (§1.6)."""
        kind = node.WhichOneof("target")
        if kind == "task_node":
            if not node.task_node.HasField("reference_id"):
                self.error(ErrorCode.VALUE_REQUIRED, node.id, "Value required [TaskNode.ReferenceId].")
                return None
            task = self.compilation.task(node.id, node.task_node.reference_id)
            return None if task is None else _normalized(task.template.interface)
        if kind == "workflow_node":
            return self._workflow_node_interface(node)
        if kind == "branch_node":
            return self._branch_interface(node)
        if kind == "gate_node":
            return self._gate_interface(node)
        if kind == "array_node":
            return self._array_interface(node)
        self.error(ErrorCode.VALUE_REQUIRED, node.id, "Value required [Target].")
        return None

    def _workflow_node_interface(self, node: workflow_pb2.Node) -> interface_pb2.TypedInterface | None:
        reference = node.workflow_node.WhichOneof("reference")
        if reference == "launchplan_ref":
            ref = node.workflow_node.launchplan_ref
            if ref == self.template.id:  # a launch plan of this very workflow: recursion is allowed
                return _normalized(self.template.interface)
            launch_plan = self.compilation.launch_plans.get(id_key(ref))
            if launch_plan is None:
                self._reference_not_found(node, f"Referenced launch plan [{id_str(ref)}] not found.")
                return None
            bound = {binding.var for binding in node.inputs}
            parameters = launch_plan.expected_inputs.parameters
            inputs = {
                name: parameter.var for name, parameter in parameters.items() if parameter.required or name in bound
            }
            return _interface(inputs, launch_plan.expected_outputs.variables)
        if reference == "sub_workflow_ref":
            ref = node.workflow_node.sub_workflow_ref
            template = self.compilation.workflows.get(id_key(ref))
            if template is None:
                self._reference_not_found(node, f"Referenced sub-workflow [{id_str(ref)}] not found.")
                return None
            self.compilation.sub_workflow(node.id, template)
            if not template.HasField("interface"):
                self.error(ErrorCode.VALUE_REQUIRED, node.id, "Value required [WorkflowNode.Template.Interface].")
                return None
            return _normalized(template.interface)
        self._reference_not_found(
            node, "Workflow node references neither a launch plan nor a sub-workflow (<lp>/<sw>)."
        )
        return None

    def _reference_not_found(self, node: workflow_pb2.Node, message: str) -> None:
        self.error(ErrorCode.WORKFLOW_REFERENCE_NOT_FOUND, node.id, message)

    def _branch_interface(self, node: workflow_pb2.Node) -> interface_pb2.TypedInterface:
        scratch: list[CompileError] = []  # binding errors are reported when the node itself is validated
        inputs = validate_bindings(node.id, node.inputs, None, self, scratch)
        child_outputs = []
        for child in branch_children(node, scratch):
            child_interface = self._node_interface(child)
            if child_interface is not None:
                child_outputs.append(dict(child_interface.outputs.variables))
        outputs = branch_outputs(node.id, child_outputs, self.errors)
        return _interface(_variables(inputs), outputs)

    def _gate_interface(self, node: workflow_pb2.Node) -> interface_pb2.TypedInterface | None:
        gate = node.gate_node
        condition = gate.WhichOneof("condition")
        if condition == "approve":
            scratch: list[CompileError] = []
            passed = _variables(validate_bindings(node.id, node.inputs, None, self, scratch))
            return _interface(passed, passed)
        if condition == "signal":
            signal = gate.signal
            ok = True
            if not signal.HasField("type"):
                self.error(ErrorCode.VALUE_REQUIRED, node.id, "Value required [GateNode.Signal.Type].")
                ok = False
            if not signal.output_variable_name:
                self.error(ErrorCode.VALUE_REQUIRED, node.id, "Value required [GateNode.Signal.OutputVariableName].")
                ok = False
            if not ok:
                return None
            return _interface({}, {signal.output_variable_name: interface_pb2.Variable(type=signal.type)})
        if condition == "sleep":
            return _interface({}, {})
        self.error(ErrorCode.NO_CONDITION_FOUND, node.id, "Gate node has none of approve, signal or sleep.")
        return None

    def _array_interface(self, node: workflow_pb2.Node) -> interface_pb2.TypedInterface | None:
        array = node.array_node
        if not array.HasField("node"):
            self.error(ErrorCode.VALUE_REQUIRED, node.id, "Value required [ArrayNode.Node].")
            return None
        sub_interface = self._node_interface(array.node)
        if sub_interface is None:
            return None
        if not (array.HasField("is_original_sub_node_interface") and array.is_original_sub_node_interface.value):
            return sub_interface  # the SDK registered the mapped task with list-typed inputs and outputs
        # The sub-node carries the element-wise interface: each mapped input and every output is a list of it.
        bound = set(array.bound_inputs)
        inputs = {
            name: variable if name in bound else _listed(variable)
            for name, variable in sub_interface.inputs.variables.items()
        }
        outputs = {name: _listed(variable) for name, variable in sub_interface.outputs.variables.items()}
        return _interface(inputs, outputs)


def _listed(variable: interface_pb2.Variable) -> interface_pb2.Variable:
    listed = _clone(variable)
    listed.type.CopyFrom(collection_of(variable.type))
    return listed
