"""Notifications and CloudEvents: checking them at registration, and the outbox messages a phase change produces.

The messages are rendered here, when the phase changes, and added to the outbox in the transaction
that records the change, so a message exists exactly when its phase was recorded; delivery
(`admin.delivery`) happens later, outside every request. The texts follow Flyte's templates: the
placeholders `{{ project }}`, `{{ domain }}`, `{{ name }}`, `{{ phase }}`, `{{ error }}`,
`{{ workflow.project|domain|name|version }}`, `{{ launch_plan.project|domain|name|version }}`
and `{{ link }}` (the execution in the console), with or without the spaces inside the braces.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime

from google.protobuf import json_format
from google.protobuf.message import Message

from admin.config import AdminConfig, EventKind
from admin.models import Execution, OutboxMessage
from flyteidl_py.admin import common_pb2, execution_pb2
from flyteidl_py.core import execution_pb2 as core_execution_pb2
from flyteidl_py.event import cloudevents_pb2, event_pb2
from flyteplane.errors import InvalidArgument

log = logging.getLogger("flyteplane.admin.notifications")

WF = core_execution_pb2.WorkflowExecution.Phase
# Flyte notifies on terminal phases only; a notification naming another phase is refused.
NOTIFIABLE_PHASES = frozenset({WF.SUCCEEDED, WF.FAILED, WF.TIMED_OUT, WF.ABORTED})
_CHANNELS = ("email", "pager_duty", "slack")
# Every channel of the outbox: the notifications' and the CloudEvents sink.
CHANNELS = (*_CHANNELS, "cloud_event")
CLOUD_EVENT_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
# CloudEvents `type` of each kind, as Flyte names them, so consumers written for Flyte read ours.
_CLOUD_EVENT_TYPES = {
    "workflow": "com.flyte.resource.cloudevents.WorkflowExecution",
    "node": "com.flyte.resource.cloudevents.NodeExecution",
    "task": "com.flyte.resource.cloudevents.TaskExecution",
}


# ---- checking ----------------------------------------------------------------------------------


def check_notifications(notifications: Sequence[common_pb2.Notification], field: str) -> None:
    """INVALID_ARGUMENT naming the field: no channel, no (or an empty) recipient, or a non-terminal phase.

    For an execution's own notifications; a launch plan's are checked with the rest of the launch
    plan by `propeller.compiler.validate_launch_plan`, by the same rules.
    """
    for index, notification in enumerate(notifications):
        at = f"{field}[{index}]"
        channel = notification.WhichOneof("type")
        if channel is None:
            raise InvalidArgument("a notification needs one of email, pager_duty or slack", field=at)
        recipients = list(getattr(notification, channel).recipients_email)
        if not recipients or any(not r.strip() for r in recipients):
            raise InvalidArgument(
                f"a {channel} notification needs at least one recipient and no empty one",
                field=f"{at}.{channel}.recipients_email",
            )
        for phase in notification.phases:
            if phase not in NOTIFIABLE_PHASES:
                name = WF.Name(phase) if phase in WF.values() else str(phase)
                raise InvalidArgument(
                    f"invalid phase {name} for a notification: only SUCCEEDED, FAILED, TIMED_OUT and ABORTED are",
                    field=f"{at}.phases",
                )


# ---- rendering ---------------------------------------------------------------------------------


def console_link(config: AdminConfig, project: str, domain: str, name: str) -> str:
    base = config.notifications.console_url or config.console_url or f"http://{config.host}:{config.http_port}"
    return f"{base.rstrip('/')}/console/projects/{project}/domains/{domain}/executions/{name}"


def _values(config: AdminConfig, row: Execution, phase: int) -> dict[str, str]:
    spec = execution_pb2.ExecutionSpec.FromString(row.spec)
    closure = execution_pb2.ExecutionClosure.FromString(row.closure)
    workflow, launch_plan = closure.workflow_id, spec.launch_plan
    error = f" It failed with: {closure.error.message}" if closure.HasField("error") else ""
    project, domain, name = row.execution_project, row.execution_domain, row.execution_name
    return {
        "project": project,
        "domain": domain,
        "name": name,
        "phase": WF.Name(phase).lower(),
        "error": error,
        "workflow.project": workflow.project,
        "workflow.domain": workflow.domain,
        "workflow.name": workflow.name,
        "workflow.version": workflow.version,
        "launch_plan.project": launch_plan.project,
        "launch_plan.domain": launch_plan.domain,
        "launch_plan.name": launch_plan.name,
        "launch_plan.version": launch_plan.version,
        "link": console_link(config, project, domain, name),
    }


def render(template: str, values: dict[str, str]) -> str:
    """The template with every placeholder replaced; unknown placeholders are left as they are."""
    for key, value in values.items():
        template = template.replace("{{ " + key + " }}", value).replace("{{" + key + "}}", value)
    return template


def _is_url(recipient: str) -> bool:
    # Only https: a webhook URL is a credential, never sent in the clear (the configured one may be http).
    return recipient.startswith("https://")


class OutboxWriter:
    """Builds the outbox rows of a phase change and adds them to the caller's transaction."""

    def __init__(self, config: AdminConfig) -> None:
        self.config = config

    def _message(
        self, transport: str, channel: str, subject: str, payload: dict[str, object], now: datetime
    ) -> OutboxMessage:
        return OutboxMessage(
            transport=transport,
            channel=channel,
            subject=subject[:255],
            payload=json.dumps(payload),
            attempts=0,
            next_attempt_at=now,
            last_error="",
        )

    def notifications(self, row: Execution, phase: int, now: datetime) -> list[OutboxMessage]:
        """The messages of the execution's notifications that name this phase (none once disable_all)."""
        if phase not in NOTIFIABLE_PHASES:
            return []
        spec = execution_pb2.ExecutionSpec.FromString(row.spec)
        if spec.disable_all:
            return []
        wanted = [n for n in spec.notifications.notifications if phase in n.phases]
        if not wanted:
            return []
        values = _values(self.config, row, phase)
        settings = self.config.notifications
        subject = render(settings.templates.subject, values)
        key = f"{row.execution_project}/{row.execution_domain}/{row.execution_name}"
        messages: list[OutboxMessage] = []
        for notification in wanted:
            channel = notification.WhichOneof("type")
            if channel not in _CHANNELS:
                continue
            target = getattr(notification, channel)
            body = render(target.template or settings.templates.body, values)
            emails = list(target.recipients_email)
            if channel == "slack":
                hooks = [r for r in emails if _is_url(r)]
                emails = [r for r in emails if not _is_url(r)]
                if emails and settings.slack.webhook_url:
                    hooks.append(settings.slack.webhook_url)
                    emails = []
                text = f"*{subject}*\n{body}"
                for url in dict.fromkeys(hooks):
                    payload: dict[str, object] = {
                        "url": url,
                        "content_type": "application/json",
                        "body": json.dumps({"text": text}),
                    }
                    messages.append(self._message("webhook", channel, key, payload, now))
            if not emails:
                continue
            if settings.smtp.host is None:
                log.warning(
                    "%s notification of %s (%s) not sent: admin.notifications.smtp.host is not set",
                    channel,
                    key,
                    values["phase"],
                )
                continue
            payload = {"to": emails, "subject": subject, "body": body}
            messages.append(self._message("email", channel, key, payload, now))
        return messages

    def cloud_event(
        self,
        kind: EventKind,
        event: event_pb2.WorkflowExecutionEvent | event_pb2.NodeExecutionEvent | event_pb2.TaskExecutionEvent,
        row: Execution,
        event_id: str,
        now: datetime,
    ) -> list[OutboxMessage]:
        """The CloudEvent of one accepted event (structured JSON mode), when the sink wants this kind."""
        settings = self.config.cloud_events
        if not settings.enabled or settings.sink_url is None or kind not in settings.event_types:
            return []
        spec = execution_pb2.ExecutionSpec.FromString(row.spec)
        data: Message
        if isinstance(event, event_pb2.WorkflowExecutionEvent):
            data = cloudevents_pb2.CloudEventWorkflowExecution(
                raw_event=event,
                principal=spec.metadata.principal,
                reference_execution=spec.metadata.reference_execution,
                launch_plan_id=spec.launch_plan,
                labels=spec.labels.values,
            )
        elif isinstance(event, event_pb2.NodeExecutionEvent):
            data = cloudevents_pb2.CloudEventNodeExecution(
                raw_event=event,
                principal=spec.metadata.principal,
                launch_plan_id=spec.launch_plan,
                labels=spec.labels.values,
            )
        else:
            data = cloudevents_pb2.CloudEventTaskExecution(raw_event=event, labels=spec.labels.values)
        occurred = (
            event.occurred_at.ToDatetime().isoformat() + "Z" if event.HasField("occurred_at") else now.isoformat()
        )
        envelope = {
            "specversion": "1.0",
            "id": event_id,
            "source": settings.source,
            "type": _CLOUD_EVENT_TYPES[kind],
            "time": occurred,
            "subject": f"{row.execution_project}/{row.execution_domain}/{row.execution_name}",
            "datacontenttype": "application/json",
            "data": json_format.MessageToDict(data),
        }
        payload: dict[str, object] = {
            "url": settings.sink_url,
            "content_type": CLOUD_EVENT_CONTENT_TYPE,
            "body": json.dumps(envelope),
        }
        key = f"{row.execution_project}/{row.execution_domain}/{row.execution_name}"
        return [self._message("webhook", "cloud_event", key, payload, now)]
