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
   refuses with a fatal error and serves no more. EOF on stdin ends the serving too. Either way the
   server forks no more, and exits once the attempts it started are recorded.
3. Per attempt, one *task process*, forked ahead of time so that starting an attempt costs no fork; it
   starts a session of its own at once and waits. Given an attempt, the server keeps the cold runner's
   guarantees (`plugins.local.runner`) itself: it takes the attempt's `run.lock` (or reports it as
   another runner's, or as finished when `status.json` exists), writes `runner.json` naming the task
   process (a session leader: its group is its pid), replies `started`, hands the attempt over and forks
   the next spare. The task process redirects stdin to /dev/null and stdout/stderr to the attempt's log,
   enters the attempt's sandbox (isolation on: `plugins.local.sandbox`, which makes it the project's
   user; the server stays root), applies the memory limit, enters the working directory, replaces its
   environment with the attempt's, and calls flytekit's `pyflyte-execute` or `pyflyte-map-execute`
   command in-process with the attempt's arguments. It then ends the way the console script would (the
   command's exit status, non-daemon threads joined, atexit handlers run), minus the interpreter's final
   teardown of modules: it reports its exit status to the server and waits. The server removes the
   attempt's scratch directories, writes `status.json` (from the report, or from the process's death
   when there was none), kills the attempt's process group -- the waiting task process and whatever it
   left -- and lets go of the lock, exactly as the cold runner does; so re-attaching after a propeller
   restart, abort and the exit-status rules do not care which path started an attempt, and the recorded
   runner is alive until its status is written. A spare forked before the server imported a request's
   task modules is discarded (EOF on its pipe) for a fresh one that shares them.

One fork per attempt: a process of its own for the task, nothing more. The server reaps its task processes
itself, once their status is recorded; a task process that died without a report stays a zombie until then, and
the plugin, finding it dead and its lock still held, waits for the status. A task process sees ordinary child
handling.
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
from collections.abc import Callable
from pathlib import Path
from typing import IO, NoReturn

from ..attempt import claim, make_scratch, process_start_time, record_status, write_json_atomically
from ..protocol import (
    RECORD,
    Answer,
    AttemptRequest,
    RunnerRecord,
    WarmSettings,
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
    write_inputs,
)

# Native threads of libraries that stop and restart them around fork() themselves.
FORK_SAFE_NATIVE_THREADS = frozenset({"jemalloc_bg_thd"})  # jemalloc, bundled by pyarrow

# A spare task process's word that it is in a session of its own, one byte on its ready pipe.
READY = b"R"
# Without pidfds (Linux before 5.3), how often the server looks for task processes that died without a report.
_POLL_SECONDS = 0.05


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


def _read_line(fd: int) -> bytes:
    """One line from the pipe `fd` (without its newline); b"" if its writer closed it first."""
    parts = []
    while chunk := os.read(fd, 1 << 16):
        parts.append(chunk)
        if chunk.endswith(b"\n"):
            return b"".join(parts)[:-1]
    return b""


def _write_all(fd: int, data: bytes) -> None:
    """Writes `data` to the pipe `fd`, which stays open."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class TaskProcess:
    """A spare task process: waits for its attempt, becomes its `pyflyte-execute`, never returns."""

    def __init__(self, request_fd: int, ready_fd: int, report_fd: int, server_env: dict[str, str]) -> None:
        self.request_fd = request_fd
        self.report_fd = report_fd  # the exit status goes here, then the process waits for the server to record it
        self.server_env = server_env
        # A session (and process group) of its own, the attempt's, before the server may record it as such.
        os.setsid()
        os.write(ready_fd, READY)
        os.close(ready_fd)

    def run(self) -> NoReturn:
        """Runs the console script's command and exits with its status."""
        data = _read_line(self.request_fd)
        if not data:
            os._exit(0)  # the spare was discarded before it got an attempt
        request = decode_request(data)
        try:
            command = self._prepare(request)
        except BaseException:  # as the interpreter reports an uncaught exception
            sys.excepthook(*sys.exc_info())
            code = 1
        else:
            code = call(command)
        _exit(code, self.report_fd, self.request_fd)

    def _prepare(self, request: AttemptRequest) -> Callable[[], object]:
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
        write_inputs(request)
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


def _exit(code: int, report_fd: int, request_fd: int) -> NoReturn:
    """Exits as the interpreter would -- non-daemon threads joined, atexit handlers run, output flushed --
    but without tearing down the modules inherited from the server, which costs a few hundred
    milliseconds and has no effect outside the process (multiprocessing's forked workers do the same).

    The status goes to the server on `report_fd`; the process then waits, alive, until the server has recorded
    it and ends the attempt's process group (or is gone: EOF on `request_fd`), so the recorded runner outlives
    the recording of its status."""
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
    with contextlib.suppress(OSError):
        os.read(request_fd, 1)
    os._exit(code)


class _Running:
    """An attempt a task process of this server runs: what the server needs to record its end."""

    def __init__(self, pid: int, request: AttemptRequest, lock: IO[str], request_fd: int, report_fd: int) -> None:
        self.pid = pid
        self.attempt = Path(request["attempt"])
        self.memory_limit_bytes = request["memory_limit_bytes"]
        self.fsync_status = request["fsync_status"]
        self.lock = lock  # held until the status is recorded
        self.request_fd = request_fd  # open while the task process waits for that
        self.report_fd = report_fd
        self.reported = b""
        self.pidfd = -1
        with contextlib.suppress(AttributeError, OSError):  # without pidfds: polled (`_POLL_SECONDS`)
            self.pidfd = os.pidfd_open(pid)

    def fds(self) -> list[int]:
        return [fd for fd in (self.report_fd, self.pidfd) if fd >= 0]

    def release(self) -> None:
        """Lets go of the lock and the pipes (the status is recorded); the pidfd stays, to reap the process."""
        with contextlib.suppress(OSError):
            self.lock.close()
        for fd in (self.request_fd, self.report_fd):
            if fd >= 0:
                os.close(fd)
        self.request_fd = self.report_fd = -1

    def close(self) -> None:
        self.release()
        if self.pidfd >= 0:
            os.close(self.pidfd)
            self.pidfd = -1

    def exit_status(self, readable: set[int]) -> int | None:
        """The task process's exit status as `os.waitstatus_to_exitcode` gives it, once it has one: as it reported
        it, else from its death (a signal, or an exit that skipped the report) -- read without reaping it, so that
        the recorded runner stays until its status is written; None while it runs."""
        if self.report_fd in readable:
            chunk = b""
            with contextlib.suppress(OSError):
                chunk = os.read(self.report_fd, 64)
            self.reported += chunk
            if self.reported.endswith(b"\n"):
                return int(self.reported)
            if not chunk:  # closed without a report: its death says the rest
                os.close(self.report_fd)
                self.report_fd = -1
        if self.pidfd >= 0 and self.pidfd not in readable:
            return None
        try:
            result = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:  # reaped already (it cannot be: only this server reaps it)
            return -signal.SIGKILL
        if result is None:
            return None
        if result.si_code == os.CLD_EXITED:
            return result.si_status
        return -result.si_status


class _Spare:
    """The server's end of a forked spare task process."""

    def __init__(self, pid: int, request_fd: int, ready_fd: int, report_fd: int) -> None:
        self.pid = pid
        self.request_fd = request_fd
        self.ready_fd = ready_fd
        self.report_fd = report_fd
        self.gone = False

    def wait_ready(self) -> bool:
        """Whether the spare is in its own session by now (False: it died)."""
        if self.ready_fd >= 0:
            ready = os.read(self.ready_fd, 1) == READY
            os.close(self.ready_fd)
            self.ready_fd = -1
            if not ready:
                self.discard()
        return not self.gone

    def discard(self) -> None:
        """EOF on its request: it exits (reaped here)."""
        for fd in (self.request_fd, self.ready_fd, self.report_fd):
            if fd >= 0:
                os.close(fd)
        self.request_fd = self.ready_fd = self.report_fd = -1
        self.gone = True
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


class Server:
    """The serving loop, which also supervises the attempts it started; `serve` returns only in a forked spare."""

    def __init__(self, channel: Channel, server_env: dict[str, str]) -> None:
        self.channel = channel
        self.server_env = server_env
        self.forks = 0
        self.failed_imports: set[str] = set()
        self.running: dict[int, _Running] = {}
        self.ended: list[_Running] = []  # recorded, killed, not reaped yet
        self.exit_code: int | None = None  # set when the server serves no more

    def serve(self) -> TaskProcess:
        """Answers requests, keeping a spare forked ahead so that an attempt starts without a fork; records the end
        of every attempt it started. At EOF (or after a fatal refusal) it stops forking, and exits once those
        attempts are recorded."""
        requests = self.channel.requests.fileno()
        forked = self._fork_spare()
        spare = forked if isinstance(forked, _Spare) else None
        while not isinstance(forked, TaskProcess):  # a TaskProcess: we are the forked spare
            if self.exit_code is not None and spare is not None:
                spare.discard()
                spare = None
            if self.exit_code is not None and not self.running and not self.ended:
                sys.exit(self.exit_code)
            readable = self._wait(requests if self.exit_code is None else -1)
            self._supervise(readable)
            if requests not in readable or self.exit_code is not None:
                continue
            request = self.channel.next_request()
            if request is None:
                self.exit_code = 0
                continue
            if self._import_task_modules(request) and spare is not None:
                spare.discard()  # forked before those imports: a fresh one shares them
                spare = None
            if spare is None:
                forked = self._fork_spare()
                if not isinstance(forked, _Spare):
                    if not isinstance(forked, TaskProcess):  # a refusal; a TaskProcess ends the loop
                        self._answer(forked)
                    continue
                spare = forked
            self._answer(self._assign(spare, request))
            if self.exit_code is None and (spare.pid in self.running or spare.gone):
                forked = self._fork_spare()  # handed over, or dead: the next one, off this attempt's path
                spare = forked if isinstance(forked, _Spare) else None
        return forked

    def _answer(self, reply: Answer) -> None:
        self.channel.send(reply)
        if reply.get("fatal"):
            self.exit_code = 1  # the pool stops this server; the attempts running are still recorded

    def _wait(self, requests: int) -> set[int]:
        """The descriptors ready among the pool's `requests` (-1: none) and the running attempts' (waits for one)."""
        poll = select.poll()
        fds = [requests] if requests >= 0 else []
        for running in self.running.values():
            fds.extend(running.fds())
        fds.extend(ended.pidfd for ended in self.ended if ended.pidfd >= 0)
        for fd in fds:
            poll.register(fd, select.POLLIN)
        polled = any(r.pidfd < 0 for r in (*self.running.values(), *self.ended))
        return {fd for fd, _ in poll.poll(_POLL_SECONDS * 1000 if polled else None)}

    def _supervise(self, readable: set[int]) -> None:
        """Records the attempts that ended (status.json, as the cold runner writes it), kills what they left in their
        process groups, and reaps the task processes once recorded."""
        for ended in list(self.ended):
            if ended.pidfd < 0 or ended.pidfd in readable:
                with contextlib.suppress(ChildProcessError):
                    if os.waitpid(ended.pid, os.WNOHANG)[0] == 0:
                        continue
                ended.close()
                self.ended.remove(ended)
        for pid, running in list(self.running.items()):
            code = running.exit_status(readable)
            if code is None:
                continue
            del self.running[pid]
            try:
                status = status_of_returncode(code)
                record_status(running.attempt, status, running.memory_limit_bytes, durable=running.fsync_status)
            except OSError:  # the attempt's directory is gone: nobody is left to read the status
                traceback.print_exc()
            # Leftovers of the task die with it, and so does the task process, which waits for this.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            running.release()
            self.ended.append(running)

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

    def _fork_spare(self) -> _Spare | TaskProcess | Answer:
        threads = settle_threads()
        if threads:
            message = f"threads are running in the fork server ({', '.join(threads)}); forking would break them"
            return refusal(message, fatal=True)
        sys.stdout.flush()
        sys.stderr.flush()
        pipes = [os.pipe() for _ in range(3)]  # request (server -> task), ready and report (task -> server)
        try:
            pid = os.fork()
        except OSError as exc:
            for pipe in pipes:
                for fd in pipe:
                    os.close(fd)
            return refusal(f"fork failed: {exc}", fatal=False)
        (request_read, request_write), (ready_read, ready_write), (report_read, report_write) = pipes
        if pid == 0:
            for fd in (request_write, ready_read, report_read):
                os.close(fd)
            self.channel.close()
            for other in (*self.running.values(), *self.ended):  # other attempts' locks and pipes are not ours
                other.close()
            return TaskProcess(request_read, ready_write, report_write, self.server_env)
        for fd in (request_read, ready_write, report_write):
            os.close(fd)
        return _Spare(pid, request_write, ready_read, report_read)

    def _assign(self, spare: _Spare, request: AttemptRequest) -> Answer:
        """Claims the attempt, records the spare as its runner and hands the attempt over to it."""
        if not spare.wait_ready():
            return refusal("the spare task process exited before it got an attempt", fatal=False)
        attempt = Path(request["attempt"])
        reply: Answer = {"ok": True, "pid": spare.pid, "forks": self.forks, "rss": resident_bytes()}
        try:
            lock = claim(attempt)
        except OSError as exc:
            return refusal(f"cannot claim the attempt: {exc}", fatal=False)
        if isinstance(lock, str):  # another runner owns this attempt, or it ran already
            reply["result"] = "busy" if lock == "busy" else "done"
            return reply
        # The task process is the runner on record: a session leader (its group is its pid), and alive until the
        # server has recorded its status. Not fsynced: the record only matters while it lives.
        record: RunnerRecord = {
            "pid": spare.pid,
            "pgid": spare.pid,
            "start_time": process_start_time(spare.pid),
            "started_at": time.time(),
            "warm": True,
            "server_pid": os.getpid(),
        }
        try:
            write_json_atomically(attempt / RECORD, record, durable=False)
        except OSError as exc:
            lock.close()
            return refusal(f"cannot record the attempt's runner: {exc}", fatal=False)
        with contextlib.suppress(OSError):  # the task process reports a working directory it cannot enter
            make_scratch(attempt, request["cwd"])
        self.running[spare.pid] = _Running(spare.pid, request, lock, spare.request_fd, spare.report_fd)
        with contextlib.suppress(BrokenPipeError):  # the task process is gone: its exit status says why
            _write_all(spare.request_fd, json.dumps(request).encode() + b"\n")
        self.forks += 1
        reply["forks"] = self.forks
        reply["result"] = "started"
        reply["record"] = {"pid": spare.pid, "pgid": spare.pid, "start_time": record["start_time"]}
        return reply


def _start(settings: WarmSettings) -> Server:
    server_env = dict(os.environ)
    channel, import_seconds = start(settings)
    threads = settle_threads()
    if threads:
        channel.refuse_to_start(f"threads run after the imports ({', '.join(threads)}): cannot fork")
    gc.freeze()  # shared with every child: keep their collector off it (fewer copied pages, shorter pauses)
    channel.ready(import_seconds)
    return Server(channel, server_env)


def main() -> None:
    server = _start(decode_settings(sys.argv[1]))
    task = server.serve()  # returns only in a forked task process
    task.run()


if __name__ == "__main__":
    main()
