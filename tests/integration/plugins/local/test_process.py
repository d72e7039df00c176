"""The local backend's process lifecycle: start once, re-attach after a restart, abort, crash, limits, logs.

These tasks are plain shell commands (no flytekit), so each behaviour is visible on its own.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flyteidl_py.core import execution_pb2, tasks_pb2
from flyteplane.storage import Storage
from plugins.config import LocalPluginConfig
from plugins.core import Phase, TaskExecutionContext
from plugins.local import launch
from plugins.local.attempt import process_start_time, write_json_atomically
from plugins.local.backend import AttemptRecord, LocalPlugin, process_alive
from plugins.local.protocol import RECORD, SPEC, RunnerSpec
from tests.integration.plugins.helpers import DOMAIN, PROJECT, Wakeups, container_task, drive, local_path, task_context


def shell(script: str) -> tasks_pb2.TaskTemplate:
    return container_task("sh", "-c", script)


def pid_gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat[stat.rindex(")") + 2] == "Z"


async def wait_until(condition: object, time_limit: float = 20.0) -> None:
    deadline = time.monotonic() + time_limit
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def with_state(ctx: TaskExecutionContext, state: bytes) -> TaskExecutionContext:
    return dataclasses.replace(ctx, plugin_state=state)


async def test_exit_zero_is_success(local_plugin: LocalPlugin, storage: Storage) -> None:
    transition = await drive(local_plugin, task_context(storage, shell("exit 0"), execution="ok"))
    assert transition.phase is Phase.SUCCESS


async def test_first_handle_starts_the_process_and_reports_running(local_plugin: LocalPlugin, storage: Storage) -> None:
    ctx = task_context(storage, shell("sleep 30"), execution="running")
    transition = await local_plugin.handle(ctx)
    assert transition.phase is Phase.RUNNING
    record = AttemptRecord.decode(transition.state)
    assert record is not None and process_alive(record)
    marker = Path(record.work_dir, RECORD)
    assert await asyncio.to_thread(marker.exists)  # what a restarted propeller finds
    await local_plugin.abort(with_state(ctx, transition.state))


async def test_non_zero_exit_is_retryable_user_failure_naming_the_code_and_the_log(
    local_plugin: LocalPlugin, storage: Storage
) -> None:
    ctx = task_context(storage, shell("echo 'it broke badly' >&2; exit 3"), execution="crash")
    transition = await drive(local_plugin, ctx)
    assert transition.phase is Phase.RETRYABLE_FAILURE
    assert transition.error is not None
    assert transition.error.kind == execution_pb2.ExecutionError.USER  # the task's retry budget, as in Flyte
    assert transition.error.code == "NonZeroExitCode"
    assert "exited with code 3" in transition.error.message
    assert transition.logs[0].uri in transition.error.message
    assert "it broke badly" in transition.error.message


async def test_process_ended_by_its_own_signal_is_retryable_user_failure(
    local_plugin: LocalPlugin, storage: Storage
) -> None:
    transition = await drive(local_plugin, task_context(storage, shell("kill -SEGV $$"), execution="segv"))
    assert transition.phase is Phase.RETRYABLE_FAILURE
    assert transition.error is not None
    assert (transition.error.code, transition.error.kind) == ("Interrupted", execution_pb2.ExecutionError.USER)
    assert "SIGSEGV" in transition.error.message


async def test_killed_process_is_retryable_system_failure(local_plugin: LocalPlugin, storage: Storage) -> None:
    transition = await drive(local_plugin, task_context(storage, shell("kill -9 $$"), execution="killed"))
    assert transition.phase is Phase.RETRYABLE_FAILURE
    assert transition.error is not None and transition.error.code == "Interrupted"
    assert transition.error.kind == execution_pb2.ExecutionError.SYSTEM
    assert "SIGKILL" in transition.error.message


async def test_missing_command_is_permanent_failure(local_plugin: LocalPlugin, storage: Storage) -> None:
    ctx = task_context(storage, container_task("no-such-command-anywhere"), execution="missing")
    transition = await drive(local_plugin, ctx)
    assert transition.phase is Phase.PERMANENT_FAILURE
    assert transition.error is not None and transition.error.code == "CommandNotFound"


async def test_exceeding_the_memory_limit_is_retryable_user_failure_naming_the_limit(
    local_plugin: LocalPlugin, storage: Storage
) -> None:
    template = container_task("python", "-c", "x = bytearray(512 * 1024 * 1024)")
    template.container.resources.limits.add(name=tasks_pb2.Resources.MEMORY, value="128Mi")
    transition = await drive(local_plugin, task_context(storage, template, execution="oom"))
    assert transition.phase is Phase.RETRYABLE_FAILURE
    assert transition.error is not None
    assert (transition.error.code, transition.error.kind) == ("OOMKilled", execution_pb2.ExecutionError.USER)
    assert str(128 * 2**20) in transition.error.message
    assert "128Mi" in transition.error.message


async def test_a_task_without_a_limit_that_outgrows_the_platform_default_fails_naming_it(
    local_config: LocalPluginConfig, storage: Storage
) -> None:
    plugin = LocalPlugin(local_config.model_copy(update={"default_memory_limit": "128Mi"}))
    template = container_task("python", "-c", "x = bytearray(512 * 1024 * 1024)")  # declares no limit
    try:
        transition = await drive(plugin, task_context(storage, template, execution="default-oom"))
    finally:
        await plugin.aclose()
    assert transition.phase is Phase.RETRYABLE_FAILURE
    assert transition.error is not None
    assert (transition.error.code, transition.error.kind) == ("OOMKilled", execution_pb2.ExecutionError.USER)
    assert "128Mi" in transition.error.message


async def test_wake_is_called_when_the_process_exits(local_plugin: LocalPlugin, storage: Storage) -> None:
    wake = Wakeups()
    ctx = task_context(storage, shell("sleep 0.5"), execution="wake", wake=wake)
    assert (await local_plugin.handle(ctx)).phase is Phase.RUNNING
    assert await wake.wait(10.0)
    assert wake.count == 1


async def test_restarted_plugin_reattaches_instead_of_starting_again(
    local_config: LocalPluginConfig, storage: Storage, tmp_path: Path
) -> None:
    starts = tmp_path / "starts"
    ctx = task_context(storage, shell(f"echo started >> {starts}; sleep 1.5"), execution="restart")
    before = LocalPlugin(local_config)
    first = await before.handle(ctx)
    await before.aclose()  # propeller goes away; the process does not

    after = LocalPlugin(local_config)
    try:
        again = await after.handle(with_state(ctx, first.state))
        assert again.phase is Phase.RUNNING
        assert again.state == first.state
        transition = await drive(after, with_state(ctx, first.state))
    finally:
        await after.aclose()
    assert transition.phase is Phase.SUCCESS
    assert starts.read_text() == "started\n"


async def test_lost_plugin_state_reattaches_through_the_marker_file(
    local_config: LocalPluginConfig, storage: Storage, tmp_path: Path
) -> None:
    starts = tmp_path / "starts"
    ctx = task_context(storage, shell(f"echo started >> {starts}; sleep 1"), execution="nostate")
    before = LocalPlugin(local_config)
    first = await before.handle(ctx)
    await before.aclose()

    after = LocalPlugin(local_config)
    try:
        again = await after.handle(ctx)  # the transition was never persisted: no plugin state
        assert again.state == first.state
        transition = await drive(after, ctx)
    finally:
        await after.aclose()
    assert transition.phase is Phase.SUCCESS
    assert starts.read_text() == "started\n"


async def test_exit_while_propeller_is_down_is_read_from_the_status_file(
    local_config: LocalPluginConfig, storage: Storage
) -> None:
    ctx = task_context(storage, shell("exit 5"), execution="down")
    before = LocalPlugin(local_config)
    first = await before.handle(ctx)
    await before.aclose()
    record = AttemptRecord.decode(first.state)
    assert record is not None
    await wait_until(lambda: not process_alive(record))

    after = LocalPlugin(local_config)
    transition = await after.handle(with_state(ctx, first.state))
    assert transition.phase is Phase.RETRYABLE_FAILURE
    assert "exited with code 5" in transition.reason


async def test_concurrent_handles_start_one_process(
    local_plugin: LocalPlugin, storage: Storage, tmp_path: Path
) -> None:
    starts = tmp_path / "starts"
    ctx = task_context(storage, shell(f"echo started >> {starts}"), execution="twice")
    transitions = await asyncio.gather(local_plugin.handle(ctx), local_plugin.handle(ctx))
    assert {t.state for t in transitions if t.state} == {transitions[0].state}
    await drive(local_plugin, with_state(ctx, transitions[0].state))
    assert starts.read_text() == "started\n"


def test_second_runner_of_an_attempt_does_not_run_the_task(
    local_plugin: LocalPlugin, storage: Storage, tmp_path: Path
) -> None:
    attempt = tmp_path / "attempt"
    attempt.mkdir()
    starts = tmp_path / "starts"
    spec: RunnerSpec = {
        "argv": ["sh", "-c", f"echo started >> {starts}; sleep 1"],
        "env": {"PATH": os.defpath},
        "cwd": str(attempt),
        "log": str(attempt / "task.log"),
        "memory_limit_bytes": None,
        "memory_limit_kind": "off",
    }
    write_json_atomically(attempt / SPEC, spec)
    command = launch.command(sys.executable, "runner", str(attempt), isolated=True)
    first = subprocess.Popen(command, start_new_session=True)
    deadline = time.monotonic() + 10
    while not (attempt / RECORD).exists():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    # The second returns at once, doing nothing: the first one holds the attempt's lock.
    assert subprocess.run(command, check=False, timeout=10).returncode == 0
    first.wait(timeout=10)
    assert starts.read_text() == "started\n"
    assert process_start_time(first.pid) is None  # the runner is gone, and so is its group


async def test_abort_kills_the_whole_process_group(local_plugin: LocalPlugin, storage: Storage, tmp_path: Path) -> None:
    child_pid = tmp_path / "child.pid"
    ctx = task_context(storage, shell(f"sleep 60 & echo $! > {child_pid}; wait"), execution="abort")
    transition = await local_plugin.handle(ctx)
    await wait_until(lambda: child_pid.exists() and child_pid.read_text().strip())
    grandchild = int(child_pid.read_text())
    record = AttemptRecord.decode(transition.state)
    assert record is not None

    await local_plugin.abort(with_state(ctx, transition.state))
    assert not process_alive(record)
    await wait_until(lambda: pid_gone(grandchild), 5)


async def test_abort_right_after_start_does_not_wait_for_the_grace_period(
    local_config: LocalPluginConfig, storage: Storage
) -> None:
    plugin = LocalPlugin(local_config.model_copy(update={"kill_grace_seconds": 30.0}))
    ctx = task_context(storage, shell("sleep 60"), execution="early")
    transition = await plugin.handle(ctx)
    started = time.monotonic()
    await plugin.abort(with_state(ctx, transition.state))  # the runner may not have started the command yet
    assert time.monotonic() - started < 10
    await plugin.aclose()


async def test_abort_escalates_to_sigkill_after_the_grace_period(
    local_config: LocalPluginConfig, storage: Storage
) -> None:
    plugin = LocalPlugin(local_config.model_copy(update={"kill_grace_seconds": 0.5}))
    ctx = task_context(storage, shell("trap '' TERM; echo ready; while :; do sleep 0.1; done"), execution="stubborn")
    transition = await plugin.handle(ctx)
    record = AttemptRecord.decode(transition.state)
    assert record is not None
    await wait_until(lambda: "ready" in (Path(record.work_dir) / "task.log").read_text())
    started = time.monotonic()
    await plugin.abort(with_state(ctx, transition.state))
    assert not process_alive(record)
    assert time.monotonic() - started < 5
    await plugin.aclose()


async def test_log_is_readable_in_the_store_while_running(local_plugin: LocalPlugin, storage: Storage) -> None:
    ctx = task_context(storage, shell("echo hello from the task; sleep 30"), execution="logs")
    first = await local_plugin.handle(ctx)
    (link,) = first.logs
    record = AttemptRecord.decode(first.state)
    assert record is not None
    await wait_until(lambda: "hello" in (Path(record.work_dir) / "task.log").read_text())
    await local_plugin.handle(with_state(ctx, first.state))
    assert b"hello from the task" in await storage.read(link.uri)
    await local_plugin.abort(with_state(ctx, first.state))


async def test_finished_task_log_is_uploaded_and_linked(local_plugin: LocalPlugin, storage: Storage) -> None:
    ctx = task_context(storage, shell("echo out; echo err >&2"), execution="done")
    transition = await drive(local_plugin, ctx)
    (link,) = transition.logs
    assert link.uri == f"{ctx.paths.output_prefix}/task.log"
    assert (await storage.read(link.uri)).decode().splitlines() == ["out", "err"]


async def test_scratch_is_emptied_when_the_task_ends_and_finalize_removes_it_but_keeps_the_log(
    local_plugin: LocalPlugin, storage: Storage
) -> None:
    ctx = task_context(storage, shell("echo gone > scratch.txt; mkdir -p deep/er; echo kept"), execution="final")
    transition = await drive(local_plugin, ctx)
    record = AttemptRecord.decode(transition.state)
    assert record is not None
    work = Path(record.work_dir)
    # The runner removed the working directory before it recorded the status.
    assert not (work / "cwd").exists()
    (work / "cwd").mkdir()
    (work / "cwd" / "late.txt").write_text("what a task's leftover process wrote after that")

    await local_plugin.finalize(with_state(ctx, transition.state))
    assert not (work / "cwd").exists()
    assert not (work / SPEC).exists()  # it holds the task's environment
    assert (work / "task.log").read_text() == "kept\n"
    assert local_path(transition.logs[0].uri).read_text() == "kept\n"


async def test_an_attempts_temporary_files_go_with_it(local_plugin: LocalPlugin, storage: Storage) -> None:
    # flytekit makes a `flyte-*` sandbox under TMPDIR for every task: on a shared /tmp they would pile up.
    ctx = task_context(storage, shell('mktemp -d "$TMPDIR/flyte-XXXX"'), execution="temps")
    transition = await drive(local_plugin, ctx)
    record = AttemptRecord.decode(transition.state)
    assert record is not None
    work = Path(record.work_dir)
    made = (work / "task.log").read_text().strip()
    assert made.startswith(f"{work / 'tmp'}/flyte-")
    assert not (work / "tmp").exists()  # gone with the task
    (work / "tmp" / "late").mkdir(parents=True)  # a leftover process's, made after the runner removed TMPDIR

    await local_plugin.finalize(with_state(ctx, transition.state))
    assert not (work / "tmp").exists()


async def test_finished_attempt_is_never_started_again(
    local_plugin: LocalPlugin, storage: Storage, tmp_path: Path
) -> None:
    starts = tmp_path / "starts"
    ctx = task_context(storage, shell(f"echo started >> {starts}"), execution="again")
    transition = await drive(local_plugin, ctx)
    await local_plugin.finalize(with_state(ctx, transition.state))
    assert (await local_plugin.handle(ctx)).phase is Phase.SUCCESS  # even without state
    assert starts.read_text() == "started\n"


async def test_runner_gone_without_status_is_retryable_system_failure(
    local_plugin: LocalPlugin, storage: Storage
) -> None:
    ctx = task_context(storage, shell("sleep 30"), execution="lost")
    transition = await local_plugin.handle(ctx)
    record = AttemptRecord.decode(transition.state)
    assert record is not None
    os.kill(record.pid, signal.SIGKILL)  # the runner only, as an OOM killer might
    await wait_until(lambda: not process_alive(record))
    lost = await local_plugin.handle(with_state(ctx, transition.state))
    assert lost.phase is Phase.RETRYABLE_FAILURE
    assert lost.error is not None and lost.error.code == "ProcessLost"


async def test_unreadable_plugin_state_is_retryable_failure(local_plugin: LocalPlugin, storage: Storage) -> None:
    ctx = with_state(task_context(storage, shell("true"), execution="corrupt"), b"not json")
    transition = await local_plugin.handle(ctx)
    assert transition.phase is Phase.RETRYABLE_FAILURE
    assert transition.error is not None and transition.error.code == "CorruptedPluginState"


@pytest.mark.parametrize("index", [0, 3])
async def test_array_sub_tasks_run_in_attempt_directories_of_their_own(
    local_plugin: LocalPlugin, storage: Storage, index: int
) -> None:
    ctx = task_context(storage, shell('echo "index=$FLYTE_K8S_ARRAY_INDEX"'), execution="array", array_index=index)
    transition = await drive(local_plugin, ctx)
    assert transition.phase is Phase.SUCCESS
    assert (await storage.read(transition.logs[0].uri)).decode() == f"index={index}\n"


@pytest.mark.parametrize(
    ("node", "index", "query"), [("n0", None, "node_id=n0&attempt=1"), ("n2", 4, "node_id=n2&attempt=1&index=4")]
)
async def test_with_a_log_link_base_an_attempt_also_links_to_admins_live_log(
    local_config: LocalPluginConfig, storage: Storage, node: str, index: int | None, query: str
) -> None:
    plugin = LocalPlugin(local_config.model_copy(update={"log_link_base": "http://plane.example:30081"}))
    try:
        ctx = task_context(storage, shell("echo hi"), execution="linked", node=node, attempt=1, array_index=index)
        transition = await drive(plugin, ctx)
    finally:
        await plugin.aclose()
    assert [(link.name, link.uri) for link in transition.logs] == [
        ("Task log (local process)", f"{ctx.paths.output_prefix}/task.log"),
        ("Task log", f"http://plane.example:30081/api/v1/logs/{PROJECT}/{DOMAIN}/linked?{query}"),
    ]
