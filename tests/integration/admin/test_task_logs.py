"""Task logs on admin's HTTP port (`GET /api/v1/logs/...`): found from stored attempts, confined to the log roots.

Admin runs alone (its engine records launches) and the tests play the engine: they send the task
events the local plugin would (its `work_dir`, its generated name, its `file://` link) and write the
log files themselves. tests/e2e/test_logs_and_cli.py streams a real flytekit task's log.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from google.protobuf import struct_pb2

from admin.logs import ATTEMPT_HEADER, OFFSET_HEADER, PHASE_HEADER
from flyteidl_py.admin import task_execution_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2
from flyteidl_py.event import event_pb2
from flyteidl_py.service import admin_pb2_grpc
from tests.conftest import RunningAdmin
from tests.integration.admin.helpers import DOMAIN, NODE, PROJECT, TASK, WF, launch, node_event, register, task_event
from tests.integration.admin.helpers import wf_event as workflow_event
from tests.support.admin import running_admin

TASK_NAME = "examples.configured.retried"


@pytest.fixture(scope="module")
async def admin(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningAdmin]:
    directory = tmp_path_factory.mktemp("logs")
    async with running_admin(f"sqlite:///{directory}/admin.db", directory) as running:
        await register(admin_pb2_grpc.AdminServiceStub(running.channel))
        yield running


@pytest.fixture
def stub(admin: RunningAdmin) -> admin_pb2_grpc.AdminServiceStub:
    return admin_pb2_grpc.AdminServiceStub(admin.channel)


@pytest.fixture
async def http(admin: RunningAdmin) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{admin.http_port}", timeout=30) as client:
        yield client


def _data_dir(admin: RunningAdmin) -> Path:
    return admin.storage_root.parent


def _attempt_dir(admin: RunningAdmin, name: str, text: bytes | None) -> Path:
    """An attempt directory as the local plugin leaves it under <data_dir>/local-tasks, with its log."""
    directory = _data_dir(admin) / "local-tasks" / name
    directory.mkdir(parents=True, exist_ok=True)
    if text is not None:
        (directory / "task.log").write_bytes(text)
    return directory


def _info(work_dir: Path) -> struct_pb2.Struct:
    info = struct_pb2.Struct()
    info.update({"work_dir": str(work_dir), "pid": 1})
    return info


async def _execution(stub: admin_pb2_grpc.AdminServiceStub) -> identifier_pb2.WorkflowExecutionIdentifier:
    ident = await launch(stub)
    await stub.CreateWorkflowEvent(workflow_event(ident, WF.RUNNING, 1))
    return ident


async def _attempt(
    stub: admin_pb2_grpc.AdminServiceStub,
    ident: identifier_pb2.WorkflowExecutionIdentifier,
    node: str,
    attempt: int,
    phase: int,
    t: float,
    **extra: object,
) -> None:
    await stub.CreateTaskEvent(task_event(ident, node, TASK_NAME, attempt, phase, t, **extra))


def _url(ident: identifier_pb2.WorkflowExecutionIdentifier) -> str:
    return f"/api/v1/logs/{ident.project}/{ident.domain}/{ident.name}"


async def test_an_attempts_log_is_served_from_its_work_dir_from_an_offset(
    admin: RunningAdmin, stub: admin_pb2_grpc.AdminServiceStub, http: httpx.AsyncClient
) -> None:
    ident = await _execution(stub)
    work_dir = _attempt_dir(admin, f"{ident.name}-n0-0", b"line one\nline two\n")
    await stub.CreateNodeEvent(node_event(ident, "n0", NODE.RUNNING, 2))
    await _attempt(stub, ident, "n0", 0, TASK.RUNNING, 3, custom_info=_info(work_dir))

    whole = await http.get(_url(ident), params={"node_id": "n0"})
    assert whole.status_code == 200, whole.text
    assert whole.content == b"line one\nline two\n"
    assert whole.headers["content-type"] == "text/plain; charset=utf-8"
    assert whole.headers[OFFSET_HEADER] == "18"
    assert whole.headers[PHASE_HEADER] == "RUNNING"
    assert whole.headers[ATTEMPT_HEADER] == "0"
    rest = await http.get(_url(ident), params={"node_id": "n0", "offset": 9, "follow": "false"})
    assert rest.content == b"line two\n" and rest.headers[OFFSET_HEADER] == "18"
    beyond = await http.get(_url(ident), params={"node_id": "n0", "offset": 100})
    assert beyond.content == b"" and beyond.headers[OFFSET_HEADER] == "100"


async def test_the_latest_attempt_is_the_default_and_an_earlier_one_can_be_named(
    admin: RunningAdmin, stub: admin_pb2_grpc.AdminServiceStub, http: httpx.AsyncClient
) -> None:
    ident = await _execution(stub)
    await stub.CreateNodeEvent(node_event(ident, "n1", NODE.RUNNING, 2))
    error = core.ExecutionError(code="USER:ValueError", message="boom", kind=core.ExecutionError.USER)
    first = _attempt_dir(admin, f"{ident.name}-n1-0", b"first try\n")
    second = _attempt_dir(admin, f"{ident.name}-n1-1", b"second try\n")
    await _attempt(stub, ident, "n1", 0, TASK.RUNNING, 3, custom_info=_info(first))
    await _attempt(stub, ident, "n1", 0, TASK.FAILED, 4, custom_info=_info(first), error=error)
    await _attempt(stub, ident, "n1", 1, TASK.RUNNING, 5, custom_info=_info(second))

    latest = await http.get(_url(ident), params={"node_id": "n1"})
    assert (latest.content, latest.headers[ATTEMPT_HEADER], latest.headers[PHASE_HEADER]) == (
        b"second try\n",
        "1",
        "RUNNING",
    )
    earlier = await http.get(_url(ident), params={"node_id": "n1", "attempt": 0})
    assert (earlier.content, earlier.headers[PHASE_HEADER]) == (b"first try\n", "FAILED")


async def test_a_nested_node_and_a_map_element_are_found_by_the_ids_admin_stores(
    admin: RunningAdmin, stub: admin_pb2_grpc.AdminServiceStub, http: httpx.AsyncClient
) -> None:
    ident = await _execution(stub)
    await stub.CreateNodeEvent(node_event(ident, "n0", NODE.RUNNING, 2, is_parent=True, is_dynamic=True))
    child = "n0-0-dn1"
    parent = event_pb2.ParentNodeExecutionMetadata(node_id="n0")
    await stub.CreateNodeEvent(node_event(ident, child, NODE.RUNNING, 3, parent_node_metadata=parent))
    # Its generated name is all admin has to go on: the attempt directory under the local plugin's work_dir.
    generated = f"{ident.name}-{child}-0"
    _attempt_dir(admin, generated, b"dynamic child\n")
    await _attempt(
        stub, ident, child, 0, TASK.RUNNING, 4, metadata=event_pb2.TaskExecutionMetadata(generated_name=generated)
    )
    nested = await http.get(_url(ident), params={"node_id": child})
    assert nested.status_code == 200, nested.text
    assert nested.content == b"dynamic child\n"

    await stub.CreateNodeEvent(node_event(ident, "n2", NODE.RUNNING, 5, is_array=True))
    for index in (0, 1):
        _attempt_dir(admin, f"{ident.name}-n2-n{index}-0", f"element {index}\n".encode())
    elements = [
        event_pb2.ExternalResourceInfo(external_id=f"{ident.name}-n2-n{i}-0", index=i, phase=TASK.RUNNING)
        for i in (0, 1)
    ]
    metadata = event_pb2.TaskExecutionMetadata(external_resources=elements)
    await _attempt(stub, ident, "n2", 0, TASK.RUNNING, 6, metadata=metadata)
    element = await http.get(_url(ident), params={"node_id": "n2", "index": 1})
    assert element.status_code == 200, element.text
    assert (element.content, element.headers[PHASE_HEADER]) == (b"element 1\n", "RUNNING")
    missing = await http.get(_url(ident), params={"node_id": "n2", "index": 7})
    assert missing.status_code == 404 and "element 7" in missing.json()["message"]


async def test_a_log_outside_the_roots_is_refused_whatever_the_event_names(
    admin: RunningAdmin,
    stub: admin_pb2_grpc.AdminServiceStub,
    http: httpx.AsyncClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (outside / "task.log").write_text("secret outside the roots\n")
    ident = await _execution(stub)
    await stub.CreateNodeEvent(node_event(ident, "n0", NODE.RUNNING, 2))
    links = [core.TaskLog(uri=f"file://{outside}/task.log", name="Task log (local process)")]
    await _attempt(stub, ident, "n0", 0, TASK.RUNNING, 3, custom_info=_info(outside), logs=links)
    refused = await http.get(_url(ident), params={"node_id": "n0"})
    assert refused.status_code == 404
    assert "no local log for this attempt" in refused.json()["message"]
    assert "secret" not in refused.text

    # A link inside a root that points outside is resolved first, and refused the same way.
    linked = _attempt_dir(admin, f"{ident.name}-n0-1", None)
    (linked / "task.log").symlink_to(outside / "task.log")
    await _attempt(stub, ident, "n0", 0, TASK.FAILED, 4, custom_info=_info(linked))
    await _attempt(stub, ident, "n0", 1, TASK.RUNNING, 5, custom_info=_info(linked))
    through_link = await http.get(_url(ident), params={"node_id": "n0", "attempt": 1})
    assert through_link.status_code == 404 and "secret" not in through_link.text


async def test_a_task_cannot_have_the_planes_own_files_served_as_its_log(
    admin: RunningAdmin, stub: admin_pb2_grpc.AdminServiceStub, http: httpx.AsyncClient
) -> None:
    """The data directory holds the databases, the secrets key and the plane credential; a task that
    replaces its log file with a link to one of them gets a 404, not the file."""
    private = _data_dir(admin) / "plane-credential"
    private.write_text("the plane's credential\n")
    ident = await _execution(stub)
    await stub.CreateNodeEvent(node_event(ident, "n0", NODE.RUNNING, 2))
    work_dir = _attempt_dir(admin, f"{ident.name}-n0-0", None)
    (work_dir / "task.log").symlink_to(private)
    links = [core.TaskLog(uri=f"file://{private}", name="Task log (local process)")]
    await _attempt(stub, ident, "n0", 0, TASK.RUNNING, 3, custom_info=_info(work_dir), logs=links)
    refused = await http.get(_url(ident), params={"node_id": "n0"})
    assert refused.status_code == 404
    assert "credential" not in refused.text


async def test_an_attempt_with_only_remote_links_has_no_local_log(
    stub: admin_pb2_grpc.AdminServiceStub, http: httpx.AsyncClient
) -> None:
    ident = await _execution(stub)
    await stub.CreateNodeEvent(node_event(ident, "n0", NODE.RUNNING, 2))
    links = [core.TaskLog(uri="https://logs.example/pod/n0", name="Kubernetes Logs")]
    await _attempt(stub, ident, "n0", 0, TASK.RUNNING, 3, logs=links)
    answer = await http.get(_url(ident), params={"node_id": "n0"})
    assert answer.status_code == 404
    assert answer.json()["message"].startswith("no local log for this attempt")


def _pod_context(pod: str, started: bool) -> core.LogContext:
    container = core.ContainerContext(container_name="primary")
    if started:
        container.process.container_start_time.FromSeconds(1_700_000_000)
    pods = [core.PodLogContext(namespace="p-d", pod_name=pod, containers=[container], primary_container_name="primary")]
    return core.LogContext(pods=pods, primary_pod_name=pod)


async def test_a_pods_log_context_is_kept_and_updated_by_later_events(
    stub: admin_pb2_grpc.AdminServiceStub,
) -> None:
    ident = await _execution(stub)
    await stub.CreateNodeEvent(node_event(ident, "n0", NODE.RUNNING, 2))
    metadata = event_pb2.TaskExecutionMetadata(generated_name="pod-a", plugin_identifier="k8s-pod")
    await _attempt(stub, ident, "n0", 0, TASK.QUEUED, 3, metadata=metadata, log_context=_pod_context("pod-a", False))
    await _attempt(stub, ident, "n0", 0, TASK.RUNNING, 4, metadata=metadata, log_context=_pod_context("pod-a", True))
    node = identifier_pb2.NodeExecutionIdentifier(execution_id=ident, node_id="n0")
    listed = await stub.ListTaskExecutions(task_execution_pb2.TaskExecutionListRequest(node_execution_id=node, limit=5))
    (attempt,) = listed.task_executions
    assert attempt.closure.log_context == _pod_context("pod-a", True)


async def test_a_pod_of_a_cluster_admin_is_not_given_has_no_log_here_naming_it(
    stub: admin_pb2_grpc.AdminServiceStub, http: httpx.AsyncClient
) -> None:
    ident = await _execution(stub)
    await stub.CreateNodeEvent(node_event(ident, "n0", NODE.RUNNING, 2))
    metadata = event_pb2.TaskExecutionMetadata(generated_name="pod-b", plugin_identifier="k8s-pod")
    await _attempt(stub, ident, "n0", 0, TASK.RUNNING, 3, metadata=metadata, log_context=_pod_context("pod-b", True))
    answer = await http.get(_url(ident), params={"node_id": "n0"})
    assert answer.status_code == 404
    message = answer.json()["message"]
    assert message.startswith("no local log for this attempt") and "pod p-d/pod-b" in message, message
    assert "admin.logs.kubernetes" in message


async def test_what_is_missing_is_named_in_a_404(
    stub: admin_pb2_grpc.AdminServiceStub, http: httpx.AsyncClient
) -> None:
    ident = await _execution(stub)
    await stub.CreateNodeEvent(node_event(ident, "n0", NODE.RUNNING, 2))
    cases = {
        f"/api/v1/logs/{PROJECT}/{DOMAIN}/nosuchexec": ({"node_id": "n0"}, "execution"),
        _url(ident): ({"node_id": "n9"}, "node n9"),
        f"{_url(ident)}?attempt=0": ({"node_id": "n0"}, "no task attempt"),
    }
    for url, (params, named) in cases.items():
        answer = await http.get(url, params=params)
        assert answer.status_code == 404, (url, answer.text)
        body = answer.json()
        assert body["code"] == 5 and named in body["message"], body


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        (f"/api/v1/logs/{PROJECT}/{DOMAIN}/x", {}, "node_id"),
        (f"/api/v1/logs/{PROJECT}/{DOMAIN}/x", {"node_id": "n0", "offset": "-1"}, "offset"),
        (f"/api/v1/logs/{PROJECT}/{DOMAIN}/x", {"node_id": "n0", "attempt": "latest"}, "attempt"),
        (f"/api/v1/logs/{PROJECT}/{DOMAIN}/x", {"node_id": "n0", "follow": "maybe"}, "follow"),
        (f"/api/v1/logs/{PROJECT}/{DOMAIN}/x", {"node_id": "n0", "tail": "5"}, "tail"),
        (f"/api/v1/logs/{PROJECT}/{DOMAIN}/{'x' * 64}", {"node_id": "n0"}, "name"),
        (f"/api/v1/logs/{PROJECT}/{DOMAIN}/x", {"node_id": "n0\x00"}, "node_id"),
    ],
)
async def test_bad_parameters_are_a_400_naming_them(
    http: httpx.AsyncClient, path: str, params: dict[str, str], field: str
) -> None:
    answer = await http.get(path, params=params)
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["code"] == 3
    assert field in body["message"] or field in body.get("error", ""), body


async def test_following_streams_what_is_written_and_ends_once_the_attempt_is_over(
    admin: RunningAdmin, stub: admin_pb2_grpc.AdminServiceStub, http: httpx.AsyncClient
) -> None:
    ident = await _execution(stub)
    work_dir = _attempt_dir(admin, f"{ident.name}-n0-0", b"")
    log = work_dir / "task.log"
    await stub.CreateNodeEvent(node_event(ident, "n0", NODE.RUNNING, 2))
    await _attempt(stub, ident, "n0", 0, TASK.RUNNING, 3, custom_info=_info(work_dir))

    async def task() -> None:
        for i in range(3):
            with log.open("a") as handle:
                handle.write(f"tick {i}\n")
            await asyncio.sleep(0.4)
        await _attempt(stub, ident, "n0", 0, TASK.SUCCEEDED, 4, custom_info=_info(work_dir))

    received: list[tuple[float, bytes]] = []
    began = time.monotonic()
    writer = asyncio.create_task(task())
    async with http.stream("GET", _url(ident), params={"node_id": "n0", "follow": "true", "offset": 0}) as answer:
        assert answer.status_code == 200 and answer.headers[PHASE_HEADER] == "RUNNING"
        async for chunk in answer.aiter_bytes():
            received.append((time.monotonic() - began, chunk))
    await writer
    assert b"".join(chunk for _, chunk in received) == b"tick 0\ntick 1\ntick 2\n"
    assert received[0][0] < 0.8, "the first line arrives while the attempt still runs"


async def test_following_a_finished_attempt_sends_the_rest_and_ends(
    admin: RunningAdmin, stub: admin_pb2_grpc.AdminServiceStub, http: httpx.AsyncClient
) -> None:
    ident = await _execution(stub)
    work_dir = _attempt_dir(admin, f"{ident.name}-n0-0", b"all done\n")
    await stub.CreateNodeEvent(node_event(ident, "n0", NODE.RUNNING, 2))
    await _attempt(stub, ident, "n0", 0, TASK.SUCCEEDED, 3, custom_info=_info(work_dir))
    answer = await asyncio.wait_for(http.get(_url(ident), params={"node_id": "n0", "follow": "true", "offset": 4}), 5)
    assert (answer.status_code, answer.content) == (200, b"done\n")


def _open_in_this_process(path: Path) -> bool:
    """Whether this process (admin runs in it) holds `path` open."""
    fds = Path("/proc/self/fd")
    for fd in fds.iterdir():
        try:
            if Path(os.readlink(fd)) == path:
                return True
        except OSError:
            continue
    return False


async def test_a_follower_that_goes_away_stops_being_served(
    admin: RunningAdmin, stub: admin_pb2_grpc.AdminServiceStub, http: httpx.AsyncClient
) -> None:
    ident = await _execution(stub)
    work_dir = _attempt_dir(admin, f"{ident.name}-n0-0", b"still running\n")
    await stub.CreateNodeEvent(node_event(ident, "n0", NODE.RUNNING, 2))
    await _attempt(stub, ident, "n0", 0, TASK.RUNNING, 3, custom_info=_info(work_dir))
    log = (work_dir / "task.log").resolve()
    async with http.stream("GET", _url(ident), params={"node_id": "n0", "follow": "true"}) as answer:
        async for chunk in answer.aiter_bytes():
            assert chunk == b"still running\n"
            break
        assert _open_in_this_process(log), "the log is open while it is followed"
    # The attempt never ends; the client left: admin closes the file and stops polling.
    deadline = time.monotonic() + 10
    while _open_in_this_process(log):
        assert time.monotonic() < deadline, "admin still follows the log of a client that went away"
        await asyncio.sleep(0.1)


async def test_following_the_latest_attempt_ends_with_it_when_a_retry_starts(
    admin: RunningAdmin, stub: admin_pb2_grpc.AdminServiceStub, http: httpx.AsyncClient
) -> None:
    ident = await _execution(stub)
    first = _attempt_dir(admin, f"{ident.name}-n0-0", b"first try\n")
    second = _attempt_dir(admin, f"{ident.name}-n0-1", b"second try\n")
    await stub.CreateNodeEvent(node_event(ident, "n0", NODE.RUNNING, 2))
    await _attempt(stub, ident, "n0", 0, TASK.RUNNING, 3, custom_info=_info(first))
    error = core.ExecutionError(code="USER:ValueError", message="boom", kind=core.ExecutionError.USER)

    async def retried() -> None:
        await asyncio.sleep(0.5)
        await _attempt(stub, ident, "n0", 0, TASK.FAILED, 4, custom_info=_info(first), error=error)
        await _attempt(stub, ident, "n0", 1, TASK.RUNNING, 5, custom_info=_info(second))

    retry = asyncio.create_task(retried())
    answer = await asyncio.wait_for(http.get(_url(ident), params={"node_id": "n0", "follow": "true"}), 10)
    await retry
    assert (answer.content, answer.headers[ATTEMPT_HEADER]) == (b"first try\n", "0")
