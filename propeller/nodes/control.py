"""Nodes that run other graphs or wait: branch, sub-workflow, gate and launch-plan nodes."""

from __future__ import annotations

from flyteidl_py.admin import execution_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2, literals_pb2, types_pb2, workflow_pb2
from flyteidl_py.event import event_pb2
from propeller.data.branch import select_branch
from propeller.data.errors import BranchUserError
from propeller.ids import child_execution_name
from propeller.nodes.base import NodeContext, NodeHandler, NodeResult, Outcome, ScopeRunner
from propeller.scope import Placement, Scope, task_key, upstream_of
from propeller.status import NodePhase

POLL_SECONDS = 1.0


def _nested_scope(ctx: NodeContext) -> Placement:
    return Placement(
        key_prefix=f"{ctx.key}/{ctx.status.attempts}/",
        data_root=ctx.output_dir,
        top_level=False,
        parent_unique_id=ctx.unique_id,
        parent_attempt=ctx.status.attempts,
        tasks=ctx.scope.tasks,
        sub_workflows=ctx.scope.sub_workflows,
        in_dynamic_chain=ctx.scope.in_dynamic_chain,
    )


class BranchNode(NodeHandler):
    counts_for_parallelism = False

    def __init__(self, runner: ScopeRunner) -> None:
        self.runner = runner  # runs the chosen child

    @staticmethod
    def _children(if_else: workflow_pb2.IfElseBlock) -> list[workflow_pb2.Node]:
        nodes = [if_else.case.then_node, *(c.then_node for c in if_else.other)]
        if if_else.HasField("else_node"):
            nodes.append(if_else.else_node)
        return nodes

    def _scope(self, ctx: NodeContext, child: workflow_pb2.Node) -> Scope:
        upstream = {child.id: list(ctx.scope.upstream.get(child.id, child.upstream_node_ids))}
        placement = _nested_scope(ctx)
        placement["outer"] = ctx.scope  # the child reads its upstream nodes' outputs from the branch's scope
        return Scope(nodes={child.id: child}, upstream=upstream, **placement)

    async def handle(self, ctx: NodeContext) -> NodeResult:
        if_else = ctx.node.branch_node.if_else
        if not ctx.status.branch_child:
            try:
                chosen = select_branch(if_else, await ctx.read_inputs())
            except BranchUserError as error:
                return NodeResult.fail(error.code, error.message)
            ctx.status.branch_child = chosen.id
            ctx.touch()
        child = next(n for n in self._children(if_else) if n.id == ctx.status.branch_child)
        scope = ctx.nested_scope(f"branch:{child.id}", lambda: self._scope(ctx, child))
        await self.runner.run_scope(ctx.state, scope, ctx.budget)
        status = ctx.state.nodes.get(scope.key(child.id))
        if status is None or not status.node_phase.is_terminal:
            return NodeResult(Outcome.RUNNING)
        if status.node_phase in (NodePhase.SUCCEEDED, NodePhase.RECOVERED):
            outputs = await ctx.services.read_literals_or_empty(ctx.state, scope.outputs_uri(child.id, status))
            await ctx.services.write_literals(ctx.outputs_uri, outputs)
            return NodeResult(Outcome.SUCCESS, output_uri=ctx.outputs_uri)
        failure = core.ExecutionError.FromString(status.error) if status.error else None
        return NodeResult(Outcome.FAILURE, error=failure)

    async def abort(self, ctx: NodeContext, reason: str) -> None:
        if ctx.status.branch_child:
            child = next(n for n in self._children(ctx.node.branch_node.if_else) if n.id == ctx.status.branch_child)
            await self.runner.abort_scope(ctx.state, self._scope(ctx, child), reason, final=True)

    def reset(self, ctx: NodeContext) -> None:
        ctx.status.branch_child = ""


class SubworkflowNode(NodeHandler):
    counts_for_parallelism = False

    def __init__(self, runner: ScopeRunner) -> None:
        self.runner = runner  # runs the sub-workflow

    def _scope(self, ctx: NodeContext) -> Scope:
        compiled = ctx.scope.sub_workflows[task_key(ctx.node.workflow_node.sub_workflow_ref)]
        return ctx.nested_scope(
            "subworkflow",
            lambda: Scope.of_template(compiled.template, upstream_of(compiled.connections), **_nested_scope(ctx)),
        )

    async def handle(self, ctx: NodeContext) -> NodeResult:
        scope = self._scope(ctx)
        services = ctx.services
        if not await services.storage.exists(scope.start_outputs_uri):
            await services.write_literals(scope.start_outputs_uri, await ctx.read_inputs())
        runner = self.runner
        outcome = await runner.run_scope(ctx.state, scope, ctx.budget)
        if not outcome.done:
            return NodeResult(Outcome.RUNNING, is_parent=True)
        if outcome.error is not None:
            await runner.abort_scope(ctx.state, scope, "sub-workflow failed", final=False)
            return NodeResult(Outcome.FAILURE, error=outcome.error, is_parent=True)
        await services.write_literals(ctx.outputs_uri, await runner.read_outputs(ctx.state, scope, "end-node"))
        return NodeResult(Outcome.SUCCESS, output_uri=ctx.outputs_uri, is_parent=True)

    async def abort(self, ctx: NodeContext, reason: str) -> None:
        await self.runner.abort_scope(ctx.state, self._scope(ctx), reason, final=True)


class GateNode(NodeHandler):
    counts_for_parallelism = False

    async def handle(self, ctx: NodeContext) -> NodeResult:
        gate = ctx.node.gate_node
        kind = gate.WhichOneof("condition")
        if kind == "sleep":
            duration = gate.sleep.duration.ToTimedelta().total_seconds()
            remaining = duration - (ctx.now - ctx.status.attempt_started_at)
            if remaining > 0:
                return NodeResult(Outcome.RUNNING, wake_after=remaining)
            await ctx.services.write_literals(ctx.outputs_uri, await ctx.read_inputs())
            return NodeResult(Outcome.SUCCESS, output_uri=ctx.outputs_uri)
        admin = ctx.services.admin
        if admin is None:
            return NodeResult.fail("GateUnavailable", "no admin connection to read signals from", system=True)
        signal_id = gate.approve.signal_id if kind == "approve" else gate.signal.signal_id
        literal_type = types_pb2.LiteralType(simple=types_pb2.BOOLEAN) if kind == "approve" else gate.signal.type
        ident = identifier_pb2.SignalIdentifier(signal_id=signal_id, execution_id=ctx.state.ident)
        signal = await admin.get_or_create_signal(ident, literal_type)
        if not signal.HasField("value"):
            return NodeResult(Outcome.RUNNING, wake_after=POLL_SECONDS)
        if kind == "approve":
            value = signal.value.scalar.primitive
            if value.WhichOneof("value") != "boolean":
                return NodeResult.fail("UnknownSignalValue", "approval signals must be booleans")
            if not value.boolean:
                return NodeResult.fail("ReceivedRejectSignal", f"received reject signal for [{signal_id}]")
            outputs = await ctx.read_inputs()
        else:
            outputs = literals_pb2.LiteralMap(literals={gate.signal.output_variable_name: signal.value})
        await ctx.services.write_literals(ctx.outputs_uri, outputs)
        return NodeResult(Outcome.SUCCESS, output_uri=ctx.outputs_uri)


class LaunchPlanNode(NodeHandler):
    counts_for_parallelism = True

    def _child(self, ctx: NodeContext) -> identifier_pb2.WorkflowExecutionIdentifier:
        e = ctx.state.ident
        name = child_execution_name(e.name, ctx.unique_id, ctx.status.attempts)
        return identifier_pb2.WorkflowExecutionIdentifier(project=e.project, domain=e.domain, name=name)

    async def handle(self, ctx: NodeContext) -> NodeResult:
        admin = ctx.services.admin
        if admin is None:
            return NodeResult.fail(
                "LaunchPlanUnavailable", "no admin connection to launch child executions", system=True
            )
        child = self._child(ctx)
        ref = ctx.node.workflow_node.launchplan_ref
        metadata = event_pb2.WorkflowNodeMetadata(execution_id=child)
        if not ctx.status.child_execution:
            spec = ctx.state.spec
            request = execution_pb2.ExecutionCreateRequest(
                project=child.project,
                domain=child.domain,
                name=child.name,
                inputs=await ctx.read_inputs(),
                spec=execution_pb2.ExecutionSpec(
                    launch_plan=ref,
                    metadata=execution_pb2.ExecutionMetadata(
                        mode=execution_pb2.ExecutionMetadata.CHILD_WORKFLOW,
                        principal=spec.metadata.principal,
                        nesting=spec.metadata.nesting + 1,
                        parent_node_execution=identifier_pb2.NodeExecutionIdentifier(
                            execution_id=ctx.state.ident, node_id=ctx.unique_id
                        ),
                    ),
                    labels=spec.labels,
                    annotations=spec.annotations,
                    security_context=spec.security_context,
                    max_parallelism=spec.max_parallelism,
                    raw_output_data_config=spec.raw_output_data_config,
                    overwrite_cache=spec.overwrite_cache,
                    envs=spec.envs,
                ),
            )
            if spec.HasField("interruptible"):
                request.spec.interruptible.CopyFrom(spec.interruptible)
            await admin.create_execution(request)
            ctx.status.child_execution = child.name
            ctx.touch()
            return NodeResult(
                Outcome.RUNNING, workflow_node_metadata=metadata, target_entity=ref, wake_after=POLL_SECONDS
            )
        execution = await admin.get_execution(child)
        phase = execution.closure.phase
        if phase == core.WorkflowExecution.SUCCEEDED:
            await ctx.services.write_literals(ctx.outputs_uri, await admin.get_outputs(child))
            return NodeResult(Outcome.SUCCESS, output_uri=ctx.outputs_uri, workflow_node_metadata=metadata)
        if phase == core.WorkflowExecution.FAILED:
            error = (
                execution.closure.error
                if execution.closure.HasField("error")
                else core.ExecutionError(code="LaunchPlanExecutionFailed", message="Unknown Error")
            )
            return NodeResult(Outcome.FAILURE, error=error, workflow_node_metadata=metadata)
        if phase == core.WorkflowExecution.ABORTED:
            return NodeResult.fail("RemoteChildWorkflowExecutionFailed", f"launchplan [{child.name}] aborted")
        return NodeResult(Outcome.RUNNING, workflow_node_metadata=metadata, target_entity=ref, wake_after=POLL_SECONDS)

    async def abort(self, ctx: NodeContext, reason: str) -> None:
        if ctx.status.child_execution and ctx.services.admin is not None:
            cause = f"cascading abort as parent execution id [{ctx.state.ident.name}] aborted, reason [{reason}]"
            await ctx.services.admin.terminate(self._child(ctx), cause)

    def reset(self, ctx: NodeContext) -> None:
        ctx.status.child_execution = ""
