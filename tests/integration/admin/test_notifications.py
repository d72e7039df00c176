"""Notifications and CloudEvents leave admin through its outbox and reach real receivers on loopback.

Admin runs with its RecordingEngine: the phases come from workflow events sent over gRPC, as
propeller sends them. The receivers are a real SMTP server (aiosmtpd) and a real HTTP endpoint.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Literal

import grpc
import pytest
from pydantic import SecretStr

from admin.config import CloudEventsConfig, NotificationsConfig, RetryConfig, SlackConfig, SmtpConfig
from admin.repositories import outbox
from admin.server import AdminServer
from flyteidl_py.admin import common_pb2, execution_pb2, launch_plan_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2
from flyteidl_py.service import admin_pb2_grpc
from flyteplane.config import LoggingConfig
from flyteplane.database import Database
from tests.integration.admin.helpers import DOMAIN, NODE, PROJECT, WF, lp_id, node_event, package, register, wf_event
from tests.support.admin import RunningAdmin, running_admin
from tests.support.logs import captured_lines, json_entries
from tests.support.postgres import free_port
from tests.support.receivers import SilentServer, SmtpReceiver, WebhookReceiver, eventually, self_signed_certificate

LP = "examples.configured.configured_wf"
# Short retries so a test sees several of them in seconds; a poll of 0.1 s keeps delivery quick.
FAST_RETRY = RetryConfig(base_seconds=0.2, max_seconds=1.0, send_timeout_seconds=2.0, poll_interval_seconds=0.1)


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
async def hook() -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


def _notifications(smtp_port: int | None, *, slack_webhook: str | None = None) -> NotificationsConfig:
    host = "127.0.0.1" if smtp_port else None
    return NotificationsConfig(
        smtp=SmtpConfig(host=host, port=smtp_port or 25, security="none", sender="plane@example.com"),
        slack=SlackConfig(webhook_url=slack_webhook),
        console_url="https://console.example.com",
        retry=FAST_RETRY,
    )


def _email(*to: str, phases: tuple[int, ...] = (WF.FAILED,)) -> common_pb2.Notification:
    return common_pb2.Notification(phases=phases, email=common_pb2.EmailNotification(recipients_email=to))


def _slack(*to: str, phases: tuple[int, ...] = (WF.FAILED,)) -> common_pb2.Notification:
    return common_pb2.Notification(phases=phases, slack=common_pb2.SlackNotification(recipients_email=to))


async def _launch_plan(
    stub: admin_pb2_grpc.AdminServiceStub,
    name: str,
    *notifications: common_pb2.Notification,
    version: str = "v1",
    policy: launch_plan_pb2.ConcurrencyPolicy | None = None,
) -> identifier_pb2.Identifier:
    """The fixture package's configured_wf launch plan, registered again as `name` with these settings."""
    base = next(lp for lp in package().launch_plans if lp.id.name == LP)
    spec = launch_plan_pb2.LaunchPlanSpec()
    spec.CopyFrom(base.spec)
    spec.entity_metadata.notifications.extend(notifications)
    if policy is not None:
        spec.concurrency_policy.CopyFrom(policy)
    ident = lp_id(name, version)
    await stub.CreateLaunchPlan(launch_plan_pb2.LaunchPlanCreateRequest(id=ident, spec=spec))
    return ident


async def _execute(
    stub: admin_pb2_grpc.AdminServiceStub, lp: identifier_pb2.Identifier, name: str = "", **spec: Any
) -> identifier_pb2.WorkflowExecutionIdentifier:
    request = execution_pb2.ExecutionCreateRequest(
        project=PROJECT, domain=DOMAIN, name=name, spec=execution_pb2.ExecutionSpec(launch_plan=lp, **spec)
    )
    return (await stub.CreateExecution(request)).id


def _count(admin: RunningAdmin, counter: str, channel: str) -> float:
    """A delivery counter of the running admin (its Prometheus registry, as /metrics would show it)."""
    server = admin.server
    assert isinstance(server, AdminServer)
    registry = server.dispatcher.metrics.registry
    return registry.get_sample_value(f"flyteplane_admin_outbox_{counter}_total", {"channel": channel}) or 0.0


async def _pending(database_url: str) -> int:
    """Messages still in the outbox (undelivered, or being delivered)."""
    db = Database.connect(database_url)
    try:
        async with db.session() as session:
            return await outbox.pending(session)
    finally:
        await db.dispose()


async def _fail(stub: admin_pb2_grpc.AdminServiceStub, ident: identifier_pb2.WorkflowExecutionIdentifier) -> None:
    await stub.CreateWorkflowEvent(wf_event(ident, WF.RUNNING, 1))
    error = core.ExecutionError(code="USER:ValueError", message="the input was negative", kind=core.ExecutionError.USER)
    await stub.CreateWorkflowEvent(wf_event(ident, WF.FAILED, 2, error=error))


# ---- e-mail --------------------------------------------------------------------------------


async def test_a_failing_execution_sends_its_email_with_the_templated_text(
    database_url: str, tmp_path: Path, smtp: SmtpReceiver
) -> None:
    async with running_admin(database_url, tmp_path, notifications=_notifications(smtp.port)) as admin:
        stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
        await register(stub)
        lp = await _launch_plan(stub, "notify_email", _email("oncall@example.com", "lead@example.com"))
        ident = await _execute(stub, lp, name="failing-run")
        await _fail(stub, ident)
        await eventually(lambda: len(smtp.mails) == 1)

    mail = smtp.mails[0]
    assert sorted(mail.recipients) == ["lead@example.com", "oncall@example.com"]
    assert mail.sender == "plane@example.com"
    assert mail.subject == "Execution flytesnacks/development/failing-run has failed"
    assert "Execution failing-run in project flytesnacks, domain development has failed." in mail.body
    assert "It failed with: the input was negative" in mail.body
    assert "launch plan notify_email (version v1)" in mail.body
    assert "https://console.example.com/console/projects/flytesnacks/domains/development/executions/failing-run" in (
        mail.body
    )


@pytest.mark.parametrize("security", ["starttls", "tls"])
# aiosmtpd cannot tell that an implicit-TLS connection is encrypted, and warns about its own settings.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_email_goes_over_tls_with_a_login_when_the_server_requires_both(
    database_url: str, tmp_path: Path, security: Literal["starttls", "tls"]
) -> None:
    cert, key = self_signed_certificate(tmp_path)
    smtp = SmtpReceiver(tls=(cert, key), credentials=("bot", "s3cret"), implicit_tls=security == "tls")
    smtp.start()
    settings = _notifications(smtp.port)
    secure = settings.smtp.model_copy(
        update={"security": security, "ca_file": cert, "username": "bot", "password": SecretStr("s3cret")}
    )
    try:
        async with running_admin(
            database_url, tmp_path, notifications=settings.model_copy(update={"smtp": secure})
        ) as admin:
            stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
            await register(stub)
            lp = await _launch_plan(stub, "notify_tls", _email("oncall@example.com"))
            await _fail(stub, await _execute(stub, lp, name="tls-run"))
            await eventually(lambda: len(smtp.mails) == 1)
    finally:
        smtp.stop()
    assert smtp.mails[0].subject == "Execution flytesnacks/development/tls-run has failed"


async def test_a_phase_no_notification_names_sends_nothing_and_the_execution_spec_overrides_the_launch_plan(
    database_url: str, tmp_path: Path, smtp: SmtpReceiver
) -> None:
    async with running_admin(database_url, tmp_path, notifications=_notifications(smtp.port)) as admin:
        stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
        await register(stub)
        lp = await _launch_plan(stub, "notify_override", _email("lp@example.com"))
        succeeded = await _execute(stub, lp)
        await stub.CreateWorkflowEvent(wf_event(succeeded, WF.RUNNING, 1))
        await stub.CreateWorkflowEvent(wf_event(succeeded, WF.SUCCEEDED, 2))
        own = execution_pb2.NotificationList(notifications=[_email("spec@example.com")])
        overridden = await _execute(stub, lp, notifications=own)
        await _fail(stub, overridden)
        silenced = await _execute(stub, lp, disable_all=True)
        await _fail(stub, silenced)
        await eventually(lambda: len(smtp.mails) >= 1)
        await asyncio.sleep(1.0)  # several polls: nothing else may arrive
    assert [m.recipients for m in smtp.mails] == [["spec@example.com"]]


async def test_a_terminated_execution_notifies_when_the_engine_reports_it_aborted(
    database_url: str, tmp_path: Path, smtp: SmtpReceiver
) -> None:
    pager = common_pb2.Notification(
        phases=[WF.ABORTED], pager_duty=common_pb2.PagerDutyNotification(recipients_email=["svc@pd.example.com"])
    )
    async with running_admin(database_url, tmp_path, notifications=_notifications(smtp.port)) as admin:
        stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
        await register(stub)
        lp = await _launch_plan(stub, "notify_abort", pager)
        ident = await _execute(stub, lp, name="stopped-run")
        await stub.CreateWorkflowEvent(wf_event(ident, WF.RUNNING, 1))
        await stub.TerminateExecution(execution_pb2.ExecutionTerminateRequest(id=ident, cause="not needed"))
        await stub.CreateWorkflowEvent(wf_event(ident, WF.ABORTED, 2))
        await eventually(lambda: len(smtp.mails) == 1)
    assert smtp.mails[0].recipients == ["svc@pd.example.com"]
    assert smtp.mails[0].subject == "Execution flytesnacks/development/stopped-run has aborted"


# ---- Slack, retries, restarts ----------------------------------------------------------------


async def test_a_slack_notification_reaches_the_configured_incoming_webhook(
    database_url: str, tmp_path: Path, hook: WebhookReceiver
) -> None:
    notifications = _notifications(None, slack_webhook=hook.url)
    async with running_admin(database_url, tmp_path, notifications=notifications) as admin:
        stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
        await register(stub)
        lp = await _launch_plan(stub, "notify_slack", _slack("#ml-alerts"))
        ident = await _execute(stub, lp, name="slack-run")
        await _fail(stub, ident)
        await eventually(lambda: len(hook.posts) == 1)
    post = hook.posts[0]
    assert post.headers["content-type"] == "application/json"
    text = post.json()["text"]
    assert text.startswith("*Execution flytesnacks/development/slack-run has failed*\n")
    assert "It failed with: the input was negative" in text


async def test_a_receiver_down_for_several_retry_periods_and_an_admin_restart_still_gets_the_message(
    database_url: str, tmp_path: Path
) -> None:
    hook = WebhookReceiver()  # not listening yet: every attempt is refused
    notifications = _notifications(None, slack_webhook=hook.url)
    async with running_admin(database_url, tmp_path, notifications=notifications) as admin:
        stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
        await register(stub)
        lp = await _launch_plan(stub, "notify_retry", _slack("#ml-alerts"))
        await _fail(stub, await _execute(stub, lp, name="retried-run"))
        await eventually(lambda: _count(admin, "failed_attempts", "slack") >= 3)
    # Admin is gone with the message undelivered; a new admin on the same database takes it up.
    await hook.start()
    try:
        async with running_admin(database_url, tmp_path, notifications=notifications) as admin:
            await eventually(lambda: len(hook.posts) == 1)
            await eventually(lambda: _count(admin, "delivered", "slack") == 1)
    finally:
        await hook.stop()
    assert await _pending(database_url) == 0
    assert "retried-run" in hook.posts[0].json()["text"]


async def test_a_message_is_given_up_after_max_attempts_and_counted(database_url: str, tmp_path: Path) -> None:
    hook = WebhookReceiver()  # never started
    retry = FAST_RETRY.model_copy(update={"max_attempts": 2})
    notifications = _notifications(None, slack_webhook=hook.url).model_copy(update={"retry": retry})
    async with running_admin(database_url, tmp_path, notifications=notifications) as admin:
        stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
        await register(stub)
        lp = await _launch_plan(stub, "notify_give_up", _slack("#ml-alerts"))
        await _fail(stub, await _execute(stub, lp))
        await eventually(lambda: _count(admin, "dropped", "slack") == 1)
        assert _count(admin, "failed_attempts", "slack") == 2
    assert await _pending(database_url) == 0


async def test_an_unreachable_smtp_server_is_retried_while_the_execution_and_slack_go_on(
    database_url: str, tmp_path: Path, hook: WebhookReceiver
) -> None:
    dead_port = free_port()  # nothing listens there: every attempt is refused
    notifications = _notifications(dead_port, slack_webhook=hook.url)
    async with running_admin(database_url, tmp_path, notifications=notifications) as admin:
        stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
        await register(stub)
        lp = await _launch_plan(stub, "notify_broken_smtp", _email("oncall@example.com"), _slack("#ml-alerts"))
        ident = await _execute(stub, lp)
        await _fail(stub, ident)
        execution = await stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=ident))
        assert execution.closure.phase == WF.FAILED
        await eventually(lambda: len(hook.posts) == 1)
        await eventually(lambda: _count(admin, "failed_attempts", "email") >= 2)
    # That no send holds up recording an event is shown with a mail server that never answers, below.


async def test_a_hanging_smtp_server_does_not_hold_up_slack(
    database_url: str, tmp_path: Path, hook: WebhookReceiver
) -> None:
    silent = SilentServer()
    await silent.start()
    # A long send timeout: the e-mail attempt is still hanging when Slack's message arrives.
    retry = FAST_RETRY.model_copy(update={"send_timeout_seconds": 60.0, "max_concurrent": 1})
    notifications = _notifications(silent.port, slack_webhook=hook.url).model_copy(update={"retry": retry})
    try:
        async with running_admin(database_url, tmp_path, notifications=notifications) as admin:
            stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
            await register(stub)
            lp = await _launch_plan(stub, "notify_hanging_smtp", _email("a@example.com"), _slack("#ml-alerts"))
            for _ in range(3):  # more hanging e-mails than the channel has slots
                await _fail(stub, await _execute(stub, lp))
            await eventually(lambda: len(hook.posts) == 3)
            assert _count(admin, "failed_attempts", "email") == 0  # the first e-mail is still waiting
    finally:
        await silent.stop()


# ---- CloudEvents ---------------------------------------------------------------------------


async def test_execution_events_reach_the_sink_as_structured_cloudevents(
    database_url: str, tmp_path: Path, hook: WebhookReceiver
) -> None:
    cloud_events = CloudEventsConfig(enabled=True, sink_url=hook.url)
    async with running_admin(
        database_url, tmp_path, notifications=_notifications(None), cloud_events=cloud_events
    ) as admin:
        stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
        await register(stub)
        lp = await _launch_plan(stub, "notify_cloud")
        ident = await _execute(stub, lp, name="cloud-run")
        await stub.CreateWorkflowEvent(wf_event(ident, WF.RUNNING, 1))
        await stub.CreateNodeEvent(node_event(ident, "n1", NODE.RUNNING, 1.5))
        error = core.ExecutionError(code="USER:ValueError", message="the input was negative")
        await stub.CreateWorkflowEvent(wf_event(ident, WF.FAILED, 2, error=error))
        await eventually(lambda: len(hook.posts) == 3)
    assert {p.headers["content-type"] for p in hook.posts} == {"application/cloudevents+json; charset=utf-8"}
    [node] = [p.json() for p in hook.posts if p.json()["type"] == "com.flyte.resource.cloudevents.NodeExecution"]
    assert node["id"] == "flytesnacks/development/cloud-run/n1.RUNNING"
    assert node["data"]["rawEvent"]["id"]["nodeId"] == "n1"
    workflow_events = [p for p in hook.posts if p.json()["type"] == "com.flyte.resource.cloudevents.WorkflowExecution"]
    by_phase = {p.json()["data"]["rawEvent"]["phase"]: p.json() for p in workflow_events}
    assert set(by_phase) == {"RUNNING", "FAILED"}
    failed = by_phase["FAILED"]
    assert failed["specversion"] == "1.0"
    assert failed["type"] == "com.flyte.resource.cloudevents.WorkflowExecution"
    assert failed["id"] == "flytesnacks/development/cloud-run.FAILED"
    assert failed["data"]["rawEvent"]["executionId"]["name"] == "cloud-run"
    assert failed["data"]["rawEvent"]["error"]["message"] == "the input was negative"
    assert failed["data"]["launchPlanId"]["name"] == "notify_cloud"


# ---- bad input -----------------------------------------------------------------------------


async def _refused(call: Any, field: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in (caught.value.details() or "")


@pytest.mark.parametrize(
    ("notification", "field"),
    [
        (_email(), "spec.entity_metadata.notifications[0].email.recipients_email"),
        (_email("a@example.com", phases=(WF.RUNNING,)), "spec.entity_metadata.notifications[0].phases"),
        (common_pb2.Notification(phases=[WF.FAILED]), "spec.entity_metadata.notifications[0]"),
    ],
)
async def test_create_launch_plan_refuses_a_notification_without_recipients_or_with_a_non_terminal_phase(
    admin: RunningAdmin, notification: common_pb2.Notification, field: str
) -> None:
    stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
    await register(stub)
    await _refused(_launch_plan(stub, "bad_notification", notification), field)


async def test_create_execution_refuses_a_bad_notification_naming_the_field(admin: RunningAdmin) -> None:
    stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
    await register(stub)
    lp = await _launch_plan(stub, "good_lp")
    bad = execution_pb2.NotificationList(notifications=[_slack("#x", phases=(WF.QUEUED,))])
    await _refused(_execute(stub, lp, notifications=bad), "spec.notifications.notifications[0].phases")


async def test_create_launch_plan_refuses_a_negative_concurrency_limit(admin: RunningAdmin) -> None:
    stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
    await register(stub)
    policy = launch_plan_pb2.ConcurrencyPolicy(max=-1, behavior=launch_plan_pb2.CONCURRENCY_LIMIT_BEHAVIOR_SKIP)
    await _refused(_launch_plan(stub, "bad_policy", policy=policy), "spec.concurrency_policy.max")


# ---- concurrency policy --------------------------------------------------------------------

SKIP = launch_plan_pb2.CONCURRENCY_LIMIT_BEHAVIOR_SKIP


async def test_skip_refuses_the_execution_beyond_the_limit_across_versions_until_one_ends(admin: RunningAdmin) -> None:
    stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
    await register(stub)
    policy = launch_plan_pb2.ConcurrencyPolicy(max=2, behavior=SKIP)
    v1 = await _launch_plan(stub, "limited", policy=policy)
    v2 = await _launch_plan(stub, "limited", version="v2", policy=policy)
    first = await _execute(stub, v1)
    await _execute(stub, v2)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _execute(stub, v1)
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert "concurrency limit (2)" in (caught.value.details() or "")
    await stub.CreateWorkflowEvent(wf_event(first, WF.RUNNING, 1))
    await stub.CreateWorkflowEvent(wf_event(first, WF.SUCCEEDED, 2))
    await _execute(stub, v2)  # a slot is free again


async def test_concurrent_launches_never_exceed_the_limit(admin: RunningAdmin) -> None:
    stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
    await register(stub)
    lp = await _launch_plan(stub, "raced", policy=launch_plan_pb2.ConcurrencyPolicy(max=3, behavior=SKIP))
    outcomes = await asyncio.gather(*(_execute(stub, lp) for _ in range(8)), return_exceptions=True)
    refused = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(outcomes) - len(refused) == 3
    assert {e.code() for e in refused} == {grpc.StatusCode.ALREADY_EXISTS}


async def test_without_skip_behaviour_the_limit_is_not_enforced(admin: RunningAdmin) -> None:
    stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
    await register(stub)
    lp = await _launch_plan(stub, "unenforced", policy=launch_plan_pb2.ConcurrencyPolicy(max=1))
    await _execute(stub, lp)
    await _execute(stub, lp)


# ---- log lines -----------------------------------------------------------------------------


async def test_sent_and_failed_notifications_are_logged_with_their_execution(
    database_url: str, tmp_path: Path, smtp: SmtpReceiver
) -> None:
    unreachable = WebhookReceiver()  # never started: every post fails
    retry = FAST_RETRY.model_copy(update={"max_attempts": 2})
    notifications = _notifications(smtp.port, slack_webhook=unreachable.url).model_copy(update={"retry": retry})
    with captured_lines(LoggingConfig(format="json")) as lines:
        async with running_admin(database_url, tmp_path, notifications=notifications) as admin:
            stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
            await register(stub)
            lp = await _launch_plan(stub, "notify_logged", _email("oncall@example.com"), _slack("#ml-alerts"))
            await _fail(stub, await _execute(stub, lp, name="logged-run"))
            await eventually(lambda: _count(admin, "dropped", "slack") == 1 and len(smtp.mails) == 1)
    mine = [e for e in json_entries(lines) if e.get("execution") == "logged-run"]

    sent = [e for e in mine if e["message"].startswith("notification sent")]
    failed = [e for e in mine if e["message"].startswith("notification failed")]
    assert [e["channel"] for e in sent] == ["email"]
    assert [(e["channel"], e["level"]) for e in failed] == [("slack", "WARNING"), ("slack", "ERROR")]
    assert all((e["project"], e["domain"]) == (PROJECT, DOMAIN) for e in sent + failed)
