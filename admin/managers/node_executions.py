"""Reading node and task executions: get, list (top level or under a parent), and their data."""

from __future__ import annotations

from typing import Any, TypedDict

from admin.lists import list_request
from admin.managers import eager
from admin.managers.context import AdminContext
from admin.managers.ids import check_execution_id, check_identifier, check_node_execution_id, identifier
from admin.models import NodeExecution, TaskExecution
from admin.repositories import executions, node_executions, task_executions
from flyteidl_py.admin import common_pb2, execution_pb2, node_execution_pb2, task_execution_pb2
from flyteidl_py.core import identifier_pb2, literals_pb2
from flyteplane.errors import NotFound
from flyteplane.storage import Storage


def to_node_execution(row: NodeExecution) -> node_execution_pb2.NodeExecution:
    return node_execution_pb2.NodeExecution(
        id=identifier_pb2.NodeExecutionIdentifier(
            execution_id=identifier_pb2.WorkflowExecutionIdentifier(
                project=row.execution_project, domain=row.execution_domain, name=row.execution_name
            ),
            node_id=row.node_id,
        ),
        input_uri=row.input_uri,
        closure=node_execution_pb2.NodeExecutionClosure.FromString(row.closure),
        metadata=node_execution_pb2.NodeExecutionMetaData.FromString(row.metadata_),
    )


def to_task_execution(row: TaskExecution) -> task_execution_pb2.TaskExecution:
    closure = task_execution_pb2.TaskExecutionClosure.FromString(row.closure)
    return task_execution_pb2.TaskExecution(
        id=identifier_pb2.TaskExecutionIdentifier(
            task_id=identifier(identifier_pb2.TASK, row),
            node_execution_id=identifier_pb2.NodeExecutionIdentifier(
                execution_id=identifier_pb2.WorkflowExecutionIdentifier(
                    project=row.execution_project, domain=row.execution_domain, name=row.execution_name
                ),
                node_id=row.node_id,
            ),
            retry_attempt=row.retry_attempt,
        ),
        input_uri=row.input_uri,
        closure=closure,
        is_parent=bool(closure.metadata.external_resources),
    )


class DataFields(TypedDict):
    """The fields every Get*Data response shares: inputs and outputs, as blob references and as literals."""

    inputs: common_pb2.UrlBlob
    outputs: common_pb2.UrlBlob
    full_inputs: literals_pb2.LiteralMap
    full_outputs: literals_pb2.LiteralMap


class LiteralData:
    """Reads literal maps for Get*Data: inline below the size limit, else left for the URL."""

    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx

    @property
    def storage(self) -> Storage:
        return self.ctx.storage

    async def read(self, uri: str) -> tuple[literals_pb2.LiteralMap, common_pb2.UrlBlob]:
        if not uri:
            return literals_pb2.LiteralMap(), common_pb2.UrlBlob()
        try:
            info = await self.storage.head(uri)
        except NotFound:
            return literals_pb2.LiteralMap(), common_pb2.UrlBlob()
        blob = common_pb2.UrlBlob(url=uri, bytes=info.size)
        if info.size >= self.ctx.config.max_inline_bytes:
            return literals_pb2.LiteralMap(), blob
        return await self.storage.read_proto(uri, literals_pb2.LiteralMap), blob

    async def data_fields(
        self,
        input_uri: str,
        closure: execution_pb2.ExecutionClosure
        | node_execution_pb2.NodeExecutionClosure
        | task_execution_pb2.TaskExecutionClosure,
        output_uri: str,
    ) -> DataFields:
        """Inputs and outputs for a Get*Data answer; outputs stored inline in the closure win over `output_uri`."""
        inputs, inputs_blob = await self.read(input_uri)
        if closure.HasField("output_data"):
            outputs, outputs_blob = closure.output_data, common_pb2.UrlBlob()
        else:
            outputs, outputs_blob = await self.read(output_uri)
        return DataFields(inputs=inputs_blob, outputs=outputs_blob, full_inputs=inputs, full_outputs=outputs)

    @staticmethod
    def flyte_urls(ident: identifier_pb2.NodeExecutionIdentifier, attempt: int | None, deck: bool) -> Any:
        e = ident.execution_id
        base = f"flyte://v1/{e.project}/{e.domain}/{e.name}/{ident.node_id}"
        if attempt is not None:
            base += f"/{attempt}"
        return common_pb2.FlyteURLs(inputs=f"{base}/i", outputs=f"{base}/o", deck=f"{base}/d" if deck else "")


class NodeExecutionManager:
    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx
        self.data = LiteralData(ctx)

    async def _load(self, ident: identifier_pb2.NodeExecutionIdentifier) -> NodeExecution:
        """The node execution `ident` names, once the identifier is checked; NotFound if there is none."""
        check_node_execution_id(ident)
        async with self.ctx.db.session() as session:
            return await node_executions.get(session, ident)

    async def get(self, request: node_execution_pb2.NodeExecutionGetRequest) -> node_execution_pb2.NodeExecution:
        return to_node_execution(await self._load(request.id))

    async def list(self, request: node_execution_pb2.NodeExecutionListRequest) -> node_execution_pb2.NodeExecutionList:
        check_execution_id(request.workflow_execution_id, "workflow_execution_id")
        listing = list_request(request, "node_execution")
        async with self.ctx.db.session() as session:
            execution = await executions.get(session, request.workflow_execution_id)
            parent = None
            if request.unique_parent_id:
                parent = await node_executions.find_pk(session, execution.id, request.unique_parent_id)
                if parent is None:
                    raise NotFound(f"parent node {request.unique_parent_id} not found", field="unique_parent_id")
            rows = await node_executions.list_page(session, execution.id, parent, listing)
        return node_execution_pb2.NodeExecutionList(
            node_executions=[to_node_execution(r) for r in rows], token=listing.token_after(rows)
        )

    async def list_for_task(
        self, request: node_execution_pb2.NodeExecutionForTaskListRequest
    ) -> node_execution_pb2.NodeExecutionList:
        check_node_execution_id(request.task_execution_id.node_execution_id, "task_execution_id.node_execution_id")
        check_identifier(request.task_execution_id.task_id, identifier_pb2.TASK, "task_execution_id.task_id")
        listing = list_request(request, "node_execution")
        async with self.ctx.db.session() as session:
            parent = await task_executions.get(session, request.task_execution_id)
            rows = await node_executions.list_for_task(session, parent.id, listing)
        return node_execution_pb2.NodeExecutionList(
            node_executions=[to_node_execution(r) for r in rows], token=listing.token_after(rows)
        )

    async def _dynamic_workflow(
        self, ident: identifier_pb2.NodeExecutionIdentifier
    ) -> tuple[NodeExecution, node_execution_pb2.DynamicWorkflowNodeMetadata | None]:
        """The node and the workflow it ran: a dynamic task's, or an eager task's children (admin.managers.eager)."""
        check_node_execution_id(ident)
        async with self.ctx.db.session() as session:
            row = await node_executions.get(session, ident)
            if row.dynamic_workflow:
                return row, node_execution_pb2.DynamicWorkflowNodeMetadata.FromString(row.dynamic_workflow)
            return row, await eager.dynamic_workflow(session, row)

    async def get_data(
        self, request: node_execution_pb2.NodeExecutionGetDataRequest
    ) -> node_execution_pb2.NodeExecutionGetDataResponse:
        row, dynamic = await self._dynamic_workflow(request.id)
        closure = node_execution_pb2.NodeExecutionClosure.FromString(row.closure)
        response = node_execution_pb2.NodeExecutionGetDataResponse(
            **await self.data.data_fields(row.input_uri, closure, closure.output_uri),
            flyte_urls=self.data.flyte_urls(request.id, None, bool(closure.deck_uri)),
        )
        if dynamic is not None:
            response.dynamic_workflow.CopyFrom(dynamic)
        return response

    async def dynamic_workflow(
        self, request: node_execution_pb2.GetDynamicNodeWorkflowRequest
    ) -> node_execution_pb2.DynamicNodeWorkflowResponse:
        _, dynamic = await self._dynamic_workflow(request.id)
        if dynamic is None:
            raise NotFound("node does not contain dynamic workflow", field="id")
        return node_execution_pb2.DynamicNodeWorkflowResponse(compiled_workflow=dynamic.compiled_workflow)


class TaskExecutionManager:
    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx
        self.data = LiteralData(ctx)

    async def _load(self, ident: identifier_pb2.TaskExecutionIdentifier) -> TaskExecution:
        """The task execution `ident` names, once the identifier is checked; NotFound if there is none."""
        check_identifier(ident.task_id, identifier_pb2.TASK, "id.task_id")
        check_node_execution_id(ident.node_execution_id, "id.node_execution_id")
        async with self.ctx.db.session() as session:
            return await task_executions.get(session, ident)

    async def get(self, request: task_execution_pb2.TaskExecutionGetRequest) -> task_execution_pb2.TaskExecution:
        return to_task_execution(await self._load(request.id))

    async def list(self, request: task_execution_pb2.TaskExecutionListRequest) -> task_execution_pb2.TaskExecutionList:
        check_node_execution_id(request.node_execution_id, "node_execution_id")
        listing = list_request(request, "task_execution")
        async with self.ctx.db.session() as session:
            node = await node_executions.get(session, request.node_execution_id)
            rows = await task_executions.list_page(session, node.id, listing)
        return task_execution_pb2.TaskExecutionList(
            task_executions=[to_task_execution(r) for r in rows], token=listing.token_after(rows)
        )

    async def get_data(
        self, request: task_execution_pb2.TaskExecutionGetDataRequest
    ) -> task_execution_pb2.TaskExecutionGetDataResponse:
        row = await self._load(request.id)
        closure = task_execution_pb2.TaskExecutionClosure.FromString(row.closure)
        return task_execution_pb2.TaskExecutionGetDataResponse(
            **await self.data.data_fields(row.input_uri, closure, closure.output_uri),
            flyte_urls=self.data.flyte_urls(request.id.node_execution_id, request.id.retry_attempt, False),
        )


async def execution_data(
    ctx: AdminContext, request: execution_pb2.WorkflowExecutionGetDataRequest
) -> execution_pb2.WorkflowExecutionGetDataResponse:
    """Inputs and outputs of a workflow execution, inline when small enough."""
    check_execution_id(request.id)
    async with ctx.db.session() as session:
        row = await executions.get(session, request.id)
    closure = execution_pb2.ExecutionClosure.FromString(row.closure)
    data = LiteralData(ctx)
    return execution_pb2.WorkflowExecutionGetDataResponse(
        **await data.data_fields(row.inputs_uri, closure, closure.outputs.uri)
    )
