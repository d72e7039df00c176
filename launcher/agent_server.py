"""The agent server `flyteplane start` runs: flytekit's agent services from the task environment, supervised.

The process serves flytekit's own AsyncAgentService, SyncAgentService and AgentMetadataService (the servicers
`pyflyte serve agent` serves, with every agent flytekit and its installed plugins register: FileSensor's
`sensor`, the webhook, flytekitplugins-* agents) on a loopback port. It is started the way `pyflyte serve agent`
starts them, but bound to 127.0.0.1 (pyflyte binds every interface, and an agent takes tasks from anyone who
reaches it) and without its Prometheus port (a fixed 9090 that two planes would fight over). A server that
exits is started again after a pause; the tasks it was serving resume, because the agent plugin keeps their
resource meta in its state and polls the new process with it.

Its environment is the plane's own (so credentials in the environment of `flyteplane start`, `AWS_PROFILE`
or `~/.aws` reach agents that call a cloud) with the task environment's `env` over it: the variables that
point the tasks of that environment somewhere (`AWS_ENDPOINT_URL`, say) point its agents there too. Nothing
of it is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

QUICK_EXIT_SECONDS = 10.0  # a server that exits sooner after its start failed to start
MAX_RESTART_DELAY_SECONDS = 60.0

# Run by the task environment's Python (it imports flytekit, which this process never does).
PROGRAM = """
import asyncio, importlib, sys
from concurrent import futures

import grpc
from flyteidl.service import agent_pb2_grpc as services
from flytekit.extend.backend.connector_service import (
    AsyncConnectorService, ConnectorMetadataService, SyncConnectorService,
)
import flytekit.extras.webhook  # noqa: F401  (pyflyte serve agent registers the webhook agent so)

for module in sys.argv[2:]:
    importlib.import_module(module)


async def main() -> None:
    server = grpc.aio.server(futures.ThreadPoolExecutor(max_workers=10))
    services.add_AsyncAgentServiceServicer_to_server(AsyncConnectorService(), server)
    services.add_SyncAgentServiceServicer_to_server(SyncConnectorService(), server)
    services.add_AgentMetadataServiceServicer_to_server(ConnectorMetadataService(), server)
    server.add_insecure_port(sys.argv[1])
    await server.start()
    print("agent server listening on", sys.argv[1], flush=True)
    await server.wait_for_termination()


asyncio.run(main())
"""


def free_loopback_port() -> int:
    """A port on 127.0.0.1 nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def serves_agents(venv: Path) -> bool:
    """Whether `venv` looks like a task environment with flytekit (its `pyflyte` is there)."""
    return (venv / "bin" / "pyflyte").exists()


class AgentServer:
    """One supervised agent server process; `endpoint` is what the agent plugin calls."""

    def __init__(
        self,
        venv: Path,
        port: int,
        log_file: Path,
        *,
        modules: Sequence[str] = (),
        python_path: Sequence[Path] = (),
        environment: Mapping[str, str] | None = None,
        restart_delay_seconds: float = 1.0,
    ) -> None:
        self.venv, self.port, self.log_file = venv, port, log_file
        self.modules = tuple(modules)
        self.python_path = tuple(python_path)
        self.environment = dict(environment or {})
        self.restart_delay_seconds = restart_delay_seconds
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0
        self._supervisor: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Starts the process and its supervisor; returns once the process is spawned (not yet serving)."""
        await self._spawn()
        self._supervisor = asyncio.create_task(self._supervise(), name="agent-server")

    async def _spawn(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["PYTHONUNBUFFERED"] = "1"
        if self.python_path:
            env["PYTHONPATH"] = os.pathsep.join(str(p) for p in self.python_path)
        env.update(self.environment)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        sink = await asyncio.to_thread(open, self.log_file, "ab")
        with sink:  # the child keeps its own descriptor
            self.process = await asyncio.create_subprocess_exec(
                str(self.venv / "bin" / "python"),
                "-c",
                PROGRAM,
                self.endpoint,
                *self.modules,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=sink,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in the terminal stops the plane, which stops this
            )
        self.starts += 1

    async def _supervise(self) -> None:
        delay = self.restart_delay_seconds
        while True:
            assert self.process is not None
            began = time.monotonic()
            code = await self.process.wait()
            if self._stopping:
                return
            # One that cannot start (flytekit without its `agent` extra, say) is retried ever less often.
            quick = time.monotonic() - began < QUICK_EXIT_SECONDS
            delay = min(delay * 2, MAX_RESTART_DELAY_SECONDS) if quick else self.restart_delay_seconds
            log.warning(
                "the agent server exited with %s (its log: %s); starting it again in %.1fs", code, self.log_file, delay
            )
            await asyncio.sleep(delay)
            if self._stopping:
                return
            await self._spawn()

    async def stop(self, grace_seconds: float = 5.0) -> None:
        self._stopping = True
        process = self.process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), grace_seconds)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
