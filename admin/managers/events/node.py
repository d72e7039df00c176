"""Applies node execution events: creates the node's record on its first event, then updates it."""

from __future__ import annotations

import json
from datetime import datetime

from google.protobuf.message import Message

from admin.managers import eager
from admin.managers.events import merge
from admin.managers.events.applier import Applier, event_of
from admin.managers.ids import check_node_execution_id
from admin.managers.transitions import NODE, NODE_POLICY, NODE_TERMINAL, Change, check
from admin.models import Execution, NodeExecution
from admin.repositories import executions, node_executions, task_executions
from admin.repositories.lookups import Lookups
from flyteidl_py.admin import event_pb2 as admin_event_pb2
from flyteidl_py.admin import node_execution_pb2
from flyteidl_py.core import catalog_pb2, identifier_pb2
from flyteidl_py.event import event_pb2
from flyteplane.errors import NotFound


class NodeEvents(Applier):
    async def apply(self, lookups: Lookups, request: admin_event_pb2.NodeExecutionEventRequest) -> None:
        event = event_of(request)
        check_node_execution_id(event.id, "event.id")
        if event.HasField("output_data"):
            self.data.check_size(event.output_data, "event.output_data")
        exec_id = event.id.execution_id
        base = (exec_id.project, exec_id.domain, exec_id.name, event.id.node_id)
        # Offloaded data is written only once every check below has passed (a refusal writes nothing).
        pending: list[tuple[str, Message]] = []
        input_uri = event.input_uri
        if event.HasField("input_data"):
            input_uri = self.data.location(*base, "offloaded_inputs")
            pending.append((input_uri, event.input_data))
        output_uri = ""
        if event.HasField("output_data") and event.phase in NODE_TERMINAL:
            output_uri = self.data.location(*base, "offloaded_outputs")
            pending.append((output_uri, event.output_data))
        occurred = merge.to_datetime(event.occurred_at) if event.HasField("occurred_at") else self.ctx.clock()
        reported = (
            merge.to_datetime(event.reported_at, "event.reported_at") if event.HasField("reported_at") else occurred
        )
        execution = await lookups.execution(exec_id)
        key = node_executions.key_of(event.id)
        row = await lookups.node(execution, key)
        if row is None:
            row = await self._new_node(lookups, execution, event, occurred)
            lookups.add_node(key, row)
            closure = node_execution_pb2.NodeExecutionClosure(phase=event.phase)
            closure.created_at.FromDatetime(occurred)
            meta = node_execution_pb2.NodeExecutionMetaData(
                retry_group=event.retry_group,
                spec_node_id=event.spec_node_id,
                is_parent_node=event.is_parent,
                is_dynamic=event.is_dynamic,
                is_array=event.is_array,
                is_eager=event.is_eager,
            )
        else:
            check(NODE_POLICY, Change.of(NODE, row.phase, event.phase, event.producer_id, execution.cluster))
            if event.HasField("workflow_node_metadata") and event.workflow_node_metadata.execution_id.name:
                await lookups.execution(event.workflow_node_metadata.execution_id)
            closure = node_execution_pb2.NodeExecutionClosure.FromString(row.closure)
            meta = node_execution_pb2.NodeExecutionMetaData.FromString(row.metadata_)
            merge.merge_node_flags(meta, event)
        await self.data.write(pending)
        if not row.input_uri and input_uri:
            row.input_uri = input_uri
        row.phase = NODE.Name(event.phase)
        closure.phase = event.phase
        closure.updated_at.FromDatetime(reported)
        row.node_execution_updated_at = reported
        if event.phase == NODE.RUNNING:
            row.started_at = occurred
            closure.started_at.FromDatetime(occurred)
        if event.deck_uri and (event.phase == NODE.RUNNING or event.phase in NODE_TERMINAL):
            closure.deck_uri = event.deck_uri
        if event.phase in NODE_TERMINAL:
            if row.started_at is not None:
                merge.record_duration(row, closure, occurred)
            error = merge.record_outcome(closure, event, output_uri)
            if error is not None:
                row.error_kind, row.error_code = merge.error_columns(error)
        if event.HasField("workflow_node_metadata") and not closure.workflow_node_metadata.executionId.name:
            closure.workflow_node_metadata.executionId.CopyFrom(event.workflow_node_metadata.execution_id)
        if event.HasField("task_node_metadata"):
            self._task_node_metadata(row, closure, event, exec_id)
        row.metadata_ = meta.SerializeToString()
        row.closure = closure.SerializeToString()
        if meta.is_eager and event.phase not in NODE_TERMINAL:
            # Executions its task launched before admin heard of the node become its children now.
            await eager.adopt_waiting(lookups.session, execution, row)
        event_id = f"{exec_id.project}/{exec_id.domain}/{exec_id.name}/{event.id.node_id}.{NODE.Name(event.phase)}"
        lookups.session.add_all(self.outbox.cloud_event("node", event, execution, event_id, self.ctx.clock()))

    async def _new_node(
        self,
        lookups: Lookups,
        execution: Execution,
        event: event_pb2.NodeExecutionEvent,
        occurred: datetime,
    ) -> NodeExecution:
        """A new node row (not yet added); everything it refers to is checked first."""
        parent: NodeExecution | None = None
        parent_task_id = None
        if event.HasField("parent_task_metadata"):
            parent_task = await lookups.task(event.parent_task_metadata.id)
            if parent_task is None:
                raise NotFound(task_executions.missing_message(event.parent_task_metadata.id), field="id")
            if parent_task.id is None:  # recorded earlier in this same batch
                await lookups.flush()
            parent_task_id = parent_task.id
        if event.HasField("parent_node_metadata"):
            parent = await lookups.node(
                execution, (*executions.key_of(event.id.execution_id), event.parent_node_metadata.node_id)
            )
            if parent is None:
                raise NotFound(
                    f"parent node execution {event.parent_node_metadata.node_id} not found",
                    field="event.parent_node_metadata.node_id",
                )
        row = NodeExecution(
            execution_id=execution.id,
            execution_project=execution.execution_project,
            execution_domain=execution.execution_domain,
            execution_name=execution.execution_name,
            node_id=event.id.node_id,
            phase=NODE.Name(event.phase),
            closure=b"",
            node_execution_created_at=occurred,
            node_execution_updated_at=occurred,
            parent_task_execution_id=parent_task_id,
            internal_data=json.dumps({"event_version": event.event_version}).encode(),
        )
        if parent is not None:
            row.parent = parent  # its id, also when it is new in this transaction, at the flush
        return row

    def _task_node_metadata(
        self,
        row: NodeExecution,
        closure: node_execution_pb2.NodeExecutionClosure,
        event: event_pb2.NodeExecutionEvent,
        exec_id: identifier_pb2.WorkflowExecutionIdentifier,
    ) -> None:
        incoming = event.task_node_metadata
        meta = node_execution_pb2.TaskNodeMetadata(checkpoint_uri=incoming.checkpoint_uri)
        if incoming.HasField("catalog_key"):
            meta.cache_status = incoming.cache_status
            meta.catalog_key.CopyFrom(incoming.catalog_key)
            row.cache_status = catalog_pb2.CatalogCacheStatus.Name(incoming.cache_status)
        closure.task_node_metadata.CopyFrom(meta)
        if incoming.HasField("dynamic_workflow"):
            dynamic = incoming.dynamic_workflow
            closure.dynamic_job_spec_uri = dynamic.dynamic_job_spec_uri
            row.dynamic_workflow = node_execution_pb2.DynamicWorkflowNodeMetadata(
                id=dynamic.id,
                compiled_workflow=dynamic.compiled_workflow,
                dynamic_job_spec_uri=dynamic.dynamic_job_spec_uri,
            ).SerializeToString()
            row.dynamic_workflow_remote_closure_reference = self.ctx.metadata_uri(
                "admin",
                exec_id.project,
                exec_id.domain,
                exec_id.name,
                event.id.node_id,
                f"{dynamic.id.project}_{dynamic.id.domain}_{dynamic.id.name}_{dynamic.id.version}",
            )
        else:
            row.dynamic_workflow_remote_closure_reference = ""
