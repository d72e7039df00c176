"""Event ingestion: propeller's workflow, node and task events become the records clients read.

Each event is checked against its policy in `transitions` before anything is changed, then applied;
a refused event changes nothing. Large inline data is offloaded to the store before it is recorded.

Events arrive one per RPC (AdminService's CreateWorkflowEvent / CreateNodeEvent / CreateTaskEvent,
one transaction each) or in batches (flyteplane's EventSinkService, which propeller uses): a batch
is applied in one transaction, with the rows it touches read up front in a few queries and kept in
a `Lookups` for the transaction, so that an event costs no round trip of its own. Every event still
gets the answer its single RPC would give. If the batch's transaction fails as a whole (say two
admins raced to create the same node), it is rolled back and its events are applied again one
transaction each, so one bad event never costs the others.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message
from google.protobuf.struct_pb2 import Struct
from google.protobuf.timestamp_pb2 import Timestamp

from admin.managers.context import AdminContext
from admin.managers.executions import duration_of
from admin.managers.ids import check_execution_id, check_identifier, check_node_execution_id
from admin.managers.transitions import (
    NODE,
    NODE_POLICY,
    NODE_TERMINAL,
    TASK,
    TASK_POLICY,
    TASK_TERMINAL,
    WF,
    WORKFLOW_POLICY,
    WORKFLOW_TERMINAL,
    Change,
    check,
)
from admin.models import Execution, NodeExecution, TaskExecution
from admin.repositories import executions, node_executions, task_executions
from admin.repositories.lookups import Lookups
from flyteidl_py.admin import (
    event_pb2 as admin_event_pb2,
)
from flyteidl_py.admin import (
    execution_pb2,
    node_execution_pb2,
    task_execution_pb2,
)
from flyteidl_py.core import catalog_pb2, identifier_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.event import event_pb2
from flyteidl_py.flyteplane.events.v1 import events_pb2
from flyteplane.errors import FlyteplaneError, InvalidArgument, NotFound, ResourceExhausted


def _dt(ts: Timestamp) -> datetime:
    return ts.ToDatetime(tzinfo=UTC)


def _ns(later: datetime, earlier: datetime | None) -> int:
    return int((later - earlier).total_seconds() * 1e9) if earlier else 0


def _check_size(ctx: AdminContext, data: Message, field: str) -> None:
    size = data.ByteSize()
    if size > ctx.config.max_inline_bytes:
        raise ResourceExhausted(
            f"Output data size exceeds platform configured threshold ({size} > {ctx.config.max_inline_bytes})",
            field=field,
        )


def _logs_merged(incoming: list[core.TaskLog], existing: list[core.TaskLog], phase: int) -> list[core.TaskLog]:
    uris = {log.uri for log in incoming}
    names = {log.name for log in incoming if log.name}
    merged = list(incoming) + [log for log in existing if log.uri not in uris and not (log.name and log.name in names)]
    if phase in TASK_TERMINAL:
        merged = [log for log in merged if not log.HideOnceFinished]
    elif phase in (TASK.QUEUED, TASK.INITIALIZING):
        merged = [log for log in merged if log.ShowWhilePending]
    return merged


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge_patch(out.get(key), value)
    return out


log = logging.getLogger("flyteplane.admin.events")


def _refusal(error: FlyteplaneError) -> events_pb2.EventResult:
    return events_pb2.EventResult(code=error.code.value[0], message=str(error))


class EventManager:
    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx

    async def _offload(self, data: Message, *parts: str) -> str:
        uri = self.ctx.metadata_uri(*parts)
        await self.ctx.storage.write_proto(uri, data)
        return uri

    # ---- batches (EventSinkService) ------------------------------------------------------------

    async def record_events(self, request: events_pb2.RecordEventsRequest) -> events_pb2.RecordEventsResponse:
        """Applies a batch in one transaction; see the module docstring. Answers every event."""
        events = list(request.events)
        for index, item in enumerate(events):
            if item.WhichOneof("kind") is None:
                raise InvalidArgument("an event must be a workflow, node or task event", field=f"events[{index}]")
        try:
            async with self.ctx.db.session() as session:
                lookups = Lookups(session)
                await lookups.prefetch(events)
                results = [await self._apply(lookups, item) for item in events]
        except FlyteplaneError:
            raise
        except Exception:  # the transaction as a whole failed: one transaction per event instead
            log.warning("a batch of %d events failed as a whole; applying them one by one", len(events), exc_info=True)
            results = []
            for item in events:
                try:
                    async with self.ctx.db.session() as session:
                        results.append(await self._apply(Lookups(session), item))
                except FlyteplaneError as error:
                    results.append(_refusal(error))
                except Exception:
                    trace_id = uuid.uuid4().hex
                    log.exception("recording an event failed (trace id %s)", trace_id)
                    code = grpc.StatusCode.INTERNAL.value[0]
                    results.append(events_pb2.EventResult(code=code, message=f"internal error (trace id {trace_id})"))
        return events_pb2.RecordEventsResponse(results=results)

    async def _apply(self, lookups: Lookups, item: events_pb2.Event) -> events_pb2.EventResult:
        """One event of a batch: its result, with nothing changed when it is refused."""
        try:
            kind = item.WhichOneof("kind")
            if kind == "workflow":
                await self._workflow(lookups, item.workflow)
            elif kind == "node":
                await self._node(lookups, item.node)
            else:
                await self._task(lookups, item.task)
        except FlyteplaneError as error:
            return _refusal(error)
        return events_pb2.EventResult()

    # ---- workflow events -----------------------------------------------------------------------

    async def workflow_event(
        self, request: admin_event_pb2.WorkflowExecutionEventRequest
    ) -> admin_event_pb2.WorkflowExecutionEventResponse:
        async with self.ctx.db.session() as session:
            await self._workflow(Lookups(session), request)
        return admin_event_pb2.WorkflowExecutionEventResponse()

    async def _workflow(self, lookups: Lookups, request: admin_event_pb2.WorkflowExecutionEventRequest) -> None:
        if not request.HasField("event"):
            raise InvalidArgument("missing event", field="event")
        event = request.event
        if not event.HasField("execution_id"):
            raise InvalidArgument("missing execution_id", field="event.execution_id")
        check_execution_id(event.execution_id, "event.execution_id")
        if event.HasField("output_data"):
            _check_size(self.ctx, event.output_data, "event.output_data")
        ident = event.execution_id
        output_uri = ""
        if event.HasField("output_data"):
            output_uri = await self._offload(
                event.output_data, ident.project, ident.domain, ident.name, "offloaded_outputs"
            )
        row = await lookups.execution(ident)
        current = WF.Value(row.phase)
        check(
            WORKFLOW_POLICY,
            Change(current, event.phase, row.phase, WF.Name(event.phase), event.producer_id, row.cluster),
        )
        occurred = _dt(event.occurred_at) if event.HasField("occurred_at") else self.ctx.clock()
        closure = execution_pb2.ExecutionClosure.FromString(row.closure)
        closure.phase = event.phase
        closure.updated_at.FromDatetime(occurred)
        row.phase = WF.Name(event.phase)
        row.execution_updated_at = occurred
        if event.phase == WF.RUNNING:
            row.started_at = occurred
            closure.started_at.FromDatetime(occurred)
        if event.phase in WORKFLOW_TERMINAL and row.started_at is not None:
            row.duration = _ns(occurred, row.started_at)
            closure.duration.CopyFrom(duration_of(row.duration))
        if event.producer_id and event.producer_id != "propeller" and event.phase in (WF.UNDEFINED, WF.QUEUED):
            row.cluster = event.producer_id
        if event.HasField("output_uri"):
            closure.outputs.uri = event.output_uri
        elif output_uri:
            closure.outputs.uri = output_uri
        elif event.HasField("error"):
            closure.error.CopyFrom(event.error)
            row.error_kind = core.ExecutionError.ErrorKind.Name(event.error.kind)
            row.error_code = event.error.code[:255]
        row.closure = closure.SerializeToString()

    # ---- node events ---------------------------------------------------------------------------

    async def node_event(
        self, request: admin_event_pb2.NodeExecutionEventRequest
    ) -> admin_event_pb2.NodeExecutionEventResponse:
        async with self.ctx.db.session() as session:
            await self._node(Lookups(session), request)
        return admin_event_pb2.NodeExecutionEventResponse()

    async def _node(self, lookups: Lookups, request: admin_event_pb2.NodeExecutionEventRequest) -> None:
        if not request.HasField("event"):
            raise InvalidArgument("missing event", field="event")
        event = request.event
        check_node_execution_id(event.id, "event.id")
        if event.HasField("output_data"):
            _check_size(self.ctx, event.output_data, "event.output_data")
        exec_id = event.id.execution_id
        base = (exec_id.project, exec_id.domain, exec_id.name, event.id.node_id)
        input_uri = event.input_uri
        if event.HasField("input_data"):
            input_uri = await self._offload(event.input_data, *base, "offloaded_inputs")
        output_uri = ""
        if event.HasField("output_data") and event.phase in NODE_TERMINAL:
            output_uri = await self._offload(event.output_data, *base, "offloaded_outputs")
        occurred = _dt(event.occurred_at) if event.HasField("occurred_at") else self.ctx.clock()
        reported = _dt(event.reported_at) if event.HasField("reported_at") else occurred
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
            check(
                NODE_POLICY,
                Change(
                    NODE.Value(row.phase),
                    event.phase,
                    row.phase,
                    NODE.Name(event.phase),
                    event.producer_id,
                    execution.cluster,
                ),
            )
            if event.HasField("workflow_node_metadata") and event.workflow_node_metadata.execution_id.name:
                await lookups.execution(event.workflow_node_metadata.execution_id)
            closure = node_execution_pb2.NodeExecutionClosure.FromString(row.closure)
            meta = node_execution_pb2.NodeExecutionMetaData.FromString(row.metadata_)
            meta.is_parent_node |= event.is_parent
            meta.is_dynamic |= event.is_dynamic
            meta.is_array |= event.is_array
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
                row.duration = _ns(occurred, row.started_at)
                closure.duration.CopyFrom(duration_of(row.duration))
            if event.HasField("output_uri"):
                closure.output_uri = event.output_uri
            elif output_uri:
                closure.output_uri = output_uri
            elif event.HasField("error"):
                closure.error.CopyFrom(event.error)
                row.error_kind = core.ExecutionError.ErrorKind.Name(event.error.kind)
                row.error_code = event.error.code[:255]
        if event.HasField("workflow_node_metadata") and not closure.workflow_node_metadata.executionId.name:
            closure.workflow_node_metadata.executionId.CopyFrom(event.workflow_node_metadata.execution_id)
        if event.HasField("task_node_metadata"):
            await self._task_node_metadata(row, closure, event, exec_id)
        row.metadata_ = meta.SerializeToString()
        row.closure = closure.SerializeToString()

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
                ident = event.parent_task_metadata.id
                raise NotFound(
                    f"task execution attempt {ident.retry_attempt} of node {ident.node_execution_id.node_id} not found",
                    field="id",
                )
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

    async def _task_node_metadata(
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

    # ---- task events ---------------------------------------------------------------------------

    async def task_event(
        self, request: admin_event_pb2.TaskExecutionEventRequest
    ) -> admin_event_pb2.TaskExecutionEventResponse:
        async with self.ctx.db.session() as session:
            await self._task(Lookups(session), request)
        return admin_event_pb2.TaskExecutionEventResponse()

    async def _task(self, lookups: Lookups, request: admin_event_pb2.TaskExecutionEventRequest) -> None:
        if not request.HasField("event"):
            raise InvalidArgument("missing event", field="event")
        event = request.event
        if not event.HasField("occurred_at"):
            raise InvalidArgument("missing occurred_at", field="event.occurred_at")
        if event.HasField("output_data"):
            _check_size(self.ctx, event.output_data, "event.output_data")
        check_node_execution_id(event.parent_node_execution_id, "event.parent_node_execution_id")
        check_identifier(event.task_id, identifier_pb2.TASK, "event.task_id")
        node_id = event.parent_node_execution_id
        exec_id = node_id.execution_id
        base = (exec_id.project, exec_id.domain, exec_id.name, node_id.node_id)
        input_uri = event.input_uri
        if event.HasField("input_data"):
            input_uri = await self._offload(event.input_data, *base, "offloaded_inputs")
        output_uri = ""
        if event.HasField("output_data"):
            t = event.task_id
            output_uri = await self._offload(
                event.output_data,
                *base,
                t.project,
                t.domain,
                t.name,
                t.version,
                str(event.retry_attempt),
                "offloaded_outputs",
            )
        occurred = _dt(event.occurred_at)
        reported = _dt(event.reported_at) if event.HasField("reported_at") else occurred
        reasons = [task_execution_pb2.Reason(occurred_at=r.occurred_at, message=r.reason) for r in event.reasons] or (
            [task_execution_pb2.Reason(occurred_at=event.occurred_at, message=event.reason)] if event.reason else []
        )
        execution = await lookups.execution(exec_id)
        task_id = identifier_pb2.TaskExecutionIdentifier(
            task_id=event.task_id, node_execution_id=node_id, retry_attempt=event.retry_attempt
        )
        row = await lookups.task(task_id)
        if row is None:
            node = await lookups.node(execution, node_executions.key_of(node_id))
            if node is None:
                raise NotFound(
                    f"node execution {node_id.node_id} of {exec_id.name} not found",
                    field="event.parent_node_execution_id",
                )
            closure = task_execution_pb2.TaskExecutionClosure(
                phase=event.phase,
                logs=_logs_merged(list(event.logs), [], event.phase),
                created_at=event.occurred_at,
                task_type=event.task_type,
                event_version=event.event_version,
                reasons=reasons,
                metadata=event.metadata,
                log_context=event.log_context,
            )
            if event.HasField("custom_info"):
                closure.custom_info.CopyFrom(event.custom_info)
            closure.metadata.external_resources.sort(key=lambda r: (r.index, r.retry_attempt))
            row = TaskExecution(
                project=event.task_id.project,
                domain=event.task_id.domain,
                name=event.task_id.name,
                version=event.task_id.version,
                node_execution=node,  # its id, also when the node is new in this transaction, at the flush
                execution_project=exec_id.project,
                execution_domain=exec_id.domain,
                execution_name=exec_id.name,
                node_id=node_id.node_id,
                retry_attempt=event.retry_attempt,
                phase=TASK.Name(event.phase),
                phase_version=event.phase_version,
                input_uri=input_uri,
                closure=b"",
                task_execution_created_at=occurred,
                task_execution_updated_at=reported,
            )
            lookups.add_task(task_executions.key_of(node_id, event.task_id, event.retry_attempt), row)
            if event.phase == TASK.RUNNING:
                row.started_at = occurred
                closure.started_at.CopyFrom(event.occurred_at)
        else:
            check(
                TASK_POLICY,
                Change(
                    TASK.Value(row.phase),
                    event.phase,
                    row.phase,
                    TASK.Name(event.phase),
                    event.producer_id,
                    execution.cluster,
                    row.phase_version,
                    event.phase_version,
                ),
            )
            closure = task_execution_pb2.TaskExecutionClosure.FromString(row.closure)
            phase_changed = TASK.Value(row.phase) != event.phase
            logs = _logs_merged(list(event.logs), list(closure.logs), event.phase)
            del closure.logs[:]
            closure.logs.extend(logs)
            closure.reasons.extend(reasons)
            if event.phase == TASK.RUNNING and phase_changed and row.started_at is None:
                row.started_at = occurred
                closure.started_at.CopyFrom(event.occurred_at)
            if event.HasField("custom_info"):
                existing = json_format.MessageToDict(closure.custom_info)
                patched = _merge_patch(existing, json_format.MessageToDict(event.custom_info))
                merged = Struct()
                merged.update(patched)
                closure.custom_info.CopyFrom(merged)
            self._merge_metadata(closure, event, phase_changed)
            closure.event_version = max(closure.event_version, event.event_version)
            row.phase_version = event.phase_version
            if not row.input_uri and input_uri:
                row.input_uri = input_uri
        if reasons:
            closure.reason = reasons[-1].message
        closure.phase = event.phase
        closure.updated_at.CopyFrom(event.reported_at if event.HasField("reported_at") else event.occurred_at)
        row.phase = TASK.Name(event.phase)
        row.task_execution_updated_at = reported
        if event.phase in TASK_TERMINAL and row.started_at is not None:
            row.duration = _ns(occurred, row.started_at)
            closure.duration.CopyFrom(duration_of(row.duration))
        # A retryable failure is not terminal, but its error is what the user needs to see.
        if event.HasField("output_uri"):
            closure.output_uri = event.output_uri
        elif output_uri:
            closure.output_uri = output_uri
        elif event.HasField("error"):
            closure.error.CopyFrom(event.error)
        row.closure = closure.SerializeToString()

    @staticmethod
    def _merge_metadata(
        closure: task_execution_pb2.TaskExecutionClosure,
        event: event_pb2.TaskExecutionEvent,
        phase_changed: bool,
    ) -> None:
        stored, incoming = closure.metadata, event.metadata
        if incoming.generated_name:
            stored.generated_name = incoming.generated_name
        if incoming.plugin_identifier:
            stored.plugin_identifier = incoming.plugin_identifier
        if incoming.resource_pool_info:
            del stored.resource_pool_info[:]
            stored.resource_pool_info.extend(incoming.resource_pool_info)
        if incoming.instance_class != event_pb2.TaskExecutionMetadata.DEFAULT:
            stored.instance_class = incoming.instance_class
        incoming_keys = sorted((r.index, r.retry_attempt) for r in incoming.external_resources)
        if (
            incoming_keys
            and len(set(incoming_keys)) == len(incoming_keys)
            and (
                not stored.external_resources
                or incoming_keys[0] > (stored.external_resources[-1].index, stored.external_resources[-1].retry_attempt)
            )
        ):
            # Only elements after every stored one (an array reporting its elements in order): append.
            stored.external_resources.extend(
                sorted(incoming.external_resources, key=lambda r: (r.index, r.retry_attempt))
            )
            return
        by_key = {(r.index, r.retry_attempt): r for r in stored.external_resources}
        for new in incoming.external_resources:
            old = by_key.get((new.index, new.retry_attempt))
            if old is None:
                by_key[(new.index, new.retry_attempt)] = new
                continue
            if new.external_id:
                old.external_id = new.external_id
            old.phase = new.phase
            if new.cache_status != catalog_pb2.CACHE_DISABLED:
                old.cache_status = new.cache_status
            merged = _logs_merged(list(new.logs), list(old.logs), new.phase if phase_changed else -1)
            del old.logs[:]
            old.logs.extend(merged)
            if new.HasField("custom_info"):
                old.custom_info.CopyFrom(new.custom_info)
        ordered = [by_key[k] for k in sorted(by_key)]
        resources = [event_pb2.ExternalResourceInfo() for _ in ordered]
        for target, source in zip(resources, ordered, strict=True):
            target.CopyFrom(source)
        del stored.external_resources[:]
        stored.external_resources.extend(resources)
