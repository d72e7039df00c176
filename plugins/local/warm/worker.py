"""A reuse worker of the `local` backend: runs successive task attempts in one long-lived warm process.

Started by `plugins.local.warm.pool` as `<task environment's python> launch.py worker <settings JSON>`
(`plugins.local.launch`) for environments (or tasks) in reuse mode (`warm_mode: reuse`, FLYTEPLANE_WARM=reuse).
Like a fork server (`plugins.local.warm.server`; `plugins.local.warm.interpreter` is what both do to start and to
enter an attempt) it imports flytekit and the preloads, then answers one `AttemptRequest` per line on stdin
(`plugins.local.protocol`) -- but it runs each attempt itself, in its main thread, instead of forking a process
for it: no fork, no page faults on a fresh copy, and what the first attempt imported lazily (flytekit's type
transformers, the task's module) stays imported for the next.

Per attempt, the worker does what the cold runner and task process do together, then undoes it:

1. takes the attempt's `run.lock` (or answers `busy`, or `done` when `status.json` exists), writes
   `runner.json` -- its own pid, process group and start time, marked `"reuse": true` -- and answers
   `started` with that record;
2. points stdout/stderr (fds 1 and 2) at the attempt's log, applies the memory limit (as a soft
   limit), enters the working directory, replaces its environment with the attempt's, and calls
   flytekit's `pyflyte-execute` / `pyflyte-map-execute` command in-process with the attempt's
   arguments, inside a fresh copy of the contextvars context (flytekit's context stack lives there);
   the exit status is what the console script would exit with; non-daemon threads the task started
   are joined, as an exiting interpreter would;
3. kills what the task left running in the worker's process group (the worker is a child subreaper,
   so orphaned grandchildren stay findable), writes `status.json`, releases the lock, and restores
   its environment, working directory, descriptors, `sys.argv`, `sys.path`, `sys.stdout`/`stderr`,
   signal handlers, temp-dir setting and limit;
4. says `Finished`; when it could not reset cleanly -- a thread the task
   started still runs, the exit status was not 0, the attempt ran out of memory outside flytekit's
   error handling -- it says why (`"recycle"`) and exits, and the pool starts a fresh one.

What successive attempts in one worker share, unlike the fork and cold paths (the price of reuse, and
why it is opt-in): every module's global state (imported modules stay imported; a task that mutates
module globals, caches or monkeypatches is seen by the next attempt), random-number state (not
reseeded), flytekit's process-wide objects (its event-loop thread, fsspec's cached filesystems,
logger handlers -- set up again only when FLYTE_SDK_* logging variables change), atexit handlers (a
task's run when the worker exits, not after each attempt), and the process's memory (growth is bounded
by the pool's `recycle_rss_bytes` and `reuse_max_attempts`). Not shared: environment variables, working
directory, stdout/stderr, flytekit's execution context, threads (or the worker is replaced) and child
processes. A task that calls `os._exit` or crashes the interpreter ends the worker; the pool then
records the attempt's exit status in its place.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import os
import resource
import signal
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from ..attempt import claim, make_scratch, process_start_time, record_status, write_json_atomically
from ..protocol import (
    RECORD,
    Answer,
    AttemptRequest,
    AttemptStatus,
    Finished,
    Ready,
    RunnerRecord,
    attempt_status,
    decode_settings,
    refusal,
)
from . import interpreter

_PR_SET_CHILD_SUBREAPER = 36
_RESTORED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def _children(pid: int) -> list[int]:
    """Direct children of `pid` (all its threads'); None-safe where the kernel lacks the `children` file."""
    found: list[int] = []
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in threads:
        with contextlib.suppress(OSError, ValueError):
            found.extend(int(child) for child in Path(f"/proc/{pid}/task/{tid}/children").read_text().split())
    return found


def leftover_processes() -> list[int]:
    """Descendants of this process in its process group (what `killpg` would reach, but for the worker)."""
    me, group = os.getpid(), os.getpgid(0)
    pending, found = _children(me), []
    while pending:
        pid = pending.pop()
        with contextlib.suppress(OSError):
            if os.getpgid(pid) == group:
                found.append(pid)
        pending.extend(_children(pid))
    return found


def kill_leftovers() -> int:
    """Kills what the attempt left in the worker's process group and reaps finished children; how many it killed."""
    leftovers = leftover_processes()
    for pid in leftovers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for pid in leftovers:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, 0)  # ours as their parent or subreaper; others are reaped by their own parent
    while True:  # zombies the task never waited for
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
    return len(leftovers)


class _Saved:
    """What an attempt may change in the worker's process, captured before it runs."""

    def __init__(self) -> None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        self.environ = dict(os.environ)
        self.cwd = os.getcwd()
        self.argv = list(sys.argv)
        self.path = list(sys.path)
        self.stdout, self.stderr = sys.stdout, sys.stderr
        self.fds = (os.dup(1), os.dup(2))
        self.handlers = {signum: signal.getsignal(signum) for signum in _RESTORED_SIGNALS}
        self.tempdir = tempfile.tempdir
        self.threads = set(threading.enumerate())

    def restore(self) -> None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        sys.stdout, sys.stderr = self.stdout, self.stderr
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os.dup2(self.fds[0], 1)
        os.dup2(self.fds[1], 2)
        for fd in self.fds:
            os.close(fd)
        for signum, handler in self.handlers.items():
            with contextlib.suppress(TypeError, ValueError, OSError):
                signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        os.chdir(self.cwd)
        if os.environ != self.environ:
            os.environ.clear()
            os.environ.update(self.environ)
        sys.argv[:] = self.argv
        sys.path[:] = self.path
        tempfile.tempdir = self.tempdir


class Worker:
    """The serving loop: one attempt at a time, in this process."""

    def __init__(self, channel: interpreter.Channel, server_env: dict[str, str]) -> None:
        self.channel = channel
        self.server_env = server_env
        self.logging_env = interpreter.logging_variables(server_env)
        self.pid = os.getpid()
        self.pgid = os.getpgid(0)
        self.start_time = process_start_time(self.pid)
        self.attempts = 0

    def reply(self, value: Ready | Answer | Finished) -> None:
        """Answers the pool; if it is gone (propeller exited), the attempt in hand still runs to its end and is
        recorded -- a restarted propeller re-attaches to it -- and EOF on the requests then ends the worker."""
        with contextlib.suppress(BrokenPipeError):
            self.channel.send(value)

    def serve(self) -> None:
        """Answers requests until EOF (or until an attempt leaves the worker unfit to go on)."""
        while (request := self.channel.next_request()) is not None:
            if self.attempt(request):
                break

    def attempt(self, request: AttemptRequest) -> str | None:
        """Runs one attempt (if it is this worker's to run); why the worker must be replaced, if it must."""
        attempt = Path(request["attempt"])
        if "sandbox" in request:  # isolated attempts are forked (`plugins.local.warm.plan`): this process is root
            self.reply(refusal("a reuse worker does not run isolated attempts", fatal=False))
            return None
        lock = claim(attempt)
        if isinstance(lock, str):  # another runner owns this attempt, or it ran already
            self.reply({"ok": True, "result": lock, "pid": self.pid})
            return None
        self.attempts += 1
        record: RunnerRecord = {
            "pid": self.pid,
            "pgid": self.pgid,
            "start_time": self.start_time,
            "started_at": time.time(),
            "warm": True,
            "reuse": True,
            "server_pid": self.pid,
            "attempts": self.attempts,
        }
        write_json_atomically(attempt / RECORD, record, durable=False)
        self.reply({"ok": True, "result": "started", "pid": self.pid, "record": record})

        status, recycle = self.run(request)
        record_status(attempt, status, request["memory_limit_bytes"], durable=request["fsync_status"])
        lock.close()
        code = status["exit_code"]
        if code not in (0, None) and not recycle:
            recycle = f"the attempt exited with status {code}"
        self.reply({
            "finished": str(attempt),
            "exit_code": code,
            "recycle": recycle,
            "attempts": self.attempts,
            "rss": interpreter.resident_bytes(),
        })  # fmt: skip
        return recycle

    def run(self, request: AttemptRequest) -> tuple[AttemptStatus, str | None]:
        """The attempt's status (as the cold runner records it), and a reason to replace the worker if it cannot
        go on."""
        status = attempt_status()
        saved = _Saved()
        limit = request["memory_limit_bytes"]
        which = interpreter.memory_limit_kind(request)
        old_limit = resource.getrlimit(which)
        recycle: str | None = None
        try:
            try:
                interpreter.redirect_output(request["log"])
                if limit is not None:
                    hard = old_limit[1]
                    resource.setrlimit(which, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
                make_scratch(Path(request["attempt"]), request["cwd"])
                interpreter.write_inputs(request)
                interpreter.unpack_bundle(request)
                os.chdir(request["cwd"])
            except OSError as exc:  # what the cold runner reports when it cannot start the command
                print(f"cannot start the task: {exc}", file=sys.stderr, flush=True)
                status = attempt_status(start_error=str(exc), error_number=exc.errno)
                return status, None
            command = interpreter.enter(request)
            interpreter.forget_compiled_workflow(request["args"])  # a @dynamic's graph is this call's own
            self._logging(request["env"])
            # A fresh copy of the context: flytekit's context stack lives there. MemoryError propagates (see below).
            status["exit_code"] = contextvars.copy_context().run(interpreter.call, command, passing=(MemoryError,))
            recycle = self._join_threads(saved.threads)
        except MemoryError:
            status["exit_code"], recycle = 1, "the attempt ran out of memory"
            with contextlib.suppress(Exception):
                traceback.print_exc()
        finally:
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(which, old_limit)
            saved.restore()
            kill_leftovers()  # as the cold runner kills what its task left in its process group
        return status, recycle

    def _join_threads(self, before: set[threading.Thread]) -> str | None:
        """Joins the non-daemon threads the attempt started (an exiting interpreter would); why the worker
        cannot go on if daemon threads of the attempt still run (flytekit's own event-loop thread excepted)."""
        for thread in threading.enumerate():
            if thread not in before and not thread.daemon and thread is not threading.current_thread():
                thread.join()
        runners = self._flytekit_loop_threads()
        stray = [t.name for t in threading.enumerate() if t not in before and t.is_alive() and t not in runners]
        if stray:
            return f"threads the attempt started still run ({', '.join(stray)})"
        return None

    @staticmethod
    def _flytekit_loop_threads() -> set[threading.Thread]:
        """flytekit's `run_sync` event-loop threads: started once per thread and kept, as in any process."""
        threads = (interpreter.loop_thread(runner) for runner in interpreter.flytekit_loop_runners().values())
        return {thread for thread in threads if thread is not None}

    def _logging(self, env: dict[str, str]) -> None:
        """Sets flytekit's loggers up again when the attempt's FLYTE_SDK_* variables differ from the last set-up."""
        wanted = interpreter.logging_variables(env)
        if wanted == self.logging_env:
            return
        interpreter.reset_flytekit_logging()
        self.logging_env = wanted


def _set_child_subreaper() -> None:
    """Orphaned descendants of a task become the worker's children (not init's), so they can be found and killed."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def main() -> None:
    server_env = dict(os.environ)
    channel, import_seconds = interpreter.start(decode_settings(sys.argv[1]))
    _set_child_subreaper()
    channel.ready(import_seconds)
    Worker(channel, server_env).serve()


if __name__ == "__main__":
    main()
