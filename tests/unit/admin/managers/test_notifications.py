"""The messages a phase change puts in the outbox: which ones, where they go, and their text."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from admin.config import AdminConfig, NotificationsConfig, SlackConfig, SmtpConfig
from admin.managers.notifications import OutboxWriter, render
from admin.models import Execution
from flyteidl_py.admin import common_pb2, execution_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2

WF = core.WorkflowExecution.Phase
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _row(*notifications: common_pb2.Notification, disable_all: bool = False) -> Execution:
    spec = execution_pb2.ExecutionSpec(
        launch_plan=identifier_pb2.Identifier(project="p", domain="d", name="lp", version="v7"),
        notifications=execution_pb2.NotificationList(notifications=notifications),
    )
    if disable_all:  # one of the oneof notification_overrides: setting it clears the list
        spec.disable_all = True
    closure = execution_pb2.ExecutionClosure(
        workflow_id=identifier_pb2.Identifier(project="p", domain="d", name="wf", version="v7"),
        error=core.ExecutionError(message="boom"),
    )
    return Execution(
        execution_project="p",
        execution_domain="d",
        execution_name="run1",
        spec=spec.SerializeToString(),
        closure=closure.SerializeToString(),
    )


def _config(smtp_host: str | None = "mail", webhook: str | None = None) -> AdminConfig:
    return AdminConfig(
        notifications=NotificationsConfig(
            smtp=SmtpConfig(host=smtp_host), slack=SlackConfig(webhook_url=webhook), console_url="https://ui"
        )
    )


def _slack(*to: str) -> common_pb2.Notification:
    return common_pb2.Notification(phases=[WF.FAILED], slack=common_pb2.SlackNotification(recipients_email=to))


def test_placeholders_are_replaced_with_or_without_inner_spaces_and_unknown_ones_stay() -> None:
    assert render("{{ name }}/{{name}} {{ nope }}", {"name": "x"}) == "x/x {{ nope }}"


def test_only_notifications_naming_the_phase_produce_messages() -> None:
    email = common_pb2.Notification(phases=[WF.SUCCEEDED], email=common_pb2.EmailNotification(recipients_email=["a@x"]))
    writer = OutboxWriter(_config())
    assert writer.notifications(_row(email), WF.FAILED, NOW) == []
    assert [m.channel for m in writer.notifications(_row(email), WF.SUCCEEDED, NOW)] == ["email"]
    assert writer.notifications(_row(email, disable_all=True), WF.SUCCEEDED, NOW) == []


def test_a_notifications_own_template_replaces_the_body_and_the_link_points_at_the_console() -> None:
    own = common_pb2.Notification(
        phases=[WF.FAILED],
        pager_duty=common_pb2.PagerDutyNotification(recipients_email=["pd@x"], template="{{ phase }}:{{ link }}"),
    )
    [message] = OutboxWriter(_config()).notifications(_row(own), WF.FAILED, NOW)
    payload = json.loads(message.payload)
    assert (message.transport, message.channel, payload["to"]) == ("email", "pager_duty", ["pd@x"])
    assert payload["body"] == "failed:https://ui/console/projects/p/domains/d/executions/run1"


def test_slack_posts_to_url_recipients_and_sends_channel_addresses_by_email_without_a_webhook() -> None:
    messages = OutboxWriter(_config()).notifications(
        _row(_slack("https://hooks/1", "chan@x.slack.com")), WF.FAILED, NOW
    )
    assert [(m.transport, json.loads(m.payload).get("url") or json.loads(m.payload)["to"]) for m in messages] == [
        ("webhook", "https://hooks/1"),
        ("email", ["chan@x.slack.com"]),
    ]


def test_slack_channel_addresses_go_to_the_configured_webhook_once() -> None:
    writer = OutboxWriter(_config(smtp_host=None, webhook="https://hooks/cfg"))
    [message] = writer.notifications(_row(_slack("a@x", "b@x")), WF.FAILED, NOW)
    assert json.loads(message.payload)["url"] == "https://hooks/cfg"


def test_without_a_mail_server_email_notifications_are_not_queued() -> None:
    email = common_pb2.Notification(phases=[WF.FAILED], email=common_pb2.EmailNotification(recipients_email=["a@x"]))
    assert OutboxWriter(_config(smtp_host=None)).notifications(_row(email), WF.FAILED, NOW) == []
