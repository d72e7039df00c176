"""A warm fork-server of the `local` backend: forks task attempts from a process that has already imported flytekit.

Started by `plugins.local_warm_pool` as `<task environment's python> local_warm_server.py <settings JSON>`,
so flytekit is only ever imported in the task environment's own interpreter. Standard library only at
module level, and runnable by any Python from 3.9 on (task environments choose their own).

Life of a server:

1. Start: `sys.path[0]` becomes the directory of the environment's console scripts (as when
   `pyflyte-execute` runs), flytekit's entrypoint and the `preload` modules are imported, and one
   JSON line `{"ready": true, ...}` is written to stdout (or `{"error": ...}` before exiting 1).
2. Serve: one JSON request per line on stdin, one JSON reply per line on stdout, in order. A request
   names an attempt directory and what to run there; before forking, the server imports the task
   modules the request lists (those of an immutable code bundle) and checks that it runs no other
   thread (a fork would copy a thread's locks but not the thread). EOF on stdin ends the server;
   attempts it started keep running.
3. Per attempt, two forks, so that an attempt keeps the cold path's guarantees (`plugins.local_runner`):
   the *supervisor* starts a session of its own, takes the attempt's `run.lock` (or reports the
   attempt as another runner's, or as finished when `status.json` exists), writes `runner.json`, tells
   the server (which then replies `started` with the supervisor's pid), forks the task process, waits
   for it, writes `status.json` and kills what the task left in its process group -- exactly as the
   cold runner does, so re-attaching after a propeller restart, abort and the exit-status rules do
   not care which path started an attempt. The *task process* redirects stdin to /dev/null and
   stdout/stderr to the attempt's log, applies the memory limit, enters the working directory,
   replaces its environment with the attempt's, and calls flytekit's `pyflyte-execute` or
   `pyflyte-map-execute` command in-process with the attempt's arguments; it then exits the way the
   console script would (the command's exit status, non-daemon threads joined, atexit handlers run),
   minus the interpreter's final teardown of modules.

The server ignores SIGCHLD, so the kernel reaps its supervisors; a supervisor restores the default
before it forks, so the task process (and whatever it runs) sees ordinary child handling.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import gc
import importlib
import json
import os
import resource
import signal
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import IO, Any, NoReturn

LOCK = "run.lock"
RECORD = "runner.json"
STATUS = "status.json"
RUNNER_ERRORS = "runner.err"

ENTRYPOINTS = {
    "pyflyte-execute": "execute_task_cmd",
    "pyflyte-map-execute": "map_execute_task_cmd",
}
ENTRYPOINT_MODULE = "flytekit.bin.entrypoint"
# Imported at start: the entrypoint and the resolvers the entrypoints name, so a child does not pay for them.
BASE_MODULES = (ENTRYPOINT_MODULE, "flytekit.core.python_auto_container", "flytekit.core.array_node_map_task")

STARTED, BUSY, DONE = b"S", b"B", b"D"
_RESULTS = {STARTED: "started", BUSY: "busy", DONE: "done"}
_FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
_LOGGING_PREFIX = "FLYTE_SDK_"


def process_start_time(pid: int) -> int | None:
    """The kernel's start time of `pid` (clock ticks since boot), or None where /proc cannot tell."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2 :].split()[19])


def resident_bytes() -> int:
    """This process's resident set size."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return pages * os.sysconf("SC_PAGE_SIZE")


def other_threads() -> list[str]:
    """Threads besides the main one: Python's, and native ones /proc counts."""
    names = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    try:
        native = len(os.listdir("/proc/self/task")) - 1
    except OSError:
        native = 0
    return names + [f"native thread {i + 1}" for i in range(max(0, native - len(names)))]


def _write_json(path: Path, value: dict[str, Any], *, durable: bool) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temp.open("w", encoding="utf-8") as handle:
        json.dump(value, handle)
        if durable:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(temp, path)


class TaskProcess:
    """The forked task process: becomes the attempt's `pyflyte-execute` and never returns."""

    def __init__(
        self, request: dict[str, Any], log_fd: int, handlers: dict[int, Any], server_env: dict[str, str]
    ) -> None:
        self.request = request
        self.log_fd = log_fd
        self.handlers = handlers
        self.server_env = server_env

    def run(self) -> NoReturn:
        """Runs the console script's command and exits with its status."""
        try:
            command = self._prepare()
            code = _exit_code(command())  # what the console script does: sys.exit(command())
        except SystemExit as exc:
            code = _exit_code(exc.code)
        except BaseException:  # noqa: BLE001 - as the interpreter reports an uncaught exception
            sys.excepthook(*sys.exc_info())
            code = 1
        _exit(code)

    def _prepare(self) -> Any:
        request = self.request
        for signum, handler in self.handlers.items():
            signal.signal(signum, handler)  # back to what the server had (flytekit sets SIGINT's at import)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.dup2(self.log_fd, 1)
        os.dup2(self.log_fd, 2)
        os.close(self.log_fd)
        limit = request.get("memory_limit_bytes")
        if limit is not None:
            which = resource.RLIMIT_AS if request.get("memory_limit_kind") == "address-space" else resource.RLIMIT_DATA
            resource.setrlimit(which, (limit, limit))
        os.chdir(request["cwd"])
        env: dict[str, str] = request["env"]
        os.environ.clear()
        os.environ.update(env)
        tempfile.tempdir = None  # TMPDIR & co. of this attempt, not the server's
        self._fresh_process_state(env)
        sys.argv = [request["script"], *request["args"]]
        return getattr(importlib.import_module(ENTRYPOINT_MODULE), ENTRYPOINTS[request["entry"]])

    def _fresh_process_state(self, env: dict[str, str]) -> None:
        """What a new interpreter would not share with its siblings: RNG state, flytekit's env-driven logging."""
        numpy = sys.modules.get("numpy")
        if numpy is not None:  # numpy, unlike `random`, does not reseed itself in a forked child
            with contextlib.suppress(Exception):
                numpy.random.seed()
        logging_env = {k: v for k, v in env.items() if k.startswith(_LOGGING_PREFIX)}
        server_logging_env = {k: v for k, v in self.server_env.items() if k.startswith(_LOGGING_PREFIX)}
        if logging_env != server_logging_env:
            loggers = importlib.import_module("flytekit.loggers")
            for logger in (loggers.logger, loggers.user_space_logger, loggers.developer_logger):
                logger.handlers.clear()
            loggers.initialize_global_loggers()


def _exit_code(value: object) -> int:
    """The exit status `sys.exit(value)` gives."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    with contextlib.suppress(Exception):
        print(value, file=sys.stderr)
    return 1


def _exit(code: int) -> NoReturn:
    """Exits as the interpreter would -- non-daemon threads joined, atexit handlers run, output flushed --
    but without tearing down the modules inherited from the server, which costs a few hundred
    milliseconds and has no effect outside the process (multiprocessing's forked workers do the same)."""
    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None:
        with contextlib.suppress(Exception):
            shutdown()
    with contextlib.suppress(Exception):
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


class Supervisor:
    """The forked supervisor of one attempt: the cold runner's duties, without an exec."""

    def __init__(self, request: dict[str, Any], notify_fd: int, server_env: dict[str, str]) -> None:
        self.request = request
        self.notify_fd = notify_fd
        self.server_env = server_env
        self.attempt = Path(request["attempt"])

    def supervise(self) -> TaskProcess:
        """Runs the attempt; returns only in the forked task process."""
        try:
            return self._supervise()
        except BaseException:  # noqa: BLE001 - whatever happens, the server's code below must not run here
            with contextlib.suppress(Exception), (self.attempt / RUNNER_ERRORS).open("a") as errors:
                errors.write(traceback.format_exc())
            os._exit(1)

    def _notify(self, result: bytes) -> None:
        if self.notify_fd >= 0:
            os.write(self.notify_fd, result)
            os.close(self.notify_fd)
            self.notify_fd = -1

    def _supervise(self) -> TaskProcess:
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        lock = (self.attempt / LOCK).open("a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._notify(BUSY)  # another runner owns this attempt
            os._exit(0)
        if (self.attempt / STATUS).exists():
            self._notify(DONE)  # this attempt already ran
            os._exit(0)
        pid = os.getpid()
        # Not fsynced: the record only matters while this process lives, which a machine crash ends too.
        record = {"pid": pid, "pgid": os.getpgid(0), "start_time": process_start_time(pid), "started_at": time.time()}
        _write_json(self.attempt / RECORD, {**record, "warm": True}, durable=False)

        child = 0
        received: list[int] = []
        handlers = {signum: signal.getsignal(signum) for signum in _FORWARDED}

        def forward(signum: int, _frame: object) -> None:
            # A signal sent to the supervisor alone (not to the group) still reaches the task.
            received.append(signum)
            if child > 0:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signum)

        for signum in _FORWARDED:
            signal.signal(signum, forward)
        self._notify(STARTED)

        log_fd = os.open(self.request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        status: dict[str, Any] = {"exit_code": None, "signal": None, "start_error": None, "errno": None}
        if received:  # stopped before it started
            status["signal"] = received[0]
        else:
            try:
                child = os.fork()
            except OSError as exc:
                os.write(log_fd, f"cannot start the task process: {exc}\n".encode())
                status.update(start_error=str(exc), errno=exc.errno)
            else:
                if child == 0:
                    lock.close()  # the lock is the supervisor's
                    return TaskProcess(self.request, log_fd, handlers, self.server_env)
                if received:  # a signal that came while forking
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(child, received[0])
                _, wait_status = os.waitpid(child, 0)
                code = os.waitstatus_to_exitcode(wait_status)
                if code >= 0:
                    status["exit_code"] = code
                else:
                    status["signal"] = -code
        os.close(log_fd)
        status["finished_at"] = time.time()
        status["memory_limit_bytes"] = self.request.get("memory_limit_bytes")
        _write_json(self.attempt / STATUS, status, durable=True)
        # Leftovers of the task die with it; this kills the supervisor too, which has nothing left to do.
        os.killpg(pid, signal.SIGKILL)
        os._exit(0)  # pragma: no cover - SIGKILL came first


class Server:
    """The serving loop; `serve` returns only in a forked supervisor."""

    def __init__(self, control_in: IO[bytes], control_out: IO[bytes], server_env: dict[str, str]) -> None:
        self.control_in = control_in
        self.control_out = control_out
        self.server_env = server_env
        self.forks = 0
        self.failed_imports: set[str] = set()

    def reply(self, value: dict[str, Any]) -> None:
        self.control_out.write(json.dumps(value).encode() + b"\n")
        self.control_out.flush()

    def serve(self) -> Supervisor:
        while True:
            line = self.control_in.readline()
            if not line:
                sys.exit(0)
            try:
                request = json.loads(line)
            except ValueError as exc:
                self.reply({"ok": False, "error": f"unreadable request: {exc}", "fatal": False})
                continue
            outcome = self.start(request)
            if isinstance(outcome, Supervisor):
                return outcome
            self.reply(outcome)
            if outcome.get("fatal"):
                sys.exit(1)

    def _import_task_modules(self, modules: list[str]) -> None:
        for name in modules:
            if name in sys.modules or name in self.failed_imports:
                continue
            try:
                importlib.import_module(name)
            except BaseException:  # noqa: BLE001 - the task process imports it again and reports the error
                self.failed_imports.add(name)
                traceback.print_exc()
            gc.freeze()  # what is imported now is shared with every child: keep their collector off it

    def start(self, request: dict[str, Any]) -> dict[str, Any] | Supervisor:
        self._import_task_modules(list(request.get("modules", ())))
        threads = other_threads()
        if threads:
            message = f"threads are running in the fork server ({', '.join(threads)}); forking would break them"
            return {"ok": False, "error": message, "fatal": True}
        sys.stdout.flush()
        sys.stderr.flush()
        read_fd, write_fd = os.pipe()
        try:
            pid = os.fork()
        except OSError as exc:
            os.close(read_fd)
            os.close(write_fd)
            return {"ok": False, "error": f"fork failed: {exc}", "fatal": False}
        if pid == 0:
            os.close(read_fd)
            self.control_in.close()
            self.control_out.close()
            return Supervisor(request, write_fd, self.server_env)
        os.close(write_fd)
        try:
            result = os.read(read_fd, 1)
        finally:
            os.close(read_fd)
        self.forks += 1
        if result not in _RESULTS:
            return {"ok": False, "error": "the attempt's supervisor exited before starting it", "fatal": False}
        return {"ok": True, "result": _RESULTS[result], "pid": pid, "forks": self.forks, "rss": resident_bytes()}


def _start(settings: dict[str, Any]) -> Server:
    # Control channel on private descriptors; fd 0 becomes /dev/null and fd 1 the server's log (fd 2).
    control_in = os.fdopen(os.dup(0), "rb")
    control_out = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    server = Server(control_in, control_out, dict(os.environ))
    sys.path[0] = settings["script_dir"]  # as for a console script of the environment
    began = time.monotonic()
    try:
        for name in (*BASE_MODULES, *settings.get("preload", ())):
            importlib.import_module(name)
    except BaseException as exc:  # noqa: BLE001 - reported to the pool, which falls back to the cold path
        traceback.print_exc()
        server.reply({"ready": False, "error": f"cannot import {exc!r}"})
        sys.exit(1)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # supervisors are reaped by the kernel
    gc.freeze()  # shared with every child: keep their collector off it (fewer copied pages, shorter pauses)
    server.reply(
        {
            "ready": True,
            "pid": os.getpid(),
            "rss": resident_bytes(),
            "import_seconds": time.monotonic() - began,
            "threads": other_threads(),
        }
    )
    return server


def main() -> None:
    server = _start(json.loads(sys.argv[1]))
    supervisor = server.serve()  # returns only in a forked supervisor
    task = supervisor.supervise()  # returns only in the forked task process
    task.run()


if __name__ == "__main__":
    main()
