"""Applies workflow execution events to the execution's record."""

from __future__ import annotations

from admin.managers import eager
from admin.managers.events import merge
from admin.managers.events.applier import Applier, event_of
from admin.managers.ids import check_execution_id
from admin.managers.transitions import DEFAULT_PRODUCER, WF, WORKFLOW_POLICY, WORKFLOW_TERMINAL, Change, check
from admin.repositories.lookups import Lookups
from flyteidl_py.admin import event_pb2 as admin_event_pb2
from flyteidl_py.admin import execution_pb2
from flyteplane.errors import InvalidArgument


class WorkflowEvents(Applier):
    async def apply(self, lookups: Lookups, request: admin_event_pb2.WorkflowExecutionEventRequest) -> None:
        event = event_of(request)
        if not event.HasField("execution_id"):
            raise InvalidArgument("missing execution_id", field="event.execution_id")
        check_execution_id(event.execution_id, "event.execution_id")
        ident = event.execution_id
        if event.HasField("output_data"):
            self.data.check_size(event.output_data, "event.output_data")
        occurred = merge.to_datetime(event.occurred_at) if event.HasField("occurred_at") else self.ctx.clock()
        row = await lookups.execution(ident)
        check(WORKFLOW_POLICY, Change.of(WF, row.phase, event.phase, event.producer_id, row.cluster))
        output_uri = ""
        if event.HasField("output_data"):  # written only now that the event is accepted
            output_uri = self.data.location(ident.project, ident.domain, ident.name, "offloaded_outputs")
            await self.data.write([(output_uri, event.output_data)])
        closure = execution_pb2.ExecutionClosure.FromString(row.closure)
        closure.phase = event.phase
        closure.updated_at.FromDatetime(occurred)
        row.phase = WF.Name(event.phase)
        row.execution_updated_at = occurred
        if event.phase == WF.RUNNING:
            row.started_at = occurred
            closure.started_at.FromDatetime(occurred)
        if event.phase in WORKFLOW_TERMINAL and row.started_at is not None:
            merge.record_duration(row, closure, occurred)
        if event.producer_id and event.producer_id != DEFAULT_PRODUCER and event.phase in (WF.UNDEFINED, WF.QUEUED):
            row.cluster = event.producer_id
        error = merge.record_outcome(closure, event, output_uri)
        if error is not None:
            row.error_kind, row.error_code = merge.error_columns(error)
        row.closure = closure.SerializeToString()
        # An eager task's sub-execution: its node under the eager node follows it, in this transaction.
        await eager.follow(lookups.session, row, closure)
        now = self.ctx.clock()
        event_id = f"{ident.project}/{ident.domain}/{ident.name}.{WF.Name(event.phase)}"
        lookups.session.add_all(self.outbox.notifications(row, event.phase, now))
        lookups.session.add_all(self.outbox.cloud_event("workflow", event, row, event_id, now))
