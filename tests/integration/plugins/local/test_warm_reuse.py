"""Reuse mode of the local backend: successive attempts in one long-lived warm worker keep the cold path's rules.

Real flytekit 1.16.31 runs the tasks: the reference examples, and the small `warmtasks` tasks of
`test_warm` (which nap, print what they see, leave threads or processes behind, or crash).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from pathlib import Path

import pytest

from flyteidl_py.core import execution_pb2, literals_pb2
from flyteplane.storage import Storage, join
from plugins.config import LocalPluginConfig, WarmPoolConfig
from plugins.core import Phase, TaskExecutionContext, Transition
from plugins.local.backend import AttemptRecord, LocalPlugin, process_alive
from tests.integration.plugins.helpers import (
    Wakeups,
    drive,
    fixture_task,
    int_inputs,
    runner_record,
    started_reused,
    started_warm,
    task_context,
    write_inputs,
)
from tests.integration.plugins.local.test_warm import (
    nap_task,
    pid_gone,
    pids_in,
    start_running,
    wait_until,
    warm_config,
    warm_tasks_root,
    with_env,
)

__all__ = ["warm_config", "warm_tasks_root"]  # fixtures, shared with the fork-mode tests


@pytest.fixture
def reuse_config(warm_config: LocalPluginConfig) -> LocalPluginConfig:
    pool = WarmPoolConfig(reuse_workers_per_environment=1)
    return warm_config.model_copy(update={"warm_mode": "reuse", "warm_pool": pool})


def worker_pid(transition: Transition) -> int:
    record = runner_record(transition)
    assert record.get("reuse") is True, record
    pid = record["pid"]
    assert isinstance(pid, int)
    return pid


def record_of(transition: Transition) -> AttemptRecord:
    record = AttemptRecord.decode(transition.state)
    assert record is not None
    return record


def log_of(transition: Transition) -> str:
    assert transition.custom_info is not None
    return (Path(transition.custom_info["work_dir"]) / "task.log").read_text()


async def run(plugin: LocalPlugin, storage: Storage, ctx: TaskExecutionContext, x: int = 1) -> Transition:
    await write_inputs(ctx, int_inputs(x=x))
    transition = await drive(plugin, ctx)
    await plugin.finalize(dataclasses.replace(ctx, plugin_state=transition.state))
    return transition


async def test_successive_attempts_run_in_one_worker_and_compute_what_the_cold_path_computes(
    reuse_config: LocalPluginConfig, storage: Storage
) -> None:
    template = fixture_task("examples.configured.retried")
    plugin = LocalPlugin(reuse_config)
    try:
        reused = []
        for node in ("n0", "n1", "n2"):
            ctx = task_context(storage, template, execution="reused", node=node)
            transition = await run(plugin, storage, ctx, x=41)
            assert transition.phase is Phase.SUCCESS, transition.reason
            assert await storage.read_proto(ctx.paths.outputs, literals_pb2.LiteralMap) == int_inputs(o0=42)
            reused.append(transition)
    finally:
        await plugin.aclose()
    cold = LocalPlugin(reuse_config.model_copy(update={"warm": False}))
    ctx = task_context(storage, template, execution="cold")
    try:
        transition = await run(cold, storage, ctx, x=41)
    finally:
        await cold.aclose()
    assert not started_warm(transition)
    assert await storage.read_proto(ctx.paths.outputs, literals_pb2.LiteralMap) == int_inputs(o0=42)
    assert len({worker_pid(t) for t in reused}) == 1  # one process, three attempts
    assert [runner_record(t)["attempts"] for t in reused] == [1, 2, 3]


async def test_each_attempt_gets_its_own_environment_directory_and_log(
    reuse_config: LocalPluginConfig, storage: Storage
) -> None:
    plugin = LocalPlugin(reuse_config)
    template = nap_task("probe")
    try:
        first = await run(
            plugin, storage, with_env(task_context(storage, template, execution="env", node="n0"), LEAK_PROBE="one")
        )
        second = await run(plugin, storage, task_context(storage, template, execution="env", node="n1"))
    finally:
        await plugin.aclose()
    assert worker_pid(first) == worker_pid(second)
    seen = [
        re.search(r"probe pid=(\d+) cwd=(\S+) LEAK_PROBE=(\S+) SET_BY_TASK=(\S+)", log_of(t)) for t in (first, second)
    ]
    assert all(seen), [log_of(t) for t in (first, second)]
    (_, cwd1, leak1, set1), (_, cwd2, leak2, set2) = (m.groups() for m in seen if m is not None)
    assert (leak1, set1) == ("one", "None")
    assert (leak2, set2) == ("None", "None")  # neither the first attempt's variable nor what its task set
    assert cwd1 != cwd2 and cwd1.startswith(first.custom_info["work_dir"])  # type: ignore[index]
    assert "probe pid" not in log_of(first).split("probe pid", 1)[1]  # one attempt's output in each log


async def test_user_failure_reaches_error_pb_and_the_worker_serves_the_next_attempt(
    reuse_config: LocalPluginConfig, storage: Storage
) -> None:
    plugin = LocalPlugin(reuse_config)
    try:
        failing = task_context(storage, fixture_task("examples.configured.fail_if_negative"), execution="fails")
        failed = await run(plugin, storage, failing, x=-3)
        after = await run(
            plugin, storage, task_context(storage, fixture_task("examples.configured.retried"), execution="after")
        )
    finally:
        await plugin.aclose()
    assert failed.phase is Phase.PERMANENT_FAILURE
    assert failed.error is not None and failed.error.kind == execution_pb2.ExecutionError.USER
    assert "negative input -3" in failed.error.message
    assert after.phase is Phase.SUCCESS, after.reason
    assert worker_pid(failed) == worker_pid(after)  # flytekit exits 0 on a user error: nothing to reset


async def test_task_can_opt_into_reuse_with_its_environment(warm_config: LocalPluginConfig, storage: Storage) -> None:
    plugin = LocalPlugin(warm_config)  # fork mode by default
    template = fixture_task("examples.configured.retried")
    try:
        forked = await run(plugin, storage, task_context(storage, template, execution="optin", node="n0"))
        reused = await run(
            plugin,
            storage,
            with_env(task_context(storage, template, execution="optin", node="n1"), FLYTEPLANE_WARM="reuse"),
        )
    finally:
        await plugin.aclose()
    assert started_warm(forked) and not started_reused(forked)
    assert started_reused(reused)


async def test_attempts_queue_for_a_busy_worker_and_start_when_it_is_free(
    reuse_config: LocalPluginConfig, storage: Storage
) -> None:
    plugin = LocalPlugin(reuse_config)
    template = nap_task()
    busy = task_context(storage, template, execution="queue", node="n0", wake=Wakeups())
    waiting = task_context(storage, template, execution="queue", node="n1", wake=Wakeups())
    await write_inputs(busy, int_inputs(x=1))
    await write_inputs(waiting, int_inputs(x=0))
    try:
        record = await start_running(plugin, busy)
        queued = await plugin.handle(waiting)
        assert queued.phase is Phase.NOT_READY, queued.reason  # not started: no task event for it yet
        assert not queued.state
        assert queued.wakes  # it says it wakes the caller when it moves: a map's sweep of its elements skips it
        wake = waiting.wake
        assert isinstance(wake, Wakeups)
        assert await wake.wait(30.0)  # woken once the worker took it, without being asked again
        transitions = await asyncio.gather(
            drive(plugin, dataclasses.replace(busy, plugin_state=record.encode())), drive(plugin, waiting)
        )
    finally:
        await plugin.aclose()
    assert [t.phase for t in transitions] == [Phase.SUCCESS, Phase.SUCCESS]
    assert worker_pid(transitions[0]) == worker_pid(transitions[1])
    assert await storage.read_proto(waiting.paths.outputs, literals_pb2.LiteralMap) == int_inputs(o0=1)


async def test_an_attempt_aborted_while_it_waits_for_a_worker_never_runs_and_stores_no_log(
    reuse_config: LocalPluginConfig, storage: Storage
) -> None:
    plugin = LocalPlugin(reuse_config)
    template = nap_task()
    busy = task_context(storage, template, execution="withdrawn", node="n0", wake=Wakeups())
    waiting = task_context(storage, template, execution="withdrawn", node="n1", wake=Wakeups())
    await write_inputs(busy, int_inputs(x=2))
    await write_inputs(waiting, int_inputs(x=0))
    try:
        record = await start_running(plugin, busy)
        queued = await plugin.handle(waiting)
        assert queued.phase is Phase.NOT_READY, queued.reason
        await plugin.abort(waiting)
        await plugin.finalize(waiting)
        assert process_alive(record)  # the busy attempt's worker was not taken with it
        done = await run(plugin, storage, dataclasses.replace(busy, plugin_state=record.encode()), x=2)
        await asyncio.sleep(1.0)  # time for the freed worker to take it, were it still queued
    finally:
        await plugin.aclose()
    assert done.phase is Phase.SUCCESS, done.reason
    assert worker_pid(done) == record.pid
    assert not await storage.exists(waiting.paths.outputs)  # it never ran
    assert not await storage.exists(join(waiting.paths.output_prefix, "task.log"))
    assert await storage.exists(join(busy.paths.output_prefix, "task.log"))  # the one that ran has its log


async def test_abort_kills_the_worker_and_a_fresh_one_takes_the_next_attempt(
    reuse_config: LocalPluginConfig, storage: Storage, tmp_path: Path
) -> None:
    plugin = LocalPlugin(reuse_config)
    marker = tmp_path / "nap.pids"
    ctx = with_env(task_context(storage, nap_task(), execution="abort", node="n0"), NAP_MARKER=str(marker))
    await write_inputs(ctx, int_inputs(x=120))
    try:
        record = await start_running(plugin, ctx)
        assert record.reuse
        await wait_until(lambda: pids_in(marker))
        await plugin.abort(dataclasses.replace(ctx, plugin_state=record.encode()))
        assert not process_alive(record)
        status_file = Path(record.work_dir) / "status.json"
        await wait_until(status_file.exists)  # recorded by the pool
        status = json.loads(status_file.read_text())
        after = await run(plugin, storage, task_context(storage, nap_task(), execution="abort", node="n1"), x=0)
    finally:
        await plugin.aclose()
    assert status["signal"] is not None, status
    assert after.phase is Phase.SUCCESS, after.reason
    assert worker_pid(after) != record.pid


async def test_restarted_plugin_reattaches_to_an_attempt_running_in_a_reuse_worker(
    reuse_config: LocalPluginConfig, storage: Storage, tmp_path: Path
) -> None:
    marker = tmp_path / "nap.pids"
    ctx = with_env(task_context(storage, nap_task(), execution="restart"), NAP_MARKER=str(marker))
    await write_inputs(ctx, int_inputs(x=2))
    before = LocalPlugin(reuse_config)
    record = await start_running(before, ctx)
    await wait_until(lambda: pids_in(marker))
    await before.aclose()  # propeller goes away; the worker finishes the attempt it runs, then exits
    assert process_alive(record)

    after = LocalPlugin(reuse_config)
    try:
        resumed = dataclasses.replace(ctx, plugin_state=record.encode())
        again = await after.handle(resumed)
        assert again.phase is Phase.RUNNING, again.reason
        assert again.state == record.encode()
        transition = await drive(after, resumed)
        assert not after.warm_pool.servers()  # re-attaching needs no worker of its own
    finally:
        await after.aclose()
    assert transition.phase is Phase.SUCCESS, transition.reason
    assert await storage.read_proto(ctx.paths.outputs, literals_pb2.LiteralMap) == int_inputs(o0=3)
    assert len(pids_in(marker)) == 1  # ran once
    await wait_until(lambda: pid_gone(record.pid), 10)


async def test_worker_is_replaced_after_the_configured_number_of_attempts(
    reuse_config: LocalPluginConfig, storage: Storage
) -> None:
    pool = reuse_config.warm_pool.model_copy(update={"reuse_max_attempts": 2})
    plugin = LocalPlugin(reuse_config.model_copy(update={"warm_pool": pool}))
    template = fixture_task("examples.configured.retried")
    try:
        pids = [
            worker_pid(await run(plugin, storage, task_context(storage, template, execution="recycle", node=f"n{i}")))
            for i in range(3)
        ]
    finally:
        await plugin.aclose()
    assert pids[0] == pids[1] != pids[2]
    await wait_until(lambda: pid_gone(pids[0]), 10)


async def test_worker_left_with_a_running_thread_is_replaced(reuse_config: LocalPluginConfig, storage: Storage) -> None:
    plugin = LocalPlugin(reuse_config)
    try:
        threaded = await run(
            plugin, storage, task_context(storage, nap_task("leave_thread"), execution="thread", node="n0")
        )
        after = await run(plugin, storage, task_context(storage, nap_task(), execution="thread", node="n1"), x=0)
    finally:
        await plugin.aclose()
    assert threaded.phase is Phase.SUCCESS, threaded.reason  # the attempt itself is fine
    assert after.phase is Phase.SUCCESS, after.reason
    assert worker_pid(after) != worker_pid(threaded)
    await wait_until(lambda: pid_gone(worker_pid(threaded)), 10)


async def test_processes_an_attempt_leaves_behind_are_killed(
    reuse_config: LocalPluginConfig, storage: Storage, tmp_path: Path
) -> None:
    plugin = LocalPlugin(reuse_config)
    marker = tmp_path / "child.pid"
    ctx = with_env(task_context(storage, nap_task("leave_child"), execution="child"), CHILD_MARKER=str(marker))
    try:
        transition = await run(plugin, storage, ctx)
        child = int(marker.read_text())
        await wait_until(lambda: pid_gone(child), 10)
        assert process_alive(record_of(transition))  # the worker itself goes on
    finally:
        await plugin.aclose()
    assert transition.phase is Phase.SUCCESS, transition.reason


async def test_a_task_that_ends_the_worker_fails_as_on_the_cold_path_and_the_worker_is_replaced(
    reuse_config: LocalPluginConfig, storage: Storage
) -> None:
    plugin = LocalPlugin(reuse_config)
    try:
        crashed = await run(plugin, storage, task_context(storage, nap_task("crash"), execution="crash", node="n0"))
        after = await run(plugin, storage, task_context(storage, nap_task(), execution="crash", node="n1"), x=0)
    finally:
        await plugin.aclose()
    assert crashed.phase is Phase.RETRYABLE_FAILURE
    assert crashed.error is not None and crashed.error.code == "NonZeroExitCode"
    assert "exited with code 3" in crashed.error.message and "crashing" in crashed.error.message
    assert after.phase is Phase.SUCCESS, after.reason
    assert worker_pid(after) != worker_pid(crashed)


@pytest.mark.parametrize("mode", ["fork", "reuse"])
async def test_a_quick_warm_attempt_is_reported_done_by_the_call_that_started_it(
    warm_config: LocalPluginConfig, storage: Storage, mode: str
) -> None:
    # `linger_seconds`: one engine round, no RUNNING report and no wake-up for a task that quick.
    config = warm_config.model_copy(update={"warm_mode": mode, "linger_seconds": 5.0})
    plugin = LocalPlugin(config)
    template = fixture_task("examples.configured.retried")
    try:
        await run(plugin, storage, task_context(storage, template, execution=f"linger-{mode}", node="warmup"))
        wake = Wakeups()
        ctx = task_context(storage, template, execution=f"linger-{mode}", node="n0", wake=wake)
        await write_inputs(ctx, int_inputs(x=1))
        first = await plugin.handle(ctx)
        await plugin.finalize(dataclasses.replace(ctx, plugin_state=first.state))
    finally:
        await plugin.aclose()
    assert first.phase is Phase.SUCCESS, first.reason
    assert started_reused(first) is (mode == "reuse")
    assert wake.count == 0
    assert await storage.read_proto(ctx.paths.outputs, literals_pb2.LiteralMap) == int_inputs(o0=2)


async def test_a_longer_attempt_is_reported_running_then_wakes_propeller_when_it_ends(
    reuse_config: LocalPluginConfig, storage: Storage
) -> None:
    plugin = LocalPlugin(reuse_config.model_copy(update={"linger_seconds": 0.05}))
    wake = Wakeups()
    ctx = task_context(storage, nap_task(), execution="longer", wake=wake)
    await write_inputs(ctx, int_inputs(x=1))
    try:
        record = await start_running(plugin, ctx)
        assert record.reuse
        assert await wake.wait(30.0)  # the worker's word that it finished, no polling
        transition = await plugin.handle(dataclasses.replace(ctx, plugin_state=record.encode()))
    finally:
        await plugin.aclose()
    assert transition.phase is Phase.SUCCESS, transition.reason
    assert "napping for 1s" in log_of(transition)
