"""Warm starts of the local backend: attempts forked from fork servers keep the cold path's guarantees.

Real flytekit 1.16.31 runs the tasks: the reference examples, and a few small tasks written here
(`warmtasks`) that sleep, print, or make a fork server misbehave the way a user module could.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flyteidl_py.core import execution_pb2, literals_pb2, tasks_pb2
from flyteplane.storage import Storage
from plugins.config import LocalEnvironment, LocalPluginConfig, WarmPoolConfig
from plugins.core import Phase, TaskExecutionContext, Transition
from plugins.local.backend import AttemptRecord, LocalPlugin, process_alive
from tests.integration.plugins.helpers import (
    Wakeups,
    drive,
    fixture_task,
    int_inputs,
    runner_record,
    started_warm,
    task_context,
    write_inputs,
)

WARM_TASKS = """
import os
import signal
import sys
import threading
import time

from flytekit import task
from flytekit.utils.asyn import run_sync


async def _nothing() -> None:
    return None


# What importing a module with workflows does: flytekit's event-loop thread starts, and stays.
run_sync(_nothing)

IN_FORK_SERVER = "_flyteplane_local.warm.server" in sys.modules

if os.environ.get("WARMTASKS_KILL_SERVER") and IN_FORK_SERVER:
    os.kill(os.getpid(), signal.SIGKILL)  # dies in the fork server only, as a crashing extension module would

if os.environ.get("WARMTASKS_THREAD") and IN_FORK_SERVER:
    threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()

# What module-level code sees on import: on a cold start, the task process's own view.
AT_IMPORT = {
    "registered": os.environ.get("REGISTERED_ENV"),
    "cwd": os.getcwd(),
    "argv": list(sys.argv),
    "in_server": IN_FORK_SERVER,
}


@task
def probe(x: int) -> int:
    # What a reuse worker must not carry from one attempt to the next: the environment, the directory.
    print(f"probe pid={os.getpid()} cwd={os.getcwd()} LEAK_PROBE={os.environ.get('LEAK_PROBE')} "
          f"SET_BY_TASK={os.environ.get('SET_BY_TASK')}", flush=True)
    os.environ["SET_BY_TASK"] = "yes"
    return x + 1


@task
def view(x: int) -> int:
    import json

    in_task = {"registered": os.environ.get("REGISTERED_ENV"), "cwd": os.getcwd(), "argv": list(sys.argv),
               "environ": dict(os.environ), "path": list(sys.path)}
    with open(os.environ["VIEW_FILE"], "w") as handle:  # outside the attempt: its scratch goes with the task
        json.dump({"at_import": AT_IMPORT, "in_task": in_task}, handle)
    return x + 1


@task
def hog(x: int) -> int:
    held = bytearray(x * 2**20)  # x MiB, touched: resident, not merely reserved
    return len(held)


@task
def leave_thread(x: int) -> int:
    threading.Thread(target=time.sleep, args=(3600,), daemon=True, name="left-behind").start()
    return x + 1


@task
def leave_child(x: int) -> int:
    import subprocess

    child = subprocess.Popen(["sleep", "600"])
    with open(os.environ["CHILD_MARKER"], "w") as handle:
        handle.write(str(child.pid))
    return x + 1


@task
def crash(x: int) -> int:
    print("crashing", flush=True)
    os._exit(3)
    return x  # never reached; without it flytekit refuses the module at import outside a task execution


@task
def workdir(x: int) -> int:
    import flytekit

    with open(os.environ["WORKDIR_MARKER"], "a") as handle:
        handle.write(flytekit.current_context().working_directory + "\\n")
    return x + 1


@task
def nap(x: int) -> int:
    marker = os.environ.get("NAP_MARKER")
    if marker:
        with open(marker, "a") as handle:
            handle.write(f"{os.getpid()}\\n")
    print(f"napping for {x}s", flush=True)
    time.sleep(x)
    return x + 1
"""


@pytest.fixture(scope="session")
def warm_tasks_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("warmcode")
    (root / "warmtasks").mkdir()
    (root / "warmtasks" / "__init__.py").write_text(textwrap.dedent(WARM_TASKS))
    return root


@pytest.fixture
def warm_config(local_config: LocalPluginConfig, warm_tasks_root: Path) -> LocalPluginConfig:
    environment = local_config.default_environment.model_copy(
        update={"python_path": (*local_config.default_environment.python_path, warm_tasks_root)}
    )
    return local_config.model_copy(update={"default_environment": environment, "warm": True})


def nap_task(name: str = "nap") -> tasks_pb2.TaskTemplate:
    """`warmtasks.<name>` (x: int -> int), serialized like `examples.configured.retried`, which has that interface."""
    template = tasks_pb2.TaskTemplate()
    template.CopyFrom(fixture_task("examples.configured.retried"))
    args = list(template.container.args)
    args[args.index("examples.configured")] = "warmtasks"
    args[args.index("retried")] = name
    del template.container.args[:]
    template.container.args.extend(args)
    template.id.name = f"warmtasks.{name}"
    return template


def with_env(ctx: TaskExecutionContext, **env: str) -> TaskExecutionContext:
    return dataclasses.replace(ctx, environment={**ctx.environment, **env})


async def start_running(plugin: LocalPlugin, ctx: TaskExecutionContext, time_limit: float = 60.0) -> AttemptRecord:
    """Calls `handle` (waiting out the fork server's start) until the attempt runs; its runner's record."""
    wake = ctx.wake
    deadline = time.monotonic() + time_limit
    while True:
        transition = await plugin.handle(ctx)
        if transition.phase is Phase.RUNNING:
            record = AttemptRecord.decode(transition.state)
            assert record is not None
            return record
        assert transition.phase is Phase.INITIALIZING, transition.reason
        assert time.monotonic() < deadline, "the attempt did not start"
        assert isinstance(wake, Wakeups)
        await wake.wait(5.0)


async def wait_until(condition: Callable[[], object], time_limit: float = 30.0) -> None:
    deadline = time.monotonic() + time_limit
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def napping(storage: Storage, tmp_path: Path, execution: str) -> tuple[TaskExecutionContext, Path]:
    """A `nap_task` attempt's context (of 120 s) whose task records its pid in the returned marker file."""
    marker = tmp_path / "nap.pids"
    return with_env(task_context(storage, nap_task(), execution=execution), NAP_MARKER=str(marker)), marker


async def start_napping(plugin: LocalPlugin, ctx: TaskExecutionContext, marker: Path) -> tuple[AttemptRecord, int]:
    """Starts a `napping` attempt; its runner's record and the task's pid."""
    await write_inputs(ctx, int_inputs(x=120))
    record = await start_running(plugin, ctx)
    await wait_until(lambda: pids_in(marker))
    (task_pid,) = pids_in(marker)
    return record, task_pid


def pids_in(marker: Path) -> list[int]:
    return [int(line) for line in marker.read_text().split()] if marker.exists() else []


def pid_gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat[stat.rindex(")") + 2] == "Z"


async def test_attempts_fork_from_one_warm_server_and_compute_the_same_result(
    warm_config: LocalPluginConfig, storage: Storage
) -> None:
    plugin = LocalPlugin(warm_config)
    try:
        records = []
        for node in ("n0", "n1", "n2"):
            ctx = task_context(storage, fixture_task("examples.configured.retried"), execution="same", node=node)
            await write_inputs(ctx, int_inputs(x=41))
            transition = await drive(plugin, ctx)
            assert transition.phase is Phase.SUCCESS, transition.reason
            assert await storage.read_proto(ctx.paths.outputs, literals_pb2.LiteralMap) == int_inputs(o0=42)
            records.append(runner_record(transition))
    finally:
        await plugin.aclose()
    assert all(record["warm"] is True for record in records)
    assert len({record["server_pid"] for record in records}) == 1
    assert len({record["pid"] for record in records}) == 3  # a fresh process per attempt


async def test_attempts_forked_from_one_server_get_working_directories_of_their_own(
    warm_config: LocalPluginConfig, storage: Storage, tmp_path: Path
) -> None:
    """flytekit names them with a generator of its own, which a fork does not reseed by itself."""
    plugin = LocalPlugin(warm_config)
    marker = tmp_path / "workdirs"
    try:
        for node in ("n0", "n1", "n2"):
            ctx = task_context(storage, nap_task("workdir"), execution="workdirs", node=node)
            await write_inputs(ctx, int_inputs(x=1))
            transition = await drive(plugin, with_env(ctx, WORKDIR_MARKER=str(marker)))
            assert transition.phase is Phase.SUCCESS, transition.reason
            assert started_warm(transition)
    finally:
        await plugin.aclose()
    assert len(set(marker.read_text().split())) == 3


async def test_concurrent_attempts_all_start_warm(warm_config: LocalPluginConfig, storage: Storage) -> None:
    plugin = LocalPlugin(warm_config)
    contexts = [
        task_context(storage, fixture_task("examples.configured.retried"), execution="fanout", node=f"n{i}")
        for i in range(8)
    ]
    for i, ctx in enumerate(contexts):
        await write_inputs(ctx, int_inputs(x=i))
    try:
        transitions = await asyncio.gather(*(drive(plugin, ctx) for ctx in contexts))
    finally:
        await plugin.aclose()
    assert [t.phase for t in transitions] == [Phase.SUCCESS] * 8
    assert all(started_warm(t) for t in transitions)
    for i, ctx in enumerate(contexts):
        assert await storage.read_proto(ctx.paths.outputs, literals_pb2.LiteralMap) == int_inputs(o0=i + 1)


async def test_warm_attempt_logs_its_output_and_wakes_propeller_when_it_exits(
    warm_config: LocalPluginConfig, storage: Storage
) -> None:
    plugin = LocalPlugin(warm_config)
    wake = Wakeups()
    ctx = task_context(storage, nap_task(), execution="logged", wake=wake)
    await write_inputs(ctx, int_inputs(x=1))
    try:
        record = await start_running(plugin, ctx)
        wakes_before_exit = wake.count
        assert await wake.wait(30.0)  # no polling: the task process's end wakes propeller
        assert wake.count == wakes_before_exit + 1
        transition = await plugin.handle(dataclasses.replace(ctx, plugin_state=record.encode()))
    finally:
        await plugin.aclose()
    assert transition.phase is Phase.SUCCESS, transition.reason
    assert started_warm(transition)
    assert "napping for 1s" in (await storage.read(transition.logs[0].uri)).decode()


async def test_abort_kills_a_warm_attempts_process_group(
    warm_config: LocalPluginConfig, storage: Storage, tmp_path: Path
) -> None:
    plugin = LocalPlugin(warm_config)
    ctx, marker = napping(storage, tmp_path, "abort")
    try:
        record, task_pid = await start_napping(plugin, ctx, marker)
        await plugin.abort(dataclasses.replace(ctx, plugin_state=record.encode()))
        assert not process_alive(record)
        await wait_until(lambda: pid_gone(task_pid), 10)
    finally:
        await plugin.aclose()
    assert json.loads((Path(record.work_dir) / "runner.json").read_text())["warm"] is True


async def test_a_warm_task_process_killed_from_outside_is_recorded_as_killed_not_lost(
    warm_config: LocalPluginConfig, storage: Storage, tmp_path: Path
) -> None:
    # As an OOM killer would: the task process dies without reporting its exit; its fork server records how.
    plugin = LocalPlugin(warm_config)
    ctx, marker = napping(storage, tmp_path, "killed")
    try:
        record, task_pid = await start_napping(plugin, ctx, marker)
        assert task_pid == record.pid  # one process per attempt: the task process is the runner on record
        os.kill(task_pid, signal.SIGKILL)
        transition = await drive(plugin, dataclasses.replace(ctx, plugin_state=record.encode()))
    finally:
        await plugin.aclose()
    assert transition.phase is Phase.RETRYABLE_FAILURE
    assert transition.error is not None and transition.error.code == "Interrupted", transition.error
    assert "SIGKILL" in transition.error.message
    assert json.loads((Path(record.work_dir) / "status.json").read_text())["signal"] == signal.SIGKILL


async def test_restarted_plugin_reattaches_to_a_running_warm_attempt(
    warm_config: LocalPluginConfig, storage: Storage, tmp_path: Path
) -> None:
    marker = tmp_path / "nap.pids"
    ctx = with_env(task_context(storage, nap_task(), execution="restart"), NAP_MARKER=str(marker))
    await write_inputs(ctx, int_inputs(x=2))
    before = LocalPlugin(warm_config)
    record = await start_running(before, ctx)
    await wait_until(lambda: pids_in(marker))
    await before.aclose()  # propeller goes away, and its fork servers with it; the attempt does not

    after = LocalPlugin(warm_config)
    try:
        resumed = dataclasses.replace(ctx, plugin_state=record.encode())
        again = await after.handle(resumed)
        assert again.phase is Phase.RUNNING
        assert again.state == record.encode()
        transition = await drive(after, resumed)
        assert not after.warm_pool.servers()  # re-attaching needs no fork server
    finally:
        await after.aclose()
    assert transition.phase is Phase.SUCCESS, transition.reason
    assert await storage.read_proto(ctx.paths.outputs, literals_pb2.LiteralMap) == int_inputs(o0=3)
    assert len(pids_in(marker)) == 1  # started once


async def test_two_plugins_starting_one_attempt_run_it_once(
    warm_config: LocalPluginConfig, storage: Storage, tmp_path: Path
) -> None:
    # Two engines evaluating the same node at once (a split brain): each has warm servers of its own.
    marker = tmp_path / "nap.pids"
    ctx = with_env(task_context(storage, nap_task(), execution="twice"), NAP_MARKER=str(marker))
    await write_inputs(ctx, int_inputs(x=1))
    first, second = LocalPlugin(warm_config), LocalPlugin(warm_config)
    try:
        for plugin in (first, second):
            await plugin.start()
        await wait_until(lambda: first.warm_pool.servers() and second.warm_pool.servers())
        transitions = await asyncio.gather(first.handle(ctx), second.handle(ctx))
        states = {t.state for t in transitions if t.phase is Phase.RUNNING}
        assert len(states) == 1, [t.reason for t in transitions]
        transition = await drive(first, dataclasses.replace(ctx, plugin_state=states.pop()))
    finally:
        await first.aclose()
        await second.aclose()
    assert transition.phase is Phase.SUCCESS, transition.reason
    assert len(pids_in(marker)) == 1


async def test_server_is_recycled_after_the_configured_number_of_forks(
    warm_config: LocalPluginConfig, storage: Storage
) -> None:
    plugin = LocalPlugin(warm_config.model_copy(update={"warm_pool": WarmPoolConfig(recycle_after_forks=2)}))
    template = fixture_task("examples.configured.retried")

    async def run(node: str) -> int:
        ctx = task_context(storage, template, execution="recycle", node=node)
        await write_inputs(ctx, int_inputs(x=1))
        transition = await drive(plugin, ctx)
        assert transition.phase is Phase.SUCCESS, transition.reason
        server_pid = runner_record(transition)["server_pid"]
        assert isinstance(server_pid, int)
        return server_pid

    try:
        first, second = await run("n0"), await run("n1")
        assert first == second
        await wait_until(lambda: [s.pid for s in plugin.warm_pool.servers()] not in ([], [first]))
        third = await run("n2")
        await wait_until(lambda: pid_gone(first), 10)  # the worn server got EOF and exited
        assert [(s.pid, s.forks) for s in plugin.warm_pool.servers()] == [(third, 1)]
    finally:
        await plugin.aclose()
    assert third != first


async def test_server_that_outgrows_its_memory_limit_is_replaced(
    warm_config: LocalPluginConfig, storage: Storage
) -> None:
    plugin = LocalPlugin(warm_config.model_copy(update={"warm_pool": WarmPoolConfig(recycle_rss_bytes=1)}))
    ctx = task_context(storage, fixture_task("examples.configured.retried"), execution="rss")
    await write_inputs(ctx, int_inputs(x=1))
    try:
        transition = await drive(plugin, ctx)
        first = runner_record(transition)["server_pid"]
        assert isinstance(first, int)
        await wait_until(lambda: [s.pid for s in plugin.warm_pool.servers()] not in ([], [first]))
    finally:
        await plugin.aclose()
    await wait_until(lambda: pid_gone(first), 10)


async def test_attempt_starts_cold_when_its_fork_server_dies_taking_it(
    warm_config: LocalPluginConfig, storage: Storage
) -> None:
    # The server imports the task's module before forking, and the module kills it there.
    environment = warm_config.default_environment.model_copy(
        update={"preload_task_modules": True, "env": {"WARMTASKS_KILL_SERVER": "1"}}
    )
    plugin = LocalPlugin(warm_config.model_copy(update={"default_environment": environment}))
    ctx = task_context(storage, nap_task(), execution="dies")
    await write_inputs(ctx, int_inputs(x=0))
    try:
        transition = await drive(plugin, ctx)
        assert not plugin.warm_pool.servers()  # it died before serving: its environment runs cold for a while
    finally:
        await plugin.aclose()
    assert transition.phase is Phase.SUCCESS, transition.reason
    assert not started_warm(transition)
    assert await storage.read_proto(ctx.paths.outputs, literals_pb2.LiteralMap) == int_inputs(o0=1)


async def test_dead_fork_server_is_replaced(warm_config: LocalPluginConfig, storage: Storage) -> None:
    plugin = LocalPlugin(warm_config)
    template = fixture_task("examples.configured.retried")
    try:
        first = task_context(storage, template, execution="replaced", node="n0")
        await write_inputs(first, int_inputs(x=1))
        assert started_warm(await drive(plugin, first))
        (server,) = plugin.warm_pool.servers()
        os.kill(server.pid, signal.SIGKILL)
        await wait_until(lambda: [s.pid for s in plugin.warm_pool.servers()] not in ([], [server.pid]))

        second = task_context(storage, template, execution="replaced", node="n1")
        await write_inputs(second, int_inputs(x=2))
        transition = await drive(plugin, second)
    finally:
        await plugin.aclose()
    assert transition.phase is Phase.SUCCESS, transition.reason
    assert started_warm(transition)
    assert runner_record(transition)["server_pid"] != server.pid


async def test_task_module_imported_into_the_server_leaves_no_thread_behind(
    warm_config: LocalPluginConfig, storage: Storage
) -> None:
    environment = warm_config.default_environment.model_copy(update={"preload_task_modules": True})
    plugin = LocalPlugin(warm_config.model_copy(update={"default_environment": environment}))
    ctx = task_context(storage, nap_task(), execution="loop")
    await write_inputs(ctx, int_inputs(x=0))
    try:
        transition = await drive(plugin, ctx)
    finally:
        await plugin.aclose()
    assert transition.phase is Phase.SUCCESS, transition.reason
    assert started_warm(transition)  # flytekit's event-loop thread was stopped before the fork


async def test_fork_server_with_threads_is_refused_and_tasks_run_cold(
    warm_config: LocalPluginConfig, storage: Storage
) -> None:
    environment = warm_config.default_environment.model_copy(
        update={"preload": ("warmtasks",), "env": {"WARMTASKS_THREAD": "1"}}
    )
    plugin = LocalPlugin(warm_config.model_copy(update={"default_environment": environment}))
    ctx = task_context(storage, fixture_task("examples.configured.retried"), execution="threads")
    await write_inputs(ctx, int_inputs(x=1))
    try:
        transition = await drive(plugin, ctx)
    finally:
        await plugin.aclose()
    assert transition.phase is Phase.SUCCESS, transition.reason
    assert not started_warm(transition)


@pytest.mark.parametrize(
    ("setting", "value"),
    [("task", "FLYTEPLANE_WARM=false"), ("environment", "warm: false")],
)
async def test_task_or_environment_can_opt_out_to_the_cold_path(
    warm_config: LocalPluginConfig, storage: Storage, setting: str, value: str
) -> None:
    config = warm_config
    ctx = task_context(storage, fixture_task("examples.configured.retried"), execution=f"optout-{setting}")
    if setting == "task":
        ctx = with_env(ctx, FLYTEPLANE_WARM="false")
    else:
        environment = warm_config.default_environment.model_copy(update={"warm": False})
        config = warm_config.model_copy(update={"default_environment": environment})
    await write_inputs(ctx, int_inputs(x=1))
    plugin = LocalPlugin(config)
    try:
        transition = await drive(plugin, ctx)
        assert not plugin.warm_pool.servers(), value
    finally:
        await plugin.aclose()
    assert transition.phase is Phase.SUCCESS, transition.reason
    assert not started_warm(transition)


async def test_plugin_start_prewarms_the_default_environment(warm_config: LocalPluginConfig, storage: Storage) -> None:
    plugin = LocalPlugin(warm_config)
    wake = Wakeups()
    ctx = task_context(storage, fixture_task("examples.configured.retried"), execution="prewarm", wake=wake)
    await write_inputs(ctx, int_inputs(x=1))
    try:
        await plugin.start()
        await wait_until(plugin.warm_pool.servers)
        first = await plugin.handle(ctx)  # a ready server: started at once, no waiting (done, if that quick)
        assert first.phase in (Phase.RUNNING, Phase.SUCCESS), first.reason
        transition = await drive(plugin, dataclasses.replace(ctx, plugin_state=first.state))
    finally:
        await plugin.aclose()
    assert started_warm(transition)


async def run_unusable(
    local_config: LocalPluginConfig, flytekit_venv: Path, examples_root: Path, ctx: TaskExecutionContext
) -> Transition:
    """Runs `ctx` with warm starts on in an environment whose fork server cannot start (a preload that cannot be
    imported; the task itself is fine): it succeeds, on the cold path."""
    environment = LocalEnvironment(venv=flytekit_venv, python_path=(examples_root,), preload=("no_such_module_x",))
    plugin = LocalPlugin(local_config.model_copy(update={"default_environment": environment, "warm": True}))
    try:
        transition = await drive(plugin, ctx)
    finally:
        await plugin.aclose()
    assert transition.phase is Phase.SUCCESS, transition.reason
    assert not started_warm(transition)
    return transition


async def test_unusable_environment_runs_cold(
    local_config: LocalPluginConfig, storage: Storage, flytekit_venv: Path, examples_root: Path
) -> None:
    ctx = task_context(storage, fixture_task("examples.configured.retried"), execution="unusable")
    await write_inputs(ctx, int_inputs(x=1))
    await run_unusable(local_config, flytekit_venv, examples_root, ctx)


async def test_a_map_element_planned_warm_but_started_cold_still_gets_its_own_inputs(
    local_config: LocalPluginConfig, storage: Storage, flytekit_venv: Path, examples_root: Path
) -> None:
    # A warm attempt is handed its element's inputs in its request; one that falls back to the cold path gets them
    # as a file, like any cold attempt. Index 1 of x = [1, 2, 3] is given as x = [2].
    ctx = task_context(storage, fixture_task("examples.advanced.map_square"), execution="unusablemap", array_index=1)
    narrowed = literals_pb2.LiteralMap()
    narrowed.literals["x"].collection.literals.add().scalar.primitive.integer = 2

    async def narrowed_reader() -> literals_pb2.LiteralMap | None:
        return narrowed

    ctx = dataclasses.replace(ctx, narrowed_inputs_reader=narrowed_reader)
    await run_unusable(local_config, flytekit_venv, examples_root, ctx)
    outputs = await storage.read_proto(ctx.paths.outputs, literals_pb2.LiteralMap)
    assert outputs.literals["o0"].scalar.primitive.integer == 4, outputs


async def run_view(
    plugin: LocalPlugin, storage: Storage, execution: str, views: Path
) -> tuple[Transition, dict[str, Any]]:
    """Runs `warmtasks.view`, registered with REGISTERED_ENV (as `pyflyte register --env` does); what it saw."""
    template = nap_task("view")
    template.container.env.add(key="REGISTERED_ENV", value="from-register")
    view = views / f"{execution}.json"  # its name differs between runs only by the execution's
    template.container.env.add(key="VIEW_FILE", value=str(view))
    ctx = task_context(storage, template, execution=execution)
    await write_inputs(ctx, int_inputs(x=1))
    transition = await drive(plugin, ctx)
    assert transition.phase is Phase.SUCCESS, transition.reason
    assert isinstance(transition.custom_info, dict)
    seen = json.loads(view.read_text())
    assert isinstance(seen, dict)
    return transition, seen


async def test_warm_and_cold_attempts_see_the_same_environment_directory_and_command_line(
    warm_config: LocalPluginConfig, storage: Storage, tmp_path: Path
) -> None:
    # The fork server imports the task's module before forking: module-level code runs there.
    environment = warm_config.default_environment.model_copy(update={"preload_task_modules": True})
    warm = LocalPlugin(warm_config.model_copy(update={"default_environment": environment}))
    cold = LocalPlugin(warm_config.model_copy(update={"default_environment": environment, "warm": False}))
    try:
        warm_run, warm_seen = await run_view(warm, storage, "view-warm", tmp_path)
        cold_run, cold_seen = await run_view(cold, storage, "view-cold", tmp_path)
    finally:
        await warm.aclose()
        await cold.aclose()
    assert started_warm(warm_run) and not started_warm(cold_run)
    assert warm_seen["at_import"]["in_server"] and not cold_seen["at_import"]["in_server"]
    for seen in (warm_seen, cold_seen):
        assert seen["at_import"]["registered"] == seen["in_task"]["registered"] == "from-register"
        assert seen["at_import"]["cwd"] == seen["in_task"]["cwd"]  # the attempt's working directory
        assert seen["at_import"]["argv"] == seen["in_task"]["argv"]  # pyflyte-execute's command line
    warm_task, cold_task = (
        json.loads(
            json.dumps(seen["in_task"])
            .replace(str(run.custom_info["work_dir"]), "<attempt>")
            .replace(name, "<execution>")
        )
        for seen, run, name in ((warm_seen, warm_run, "view-warm"), (cold_seen, cold_run, "view-cold"))
        if isinstance(run.custom_info, dict)
    )
    assert warm_task["path"] == cold_task["path"]
    assert warm_task["argv"] == cold_task["argv"]
    assert warm_task["cwd"] == cold_task["cwd"]
    # The same variables, server-only ones gone; the values differ only where they name the execution.
    assert sorted(warm_task["environ"]) == sorted(cold_task["environ"])
    differing = {k for k in warm_task["environ"] if warm_task["environ"][k] != cold_task["environ"][k]}
    assert differing <= {"FLYTE_INTERNAL_EXECUTION_ID"}, differing


@pytest.mark.parametrize("start", ["fork", "reuse", "cold"])
async def test_warm_and_cold_attempts_get_the_platform_default_memory_limit(
    warm_config: LocalPluginConfig, storage: Storage, start: str
) -> None:
    settings = {"warm": start != "cold", "warm_mode": "reuse" if start == "reuse" else "fork"}
    plugin = LocalPlugin(warm_config.model_copy(update={**settings, "default_memory_limit": "1Gi"}))
    ctx = task_context(storage, nap_task("hog"), execution=f"hog-{start}")  # declares no memory limit
    await write_inputs(ctx, int_inputs(x=2048))
    try:
        transition = await drive(plugin, ctx)
    finally:
        await plugin.aclose()
    assert started_warm(transition) is (start != "cold")
    assert transition.phase is Phase.RETRYABLE_FAILURE, transition.reason
    assert transition.error is not None
    assert (transition.error.code, transition.error.kind) == ("OOMKilled", execution_pb2.ExecutionError.USER)
    assert "1Gi" in transition.error.message
