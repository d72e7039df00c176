"""A warm fork-server of the `local` backend: forks task attempts from a process that has already imported flytekit.

Started by `plugins.local.warm.pool` as `<task environment's python> launch.py server <settings JSON>`
(`plugins.local.launch`), so flytekit is only ever imported in the task environment's own interpreter. Standard
library only at module level, and runnable by any Python from 3.9 on (task environments choose their own). The
messages it reads and writes are `plugins.local.protocol`'s.

Life of a server:

1. Start: `sys.path[0]` becomes the directory of the environment's console scripts (as when
   `pyflyte-execute` runs), flytekit's entrypoint and the `preload` modules are imported, threads
   they started and that can be stopped are (`settle_threads`), and one `Ready` line is written to stdout
   (not ready, with the error, before exiting 1).
2. Serve: one `AttemptRequest` per line on stdin, one `Answer` per line on stdout, in order. A request
   names an attempt directory and what to run there; before forking, the server imports the task
   modules the request lists (those of an immutable code bundle; in the attempt's working directory
   with its `sys.argv`, under the task's variables it was started with) and checks that it runs no other
   thread (a fork would copy a thread's locks but not the thread; only native threads of libraries
   that handle fork themselves, like jemalloc's, are let be); a server that cannot get rid of one
   refuses with a fatal error and exits. EOF on stdin ends the server; attempts it started keep
   running.
3. Per attempt, a pair of processes that keeps the cold path's guarantees (`plugins.local.runner`),
   forked ahead of time so that starting an attempt costs no fork: the *supervisor* starts a session
   of its own and forks the *task process* into it, and both wait. Given an attempt, the supervisor
   takes its `run.lock` (or reports it as another runner's, or as finished when `status.json`
   exists), writes `runner.json`, tells the server (which replies `started` with the supervisor's
   pid and forks the next pair), hands the attempt to the task process, waits for it, writes
   `status.json` and kills what the task left in its process group -- exactly as the cold runner
   does, so re-attaching after a propeller restart, abort and the exit-status rules do not care
   which path started an attempt. The *task process* redirects stdin to /dev/null and stdout/stderr
   to the attempt's log, enters the attempt's sandbox (isolation on: `plugins.local.sandbox`, which makes it the
   project's user; the server and supervisor stay root), applies the memory limit, enters the working
   directory, replaces its environment with the attempt's, and calls flytekit's `pyflyte-execute` or
   `pyflyte-map-execute` command in-process with the attempt's arguments; it then exits the way the console script would
   (the command's exit status, non-daemon threads joined, atexit handlers run), minus the
   interpreter's final teardown of modules. A pair forked before the server imported a request's
   task modules is discarded (EOF on its pipe) for a fresh one that shares them.

The server ignores SIGCHLD, so the kernel reaps its supervisors; a supervisor restores the default
before it forks, so the task process (and whatever it runs) sees ordinary child handling.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import json
import os
import resource
import select
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

from ..attempt import claim, clear_scratch, make_scratch, process_start_time, runner_record, write_json_atomically
from ..protocol import (
    RECORD,
    RUNNER_ERRORS,
    STATUS,
    Answer,
    AttemptRequest,
    AttemptStatus,
    Result,
    WarmSettings,
    attempt_status,
    decode_request,
    decode_settings,
    refusal,
    status_of_returncode,
)
from ..sandbox import enter as enter_sandbox
from .interpreter import (
    Channel,
    call,
    enter,
    flytekit_loop_runners,
    logging_variables,
    loop_thread,
    memory_limit_kind,
    redirect_output,
    reset_flytekit_logging,
    resident_bytes,
    start,
    unpack_bundle,
)

# Native threads of libraries that stop and restart them around fork() themselves.
FORK_SAFE_NATIVE_THREADS = frozenset({"jemalloc_bg_thd"})  # jemalloc, bundled by pyarrow

# A supervisor's word to the server, one byte on its notify pipe.
STARTED, BUSY, DONE = b"S", b"B", b"D"
_RESULTS: Mapping[bytes, Result] = MappingProxyType({STARTED: "started", BUSY: "busy", DONE: "done"})
_FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def other_threads() -> list[str]:
    """Threads besides the main one that make a fork unsafe: Python's, and native ones not known to handle it."""
    python = {t.native_id: t.name for t in threading.enumerate() if t is not threading.main_thread()}
    names = list(python.values())
    try:
        tasks = [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:
        return names
    for tid in tasks:
        if tid == threading.main_thread().native_id or tid in python:
            continue
        try:
            comm = Path(f"/proc/self/task/{tid}/comm").read_text().strip()
        except OSError:
            continue  # it ended
        if comm not in FORK_SAFE_NATIVE_THREADS:
            names.append(f"native thread {tid} ({comm})")
    return names


def quiesce_flytekit() -> None:
    """Stops the event-loop threads flytekit's `run_sync` started (importing a workflow module does).

    flytekit keeps one loop thread per (thread name, pid) and starts a new one in a forked child, so a
    stopped one is simply started again when the server itself needs it. Were the internals different
    (another flytekit version), the threads stay and `other_threads` keeps the server from forking.
    """
    runners = flytekit_loop_runners()
    for key, runner in list(runners.items()):
        loop = getattr(runner, "_TaskRunner__loop", None)
        thread = loop_thread(runner)
        if loop is None or thread is None:
            continue
        with contextlib.suppress(RuntimeError):  # already closed
            loop.call_soon_threadsafe(loop.stop)
        thread.join(5.0)
        if not thread.is_alive():
            del runners[key]


def settle_threads() -> list[str]:
    """The threads still running once those that can be stopped are: flytekit's event loop, and native
    pools that stop themselves around a fork (OpenBLAS, which numpy loads, does) -- a trial fork lets them."""
    quiesce_flytekit()
    if not other_threads():
        return []
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    with contextlib.suppress(ChildProcessError):  # reaped already where SIGCHLD is ignored
        os.waitpid(pid, 0)
    return other_threads()


def _read_to_eof(fd: int) -> bytes:
    """Everything written to the pipe `fd` until its writer closes it; closes `fd`."""
    parts = []
    try:
        while chunk := os.read(fd, 1 << 16):
            parts.append(chunk)
    finally:
        os.close(fd)
    return b"".join(parts)


def _write_all(fd: int, data: bytes) -> None:
    """Writes `data` to the pipe `fd` and closes it (the reader then sees EOF)."""
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


class TaskProcess:
    """The task process of a spare pair: waits for its attempt, becomes its `pyflyte-execute`, never returns."""

    def __init__(
        self, request_fd: int, report_fd: int, handlers: dict[signal.Signals, Any], server_env: dict[str, str]
    ) -> None:
        self.request_fd = request_fd
        self.report_fd = report_fd  # the exit status goes here first, so the supervisor need not await our teardown
        self.handlers = handlers
        self.server_env = server_env

    def run(self) -> NoReturn:
        """Runs the console script's command and exits with its status."""
        data = _read_to_eof(self.request_fd)
        if not data:
            os._exit(0)  # the pair was discarded before it got an attempt
        request = decode_request(data)
        try:
            command = self._prepare(request)
        except BaseException:  # as the interpreter reports an uncaught exception
            sys.excepthook(*sys.exc_info())
            code = 1
        else:
            code = call(command)
        _exit(code, self.report_fd)

    def _prepare(self, request: AttemptRequest) -> Callable[[], object]:
        for signum, handler in self.handlers.items():
            signal.signal(signum, handler)  # what the server had (flytekit sets SIGINT's at import)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        redirect_output(request["log"])  # opened as root: the log is the plane's file
        sandbox = request.get("sandbox")
        if sandbox is not None:  # isolation on: the task's own namespace and user, before any of its code runs
            enter_sandbox(sandbox)
        limit = request["memory_limit_bytes"]
        if limit is not None:
            resource.setrlimit(memory_limit_kind(request), (limit, limit))
        unpack_bundle(request)
        os.chdir(request["cwd"])
        command = enter(request)
        self._fresh_process_state(request["env"])
        return command

    def _fresh_process_state(self, env: dict[str, str]) -> None:
        """What a new interpreter would not share with its siblings: RNG state, flytekit's env-driven logging."""
        numpy = sys.modules.get("numpy")
        if numpy is not None:  # numpy, unlike `random`, does not reseed itself in a forked child
            with contextlib.suppress(Exception):
                numpy.random.seed()
        # Nor does flytekit's own generator (a `random.Random` of its own), which names every attempt's working
        # directory and upload locations: unseeded, sibling attempts would share them.
        flytekit_random = sys.modules.get("flytekit.interfaces.random")
        if flytekit_random is not None:
            with contextlib.suppress(Exception):
                flytekit_random.random.seed()
        if logging_variables(env) != logging_variables(self.server_env):
            reset_flytekit_logging()


def _exit(code: int, report_fd: int) -> NoReturn:
    """Exits as the interpreter would -- non-daemon threads joined, atexit handlers run, output flushed --
    but without tearing down the modules inherited from the server, which costs a few hundred
    milliseconds and has no effect outside the process (multiprocessing's forked workers do the same).
    The status is reported on `report_fd` first: unmapping this process's memory takes milliseconds more."""
    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None:
        with contextlib.suppress(Exception):
            shutdown()
    with contextlib.suppress(Exception):
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    with contextlib.suppress(OSError):
        os.write(report_fd, b"%d\n" % (code & 0xFF))  # what waitpid would say
    os._exit(code)


def _exit_status(child: int, report_fd: int) -> int:
    """The task process's exit status as `os.waitstatus_to_exitcode` gives it: as it reports it once it is
    done (before the kernel has unmapped it), else from its death (a signal, or an exit that skipped it)."""
    pidfd = -1
    with contextlib.suppress(AttributeError, OSError):
        pidfd = os.pidfd_open(child)
    reported = b""
    try:
        while pidfd >= 0:  # otherwise waitpid alone: the pipe may outlive the task in processes it forked
            readable, _, _ = select.select([report_fd, pidfd], [], [])
            if report_fd in readable:
                chunk = os.read(report_fd, 64)
                reported += chunk
                if reported.endswith(b"\n"):
                    return int(reported)
                if chunk:
                    continue
            break  # the task process ended without a report
    finally:
        os.close(report_fd)
        if pidfd >= 0:
            os.close(pidfd)
    _, wait_status = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(wait_status)


class Supervisor:
    """The supervisor of a spare pair: the cold runner's duties for the one attempt it is given."""

    def __init__(self, assignment_fd: int, notify_fd: int, server_env: dict[str, str]) -> None:
        self.assignment_fd = assignment_fd
        self.notify_fd = notify_fd
        self.server_env = server_env
        self.errors: Path | None = None

    def supervise(self) -> TaskProcess:
        """Runs one attempt; returns only in the forked task process."""
        try:
            return self._supervise()
        except BaseException:  # whatever happens, the server's code below must not run here
            with contextlib.suppress(Exception):
                if self.errors is not None:
                    with self.errors.open("a") as errors:
                        errors.write(traceback.format_exc())
                else:
                    traceback.print_exc()
            os._exit(1)

    def _notify(self, result: bytes) -> None:
        if self.notify_fd >= 0:
            os.write(self.notify_fd, result)
            os.close(self.notify_fd)
            self.notify_fd = -1

    def _supervise(self) -> TaskProcess:
        # A session (and process group) of its own, entered before the task process is forked into it.
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        handlers = {signum: signal.getsignal(signum) for signum in _FORWARDED}
        request_read, request_write = os.pipe()
        report_read, report_write = os.pipe()
        child = os.fork()
        if child == 0:
            for fd in (request_write, report_read, self.assignment_fd, self.notify_fd):
                os.close(fd)
            return TaskProcess(request_read, report_write, handlers, self.server_env)
        os.close(request_read)
        os.close(report_write)

        data = _read_to_eof(self.assignment_fd)
        if not data:  # discarded by the server, or the server is gone
            self._abandon(child)
        request = decode_request(data)
        attempt = Path(request["attempt"])
        self.errors = attempt / RUNNER_ERRORS
        lock = claim(attempt)  # held until the supervisor exits
        if isinstance(lock, str):
            self._notify(BUSY if lock == "busy" else DONE)  # another runner owns this attempt, or it ran already
            self._abandon(child)
        pid = os.getpid()
        record = runner_record()
        record["warm"], record["server_pid"] = True, os.getppid()
        # Not fsynced: the record only matters while this process lives, which a machine crash ends too.
        write_json_atomically(attempt / RECORD, record, durable=False)

        received: list[int] = []

        def forward(signum: int, _frame: object) -> None:
            # A signal sent to the supervisor alone (not to the group) still reaches the task.
            received.append(signum)
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signum)

        for signum in _FORWARDED:
            signal.signal(signum, forward)
        status: AttemptStatus
        if received:  # stopped before it started
            self._notify(STARTED)
            os.kill(child, signal.SIGKILL)
            os.close(request_write)
            os.waitpid(child, 0)
            status = attempt_status(signal_number=received[0])
        else:
            with contextlib.suppress(OSError):  # the task process reports a working directory it cannot enter
                make_scratch(attempt, request["cwd"])
            with contextlib.suppress(BrokenPipeError):  # the task process is gone: its exit status says why
                _write_all(request_write, data)
            self._notify(STARTED)  # after the hand-over: the task starts while the server forks the next pair
            status = status_of_returncode(_exit_status(child, report_read))
        clear_scratch(attempt)
        status["finished_at"] = time.time()
        status["memory_limit_bytes"] = request["memory_limit_bytes"]
        write_json_atomically(attempt / STATUS, status, durable=request["fsync_status"])
        # Leftovers of the task die with it; this kills the supervisor too, which has nothing left to do.
        os.killpg(pid, signal.SIGKILL)
        os._exit(0)  # pragma: no cover - SIGKILL came first

    @staticmethod
    def _abandon(child: int) -> NoReturn:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        os._exit(0)


class _Spare:
    """The server's end of a forked spare pair."""

    def __init__(self, pid: int, assignment_fd: int, notify_fd: int) -> None:
        self.pid = pid
        self.assignment_fd = assignment_fd
        self.notify_fd = notify_fd

    def assign(self, request: bytes) -> bytes:
        """Hands the attempt (an `AttemptRequest`) over; the supervisor's answer (STARTED, BUSY, DONE), b"" if it
        died."""
        with contextlib.suppress(BrokenPipeError):
            _write_all(self.assignment_fd, request)
        try:
            return os.read(self.notify_fd, 1)
        finally:
            os.close(self.notify_fd)

    def discard(self) -> None:
        os.close(self.assignment_fd)  # EOF: the pair exits
        os.close(self.notify_fd)


class Server:
    """The serving loop; `serve` returns only in a forked spare supervisor."""

    def __init__(self, channel: Channel, server_env: dict[str, str]) -> None:
        self.channel = channel
        self.server_env = server_env
        self.forks = 0
        self.failed_imports: set[str] = set()

    def serve(self) -> Supervisor:
        """Answers requests, keeping a spare pair forked ahead so that an attempt starts without a fork."""
        forked = self._fork_spare()
        spare = forked if isinstance(forked, _Spare) else None
        while not isinstance(forked, Supervisor):  # a Supervisor: we are the forked spare
            request = self.channel.next_request()
            if request is None:
                if spare is not None:
                    spare.discard()
                sys.exit(0)
            if self._import_task_modules(request) and spare is not None:
                spare.discard()  # forked before those imports: a fresh pair shares them
                spare = None
            if spare is None:
                forked = self._fork_spare()
                if not isinstance(forked, _Spare):
                    if not isinstance(forked, Supervisor):  # a refusal; a Supervisor ends the loop
                        self._answer(forked)
                    continue
                spare = forked
            self._answer(self._assign(spare, request))
            forked = self._fork_spare()  # the next one, off this attempt's path
            spare = forked if isinstance(forked, _Spare) else None
        return forked

    def _answer(self, reply: Answer) -> None:
        self.channel.send(reply)
        if reply.get("fatal"):
            sys.exit(1)

    def _import_task_modules(self, request: AttemptRequest) -> bool:
        """Imports the request's task modules not imported yet, where and as `pyflyte-execute` would import them
        (the attempt's working directory and `sys.argv`; the variables are the server's, which are the task's);
        whether anything changed."""
        wanted = [name for name in request["modules"] if name not in sys.modules and name not in self.failed_imports]
        if not wanted:
            return False
        cwd, argv = os.getcwd(), sys.argv
        try:
            with contextlib.suppress(OSError):  # the task process copies it again, and reports what fails
                make_scratch(Path(request["attempt"]), request["cwd"])
                unpack_bundle(request)  # module-level code may read the bundle's files
            with contextlib.suppress(OSError):  # gone already: the task process reports that
                os.chdir(request["cwd"])
            sys.argv = [request["script"], *request["args"]]
            for name in wanted:
                try:
                    importlib.import_module(name)
                except BaseException:  # the task process imports it again and reports the error
                    self.failed_imports.add(name)
                    traceback.print_exc()
        finally:
            os.chdir(cwd)
            sys.argv = argv
        gc.freeze()  # what is imported now is shared with every child: keep their collector off it
        return True

    def _fork_spare(self) -> _Spare | Supervisor | Answer:
        threads = settle_threads()
        if threads:
            message = f"threads are running in the fork server ({', '.join(threads)}); forking would break them"
            return refusal(message, fatal=True)
        sys.stdout.flush()
        sys.stderr.flush()
        assignment_read, assignment_write = os.pipe()
        notify_read, notify_write = os.pipe()
        try:
            pid = os.fork()
        except OSError as exc:
            for fd in (assignment_read, assignment_write, notify_read, notify_write):
                os.close(fd)
            return refusal(f"fork failed: {exc}", fatal=False)
        if pid == 0:
            os.close(assignment_write)
            os.close(notify_read)
            self.channel.close()
            return Supervisor(assignment_read, notify_write, self.server_env)
        os.close(assignment_read)
        os.close(notify_write)
        return _Spare(pid, assignment_write, notify_read)

    def _assign(self, spare: _Spare, request: AttemptRequest) -> Answer:
        result = spare.assign(json.dumps(request).encode())
        self.forks += 1
        if result not in _RESULTS:
            return refusal("the attempt's supervisor exited before starting it", fatal=False)
        reply: Answer = {
            "ok": True,
            "result": _RESULTS[result],
            "pid": spare.pid,
            "forks": self.forks,
            "rss": resident_bytes(),
        }
        if result == STARTED:
            # What the supervisor wrote to runner.json (a session leader: its group is its pid), so the plugin
            # need not read it back; gone already if the task was that quick -- then the file tells.
            start_time = process_start_time(spare.pid)
            if start_time is not None:
                reply["record"] = {"pid": spare.pid, "pgid": spare.pid, "start_time": start_time}
        return reply


def _start(settings: WarmSettings) -> Server:
    server_env = dict(os.environ)
    channel, import_seconds = start(settings)
    threads = settle_threads()
    if threads:
        channel.refuse_to_start(f"threads run after the imports ({', '.join(threads)}): cannot fork")
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # supervisors are reaped by the kernel
    gc.freeze()  # shared with every child: keep their collector off it (fewer copied pages, shorter pauses)
    channel.ready(import_seconds)
    return Server(channel, server_env)


def main() -> None:
    server = _start(decode_settings(sys.argv[1]))
    supervisor = server.serve()  # returns only in a forked supervisor
    task = supervisor.supervise()  # returns only in the forked task process
    task.run()


if __name__ == "__main__":
    main()
