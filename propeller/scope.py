"""A scope is one graph being evaluated: the workflow itself, a sub-workflow, a dynamic workflow, a branch child,
or the failure node a workflow runs once it has failed.

It knows where its nodes' records live (key prefix), where their data lives, how they depend on
each other, and how to find a node it does not contain (its enclosing scope).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Required, TypedDict, Unpack

from flyteidl_py.core import compiler_pb2, identifier_pb2, tasks_pb2, workflow_pb2
from flyteidl_py.core import execution_pb2 as core
from propeller.ids import unique_node_id
from propeller.status import NodeStatus

START, END = "start-node", "end-node"


def task_key(ident: identifier_pb2.Identifier) -> str:
    return f"{ident.project}/{ident.domain}/{ident.name}/{ident.version}"


def upstream_of(connections: compiler_pb2.ConnectionSet) -> dict[str, list[str]]:
    return {node: list(ids.ids) for node, ids in connections.upstream.items()}


class Placement(TypedDict, total=False):
    """Where a graph's records and data live and what encloses it (the Scope fields beyond the graph)."""

    key_prefix: Required[str]
    data_root: Required[str]
    top_level: Required[bool]
    parent_unique_id: str
    parent_attempt: int
    outer: Scope | None
    in_dynamic_chain: bool
    tasks: Mapping[str, tasks_pb2.TaskTemplate]
    sub_workflows: Mapping[str, compiler_pb2.CompiledWorkflow]


@dataclass
class Scope:
    nodes: Mapping[str, workflow_pb2.Node]
    upstream: Mapping[str, Sequence[str]]
    key_prefix: str  # "" at top level; "<parent key>/<attempt>/" when nested
    data_root: str  # top level: the workflow dir W; nested: the parent's output dir
    top_level: bool
    parent_unique_id: str = ""
    parent_attempt: int = 0
    outer: Scope | None = None
    in_dynamic_chain: bool = False
    failure_policy: int = 0  # WorkflowMetadata.OnFailurePolicy
    output_bindings: Sequence[object] = field(default_factory=tuple)
    # Task templates the graph's task nodes refer to, by identifier key (see task_key).
    tasks: Mapping[str, tasks_pb2.TaskTemplate] = field(default_factory=dict)
    # Sub-workflow templates by identifier key, with their compiled connections.
    sub_workflows: Mapping[str, compiler_pb2.CompiledWorkflow] = field(default_factory=dict)
    # The template's failure node: what runs once the graph has failed (see `failure_scope`).
    failure_node: workflow_pb2.Node | None = None
    # Set on a failure node's scope only: the error the failed graph ended with (the node's `err` input).
    handled_error: core.ExecutionError | None = None

    @classmethod
    def of_template(
        cls,
        template: workflow_pb2.WorkflowTemplate,
        upstream: Mapping[str, Sequence[str]],
        **placement: Unpack[Placement],
    ) -> Scope:
        nodes = {n.id: n for n in template.nodes}
        if START not in nodes:
            nodes[START] = workflow_pb2.Node(id=START)
        if END not in nodes:
            nodes[END] = workflow_pb2.Node(id=END, inputs=template.outputs)
        else:
            # The compiled end node may carry no bindings; the template's outputs are its inputs.
            end = workflow_pb2.Node()
            end.CopyFrom(nodes[END])
            if not end.inputs:
                end.inputs.extend(template.outputs)
            nodes[END] = end
        return cls(
            nodes=nodes,
            upstream=upstream,
            failure_policy=template.metadata.on_failure,
            output_bindings=tuple(template.outputs),
            failure_node=template.failure_node if template.HasField("failure_node") else None,
            **placement,
        )

    def failure_scope(self, error: core.ExecutionError) -> Scope:
        """The graph that runs this scope's failure node after the scope failed with `error`: that one node,
        beside this scope's nodes (records and data where theirs are) and bound to their outputs. It waits
        on nothing: the compiler gives it upstream edges, but they point at nodes that may have failed."""
        node = self.failure_node
        if node is None:
            raise ValueError("the graph has no failure node")
        return Scope(
            nodes={node.id: node},
            upstream={},
            key_prefix=self.key_prefix,
            data_root=self.data_root,
            top_level=self.top_level,
            parent_unique_id=self.parent_unique_id,
            parent_attempt=self.parent_attempt,
            outer=self,
            in_dynamic_chain=self.in_dynamic_chain,
            tasks=self.tasks,
            sub_workflows=self.sub_workflows,
            handled_error=error,
        )

    @property
    def frontier_key(self) -> str:
        """Which frontier is this scope's: a failure node's scope shares its graph's key prefix, not its frontier."""
        return self.key_prefix if self.handled_error is None else f"{self.key_prefix}#failure"

    def key(self, node_id: str) -> str:
        return f"{self.key_prefix}{node_id}"

    def unique_id(self, node_id: str) -> str:
        return unique_node_id(self.parent_unique_id, self.parent_attempt, node_id)

    def data_dir(self, node_id: str) -> str:
        if self.top_level:
            return f"{self.data_root}/{self.unique_id(node_id)}/data"
        return f"{self.data_root}/{node_id}"

    @property
    def start_outputs_uri(self) -> str:
        return f"{self.data_dir(START)}/0/outputs.pb"

    def outputs_uri(self, node_id: str, status: NodeStatus) -> str:
        if node_id == START:
            return self.start_outputs_uri
        return f"{self.data_dir(node_id)}/{status.attempts}/outputs.pb"

    def owner_of(self, node_id: str) -> Scope | None:
        """The scope (this one or an enclosing one) that contains `node_id`."""
        scope: Scope | None = self
        while scope is not None:
            if node_id in scope.nodes:
                return scope
            scope = scope.outer
        return None

    @cached_property
    def order(self) -> list[str]:
        """Nodes in dependency order (start first, end last), in O(nodes + edges)."""
        indegree = {n: 0 for n in self.nodes}
        for n in self.nodes:
            for u in self.upstream.get(n, ()):
                if u in self.nodes and u != n:
                    indegree[n] += 1
        ready = sorted(n for n, d in indegree.items() if d == 0)
        ordered: list[str] = []
        while ready:
            n = ready.pop(0) if len(ready) < 64 else ready.pop()
            ordered.append(n)
            for d in self.downstream.get(n, ()):
                indegree[d] -= 1
                if indegree[d] == 0:
                    ready.append(d)
        if len(ordered) < len(self.nodes):  # a cycle the compiler would have refused: keep going anyway
            ordered += sorted(set(self.nodes) - set(ordered))
        for special, position in ((START, 0), (END, len(ordered))):
            if special in ordered:
                ordered.remove(special)
                ordered.insert(position if position == 0 else len(ordered), special)
        return ordered

    @cached_property
    def position(self) -> dict[str, int]:
        """Each node's index in `order`."""
        return {n: i for i, n in enumerate(self.order)}

    @cached_property
    def downstream(self) -> dict[str, list[str]]:
        """In-scope dependents of each node."""
        out: dict[str, list[str]] = {n: [] for n in self.nodes}
        for n in self.nodes:
            for u in self.upstream.get(n, ()):
                if u in out and u != n:
                    out[u].append(n)
        return out
