"""The `local` backend's warm fork servers: started, handed attempts, recycled and restarted from the event loop.

One pool per `LocalPlugin`. Servers (`plugins.local_warm_server`, run by the task environment's
python) are grouped by `plugins.local_warm.ServerKey` -- interpreter, starting environment, code
bundle, preloads -- with up to `servers_per_environment` per key and `max_servers` in all.

- `readiness(key)` says whether an attempt of that key can start warm now (`READY`), should wait for
  a server that is starting (`WARMING`; the caller's wake callback fires once it is ready or has
  failed), or must take the cold path (`COLD`: the key's servers failed to start within
  `retry_after_seconds`, or no server can be made room for). It starts servers as needed.
- `start_attempt(key, request)` hands one attempt to a ready server and returns the supervisor's
  answer (`started`, `busy`, `done`) with its pid, or None when the server died, hung or refused:
  the caller then starts the attempt cold. That is safe because the supervisor takes the attempt's
  lock before it records or runs anything, exactly like the cold runner: whichever gets the lock
  runs the attempt, the other finds its record.
- After each attempt a server that has forked `recycle_after_forks` times or grown beyond
  `recycle_rss_bytes` is replaced: a new one starts and the old one keeps serving until it is ready,
  then gets EOF and exits. A server that dies otherwise is replaced at once (`restart_dead`) unless
  it died before serving an attempt, which sends its key to the cold path for `retry_after_seconds`
  (as does a server that cannot start, or cannot fork safely because threads run in it). Servers unused
  for `idle_seconds` are stopped, except the pre-warmed ones of the default environment.

Stopping a server never stops the attempts it started: their supervisors run in sessions of their own.
A code bundle is downloaded and extracted once, here, into the directory its key names, before its
first server starts.
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
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from flyteplane.storage import Storage
from plugins import local_warm_server
from plugins.config import WarmPoolConfig
from plugins.local_command import local_path
from plugins.local_warm import WARM_DIR, ServerKey

log = logging.getLogger(__name__)

_SERVER_SCRIPT = Path(local_warm_server.__file__).resolve()
_COMPLETE = ".flyteplane-complete"
_STOP_GRACE_SECONDS = 2.0
_LOG_TAIL_BYTES = 2000


class Readiness(enum.Enum):
    READY = "ready"
    WARMING = "warming"
    COLD = "cold"


@dataclass(frozen=True)
class Started:
    """A server's answer to an attempt: `started` (pid: its supervisor), `busy` (another runner has it) or `done`."""

    result: str
    pid: int
    server_pid: int


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


@dataclass(eq=False)
class _Slot:
    """The servers of one key, and who waits for them."""

    servers: list[_Server] = field(default_factory=list)
    starting: int = 0
    waiters: list[Callable[[], None]] = field(default_factory=list)
    cold_until: float = 0.0
    pinned: bool = False  # pre-warmed: not stopped for idleness
    last_used: float = 0.0


class WarmPool:
    """Fork servers by key; see the module docstring."""

    def __init__(self, config: WarmPoolConfig, work_dir: Path, answer_timeout_seconds: float = 30.0) -> None:
        self.config = config
        self.root = work_dir / WARM_DIR
        self.answer_timeout_seconds = answer_timeout_seconds
        self._slots: dict[ServerKey, _Slot] = {}
        self._processes: set[_Server] = set()  # every server not yet reaped, whether or not in a slot
        self._launches: set[asyncio.Task[None]] = set()
        self._background: set[asyncio.Task[None]] = set()  # monitors and reapers
        self._bundle_locks: dict[str, asyncio.Lock] = {}
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

    async def start_attempt(self, key: ServerKey, request: dict[str, Any]) -> Started | None:
        """Hands the attempt to a ready server; None when none took it (the caller starts it cold)."""
        slot = self._slots.get(key)
        server = self._pick(slot) if slot is not None else None
        if slot is None or server is None:
            return None
        server.pending += 1
        try:
            async with server.lock:
                reply = await self._exchange(server, request)
        finally:
            server.pending -= 1
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
        server.forks = int(reply.get("forks", server.forks + 1))
        server.rss = int(reply.get("rss", 0))
        self._maybe_recycle(key, slot, server)
        return Started(str(reply["result"]), int(reply["pid"]), server.process.pid)

    def servers(self) -> list[ServerInfo]:
        return [
            ServerInfo(key, s.process.pid, s.forks, s.rss, s.retiring)
            for key, slot in self._slots.items()
            for s in slot.servers
            if not s.stopping
        ]

    async def aclose(self) -> None:
        """Stops every server (attempts they started keep running) and waits for them to exit."""
        self._closed = True
        for task in list(self._launches):
            task.cancel()
        for task in list(self._launches):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        servers = list(self._processes)
        for server in servers:
            self._stop(server)
        await asyncio.gather(*(self._reap(server) for server in servers))
        for task in list(self._background):
            task.cancel()
        for task in list(self._background):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for slot in self._slots.values():
            self._wake(slot)

    # -- servers ------------------------------------------------------------------------------------

    def _live(self) -> int:
        return sum(len(slot.servers) + slot.starting for slot in self._slots.values())

    def _fill(self, key: ServerKey, slot: _Slot, storage: Storage | None) -> None:
        """Starts servers until `key` has `servers_per_environment` that are not being replaced."""
        current = sum(1 for s in slot.servers if not s.retiring and not s.stopping) + slot.starting
        for _ in range(self.config.servers_per_environment - current):
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
        else:
            slot.servers.append(server)
            self._processes.add(server)
            self._spawn_background(self._monitor(server), f"warm-monitor-{server.process.pid}")
            for old in [s for s in slot.servers if s.retiring and not s.stopping]:
                self._stop(old)  # its replacement is ready
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
        settings = json.dumps({"script_dir": key.script_dir, "preload": list(key.preload)})
        errors = await asyncio.to_thread(_open_log, log_path)
        with errors:
            process = await asyncio.create_subprocess_exec(
                key.python, str(_SERVER_SCRIPT), settings,
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
        ready = _decode(line)
        if not ready.get("ready"):
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            tail = await asyncio.to_thread(_tail, log_path)
            log.warning("warm fork server for %s did not start: %s\n%s", _describe(key), ready.get("error"), tail)
            return None
        now = time.monotonic()
        log.info(
            "warm fork server %d ready for %s (%.2fs of imports)",
            process.pid,
            _describe(key),
            ready.get("import_seconds", 0.0),
        )
        return _Server(key, process, log_path, last_used=now, rss=int(ready.get("rss", 0)))

    async def _monitor(self, server: _Server) -> None:
        await server.process.wait()
        if server.stopping or self._closed:
            return
        self._kill(server)
        tail = await asyncio.to_thread(_tail, server.log_path)
        log.warning("warm fork server %d died (status %s)\n%s", server.process.pid, server.process.returncode, tail)

    async def _exchange(self, server: _Server, request: dict[str, Any]) -> dict[str, Any] | None:
        process = server.process
        if process.returncode is not None or server.stopping:
            return None
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(json.dumps(request).encode() + b"\n")
            await process.stdin.drain()
            line = await asyncio.wait_for(process.stdout.readline(), self.answer_timeout_seconds)
        except (ConnectionError, TimeoutError) as exc:
            log.warning("warm fork server %d did not answer: %r", process.pid, exc)
            line = b""
        if not line:
            log.warning("warm fork server %d is gone or hung; the attempt starts cold", process.pid)
            self._kill(server)  # a replacement comes, unless it never served
            return None
        return _decode(line)

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
        server.stopping = True
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

    async def _reap(self, server: _Server) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(server.process.wait()), _STOP_GRACE_SECONDS)
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
            if await asyncio.to_thread((target / _COMPLETE).exists):
                return
            temp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
            await asyncio.to_thread(shutil.rmtree, temp, True)
            await asyncio.to_thread(temp.mkdir, parents=True)
            archive = temp / key.bundle_uri.rstrip("/").rsplit("/", 1)[-1]
            source = local_path(key.bundle_uri)
            if "://" not in source:
                await asyncio.to_thread(shutil.copyfile, source, archive)
            else:
                if storage is None:
                    raise RuntimeError(f"no store to read {key.bundle_uri} from")
                handle = await asyncio.to_thread(archive.open, "wb")
                try:
                    async for chunk in storage.read_stream(key.bundle_uri):
                        await asyncio.to_thread(handle.write, chunk)
                finally:
                    await asyncio.to_thread(handle.close)
            await asyncio.to_thread(_extract, archive, temp)
            await asyncio.to_thread(_publish, temp, target)


def _extract(archive: Path, destination: Path) -> None:
    with tarfile.open(archive) as bundle:
        bundle.extractall(destination, filter="data")
    (destination / _COMPLETE).touch()


def _publish(temp: Path, target: Path) -> None:
    try:
        temp.rename(target)
    except OSError:  # another process published it first
        if not (target / _COMPLETE).exists():
            raise
        shutil.rmtree(temp, ignore_errors=True)


def _open_log(path: Path) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("wb")


def _tail(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - _LOG_TAIL_BYTES))
            return handle.read().decode(errors="replace")
    except FileNotFoundError:
        return ""


def _decode(line: bytes) -> dict[str, Any]:
    try:
        value = json.loads(line) if line else {}
    except ValueError:
        return {"ok": False, "error": f"unreadable answer {line[:200]!r}"}
    return value if isinstance(value, dict) else {"ok": False, "error": f"unexpected answer {line[:200]!r}"}


def _describe(key: ServerKey) -> str:
    return f"{key.python} (bundle {key.bundle_uri})" if key.bundle_uri else key.python
