"""Eager workflows' sub-executions as node executions of the eager task's node.

flytekit's `@eager` task launches every task it calls as an execution of its own, through FlyteRemote,
in its own project and domain, labelled `eager-exec: <the eager execution's name>` (flytekit's
`EAGER_TAG_KEY`). Flyte's admin keeps no other link. Here each such execution is recorded, in the
transaction that creates it, as a child node of the eager task's node, shaped as Flyte shapes a
launch-plan node: its closure names the child (`workflow_node_metadata.execution_id`), its inputs and
outputs are the child's, its phase follows the child's; the child's metadata names that node
(`parent_node_execution`, mode CHILD_WORKFLOW, one more level of nesting). The eager node becomes a
parent node, and its data carries a dynamic workflow whose one node, a call of the eager task, is every
child's spec node, which is how FlyteRemote (`sync_execution(sync_nodes=True)`) and consoles read a
parent node's children.

A child that runs a single task (what flytekit launches for a task it calls) has no launch-plan
workflow for FlyteRemote to read its interface from (flytekit 1.16 follows a launch-plan node's link
only into launch-plan executions), so its node is also a parent node, of no nodes, whose data carries
the task's generated workflow: FlyteRemote then reads its inputs and outputs through that workflow.

A label is whatever the caller wrote: it is only looked up in the child's own project and domain, and
attaches only to an execution that is still running and has exactly one running eager node (or, while
admin has not heard of that node yet, runs an eager task: the child then waits for the node's first
event, which attaches it in its own transaction).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from admin.managers.ids import identifier
from admin.managers.transitions import NODE_TERMINAL
from admin.models import Execution, NodeExecution, Task
from admin.repositories import entities, executions, node_executions, task_executions
from flyteidl_py.admin import execution_pb2, node_execution_pb2, task_pb2
from flyteidl_py.admin import workflow_pb2 as admin_workflow_pb2
from flyteidl_py.core import compiler_pb2, identifier_pb2, tasks_pb2, workflow_pb2
from flyteidl_py.core import execution_pb2 as core

log = logging.getLogger("flyteplane.admin.eager")

# The label flytekit's eager controller puts on each execution it launches: the eager execution's name.
EAGER_LABEL = "eager-exec"
# The spec node of every call in an eager node's dynamic workflow (see dynamic_workflow).
CALL_NODE = "eager-call"

WF = core.WorkflowExecution.Phase
NODE = core.NodeExecution.Phase
# The phase a child's node shows for each phase of the child execution.
NODE_PHASE_OF = {
    WF.UNDEFINED: NODE.QUEUED,
    WF.QUEUED: NODE.QUEUED,
    WF.RUNNING: NODE.RUNNING,
    WF.SUCCEEDING: NODE.RUNNING,
    WF.SUCCEEDED: NODE.SUCCEEDED,
    WF.FAILING: NODE.FAILING,
    WF.FAILED: NODE.FAILED,
    WF.ABORTED: NODE.ABORTED,
    WF.TIMED_OUT: NODE.TIMED_OUT,
}


@dataclass(frozen=True)
class EagerParent:
    """The running execution and eager node a new execution is launched from, and the node it gets there."""

    execution: Execution
    node: NodeExecution
    child_node_id: str

    @property
    def ident(self) -> identifier_pb2.WorkflowExecutionIdentifier:
        e = self.execution
        return identifier_pb2.WorkflowExecutionIdentifier(
            project=e.execution_project, domain=e.execution_domain, name=e.execution_name, org=e.org
        )


@dataclass(frozen=True)
class EagerLink:
    """Where a labelled execution belongs: its eager node, or (`node` None) an eager execution whose eager
    node admin has not heard of yet; the child then waits for that node's first event (adopt_waiting)."""

    execution: Execution
    node: NodeExecution | None

    def parent(self, child_name: str) -> EagerParent | None:
        return (
            None if self.node is None else EagerParent(self.execution, self.node, f"{self.node.node_id}-{child_name}")
        )


async def find_parent(
    session: AsyncSession, child: identifier_pb2.WorkflowExecutionIdentifier, spec: execution_pb2.ExecutionSpec
) -> EagerLink | None:
    """The eager task an execution about to be created was launched from, or None.

    The parent is locked until the transaction ends, so that it cannot finish (nor its eager node's
    first event be applied) between this check and the child's insertion.
    """
    if spec.metadata.parent_node_execution.node_id:
        return None  # the engine's own child (a launch-plan node) already names its node
    name = spec.labels.values.get(EAGER_LABEL, "")
    if not name:
        return None
    where = f"execution {child.project}/{child.domain}/{child.name} is labelled {EAGER_LABEL}={name}, which"
    parent_id = identifier_pb2.WorkflowExecutionIdentifier(project=child.project, domain=child.domain, name=name)
    parent = await executions.find(session, parent_id, for_update=True)
    if parent is None or parent.phase in executions.TERMINAL_PHASES or parent.phase == "ABORTING":
        log.info("%s is no running execution of its project and domain: recorded on its own", where)
        return None
    running = await node_executions.unfinished(session, parent.id)
    eager = [n for n in running if node_execution_pb2.NodeExecutionMetaData.FromString(n.metadata_).is_eager]
    if len(eager) > 1:
        log.warning("%s has %d running eager nodes, none of them named: recorded on its own", where, len(eager))
        return None
    if eager:
        return EagerLink(parent, eager[0])
    # The engine reports the eager node as it starts the task; its events can reach admin after the
    # task's first launch does. Wait for it only if the parent runs an eager task at all.
    if not await _runs_eager_task(session, parent):
        log.info("%s runs no eager task: recorded on its own", where)
        return None
    return EagerLink(parent, None)


async def _runs_eager_task(session: AsyncSession, execution: Execution) -> bool:
    if execution.workflow_id is None:
        return False
    row = await entities.workflow(session, execution.workflow_id)
    if row is None:
        return False
    compiled = admin_workflow_pb2.WorkflowClosure.FromString(row.closure).compiled_workflow
    return any(task.template.metadata.is_eager for task in compiled.tasks)


async def adopt_waiting(session: AsyncSession, execution: Execution, node: NodeExecution) -> None:
    """Attach the executions that wait for `execution`'s eager node, now that `node` is it (see EagerLink)."""
    waiting = await executions.waiting_for_eager_node(session, execution.id)
    if not waiting:
        return
    if node.id is None:
        await session.flush()  # the node is new in this transaction: it needs its id first
    for child in waiting:
        parent = EagerParent(execution, node, f"{node.node_id}-{child.execution_name}")
        spec = execution_pb2.ExecutionSpec.FromString(child.spec)
        adopt(spec, parent)
        child.spec = spec.SerializeToString()
        child.user = spec.metadata.principal
        await attach(session, parent, child, node.node_execution_updated_at)
        await follow(session, child, execution_pb2.ExecutionClosure.FromString(child.closure))


def adopt(spec: execution_pb2.ExecutionSpec, parent: EagerParent) -> None:
    """Make the child's metadata say where it runs, as for the engine's child executions."""
    parent_spec = execution_pb2.ExecutionSpec.FromString(parent.execution.spec)
    metadata = spec.metadata
    metadata.mode = execution_pb2.ExecutionMetadata.CHILD_WORKFLOW
    metadata.parent_node_execution.CopyFrom(
        identifier_pb2.NodeExecutionIdentifier(execution_id=parent.ident, node_id=parent.child_node_id)
    )
    metadata.nesting = parent_spec.metadata.nesting + 1
    metadata.principal = parent.execution.user or metadata.principal


async def attach(session: AsyncSession, parent: EagerParent, child: Execution, now: datetime) -> None:
    """Record `child` (inserted in this transaction) as a node under the eager node, and the link back."""
    child_id = identifier_pb2.WorkflowExecutionIdentifier(
        project=child.execution_project, domain=child.execution_domain, name=child.execution_name, org=child.org
    )
    closure = node_execution_pb2.NodeExecutionClosure(
        phase=NODE.QUEUED, workflow_node_metadata=node_execution_pb2.WorkflowNodeMetadata(executionId=child_id)
    )
    closure.created_at.FromDatetime(now)
    closure.updated_at.FromDatetime(now)
    metadata = node_execution_pb2.NodeExecutionMetaData(spec_node_id=CALL_NODE, is_parent_node=_runs_task(child))
    row = NodeExecution(
        execution_id=parent.execution.id,
        execution_project=parent.execution.execution_project,
        execution_domain=parent.execution.execution_domain,
        execution_name=parent.execution.execution_name,
        node_id=parent.child_node_id,
        phase=NODE.Name(NODE.QUEUED),
        input_uri=child.inputs_uri,
        closure=closure.SerializeToString(),
        metadata_=metadata.SerializeToString(),
        node_execution_created_at=now,
        node_execution_updated_at=now,
        parent_id=parent.node.id,
        child_execution_id=child.id,
        internal_data=json.dumps({"event_version": 1}).encode(),
    )
    node_executions.add(session, row)
    await session.flush()
    child.parent_node_execution_id = row.id
    eager = node_execution_pb2.NodeExecutionMetaData.FromString(parent.node.metadata_)
    if not eager.is_parent_node:
        eager.is_parent_node = True
        parent.node.metadata_ = eager.SerializeToString()
    log.info(
        "execution %s recorded as node %s of eager execution %s", child.execution_name, row.node_id, parent.ident.name
    )


async def follow(session: AsyncSession, child: Execution, closure: execution_pb2.ExecutionClosure) -> None:
    """Bring the node that stands for `child` (if any) to the child's phase, times, outputs and error."""
    if child.parent_node_execution_id is None:
        return
    node = await session.get(NodeExecution, child.parent_node_execution_id)
    if node is None or node.child_execution_id != child.id:
        return  # the engine's own child: its launch-plan node is the engine's to report
    phase = NODE_PHASE_OF.get(closure.phase)
    if phase is None:
        return
    node_closure = node_execution_pb2.NodeExecutionClosure.FromString(node.closure)
    node_closure.phase = phase
    node.phase = NODE.Name(phase)
    if closure.HasField("updated_at"):
        node_closure.updated_at.CopyFrom(closure.updated_at)
    node.node_execution_updated_at = child.execution_updated_at
    if child.started_at is not None and node.started_at is None:
        node.started_at = child.started_at
        node_closure.started_at.CopyFrom(closure.started_at)
    if phase in NODE_TERMINAL:
        node.duration = child.duration
        node_closure.duration.CopyFrom(closure.duration)
        if closure.outputs.uri:
            node_closure.output_uri = closure.outputs.uri
        if closure.HasField("error"):
            node_closure.error.CopyFrom(closure.error)
            node.error_kind, node.error_code = child.error_kind, child.error_code
    node.closure = node_closure.SerializeToString()


async def dynamic_workflow(
    session: AsyncSession, node: NodeExecution
) -> node_execution_pb2.DynamicWorkflowNodeMetadata | None:
    """An eager node's children as Flyte shows a dynamic node's: a workflow whose node CALL_NODE, a call of
    the eager task, is every child's spec node. None for any other node.

    One spec node for all calls, as an array node's elements share theirs, because a client reads this
    workflow and then lists the children: a call launched in between must still find its spec node.
    A child's own node, when the child runs a single task, carries that task's generated workflow
    (see the module's doc).
    """
    if node.child_execution_id is not None:
        return await _generated_workflow(session, node.child_execution_id)
    metadata = node_execution_pb2.NodeExecutionMetaData.FromString(node.metadata_)
    if not (metadata.is_eager and metadata.is_parent_node):
        return None
    task = await _eager_task(session, node)
    if task is None:  # admin has not heard of the eager task's attempt yet
        return None
    workflow_id = identifier_pb2.Identifier()
    workflow_id.CopyFrom(task.id)
    workflow_id.resource_type = identifier_pb2.WORKFLOW
    call = workflow_pb2.Node(
        id=CALL_NODE,
        metadata=workflow_pb2.NodeMetadata(name=CALL_NODE),
        task_node=workflow_pb2.TaskNode(reference_id=task.id),
    )
    template = workflow_pb2.WorkflowTemplate(id=workflow_id, interface=task.interface, nodes=[call])
    return node_execution_pb2.DynamicWorkflowNodeMetadata(
        id=workflow_id,
        compiled_workflow=compiler_pb2.CompiledWorkflowClosure(
            primary=compiler_pb2.CompiledWorkflow(template=template), tasks=[compiler_pb2.CompiledTask(template=task)]
        ),
    )


def _runs_task(child: Execution) -> bool:
    return child.launch_entity == "task"


async def _generated_workflow(
    session: AsyncSession, child_pk: int
) -> node_execution_pb2.DynamicWorkflowNodeMetadata | None:
    """The generated workflow a single-task child execution runs, as a dynamic workflow; None for other children."""
    child = await session.get(Execution, child_pk)
    if child is None or not _runs_task(child) or child.workflow_id is None:
        return None
    row = await entities.workflow(session, child.workflow_id)
    if row is None:
        return None
    return node_execution_pb2.DynamicWorkflowNodeMetadata(
        id=identifier(identifier_pb2.WORKFLOW, row),
        compiled_workflow=admin_workflow_pb2.WorkflowClosure.FromString(row.closure).compiled_workflow,
    )


async def _eager_task(session: AsyncSession, node: NodeExecution) -> tasks_pb2.TaskTemplate | None:
    """The template of the eager task the node runs: as its attempts name it, else (no attempt reported
    yet) as its execution's workflow says."""
    attempts = await task_executions.of_nodes(session, [node.id])
    if attempts:
        row = await entities.find(session, Task, identifier(identifier_pb2.TASK, attempts[0]))
        if row is not None:
            return task_pb2.TaskClosure.FromString(row.closure).compiled_task.template
    execution = await session.get(Execution, node.execution_id)
    if execution is None or execution.workflow_id is None:
        return None
    workflow = await entities.workflow(session, execution.workflow_id)
    if workflow is None:
        return None
    compiled = admin_workflow_pb2.WorkflowClosure.FromString(workflow.closure).compiled_workflow
    spec_node_id = node_execution_pb2.NodeExecutionMetaData.FromString(node.metadata_).spec_node_id
    templates = [compiled.primary.template, *(sub.template for sub in compiled.sub_workflows)]
    for spec_node in (n for t in templates for n in t.nodes if n.id == spec_node_id and n.HasField("task_node")):
        for task in compiled.tasks:
            if task.template.id == spec_node.task_node.reference_id and task.template.metadata.is_eager:
                return task.template
    return None
