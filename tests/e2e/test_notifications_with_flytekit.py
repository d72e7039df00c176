"""Real flytekit: a failing execution's notifications arrive by e-mail (aiosmtpd) and Slack webhook; a
launch plan's concurrency policy registered by pyflyte is enforced."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest

from admin.config import NotificationsConfig, RetryConfig, SlackConfig, SmtpConfig
from flyteidl_py.admin import common_pb2, execution_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2
from tests.support.flytekit import Flytekit
from tests.support.plane import RunningPlane, local_plane_config, running_plane
from tests.support.receivers import SmtpReceiver, WebhookReceiver, eventually

WORKFLOWS = Path(__file__).with_name("notify_workflows")
PROBE = Path(__file__).with_name("flyteremote_probe.py")
VERSION = "notify-v1"


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
async def hook() -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture(scope="module")
async def plane(
    tmp_path_factory: pytest.TempPathFactory, flytekit_venv: Path, smtp: SmtpReceiver, hook: WebhookReceiver
) -> AsyncIterator[RunningPlane]:
    directory = tmp_path_factory.mktemp("plane")
    config = local_plane_config(directory, flytekit_venv)
    notifications = NotificationsConfig(
        smtp=SmtpConfig(host="127.0.0.1", port=smtp.port, security="none"),
        slack=SlackConfig(webhook_url=hook.url),
        console_url="http://console.test",
        retry=RetryConfig(base_seconds=0.5, poll_interval_seconds=0.2),
    )
    config = config.model_copy(update={"admin": config.admin.model_copy(update={"notifications": notifications})})
    async with running_plane(config) as running:
        yield running


@pytest.fixture(scope="module")
async def client(plane: RunningPlane, flytekit_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Flytekit:
    project = tmp_path_factory.mktemp("project")
    flytekit = Flytekit.for_admin(flytekit_venv, plane.admin.grpc_port, plane.admin.http_port, project)
    flytekit.add_package(WORKFLOWS, "notify_workflows")
    await flytekit.register("notify_workflows", version=VERSION)
    return flytekit


async def test_a_failing_execution_emails_and_posts_to_slack_with_its_error(
    client: Flytekit, plane: RunningPlane, smtp: SmtpReceiver, hook: WebhookReceiver
) -> None:
    answer = await client.remote(
        PROBE,
        {
            "action": "execute_and_wait",
            "name": "notify_workflows.checked.notified_lp",
            "version": VERSION,
            "inputs": {"x": -5},
            "execution_name": "negative-five",
        },
        time_limit=240,
    )
    assert answer["phase"] == core.WorkflowExecution.FAILED
    finished = time.monotonic()
    await eventually(lambda: len(smtp.mails) == 1 and len(hook.posts) == 1, limit=60)
    delivered_after = time.monotonic() - finished
    mail = smtp.mails[0]
    assert mail.recipients == ["oncall@example.com"]
    assert mail.subject == "Execution flytesnacks/development/negative-five has failed"
    assert "x must be positive, got -5" in mail.body
    assert "http://console.test/console/projects/flytesnacks/domains/development/executions/negative-five" in mail.body
    assert "launch plan notify_workflows.checked.notified_lp" in mail.body
    text = hook.posts[0].json()["text"]
    assert "negative-five has failed" in text and "x must be positive, got -5" in text
    registry = plane.admin.dispatcher.metrics.registry
    for channel in ("email", "slack"):
        total = registry.get_sample_value("flyteplane_admin_outbox_delivery_seconds_sum", {"channel": channel})
        print(f"{channel}: delivered {total:.3f}s after the FAILED event was recorded")
    print(f"both had arrived {delivered_after:.2f}s after FlyteRemote saw FAILED")


async def test_a_concurrency_policy_registered_by_pyflyte_refuses_the_second_running_execution(
    client: Flytekit, plane: RunningPlane
) -> None:
    lp = identifier_pb2.Identifier(
        resource_type=identifier_pb2.LAUNCH_PLAN,
        project="flytesnacks",
        domain="development",
        name="notify_workflows.checked.single_lp",
        version=VERSION,
    )
    stored = await plane.stub.GetLaunchPlan(common_pb2.ObjectGetRequest(id=lp))
    assert stored.spec.concurrency_policy.max == 1

    def request(name: str) -> execution_pb2.ExecutionCreateRequest:
        return execution_pb2.ExecutionCreateRequest(
            project="flytesnacks", domain="development", name=name, spec=execution_pb2.ExecutionSpec(launch_plan=lp)
        )

    first = await plane.stub.CreateExecution(request("nap-one"))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await plane.stub.CreateExecution(request("nap-two"))
    assert refused.value.code() == grpc.StatusCode.ALREADY_EXISTS
    await plane.stub.TerminateExecution(execution_pb2.ExecutionTerminateRequest(id=first.id, cause="test done"))
