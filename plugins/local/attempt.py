"""The attempt directory as every runner of an attempt uses it: claiming it, recording who runs it, writing its files.

A runner -- the cold runner, a fork server, a reuse worker -- `claim`s the attempt (its lock, unless
another runner holds it or the attempt ran already), writes `runner_record` to runner.json, runs the attempt and
writes its status.json; each JSON file is replaced atomically (`write_json_atomically`). The plugin and the warm
pool read them back. Standard library only, runnable by any Python from 3.9 on (see `plugins.local.launch`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, Literal

from .protocol import ELEMENT_INPUTS, LOCK, SCRATCH_DIRECTORIES, STATUS, TMP_DIRECTORY, AttemptStatus, RunnerRecord


def claim(attempt: Path) -> IO[str] | Literal["busy", "done"]:
    """The attempt's lock, taken for this process (held until the file is closed or the process exits); or why
    not: another runner holds it (`busy`), or the attempt ran already (`done`)."""
    lock = (attempt / LOCK).open("a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        return "busy"
    if (attempt / STATUS).exists():
        lock.close()
        return "done"
    return lock


def runner_record() -> RunnerRecord:
    """This process as the runner of its attempt: pid, process group, kernel start time, and now."""
    pid = os.getpid()
    return {"pid": pid, "pgid": os.getpgid(0), "start_time": process_start_time(pid), "started_at": time.time()}


def process_start_time(pid: int) -> int | None:
    """The kernel's start time of `pid` (clock ticks since boot), or None where /proc cannot tell."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the command name, which may itself hold spaces and parentheses.
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[19])


def write_json_atomically(path: Path, value: Mapping[str, Any], *, durable: bool = True) -> None:
    """Replaces `path` with `value` (readers see the old file or the new one); `durable`: fsynced first."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temp.open("w", encoding="utf-8") as handle:
        json.dump(value, handle)
        if durable:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(temp, path)


def make_scratch(attempt: Path, cwd: str) -> None:
    """Makes the attempt's TMPDIR and its working directory (the attempt's own, or its environment's), before the
    task starts; an isolated attempt's are there already, made for its user."""
    (attempt / TMP_DIRECTORY).mkdir(exist_ok=True)
    Path(cwd).mkdir(parents=True, exist_ok=True)


def clear_scratch(attempt: Path) -> None:
    """Removes the attempt's scratch directories and a map element's inputs: the task has ended, nothing reads them
    any more. A runner may (it is the plane's user, or root, outside any sandbox); what it cannot remove stays for the
    plugin's own clean-up."""
    for name in SCRATCH_DIRECTORIES:
        shutil.rmtree(attempt / name, ignore_errors=True)
    # None (not a map element), or not the runner's to remove: the plugin's clean-up does it.
    with contextlib.suppress(OSError):
        (attempt / ELEMENT_INPUTS).unlink()


def record_status(
    attempt: Path, status: AttemptStatus, memory_limit_bytes: int | None, *, durable: bool = True
) -> None:
    """How the attempt's command ended, recorded as every runner records it, last: its scratch directories removed,
    then status.json written (with the end time and the memory limit the command ran under)."""
    clear_scratch(attempt)
    status["finished_at"] = time.time()
    status["memory_limit_bytes"] = memory_limit_bytes
    write_json_atomically(attempt / STATUS, status, durable=durable)


def log_tail(path: Path, size: int) -> str:
    """The last `size` bytes of a log (the task's, a runner's errors), as text; "" if there is none."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - size))
            return handle.read().decode(errors="replace")
    except FileNotFoundError:
        return ""
