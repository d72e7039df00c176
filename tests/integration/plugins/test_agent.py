"""The agent plugin against a real agent server: flytekit's `pyflyte serve agent` with a custom async agent of ours.

The agent (`agent_code/flyteplane_test_agent.py`, task type `flyteplane-test-agent`) runs inside the server,
from the flytekit virtualenv; this process only speaks gRPC to it, as propeller does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from flyteidl_py.core import execution_pb2, identifier_pb2, interface_pb2, literals_pb2, tasks_pb2, types_pb2
from flyteplane.storage import Storage
from plugins.agent import AgentPlugin, AgentPluginConfig, create
from plugins.core import Phase, TaskExecutionContext
from tests.integration.plugins.helpers import DOMAIN, PROJECT, VERSION, Wakeups, drive, task_context, write_inputs
from tests.support.flytekit import flytekit_bin

TASK_TYPE = "flyteplane-test-agent"
AGENT_CODE = Path(__file__).with_name("agent_code")


def _free_port() -> int:
    """A free loopback port in this helper's range (45000-45999)."""
    for _ in range(200):
        port = random.randint(45000, 45999)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 45000-45999")


@dataclass
class PyflyteAgent:
    """`pyflyte serve agent` with our test agent on its PYTHONPATH; can be killed and started again."""

    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def creates(self) -> list[str]:
        path = self.directory / "creates.log"
        return path.read_text().split() if path.exists() else []

    def start(self) -> None:
        bin_dir = flytekit_bin()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "FLYTE"))}
        env.update(
            PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
            PYTHONPATH=str(AGENT_CODE),
            FLYTEPLANE_TEST_AGENT_DIR=str(self.directory),
        )
        log = open(self.directory / "server.log", "ab")  # noqa: SIM115 (the child keeps it)
        self.process = subprocess.Popen(
            [
                str(bin_dir / "pyflyte"), "serve", "agent",
                "--port", str(self.port),
                "--prometheus_port", str(_free_port()),
                "--modules", "flyteplane_test_agent",
            ],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        log.close()

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@pytest.fixture(scope="module")
def agent_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PyflyteAgent]:
    server = PyflyteAgent(_free_port(), tmp_path_factory.mktemp("agent"))
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.kill()


@pytest.fixture
async def plugin(agent_server: PyflyteAgent) -> AsyncIterator[AgentPlugin]:
    # The factory waits for the server (it imports flytekit first) and asks it what it serves.
    built = await create(
        {
            "default_agent": {"endpoint": agent_server.endpoint, "timeout_seconds": 10},
            "poll_interval_seconds": 0.2,
            "max_poll_interval_seconds": 1.0,
            "unavailable_grace_seconds": 120,
            "discovery_timeout_seconds": 90,
        }
    )
    yield built
    await built.aclose()


def _template(name: str = "tests.agent_task", task_type: str = TASK_TYPE) -> tasks_pb2.TaskTemplate:
    integer = types_pb2.LiteralType(simple=types_pb2.INTEGER)
    return tasks_pb2.TaskTemplate(
        id=identifier_pb2.Identifier(
            resource_type=identifier_pb2.TASK, project=PROJECT, domain=DOMAIN, name=name, version=VERSION
        ),
        type=task_type,
        metadata=tasks_pb2.TaskMetadata(runtime=tasks_pb2.RuntimeMetadata(flavor="python")),
        interface=interface_pb2.TypedInterface(
            outputs=interface_pb2.VariableMap(variables={"o0": interface_pb2.Variable(type=integer)})
        ),
    )


def _inputs(n: int, seconds: float = 0.0, mode: str = "outputs") -> literals_pb2.LiteralMap:
    def literal(primitive: literals_pb2.Primitive) -> literals_pb2.Literal:
        return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=primitive))

    return literals_pb2.LiteralMap(
        literals={
            "n": literal(literals_pb2.Primitive(integer=n)),
            "seconds": literal(literals_pb2.Primitive(float_value=seconds)),
            "mode": literal(literals_pb2.Primitive(string_value=mode)),
        }
    )


async def _context(storage: Storage, execution: str, inputs: literals_pb2.LiteralMap) -> TaskExecutionContext:
    ctx = task_context(storage, _template(), execution=execution, wake=Wakeups())
    await write_inputs(ctx, inputs)
    return ctx


async def _output(storage: Storage, ctx: TaskExecutionContext) -> int:
    outputs = await storage.read_proto(ctx.paths.outputs, literals_pb2.LiteralMap)
    return outputs.literals["o0"].scalar.primitive.integer


async def test_the_agents_own_list_says_which_task_types_the_plugin_serves(plugin: AgentPlugin) -> None:
    assert TASK_TYPE in plugin.task_types
    assert "sensor" in plugin.task_types  # flytekit's FileSensor agent, built in


async def test_an_async_agent_task_runs_and_its_returned_outputs_are_written(
    plugin: AgentPlugin, agent_server: PyflyteAgent, storage: Storage
) -> None:
    ctx = await _context(storage, "agentok", _inputs(21, seconds=1.0))
    transition = await drive(plugin, ctx, time_limit=60)
    assert transition.phase is Phase.SUCCESS, transition.reason
    assert await _output(storage, ctx) == 42
    assert [log.name for log in transition.logs] == ["Test agent job"]
    assert transition.custom_info == {"job_id": "agentok-n0-0"}
    assert transition.reason == "done"
    # Created once, however many rounds polled it; handling it again asks, never creates.
    again = await plugin.handle(dataclasses.replace(ctx, plugin_state=transition.state))
    assert again.phase is Phase.SUCCESS
    assert agent_server.creates.count("agentok-n0-0") == 1


async def test_a_sync_agent_answers_in_one_call(plugin: AgentPlugin, storage: Storage) -> None:
    assert "flyteplane-test-sync-agent" in plugin.task_types
    ctx = task_context(storage, _template(task_type="flyteplane-test-sync-agent"), execution="agentsync")
    await write_inputs(ctx, _inputs(41))
    transition = await plugin.handle(ctx)
    assert transition.phase is Phase.SUCCESS, transition.reason
    assert transition.reason == "added one"
    assert await _output(storage, ctx) == 42


async def test_outputs_the_agent_wrote_itself_are_the_tasks_outputs(plugin: AgentPlugin, storage: Storage) -> None:
    ctx = await _context(storage, "agentwrites", _inputs(5, mode="writes"))
    transition = await drive(plugin, ctx, time_limit=60)
    assert transition.phase is Phase.SUCCESS, transition.reason
    assert await _output(storage, ctx) == 15


async def test_a_failed_resource_is_the_users_permanent_failure_with_the_agents_message(
    plugin: AgentPlugin, storage: Storage
) -> None:
    ctx = await _context(storage, "agentfails", _inputs(1, mode="fail"))
    transition = await drive(plugin, ctx, time_limit=60)
    assert transition.phase is Phase.PERMANENT_FAILURE
    assert transition.error is not None
    assert transition.error.kind == execution_pb2.ExecutionError.USER
    assert "the test agent was told to fail" in transition.error.message


async def test_abort_deletes_the_remote_task(plugin: AgentPlugin, agent_server: PyflyteAgent, storage: Storage) -> None:
    ctx = await _context(storage, "agentabort", _inputs(1, seconds=60))
    first = await plugin.handle(ctx)
    assert first.phase is Phase.QUEUED, first.reason
    await plugin.abort(dataclasses.replace(ctx, plugin_state=first.state))
    assert (agent_server.directory / "agentabort-n0-0.deleted").exists()


async def test_an_engine_that_stopped_before_persisting_the_creation_finds_the_remote_task(
    plugin: AgentPlugin, agent_server: PyflyteAgent, storage: Storage
) -> None:
    ctx = await _context(storage, "agentcrash", _inputs(4, seconds=0.5))
    first = await plugin.handle(ctx)
    assert first.phase is Phase.QUEUED, first.reason
    # A new engine: a new plugin, and the plugin state of the transition it never persisted is lost.
    restarted = AgentPlugin(plugin.config)
    try:
        await restarted.discover()
        transition = await drive(restarted, ctx, time_limit=60)
    finally:
        await restarted.aclose()
    assert transition.phase is Phase.SUCCESS, transition.reason
    assert await _output(storage, ctx) == 8
    assert agent_server.creates.count("agentcrash-n0-0") == 1


async def test_an_agent_killed_mid_task_and_started_again_finishes_the_task_created_once(
    plugin: AgentPlugin, agent_server: PyflyteAgent, storage: Storage
) -> None:
    ctx = await _context(storage, "agentkilled", _inputs(10, seconds=6))
    transition = await plugin.handle(ctx)
    while transition.phase is not Phase.RUNNING:
        await asyncio.sleep(0.2)
        ctx = dataclasses.replace(ctx, plugin_state=transition.state)
        transition = await plugin.handle(ctx)
    ctx = dataclasses.replace(ctx, plugin_state=transition.state)
    agent_server.kill()
    down = await plugin.handle(ctx)
    assert down.phase is Phase.RUNNING  # waited for, not failed
    assert "unreachable" in down.reason
    agent_server.start()
    began = time.monotonic()
    done = await drive(plugin, dataclasses.replace(ctx, plugin_state=down.state), time_limit=120)
    assert done.phase is Phase.SUCCESS, done.reason
    assert await _output(storage, ctx) == 20
    assert agent_server.creates.count("agentkilled-n0-0") == 1
    assert time.monotonic() - began < 100


async def test_an_agent_unreachable_past_the_grace_is_a_retryable_system_failure(storage: Storage) -> None:
    config = AgentPluginConfig.model_validate(
        {
            "default_agent": {"endpoint": f"127.0.0.1:{_free_port()}", "timeout_seconds": 1},
            "unavailable_grace_seconds": 0.5,
        }
    )
    plugin = AgentPlugin(config)
    try:
        ctx = await _context(storage, "agentgone", _inputs(1))
        waiting = await plugin.handle(ctx)
        assert waiting.phase is Phase.QUEUED
        assert "unreachable" in waiting.reason
        await asyncio.sleep(0.6)
        failed = await plugin.handle(dataclasses.replace(ctx, plugin_state=waiting.state))
    finally:
        await plugin.aclose()
    assert failed.phase is Phase.RETRYABLE_FAILURE
    assert failed.error is not None and failed.error.kind == execution_pb2.ExecutionError.SYSTEM


async def test_a_task_type_no_agent_serves_fails_naming_it(storage: Storage) -> None:
    plugin = AgentPlugin(AgentPluginConfig())
    ctx = await _context(storage, "agentnone", _inputs(1))
    transition = await plugin.handle(ctx)
    assert transition.phase is Phase.PERMANENT_FAILURE
    assert TASK_TYPE in transition.reason


async def test_the_agent_server_flyteplane_start_runs_is_restarted_when_it_dies_and_its_task_completes(
    storage: Storage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from launcher.agent_server import AgentServer

    monkeypatch.setenv("FLYTEPLANE_TEST_AGENT_DIR", str(tmp_path / "agent"))
    server = AgentServer(
        flytekit_bin().parent,
        _free_port(),
        tmp_path / "agent-server.log",
        modules=["flyteplane_test_agent"],
        python_path=[AGENT_CODE],
        restart_delay_seconds=0.2,
    )
    await server.start()
    # As `flyteplane start` builds it: not waiting for the server, which is still importing flytekit.
    plugin = await create(
        {
            "default_agent": {"endpoint": server.endpoint},
            "poll_interval_seconds": 0.2,
            "max_poll_interval_seconds": 1.0,
            "discovery_timeout_seconds": 0,
        }
    )
    try:
        assert TASK_TYPE not in plugin.task_types
        ctx = await _context(storage, "supervised", _inputs(7, seconds=5))
        transition = await plugin.handle(ctx)  # the default agent is waited for
        while transition.phase is not Phase.RUNNING:
            assert not transition.phase.is_terminal, transition.reason
            await asyncio.sleep(0.2)
            ctx = dataclasses.replace(ctx, plugin_state=transition.state)
            transition = await plugin.handle(ctx)
        ctx = dataclasses.replace(ctx, plugin_state=transition.state)
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGKILL)
        done = await drive(plugin, ctx, time_limit=120)
        assert done.phase is Phase.SUCCESS, done.reason
        assert await _output(storage, ctx) == 14
        for _ in range(50):  # asked every second until it answers
            if TASK_TYPE in plugin.task_types:
                break
            await asyncio.sleep(0.1)
        assert TASK_TYPE in plugin.task_types and "sensor" in plugin.task_types
        assert server.starts == 2
        assert (tmp_path / "agent" / "creates.log").read_text().split() == ["supervised-n0-0"]
    finally:
        await plugin.aclose()
        await server.stop()
