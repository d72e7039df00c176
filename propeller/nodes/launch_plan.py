"""Launch-plan nodes: create a child execution through admin and wait for it; its outputs are the node's."""

from __future__ import annotations

from flyteidl_py.admin import execution_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2
from flyteidl_py.event import event_pb2
from propeller.ids import child_execution_name
from propeller.nodes.base import POLL_SECONDS, NodeContext, NodeHandler, NodeResult, Outcome


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
