"""Live task logs through admin and the client commands (`watch`, `logs`, `executions list`, `open`) on a real plane.

One plane per module (SQLite, the local store, tasks as real flytekit processes), the workflows of
tests/e2e/watched registered once with `pyflyte register`. The commands run as a person runs them:
`flyteplane ...` in a subprocess with flytekit's config file, `watch` once in a pseudo-terminal.
"""

from __future__ import annotations

import asyncio
import json
import os
import pty
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest

from flyteidl_py.admin import execution_pb2, task_execution_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2
from flyteidl_py.service import admin_pb2_grpc
from tests.support.flytekit import Flytekit
from tests.support.plane import RunningPlane, local_plane_config, running_plane
from tests.support.postgres import free_port

WATCHED = Path(__file__).with_name("watched")
VERSION = "watched-v1"
PROJECT, DOMAIN = "flytesnacks", "development"
TERMINAL = (
    core.WorkflowExecution.SUCCEEDED,
    core.WorkflowExecution.FAILED,
    core.WorkflowExecution.ABORTED,
    core.WorkflowExecution.TIMED_OUT,
)


@pytest.fixture(scope="module")
async def plane(tmp_path_factory: pytest.TempPathFactory, flytekit_venv: Path) -> AsyncIterator[RunningPlane]:
    directory = tmp_path_factory.mktemp("watched")
    http_port = free_port()  # known before propeller starts: attempts link to admin's log endpoint
    config = local_plane_config(directory, flytekit_venv, log_link_base=f"http://127.0.0.1:{http_port}")
    config = config.model_copy(update={"admin": config.admin.model_copy(update={"http_port": http_port})})
    async with running_plane(config) as running:
        yield running


@pytest.fixture(scope="module")
async def client(plane: RunningPlane, flytekit_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Flytekit:
    flytekit = Flytekit.for_admin(
        flytekit_venv, plane.admin.grpc_port, plane.admin.http_port, tmp_path_factory.mktemp("project")
    )
    flytekit.add_package(WATCHED, "watched")
    await flytekit.register("watched", version=VERSION)
    return flytekit


async def _launch(plane: RunningPlane, workflow: str) -> identifier_pb2.WorkflowExecutionIdentifier:
    launch_plan = identifier_pb2.Identifier(
        resource_type=identifier_pb2.LAUNCH_PLAN,
        project=PROJECT,
        domain=DOMAIN,
        name=f"watched.runs.{workflow}",
        version=VERSION,
    )
    response = await plane.stub.CreateExecution(
        execution_pb2.ExecutionCreateRequest(
            project=PROJECT, domain=DOMAIN, spec=execution_pb2.ExecutionSpec(launch_plan=launch_plan)
        )
    )
    return response.id


async def _wait(plane: RunningPlane, ident: identifier_pb2.WorkflowExecutionIdentifier) -> execution_pb2.Execution:
    deadline = time.monotonic() + 180
    while True:
        execution = await plane.stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=ident))
        if execution.closure.phase in TERMINAL:
            return execution
        assert time.monotonic() < deadline, "the execution did not end in time"
        await asyncio.sleep(0.2)


async def _reported_attempt(
    stub: admin_pb2_grpc.AdminServiceStub, ident: identifier_pb2.WorkflowExecutionIdentifier, node: str
) -> task_execution_pb2.TaskExecution:
    node_id = identifier_pb2.NodeExecutionIdentifier(execution_id=ident, node_id=node)
    deadline = time.monotonic() + 120
    while True:
        try:
            listing = await stub.ListTaskExecutions(
                task_execution_pb2.TaskExecutionListRequest(node_execution_id=node_id, limit=10)
            )
        except grpc.aio.AioRpcError as error:  # the node has no record yet
            assert error.code() == grpc.StatusCode.NOT_FOUND, error
        else:
            if listing.task_executions and listing.task_executions[0].closure.logs:
                return listing.task_executions[0]
        assert time.monotonic() < deadline, f"node {node} did not report a running attempt in time"
        await asyncio.sleep(0.1)


def _talk_lines(text: str) -> list[str]:
    """The lines the `talk` task printed, without the time each says it was written."""
    return [line.split(" written at ")[0] for line in text.splitlines() if line.startswith("line ")]


def _command(client: Flytekit, *args: str) -> list[str]:
    # The installed executable, as a person runs it.
    return [str(Path(sys.executable).with_name("flyteplane")), *args, "--config", str(client.config)]


async def _run(client: Flytekit, *args: str, time_limit: float = 180) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *_command(client, *args), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), time_limit)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def _in_terminal(command: list[str], time_limit: float) -> tuple[int, bytes]:
    """Runs `command` with a pseudo-terminal as its stdout (and stderr); its exit status and everything it wrote."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: exec at once, nothing else
        os.environ.update(COLUMNS="120", LINES="40", TERM="xterm-256color")
        os.execv(command[0], command)
    output = bytearray()
    deadline = time.monotonic() + time_limit
    try:
        while time.monotonic() < deadline:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            output.extend(data)
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), bytes(output)


async def test_a_running_tasks_log_streams_through_admin_before_the_task_ends(
    plane: RunningPlane, client: Flytekit
) -> None:
    ident = await _launch(plane, "slow_wf")
    attempt = await _reported_attempt(plane.stub, ident, "n0")
    links = {log.name: log.uri for log in attempt.closure.logs}
    assert links["Task log (local process)"].startswith("file://")
    live = links["Task log"]  # what FlyteRemote and flytectl show a person
    assert live.startswith(f"http://127.0.0.1:{plane.admin.http_port}/api/v1/logs/{PROJECT}/{DOMAIN}/{ident.name}?")

    arrivals: list[tuple[float, bytes]] = []  # (wall-clock time of arrival, bytes)
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(30, read=120)) as http,
        http.stream("GET", f"{live}&follow=true") as response,
    ):
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        async for chunk in response.aiter_bytes():
            if not arrivals:
                phase = (await _reported_attempt(plane.stub, ident, "n0")).closure.phase
                assert phase != core.TaskExecution.SUCCEEDED, "the first line must arrive while the task runs"
            arrivals.append((time.time(), chunk))
    text = b"".join(chunk for _, chunk in arrivals).decode()
    assert _talk_lines(text) == [f"line {i} of 5" for i in range(5)]
    # Each line's delay: from the task writing it (its own timestamp) to the chunk that carried it arriving.
    delays: list[float] = []
    for arrived, chunk in arrivals:
        for line in chunk.decode().splitlines():
            if line.startswith("line "):
                delays.append(arrived - float(line.rsplit(" ", 1)[1]))
    print(f"\nlive log delay per line (write -> client): {', '.join(f'{d * 1000:.0f}ms' for d in delays)}")
    assert max(delays) < 2.0, "lines arrive as they are written (five lines 0.6s apart), not at the end"
    assert (await _wait(plane, ident)).closure.phase == core.WorkflowExecution.SUCCEEDED

    # Without follow: what is there now, and the offset to go on from.
    async with httpx.AsyncClient(timeout=30) as http:
        again = await http.get(f"{live}&offset=0")
    assert again.content.decode() == text
    assert again.headers["X-Flyteplane-Log-Offset"] == str(len(again.content))
    assert again.headers["X-Flyteplane-Attempt-Phase"] == "SUCCEEDED"


async def test_a_map_elements_and_a_dynamic_childs_logs_are_found_by_their_node_ids(
    plane: RunningPlane, client: Flytekit
) -> None:
    ident = await _launch(plane, "tree_wf")
    assert (await _wait(plane, ident)).closure.phase == core.WorkflowExecution.SUCCEEDED
    base = f"http://127.0.0.1:{plane.admin.http_port}/api/v1/logs/{PROJECT}/{DOMAIN}/{ident.name}"
    async with httpx.AsyncClient(timeout=30) as http:
        element = await http.get(base, params={"node_id": "n0", "index": 3})
        assert element.status_code == 200, element.text
        assert "squaring 3" in element.text
        child = await http.get(base, params={"node_id": "n2-0-dn1"})
        assert child.status_code == 200, child.text
        assert "squaring 1" in child.text


async def test_watch_in_a_terminal_redraws_the_tree_in_place_and_exits_0_on_success(
    plane: RunningPlane, client: Flytekit
) -> None:
    ident = await _launch(plane, "tree_wf")
    command = _command(client, "watch", ident.name, "--interval", "0.3")
    status, output = await asyncio.to_thread(_in_terminal, command, 180)
    text = output.decode(errors="replace")
    assert status == 0, text[-3000:]
    assert "\x1b[2K" in text and "\x1b[1A" in text, "a terminal gets the tree redrawn in place"
    assert "SUCCEEDED" in text and "n0" in text and "n2-0-dn0" in text
    assert "4/4" in text, "the map task's progress: all four elements succeeded"
    assert "━" in text, "the map task's progress bar"


async def test_watch_without_a_terminal_prints_a_line_per_change_and_names_a_failure(
    plane: RunningPlane, client: Flytekit
) -> None:
    ident = await _launch(plane, "failing_wf")
    status, out, err = await _run(client, "watch", ident.name, "--interval", "0.3")
    assert status == 1, (out, err)
    assert "\x1b[" not in out, "no terminal, no control sequences"
    lines = out.splitlines()
    assert any(line.endswith(f"execution {ident.name}: FAILED") for line in lines), out
    assert any(" n0 " in line and "FAILED" in line for line in lines), out
    assert f"execution {ident.name} ended FAILED" in err and "deliberate failure" in err

    status, out, _ = await _run(client, "watch", ident.name, "--json")
    final = json.loads(out)
    assert status == 1 and final["phase"] == "FAILED" and final["nodes"][0]["phase"] == "FAILED"


async def test_logs_follow_prints_an_attempts_log_until_it_ends(plane: RunningPlane, client: Flytekit) -> None:
    ident = await _launch(plane, "slow_wf")
    # Started before the node has an attempt: it waits for one, then follows it to its end.
    status, out, err = await _run(client, "logs", ident.name, "--node", "n0", "-f")
    assert status == 0, err
    assert _talk_lines(out) == [f"line {i} of 5" for i in range(5)]
    status, out, err = await _run(client, "logs", ident.name, "--node", "n9")
    assert status == 2 and "node n9" in err and "Traceback" not in err


async def test_executions_list_json_and_open(plane: RunningPlane, client: Flytekit) -> None:
    ident = await _launch(plane, "slow_wf")
    await _wait(plane, ident)
    status, out, err = await _run(client, "executions", "list", "--json", "--limit", "100")
    assert status == 0, err
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows[ident.name]["phase"] == "SUCCEEDED"
    assert rows[ident.name]["launch_plan"] == "watched.runs.slow_wf"
    assert rows[ident.name]["duration_seconds"] > 0
    status, out, _ = await _run(client, "executions", "list", "--phase", "FAILED", "--json")
    assert status == 0 and all(row["phase"] == "FAILED" for row in json.loads(out))
    status, table, _ = await _run(client, "executions", "list")
    assert status == 0 and ident.name in table and "LAUNCH PLAN" in table

    status, out, _ = await _run(client, "open", ident.name)
    expected = (
        f"http://127.0.0.1:{plane.admin.http_port}/console/projects/{PROJECT}/domains/{DOMAIN}/executions/{ident.name}"
    )
    assert (status, out.strip()) == (0, expected)
    status, _, err = await _run(client, "open", "no/such/thing")
    assert status == 2 and "neither an execution name nor a console URL" in err
