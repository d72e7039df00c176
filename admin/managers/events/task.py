"""Applies task execution events: creates an attempt's record on its first event, then updates it."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.message import Message

from admin.managers.events import merge
from admin.managers.events.applier import Applier, event_of
from admin.managers.ids import check_identifier, check_node_execution_id
from admin.managers.transitions import TASK, TASK_POLICY, TASK_TERMINAL, Change, check
from admin.models import Execution, TaskExecution
from admin.repositories import node_executions, task_executions
from admin.repositories.lookups import Lookups
from flyteidl_py.admin import event_pb2 as admin_event_pb2
from flyteidl_py.admin import task_execution_pb2
from flyteidl_py.core import identifier_pb2
from flyteidl_py.event import event_pb2
from flyteplane.errors import InvalidArgument, NotFound


class TaskEvents(Applier):
    async def apply(self, lookups: Lookups, request: admin_event_pb2.TaskExecutionEventRequest) -> None:
        event = event_of(request)
        if not event.HasField("occurred_at"):
            raise InvalidArgument("missing occurred_at", field="event.occurred_at")
        if event.HasField("output_data"):
            self.data.check_size(event.output_data, "event.output_data")
        check_node_execution_id(event.parent_node_execution_id, "event.parent_node_execution_id")
        check_identifier(event.task_id, identifier_pb2.TASK, "event.task_id")
        node_id = event.parent_node_execution_id
        exec_id = node_id.execution_id
        base = (exec_id.project, exec_id.domain, exec_id.name, node_id.node_id)
        # Offloaded data is written only once every check below has passed (a refusal writes nothing).
        pending: list[tuple[str, Message]] = []
        input_uri = event.input_uri
        if event.HasField("input_data"):
            input_uri = self.data.location(*base, "offloaded_inputs")
            pending.append((input_uri, event.input_data))
        output_uri = ""
        if event.HasField("output_data"):
            t = event.task_id
            attempt = (t.project, t.domain, t.name, t.version, str(event.retry_attempt))
            output_uri = self.data.location(*base, *attempt, "offloaded_outputs")
            pending.append((output_uri, event.output_data))
        occurred = merge.to_datetime(event.occurred_at)
        reported = (
            merge.to_datetime(event.reported_at, "event.reported_at") if event.HasField("reported_at") else occurred
        )
        reasons = merge.task_reasons(event)
        execution = await lookups.execution(exec_id)
        task_id = identifier_pb2.TaskExecutionIdentifier(
            task_id=event.task_id, node_execution_id=node_id, retry_attempt=event.retry_attempt
        )
        row = await lookups.task(task_id)
        if row is None:
            row, closure = await self._new_attempt(lookups, execution, event, reasons, input_uri, occurred, reported)
        else:
            closure = self._updated_closure(row, execution, event, reasons, input_uri, occurred)
        await self.data.write(pending)
        if reasons:
            closure.reason = reasons[-1].message
        closure.phase = event.phase
        closure.updated_at.CopyFrom(event.reported_at if event.HasField("reported_at") else event.occurred_at)
        row.phase = TASK.Name(event.phase)
        row.task_execution_updated_at = reported
        if event.phase in TASK_TERMINAL and row.started_at is not None:
            merge.record_duration(row, closure, occurred)
        # A retryable failure is not terminal, but its error is what the user needs to see.
        merge.record_outcome(closure, event, output_uri)
        row.closure = closure.SerializeToString()
        event_id = (
            f"{exec_id.project}/{exec_id.domain}/{exec_id.name}/{node_id.node_id}/{event.task_id.name}/"
            f"{event.retry_attempt}.{TASK.Name(event.phase)}.{event.phase_version}"
        )
        lookups.session.add_all(self.outbox.cloud_event("task", event, execution, event_id, self.ctx.clock()))

    async def _new_attempt(
        self,
        lookups: Lookups,
        execution: Execution,
        event: event_pb2.TaskExecutionEvent,
        reasons: list[task_execution_pb2.Reason],
        input_uri: str,
        occurred: datetime,
        reported: datetime,
    ) -> tuple[TaskExecution, task_execution_pb2.TaskExecutionClosure]:
        """The attempt's first event: a new row (added) and its closure; its node must exist."""
        node_id = event.parent_node_execution_id
        exec_id = node_id.execution_id
        node = await lookups.node(execution, node_executions.key_of(node_id))
        if node is None:
            raise NotFound(
                f"node execution {node_id.node_id} of {exec_id.name} not found",
                field="event.parent_node_execution_id",
            )
        closure = task_execution_pb2.TaskExecutionClosure(
            phase=event.phase,
            logs=merge.logs_merged(list(event.logs), [], event.phase),
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
        return row, closure

    @staticmethod
    def _updated_closure(
        row: TaskExecution,
        execution: Execution,
        event: event_pb2.TaskExecutionEvent,
        reasons: list[task_execution_pb2.Reason],
        input_uri: str,
        occurred: datetime,
    ) -> task_execution_pb2.TaskExecutionClosure:
        """A later event of the attempt, once its policy allows it: the merged closure (row updated too)."""
        check(
            TASK_POLICY,
            Change.of(
                TASK,
                row.phase,
                event.phase,
                event.producer_id,
                execution.cluster,
                row.phase_version,
                event.phase_version,
            ),
        )
        closure = task_execution_pb2.TaskExecutionClosure.FromString(row.closure)
        phase_changed = TASK.Value(row.phase) != event.phase
        logs = merge.logs_merged(list(event.logs), list(closure.logs), event.phase)
        del closure.logs[:]
        closure.logs.extend(logs)
        closure.reasons.extend(reasons)
        if event.phase == TASK.RUNNING and phase_changed and row.started_at is None:
            row.started_at = occurred
            closure.started_at.CopyFrom(event.occurred_at)
        if event.HasField("custom_info"):
            closure.custom_info.CopyFrom(merge.custom_info_merged(closure.custom_info, event.custom_info))
        if event.HasField("log_context"):  # where the attempt's pods are now (the latest report names them all)
            closure.log_context.CopyFrom(event.log_context)
        merge.merge_task_metadata(closure.metadata, event.metadata, phase_changed)
        closure.event_version = max(closure.event_version, event.event_version)
        row.phase_version = event.phase_version
        if not row.input_uri and input_uri:
            row.input_uri = input_uri
        return closure
