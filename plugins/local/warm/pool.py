"""The `local` backend's warm fork servers: started, handed attempts, recycled and restarted from the event loop.

One pool per `LocalPlugin`. Servers (`plugins.local.warm.server`, run by the task environment's
python) are grouped by `plugins.local.warm.plan.ServerKey` -- interpreter, starting environment, code
bundle, preloads -- with up to `servers_per_environment` per key and `max_servers` in all.

- `readiness(key)` says whether an attempt of that key can start warm now (`READY`), should wait for
  a server that is starting (`WARMING`; the caller's wake callback fires once it is ready or has
  failed), or must take the cold path (`COLD`: the key's servers failed to start within
  `retry_after_seconds`, or no server can be made room for). It starts servers as needed.
- `start_attempt(key, request)` hands one attempt to a ready server and returns its answer
  (`started`, `busy`, `done`) with the task process's pid, or None when the server died, hung or
  refused: the caller then starts the attempt cold. That is safe because the server takes the
  attempt's lock before it records or runs anything, exactly like the cold runner: whichever gets the
  lock runs the attempt, the other finds its record.
- After each attempt a server that has forked `recycle_after_forks` times or grown beyond
  `recycle_rss_bytes` is replaced: a new one starts and the old one keeps serving until it is ready,
  then gets EOF and exits. A server that dies otherwise is replaced at once (`restart_dead`) unless
  it died before serving an attempt, which sends its key to the cold path for `retry_after_seconds`
  (as does a server that cannot start, or cannot fork safely because threads run in it). Servers unused
  for `idle_seconds` are stopped, except the pre-warmed ones of the default environment.

Stopping a server never stops the attempts it started (they run in sessions of their own): it gets EOF, forks no
more, records their ends and exits once they are recorded -- it is not killed for taking its time, and closing the
pool does not wait for it. Only a server that died or hung is killed; the attempts it was running then end without
a status, as lost processes (retried).
A code bundle is downloaded and extracted once, here, into the directory its key names, before its
first server starts.

Keys in reuse mode (`ServerKey.mode == "reuse"`) have reuse workers (`plugins.local.warm.worker`)
instead: up to `reuse_workers_per_environment` per key, each running one attempt at a time in its own
process. `start_attempt` hands an attempt to an idle worker and returns its `started` answer (with the
worker's record), or queues it (`queued`) when every worker is busy: the queue is served here as soon
as a worker finishes -- no engine round in between -- and the attempt's wake callback fires once it has
started (or could not be). A worker answers again when its attempt is finished and its status.json
written; `running_reuse_attempt` hands out a future for that moment, which is what wakes propeller.
A worker that dies during an attempt has its exit status recorded in the attempt's status.json by the
pool, as the cold runner would have recorded it, and is replaced; one that says it cannot go on
(`recycle`), has run `reuse_max_attempts` attempts or grown beyond `recycle_rss_bytes` is replaced too.
Closing the pool does not stop a worker in the middle of an attempt: it sees EOF, finishes the attempt,
records it and exits, so a restarted propeller finds it the way it finds a forked attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
import os
import shutil
import tarfile
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from flyteplane.storage import Storage
from plugins.common.background import cancel_and_wait, wait_briefly
from plugins.common.command import local_path
from plugins.config import WarmPoolConfig
from plugins.local import launch, protocol
from plugins.local.attempt import log_tail, write_json_atomically
from plugins.local.metrics import SERVER_KINDS, LocalMetrics
from plugins.local.warm.plan import WARM_DIR, ServerKey, bundle_archive

log = logging.getLogger(__name__)

_STOP_GRACE_SECONDS = 2.0
# How long closing the pool waits for its fork servers to exit (one still recording attempts is left to it).
_FORK_SERVER_EXIT_SECONDS = 0.5
_LOG_TAIL_BYTES = 2000


class Readiness(enum.Enum):
    READY = "ready"
    WARMING = "warming"
    COLD = "cold"


@dataclass(frozen=True)
class Started:
    """A server's answer to an attempt: `started` (pid: the task process, or the reuse worker), `busy` (another
    runner has it), `done` (it ran already) or, for reuse workers, `queued` (all busy: it starts when one is free)."""

    result: str
    pid: int
    server_pid: int
    record: protocol.RunnerRecord | None = None  # the runner's record (pid, pgid, start_time), if given


@dataclass(frozen=True)
class ServerInfo:
    """A snapshot of one running server, for tests and diagnostics."""

    key: ServerKey
    pid: int
    forks: int
    rss: int
    retiring: bool


@dataclass(eq=False)
class _Server:
    key: ServerKey
    process: asyncio.subprocess.Process
    log_path: Path
    last_used: float
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    forks: int = 0
    rss: int = 0
    pending: int = 0
    retiring: bool = False
    stopping: bool = False
    killed: bool = False
    attempt: _Queued | None = None  # a reuse worker's current attempt


@dataclass(eq=False)
class _Queued:
    """An attempt for a reuse worker, from `start_attempt` until it is finished (or could not start)."""

    attempt: str
    request: protocol.AttemptRequest
    wake: Callable[[], None]
    started: asyncio.Future[Started | None]
    finished: asyncio.Future[None]
    dispatched: bool = False
    awaited: bool = False  # `start_attempt` waits for its answer (a worker was idle): no wake needed for it
    cancelled: bool = False


@dataclass(eq=False)
class _Slot:
    """The servers of one key, and who waits for them."""

    servers: list[_Server] = field(default_factory=list)
    starting: int = 0
    waiters: list[Callable[[], None]] = field(default_factory=list)
    cold_until: float = 0.0
    pinned: bool = False  # pre-warmed: not stopped for idleness
    last_used: float = 0.0
    idle: list[_Server] = field(default_factory=list)  # reuse workers waiting for an attempt
    queue: deque[_Queued] = field(default_factory=deque)  # attempts waiting for a reuse worker


class WarmPool:
    """Fork servers by key; see the module docstring."""

    def __init__(self, config: WarmPoolConfig, work_dir: Path, answer_timeout_seconds: float = 30.0) -> None:
        self.config = config
        self.metrics: LocalMetrics | None = None  # set by the plugin when the engine has metrics
        self.root = work_dir / WARM_DIR
        self.answer_timeout_seconds = answer_timeout_seconds
        self._slots: dict[ServerKey, _Slot] = {}
        self._processes: set[_Server] = set()  # every server not yet reaped, whether or not in a slot
        self._launches: set[asyncio.Task[None]] = set()
        self._background: set[asyncio.Task[None]] = set()  # monitors and reapers
        self._bundle_locks: dict[str, asyncio.Lock] = {}
        self._reuse_attempts: dict[str, _Queued] = {}  # by attempt directory: queued or running on a reuse worker
        self._sequence = 0
        self._closed = False

    # -- what the plugin asks -----------------------------------------------------------------------

    def readiness(self, key: ServerKey, storage: Storage | None, wake: Callable[[], None]) -> Readiness:
        """Whether an attempt of `key` can start warm now; starts servers for it as needed."""
        now = time.monotonic()
        self._stop_idle(now)
        slot = self._slots.setdefault(key, _Slot())
        slot.last_used = now
        if self._closed or slot.cold_until > now:
            return Readiness.COLD
        self._fill(key, slot, storage)
        if any(not server.stopping for server in slot.servers):
            return Readiness.READY
        if slot.starting:
            slot.waiters.append(wake)
            return Readiness.WARMING
        return Readiness.COLD

    def prewarm(self, key: ServerKey) -> None:
        """Starts `key`'s servers now and keeps them however long they idle."""
        slot = self._slots.setdefault(key, _Slot())
        slot.pinned = True
        slot.last_used = time.monotonic()
        self._fill(key, slot, None)

    async def start_attempt(
        self, key: ServerKey, request: protocol.AttemptRequest, wake: Callable[[], None] = lambda: None
    ) -> Started | None:
        """Hands the attempt to a ready server; None when none took it (the caller starts it cold).

        For a reuse key the answer may be `queued`: `wake` is called once the attempt has started."""
        if key.reuse:
            return await self._start_reuse_attempt(key, request, wake)
        slot = self._slots.get(key)
        if slot is None:
            return None
        while True:
            server = self._pick(slot)
            if server is None:
                return None
            server.pending += 1
            try:
                async with server.lock:
                    if server.stopping and not server.killed:
                        # Retired (its replacement is ready) while this attempt waited for it: a large map waits
                        # here dozens at a time, and starting them all cold would cost a fresh interpreter each.
                        continue
                    reply = await self._exchange(server, request)
            finally:
                server.pending -= 1
            break
        now = time.monotonic()
        server.last_used = slot.last_used = now
        if reply is None:
            return None
        if not reply.get("ok"):
            log.warning(
                "fork server %d (%s) refused an attempt: %s", server.process.pid, key.digest, reply.get("error")
            )
            if reply.get("fatal"):
                slot.cold_until = now + self.config.retry_after_seconds
                self._stop(server)
            return None
        server.forks = reply.get("forks", server.forks + 1)
        server.rss = reply.get("rss", 0)
        self._maybe_recycle(key, slot, server)
        return Started(reply["result"], reply["pid"], server.process.pid, reply.get("record"))

    def running_reuse_attempt(self, attempt: str, worker_pid: int) -> asyncio.Future[None] | None:
        """Resolves once the attempt that reuse worker `worker_pid` of this pool runs is finished and recorded;
        None when none of this pool's workers runs it."""
        item = self._reuse_attempts.get(attempt)
        if item is None or not item.started.done() or item.finished.done():
            return None
        answer = item.started.result()
        if answer is None or answer.result != "started" or answer.server_pid != worker_pid:
            return None
        return item.finished

    def is_queued(self, attempt: str, wake: Callable[[], None] | None = None) -> bool:
        """Whether the attempt waits in this pool for a reuse worker; if so, `wake` (if given) is what its start
        calls from now on."""
        item = self._reuse_attempts.get(attempt)
        if item is None or item.started.done():
            return False
        if wake is not None:
            item.wake = wake
        return True

    async def wait_started(self, attempt: str, wake: Callable[[], None], seconds: float) -> bool:
        """Waits up to `seconds` for a queued attempt to be taken by a worker (or let go); whether it was. While
        this waits, the attempt's start does not call `wake`: the waiter sees it; otherwise `wake` is called."""
        item = self._reuse_attempts.get(attempt)
        if item is None or item.started.done():
            return True
        item.wake = wake
        if seconds <= 0:
            return False
        item.awaited = True
        try:
            return await wait_briefly(item.started, seconds)
        finally:
            item.awaited = False

    def owns_worker(self, pid: int) -> bool:
        """Whether `pid` is a reuse worker this pool started and has not yet seen exit."""
        return any(server.key.reuse and server.process.pid == pid for server in self._processes)

    def cancel_queued(self, attempt: str) -> bool:
        """Takes an attempt that waits for a reuse worker off the queue; whether no worker had been handed it yet (so
        it never ran here). One handed over whose answer has not come may be running: False."""
        item = self._reuse_attempts.get(attempt)
        if item is None or item.started.done():
            return False
        item.cancelled = True
        del self._reuse_attempts[attempt]
        item.started.set_result(None)
        item.finished.set_result(None)
        return not item.dispatched

    def servers(self) -> list[ServerInfo]:
        return [
            ServerInfo(key, s.process.pid, s.forks, s.rss, s.retiring)
            for key, slot in self._slots.items()
            for s in slot.servers
            if not s.stopping
        ]

    async def aclose(self) -> None:
        """Stops every server (attempts they started keep running) and waits for them to exit -- but for reuse
        workers in the middle of an attempt: they see EOF, finish it, record it and exit on their own."""
        self._closed = True
        await cancel_and_wait(self._launches)
        for attempt in list(self._reuse_attempts):
            self.cancel_queued(attempt)
        servers = list(self._processes)
        for server in servers:
            self._stop(server)
        await asyncio.gather(*(self._reap(server) for server in servers if server.key.reuse and server.attempt is None))
        # A fork server exits once the attempts it started are recorded: at once when there are none.
        forking = [asyncio.ensure_future(s.process.wait()) for s in servers if not s.key.reuse]
        if forking:
            await asyncio.wait(forking, timeout=_FORK_SERVER_EXIT_SECONDS)
            for waiting in forking:
                waiting.cancel()
        for server in servers:
            self._forget(server)  # out of the pool, even while still recording attempts
        await cancel_and_wait(self._background)
        for slot in self._slots.values():
            self._wake(slot)

    # -- servers ------------------------------------------------------------------------------------

    def _live(self) -> int:
        return sum(len(slot.servers) + slot.starting for slot in self._slots.values())

    def _wanted(self, key: ServerKey) -> int:
        if not key.reuse:
            return self.config.servers_per_environment
        return self.config.reuse_workers_per_environment or max(2, os.cpu_count() or 2)

    def _fill(self, key: ServerKey, slot: _Slot, storage: Storage | None) -> None:
        """Starts servers until `key` has as many as it should that are not being replaced."""
        current = sum(1 for s in slot.servers if not s.retiring and not s.stopping) + slot.starting
        for _ in range(self._wanted(key) - current):
            if self._live() >= self.config.max_servers and not self._evict(exclude=slot):
                return
            self._launch(key, slot, storage)

    def _evict(self, exclude: _Slot) -> bool:
        """Stops the least recently used idle server of another key; False if there is none."""
        idle = [
            (server.last_used, server)
            for slot in self._slots.values()
            if slot is not exclude
            for server in slot.servers
            if not server.pending and not server.stopping
        ]
        if not idle:
            return False
        _, server = min(idle, key=lambda item: item[0])
        self._stop(server)
        self._forget(server)
        return True

    def _stop_idle(self, now: float) -> None:
        """Stops servers idle beyond `idle_seconds`, and forgets keys nothing is left of."""
        limit = self.config.idle_seconds
        for key, slot in list(self._slots.items()):
            if slot.pinned:
                continue
            for server in list(slot.servers):
                if limit is not None and not server.pending and not server.stopping and now - server.last_used > limit:
                    self._stop(server)
                    self._forget(server)
            if not slot.servers and not slot.starting and not slot.waiters and slot.cold_until <= now:
                del self._slots[key]

    def _launch(self, key: ServerKey, slot: _Slot, storage: Storage | None) -> None:
        slot.starting += 1
        task = asyncio.create_task(self._start_server(key, slot, storage), name=f"warm-start-{key.digest}")
        self._launches.add(task)
        task.add_done_callback(self._launches.discard)

    async def _start_server(self, key: ServerKey, slot: _Slot, storage: Storage | None) -> None:
        server: _Server | None = None
        try:
            server = await self._spawn(key, storage)
        except asyncio.CancelledError:
            raise
        except Exception:  # any failure sends the key to the cold path for a while
            log.exception("cannot start a warm fork server for %s; running its tasks cold", _describe(key))
        finally:
            slot.starting -= 1
        if server is None:
            slot.cold_until = time.monotonic() + self.config.retry_after_seconds
            self._dispatch(slot)  # attempts queued for reuse workers that will not come start another way
        else:
            slot.servers.append(server)
            self._processes.add(server)
            if self.metrics is not None:
                self.metrics.servers_started.labels(_kind(key)).inc()
                self.count()
            self._spawn_background(self._monitor(server), f"warm-monitor-{server.process.pid}")
            for old in [s for s in slot.servers if s.retiring and not s.stopping and s.attempt is None]:
                self._stop(old)  # its replacement is ready
            if key.reuse:
                slot.idle.append(server)
                self._dispatch(slot)
        self._wake(slot)

    def _spawn_background(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coroutine, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _spawn(self, key: ServerKey, storage: Storage | None) -> _Server | None:
        if key.bundle_uri:
            await self._prepare_bundle(key, storage)
        self._sequence += 1
        log_path = self.root / "servers" / f"{key.digest}-{os.getpid()}-{self._sequence}.log"
        settings: protocol.WarmSettings = {"script_dir": key.script_dir, "preload": list(key.preload)}
        command = launch.command(key.python, "worker" if key.reuse else "server", json.dumps(settings))
        errors = await asyncio.to_thread(_open_log, log_path)
        with errors:
            process = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=errors,
                cwd=self.root, env=key.server_env, start_new_session=True,
            )  # fmt: skip
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), self.config.start_timeout_seconds)
        except TimeoutError:
            line = b""
        except asyncio.CancelledError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await asyncio.shield(process.wait())
            raise
        ready = protocol.decode_ready(line)
        if not ready["ready"]:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            tail = await asyncio.to_thread(log_tail, log_path, _LOG_TAIL_BYTES)
            log.warning("warm fork server for %s did not start: %s\n%s", _describe(key), ready.get("error"), tail)
            return None
        now = time.monotonic()
        log.info(
            "warm %s %d ready for %s (%.2fs of imports)",
            "reuse worker" if key.reuse else "fork server",
            process.pid,
            _describe(key),
            ready.get("import_seconds", 0.0),
        )
        return _Server(key, process, log_path, last_used=now, rss=ready.get("rss", 0))

    async def _monitor(self, server: _Server) -> None:
        await server.process.wait()
        if server.stopping or self._closed:
            return
        self._kill(server)
        tail = await asyncio.to_thread(log_tail, server.log_path, _LOG_TAIL_BYTES)
        log.warning("warm fork server %d died (status %s)\n%s", server.process.pid, server.process.returncode, tail)

    async def _exchange(self, server: _Server, request: protocol.AttemptRequest) -> protocol.Answer | None:
        process = server.process
        if process.returncode is not None or server.stopping:
            return None
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(protocol.encode(request))
            await process.stdin.drain()
            line = await asyncio.wait_for(process.stdout.readline(), self.answer_timeout_seconds)
        except (ConnectionError, TimeoutError) as exc:
            log.warning("warm fork server %d did not answer: %r", process.pid, exc)
            line = b""
        if not line:
            log.warning("warm fork server %d is gone or hung; the attempt starts cold", process.pid)
            self._kill(server)  # a replacement comes, unless it never served
            return None
        return protocol.decode_answer(line)

    def _pick(self, slot: _Slot) -> _Server | None:
        candidates = [s for s in slot.servers if not s.stopping and s.process.returncode is None]
        if not candidates:
            return None
        return min(candidates, key=lambda s: (s.retiring, s.pending, s.forks))

    def _maybe_recycle(self, key: ServerKey, slot: _Slot, server: _Server) -> None:
        limit = self.config.recycle_rss_bytes
        worn = server.forks >= self.config.recycle_after_forks or (limit is not None and server.rss > limit)
        if worn and not server.retiring:
            log.info(
                "recycling warm fork server %d after %d forks (%d bytes resident)",
                server.process.pid,
                server.forks,
                server.rss,
            )
            server.retiring = True
            self._fill(key, slot, None)
            if not slot.starting:  # no replacement is coming (no room): stop it now
                self._stop(server)

    def _stop(self, server: _Server) -> None:
        """Ends the server gracefully: EOF on its requests (none is in flight while nobody holds its lock)."""
        if server.stopping:
            return
        server.stopping = True
        stdin = server.process.stdin
        if stdin is not None and not stdin.is_closing():
            stdin.close()
        self._spawn_background(self._reap(server), f"warm-stop-{server.process.pid}")

    def _kill(self, server: _Server) -> None:
        """Ends a server that died or hung, and replaces it -- unless it never served: then its key goes cold."""
        if server.killed:
            return
        server.killed = server.stopping = True
        with contextlib.suppress(ProcessLookupError):
            server.process.kill()
        self._forget(server)
        self._spawn_background(self._reap(server), f"warm-reap-{server.process.pid}")
        slot = self._slots.get(server.key)
        if slot is None or self._closed:
            return
        now = time.monotonic()
        if not server.forks:
            slot.cold_until = max(slot.cold_until, now + self.config.retry_after_seconds)
        if self.config.restart_dead and slot.cold_until <= now:
            self._fill(server.key, slot, None)
        self._dispatch(slot)

    async def _reap(self, server: _Server) -> None:
        # A reuse worker in the middle of an attempt finishes and records it first, however long that takes; a fork
        # server records the attempts it started.
        busy = server.attempt is not None or not server.key.reuse
        grace = None if busy and not server.killed else _STOP_GRACE_SECONDS
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(server.process.wait()), grace)
        if server.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                server.process.kill()
            await server.process.wait()
        self._forget(server)
        self._processes.discard(server)
        if server.process.returncode == 0:  # a clean stop: nothing in its log worth keeping
            with contextlib.suppress(OSError):
                await asyncio.to_thread(server.log_path.unlink)

    def _forget(self, server: _Server) -> None:
        slot = self._slots.get(server.key)
        if slot is not None and server in slot.servers:
            slot.servers.remove(server)
            self.count()
        if slot is not None and server in slot.idle:
            slot.idle.remove(server)

    def count(self) -> None:
        """Sets the pool-size gauge (its servers that are alive, by kind) after a change."""
        if self.metrics is None:
            return
        alive = dict.fromkeys(SERVER_KINDS, 0)
        for key, slot in self._slots.items():
            alive[_kind(key)] += len(slot.servers)
        for kind, count in alive.items():
            self.metrics.servers.labels(kind).set(count)

    # -- reuse workers ------------------------------------------------------------------------------

    async def _start_reuse_attempt(
        self, key: ServerKey, request: protocol.AttemptRequest, wake: Callable[[], None]
    ) -> Started | None:
        slot = self._slots.get(key)
        if slot is None or self._closed:
            return None
        attempt = request["attempt"]
        current = self._reuse_attempts.get(attempt)
        if current is not None:  # asked again while it waits for a worker, or while it starts
            current.wake = wake
            return current.started.result() if current.started.done() else Started("queued", 0, 0)
        if all(s.stopping for s in slot.servers) and not slot.starting:
            return None
        loop = asyncio.get_running_loop()
        item = _Queued(attempt, request, wake, loop.create_future(), loop.create_future())
        self._reuse_attempts[attempt] = item
        slot.queue.append(item)
        slot.last_used = time.monotonic()
        self._dispatch(slot)
        if not item.dispatched:
            return Started("queued", 0, 0)
        item.awaited = True  # its answer comes back here: no need to wake propeller for it
        return await asyncio.shield(item.started)

    def _dispatch(self, slot: _Slot) -> None:
        """Hands queued attempts to idle reuse workers; lets them go if no worker is left to take them."""
        while slot.queue and slot.idle:
            item = slot.queue.popleft()
            if item.cancelled:
                continue
            worker = slot.idle.pop()
            if worker.stopping or worker.process.returncode is not None:
                slot.queue.appendleft(item)
                continue
            item.dispatched = True
            worker.attempt = item
            worker.pending += 1
            self._spawn_background(self._run_on(slot, worker, item), f"warm-reuse-{worker.process.pid}")
        if slot.queue and not slot.starting and not any(not s.stopping for s in slot.servers):
            # Nothing will serve them (the workers died and cannot be restarted now): they start another way.
            while slot.queue:
                self._give_back(slot.queue.popleft(), None)

    def _give_back(self, item: _Queued, answer: Started | None) -> None:
        """Settles an attempt's start; wakes its caller unless it waits for the answer itself."""
        if item.started.done():
            return
        item.started.set_result(answer)
        if answer is None or answer.result != "started":
            self._reuse_attempts.pop(item.attempt, None)
            if not item.finished.done():
                item.finished.set_result(None)
        if not item.awaited and not item.cancelled:
            item.wake()

    async def _run_on(self, slot: _Slot, worker: _Server, item: _Queued) -> None:
        """One attempt on one reuse worker: hand it over, settle its start, then its end; then the next."""
        process = worker.process
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(protocol.encode(item.request))
            await process.stdin.drain()
            line = await asyncio.wait_for(process.stdout.readline(), self.answer_timeout_seconds)
        except (ConnectionError, TimeoutError) as exc:
            log.warning("reuse worker %d did not answer: %r", process.pid, exc)
            line = b""
        reply = protocol.decode_answer(line) if line else None
        answer: Started | None = None
        if reply is not None and reply["ok"]:
            answer = Started(reply["result"], reply["pid"], process.pid, reply.get("record"))
        elif reply is not None:
            log.warning("reuse worker %d refused an attempt: %s", process.pid, reply.get("error"))
        if answer is not None and answer.result == "started":
            worker.forks += 1
            self._give_back(item, answer)
            notice = await self._finished(worker, item)
        elif reply is None:  # gone before answering: if it took the attempt, its exit status is the attempt's
            taken = await self._record_death(worker, item)
            self._give_back(item, Started("started", process.pid, process.pid) if taken else None)
            notice = None
        else:
            self._give_back(item, answer)
            notice = None
        worker.pending -= 1
        worker.attempt = None
        worker.last_used = slot.last_used = time.monotonic()
        self._reuse_attempts.pop(item.attempt, None)
        if not item.finished.done():
            item.finished.set_result(None)  # wakes whoever watches the attempt
        if notice is not None:
            worker.rss = notice["rss"]
            if notice["recycle"]:  # it exits by itself
                log.info("reuse worker %d is replaced: %s", process.pid, notice["recycle"])
                self._stop(worker)
                self._forget(worker)
                self._fill(worker.key, slot, None)
        if not worker.stopping and process.returncode is None and not self._closed:
            self._maybe_retire(slot, worker)
        if not worker.stopping and process.returncode is None and not self._closed:
            slot.idle.append(worker)
        self._dispatch(slot)

    async def _finished(self, worker: _Server, item: _Queued) -> protocol.Finished | None:
        """The worker's notice that the attempt is finished and recorded; None if it died first (then its exit
        status is recorded for the attempt here)."""
        process = worker.process
        assert process.stdout is not None
        try:
            line = await process.stdout.readline()
        except (ConnectionError, ValueError):
            line = b""
        notice = protocol.decode_finished(line) if line else None
        if notice is not None and notice["finished"] == item.attempt:
            return notice
        if line:
            log.warning("reuse worker %d answered out of turn: %r", process.pid, line[:200])
        await self._record_death(worker, item)
        return None

    def _maybe_retire(self, slot: _Slot, worker: _Server) -> None:
        limit = self.config.recycle_rss_bytes
        if worker.forks >= self.config.reuse_max_attempts or (limit is not None and worker.rss > limit):
            log.info(
                "replacing reuse worker %d after %d attempts (%d bytes resident)",
                worker.process.pid,
                worker.forks,
                worker.rss,
            )
            self._stop(worker)
            self._forget(worker)
            self._fill(worker.key, slot, None)

    async def _record_death(self, worker: _Server, item: _Queued) -> bool:
        """Ends the worker that went silent and records its exit status as the attempt's, if it had taken the
        attempt and not recorded it; whether it had taken it. It is given a moment to exit by itself first: a
        kill racing its death would reap it early and lose that status."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(worker.process.wait()), _STOP_GRACE_SECONDS)
        self._kill(worker)
        returncode = await worker.process.wait()
        limit = item.request["memory_limit_bytes"]
        return await asyncio.to_thread(_record_exit, Path(item.attempt), worker.process.pid, returncode, limit)

    @staticmethod
    def _wake(slot: _Slot) -> None:
        waiters, slot.waiters = slot.waiters, []
        for wake in waiters:
            wake()

    # -- code bundles -------------------------------------------------------------------------------

    async def _prepare_bundle(self, key: ServerKey, storage: Storage | None) -> None:
        """Downloads and extracts the key's bundle into its directory, once (what pyflyte-fast-execute does)."""
        target = Path(key.bundle_dir)
        lock = self._bundle_locks.setdefault(key.bundle_dir, asyncio.Lock())
        async with lock:
            if await asyncio.to_thread((target / protocol.BUNDLE_COMPLETE).exists):
                return
            temp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
            await asyncio.to_thread(shutil.rmtree, temp, True)
            await asyncio.to_thread(temp.mkdir, parents=True)
            archive = temp / bundle_archive(key.bundle_uri)
            await download(key.bundle_uri, archive, storage)
            await asyncio.to_thread(_extract, archive, temp)
            await asyncio.to_thread(_publish, temp, target)


def _record_exit(attempt: Path, pid: int, returncode: int, memory_limit_bytes: int | None) -> bool:
    """status.json for an attempt whose runner `pid` died without writing it; whether `pid` had taken the attempt."""
    try:
        record = protocol.decode_record(json.loads((attempt / protocol.RECORD).read_text()))
    except (OSError, ValueError):
        return False
    if record["pid"] != pid:
        return False
    if (attempt / protocol.STATUS).exists():
        return True
    status: protocol.AttemptStatus = {
        **protocol.status_of_returncode(returncode),
        "finished_at": time.time(),
        "memory_limit_bytes": memory_limit_bytes,
        "recorded_by": "warm pool",
    }
    write_json_atomically(attempt / protocol.STATUS, status)
    return True


async def download(uri: str, target: Path, storage: Storage | None) -> None:
    """`uri` (a local path or a store's object) copied to `target`."""
    source = local_path(uri)
    if "://" not in source:
        await asyncio.to_thread(shutil.copyfile, source, target)
        return
    if storage is None:
        raise RuntimeError(f"no store to read {uri} from")
    handle = await asyncio.to_thread(target.open, "wb")
    try:
        async for chunk in storage.read_stream(uri):
            await asyncio.to_thread(handle.write, chunk)
    finally:
        await asyncio.to_thread(handle.close)


def _extract(archive: Path, destination: Path) -> None:
    with tarfile.open(archive) as bundle:
        bundle.extractall(destination, filter="data")
    (destination / protocol.BUNDLE_COMPLETE).touch()


def _publish(temp: Path, target: Path) -> None:
    try:
        temp.rename(target)
    except OSError:  # another process published it first
        if not (target / protocol.BUNDLE_COMPLETE).exists():
            raise
        shutil.rmtree(temp, ignore_errors=True)


def _open_log(path: Path) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("wb")


def _kind(key: ServerKey) -> str:
    return "reuse_worker" if key.reuse else "fork_server"


def _describe(key: ServerKey) -> str:
    return f"{key.python} (bundle {key.bundle_uri})" if key.bundle_uri else key.python
