"""The supervisor of one local task attempt: runs its command and records the exit where a restarted propeller looks.

Started by `plugins.local.backend` as `python -I launch.py runner <attempt dir>` (`plugins.local.launch`) in a
session (and process group) of its own, so it outlives propeller and `abort` can signal the whole group. Standard
library only, and single-threaded, so it can set resource limits between fork and exec.

Files in the attempt directory (`plugins.local.protocol` names and types them):

- `spec.json` (read): argv, env, cwd, log path, memory limit, sandbox (isolation on: `plugins.local.sandbox`
  fences the task process in and makes it the project's user between fork and exec) -- written by the plugin.
- `run.lock` (held for the runner's lifetime): a second runner of the same attempt exits at once,
  so starting one twice never runs the task twice.
- `runner.json` (written first): pid, process group and start time, to re-attach to and to signal.
  Once it is written the runner says so on its stdout (`RECORDED`) and closes it: whoever started it
  awaits that line instead of polling for the file.
- `task.log`: the command's stdout and stderr.
- `status.json` (written last, atomically): exit code or signal, or why the command could not start.

After the command exits (and its status is recorded) whatever it left running in the group is killed,
as a container's processes die with it.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

from .attempt import claim, make_scratch, record_status, runner_record, write_json_atomically
from .protocol import (
    RECORD,
    RECORDED,
    SPEC,
    RunnerSpec,
    attempt_status,
    decode_spec,
    status_of_returncode,
)
from .sandbox import enter as enter_sandbox


def _limit_memory(kind: str, limit: int | None) -> None:
    if limit is None:
        return
    which = resource.RLIMIT_AS if kind == "address-space" else resource.RLIMIT_DATA
    resource.setrlimit(which, (limit, limit))


def _before_exec(spec: RunnerSpec) -> None:
    """In the task's process, before it execs: its memory limit, and (isolation on) its sandbox and user."""
    _limit_memory(spec["memory_limit_kind"], spec["memory_limit_bytes"])
    sandbox = spec.get("sandbox")
    if sandbox is not None:
        enter_sandbox(sandbox)


def _announce_record() -> None:
    """Tells whoever reads our stdout that runner.json is there, then lets go of it (it may be a pipe to a
    propeller that does not outlive us)."""
    with contextlib.suppress(OSError):  # nobody listens (any more)
        os.write(1, RECORDED)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def run(attempt_dir: Path) -> int:
    lock = claim(attempt_dir)  # held until the runner exits
    if isinstance(lock, str):
        return 0  # another runner owns this attempt, or it ran already
    spec = decode_spec((attempt_dir / SPEC).read_text(encoding="utf-8"))
    pid = os.getpid()
    write_json_atomically(attempt_dir / RECORD, runner_record())
    _announce_record()

    child: subprocess.Popen[bytes] | None = None
    received: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        # A signal sent to the runner alone (not to the group) still reaches the task; one that comes
        # before the task has started is passed on once it has (or keeps it from starting).
        received.append(signum)
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)

    with open(spec["log"], "ab", buffering=0) as log:
        if received:  # stopped before it started
            status = attempt_status(signal_number=received[0])
        else:
            try:
                make_scratch(attempt_dir, spec["cwd"])
                child = subprocess.Popen(
                    spec["argv"],
                    env=spec["env"],
                    cwd=spec["cwd"],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    # The runner has one thread, so running code between fork and exec is safe here.
                    preexec_fn=lambda: _before_exec(spec),  # noqa: PLW1509
                )
            except OSError as exc:
                log.write(f"cannot start {spec['argv'][0]!r}: {exc}\n".encode())
                status = attempt_status(start_error=str(exc), error_number=exc.errno)
            else:
                if received and child.poll() is None:  # a signal that came during Popen
                    child.send_signal(received[0])
                status = status_of_returncode(child.wait())
    record_status(attempt_dir, status, spec["memory_limit_bytes"])
    if os.getpgid(0) == pid:  # only a group of our own: never the group of whoever started us
        # Leftovers of the task die with it; this kills the runner too, which has nothing left to do.
        os.killpg(pid, signal.SIGKILL)
    return 0


def main() -> None:
    sys.exit(run(Path(sys.argv[1])))


if __name__ == "__main__":
    main()
