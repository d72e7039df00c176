"""What fork servers and reuse workers share: starting up in the task environment's interpreter, and entering an
attempt's flytekit entrypoint there.

`start` takes the control channel to the pool (`Channel`), imports flytekit's entrypoint and the preloads as a
console script of the environment would see them, and returns once they are imported (or says why not and exits 1);
the caller then says `ready`. `enter` turns the process into the attempt's `pyflyte-execute` (environment,
temp-dir setting, `sys.argv`) and `call` runs it the way its console script would. Standard library only at module
level, runnable by any Python from 3.9 on, like the programs that use it.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any

from ..protocol import (
    BUNDLE_COMPLETE,
    ELEMENT_INPUTS,
    Answer,
    AttemptRequest,
    Finished,
    Ready,
    WarmSettings,
    decode_request,
    encode,
    refusal,
)

ENTRYPOINTS = MappingProxyType({
    "pyflyte-execute": "execute_task_cmd",
    "pyflyte-map-execute": "map_execute_task_cmd",
})  # fmt: skip
ENTRYPOINT_MODULE = "flytekit.bin.entrypoint"
# Imported at start: the entrypoint and the resolvers the entrypoints name, so an attempt does not pay for them.
BASE_MODULES = (ENTRYPOINT_MODULE, "flytekit.core.python_auto_container", "flytekit.core.array_node_map_task")
LOGGING_PREFIX = "FLYTE_SDK_"
# flytekit's default task resolver, as task commands name it: `--resolver <this> -- task-module M task-name T`.
DEFAULT_RESOLVER = "flytekit.core.python_auto_container.default_task_resolver"


def resolved_task(args: list[str] | tuple[str, ...]) -> tuple[str, str] | None:
    """The task module and name the entrypoint arguments name through flytekit's default task resolver; None for
    any other resolver (a pickled task's, a class-based task's) or arguments it does not read that way."""
    try:
        resolver = args[args.index("--resolver") + 1]
        rest = list(args[args.index("--") + 1 :])
    except (ValueError, IndexError):
        return None
    if resolver != DEFAULT_RESOLVER or len(rest) != 4 or rest[0] != "task-module" or rest[2] != "task-name":
        return None
    return rest[1], rest[3]


def forget_compiled_workflow(args: list[str] | tuple[str, ...]) -> None:
    """Drops the workflow flytekit compiled and kept on the task object when the task (a `@dynamic`) last ran in
    this process, so that it compiles this call's graph from this call's inputs. A task module not imported yet
    holds nothing to forget."""
    named = resolved_task(args)
    module = sys.modules.get(named[0]) if named is not None else None
    task = getattr(module, named[1], None) if named is not None and module is not None else None
    if task is not None and getattr(task, "_wf", None) is not None:
        task._wf = None


class Channel:
    """The control channel to the pool, on private descriptors: requests in, answers out, one JSON line each."""

    def __init__(self, requests: IO[bytes], answers: IO[bytes]) -> None:
        self.requests = requests
        self.answers = answers

    def send(self, message: Ready | Answer | Finished) -> None:
        self.answers.write(encode(message))
        self.answers.flush()

    def ready(self, import_seconds: float) -> None:
        self.send({"ready": True, "pid": os.getpid(), "rss": resident_bytes(), "import_seconds": import_seconds})

    def refuse_to_start(self, error: str) -> None:
        """Tells the pool this process cannot serve (it falls back to the cold path), and exits."""
        self.send({"ready": False, "error": error})
        sys.exit(1)

    def next_request(self) -> AttemptRequest | None:
        """The next request; None at EOF (the pool is done with this process). Unreadable ones are refused."""
        while line := self.requests.readline():
            try:
                return decode_request(line)
            except ValueError as exc:
                self.send(refusal(f"unreadable request: {exc}", fatal=False))
        return None

    def close(self) -> None:
        """Lets go of the channel (in a forked child, which must not answer in the pool's place)."""
        self.requests.close()
        self.answers.close()


def start(settings: WarmSettings) -> tuple[Channel, float]:
    """The control channel, once flytekit's entrypoint and the preloads are imported; and how long that took.

    The pool's pipes move to private descriptors: fd 0 becomes /dev/null and fd 1 this process's log (fd 2), so
    what imported code prints cannot garble the channel. A failed import is refused (and this process exits)."""
    channel = Channel(os.fdopen(os.dup(0), "rb"), os.fdopen(os.dup(1), "wb", buffering=0))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.path[0] = settings["script_dir"]  # as for a console script of the environment
    began = time.monotonic()
    try:
        for name in (*BASE_MODULES, *settings.get("preload", [])):
            importlib.import_module(name)
    except BaseException as exc:  # reported to the pool, which falls back to the cold path
        traceback.print_exc()
        channel.refuse_to_start(f"cannot import {exc!r}")
    return channel, time.monotonic() - began


def redirect_output(log: str) -> None:
    """Points stdout and stderr (fds 1 and 2) at the attempt's log."""
    log_fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)


def write_inputs(request: AttemptRequest) -> None:
    """A map task element's inputs handed over in the request, written where its command reads them."""
    data = request.get("inputs")
    if data is None:
        return
    with open(Path(request["attempt"]) / ELEMENT_INPUTS, "wb") as handle:
        handle.write(base64.b64decode(data))


def unpack_bundle(request: AttemptRequest) -> None:
    """The attempt's copy of its code bundle's extracted files, if it has a bundle: made by the task process itself,
    in its sandbox and as its user, before its working directory is entered (the cold path's pyflyte-fast-execute
    unpacks the bundle there too). Copies, not links: a task may write over a file it was shipped, which must not
    change its siblings' bundle -- except for the files nobody rewrites in place, which are linked where the file
    system lets the task's user (`_share`)."""
    bundle = request.get("bundle")
    if not bundle:
        return
    source, destination = Path(bundle[0]), Path(bundle[1])
    archive = bundle[2] if len(bundle) > 2 else ""
    for entry in source.iterdir():
        if entry.name == BUNDLE_COMPLETE:
            continue
        if entry.is_dir():
            shutil.copytree(entry, destination / entry.name, symlinks=True, dirs_exist_ok=True, copy_function=_copy)
        elif entry.name == archive and not entry.is_symlink():
            _share(entry, destination / entry.name)
        else:
            shutil.copy2(entry, destination / entry.name, follow_symlinks=False)


def _copy(source: str, destination: str) -> object:
    """copytree's copy of one file (never a symbolic link: copytree recreates those): bytecode is shared (`_share`),
    anything else copied."""
    if source.endswith(".pyc"):
        return _share(Path(source), Path(destination))
    return shutil.copy2(source, destination, follow_symlinks=False)


def _share(source: Path, destination: Path) -> Path:
    """A file nobody rewrites in place -- the downloaded archive, only ever unpacked, and compiled bytecode, which
    Python replaces (writes a new file and renames it) rather than rewrites -- given to the attempt as a hard link:
    one inode for every attempt, no bytes copied. Copied where linking is refused (another file system, or a
    sandboxed user that may not link the plane's files)."""
    try:
        os.link(source, destination)
        return destination
    except FileExistsError:  # copied there before (the fork server's import): replaced, as a copy would replace it
        with contextlib.suppress(OSError):
            destination.unlink()
            os.link(source, destination)
            return destination
    except OSError:
        pass
    shutil.copy2(source, destination)
    return destination


def memory_limit_kind(request: AttemptRequest) -> int:
    """The resource the attempt's memory limit applies to."""
    return resource.RLIMIT_AS if request["memory_limit_kind"] == "address-space" else resource.RLIMIT_DATA


def enter(request: AttemptRequest) -> Callable[[], object]:
    """Gives the process the attempt's environment and command line; the entrypoint's command, to `call`."""
    os.environ.clear()
    os.environ.update(request["env"])
    tempfile.tempdir = None  # TMPDIR & co. of this attempt
    sys.argv = [request["script"], *request["args"]]
    command: Callable[[], object] = getattr(importlib.import_module(ENTRYPOINT_MODULE), ENTRYPOINTS[request["entry"]])
    return command


def call(command: Callable[[], object], *, passing: tuple[type[BaseException], ...] = ()) -> int:
    """What the console script does -- `sys.exit(command())` -- as an exit status; an uncaught exception is
    reported as the interpreter reports it (status 1), but for those of `passing`, which propagate."""
    try:
        return exit_code(command())
    except SystemExit as exc:
        return exit_code(exc.code)
    except passing:
        raise
    except BaseException:
        sys.excepthook(*sys.exc_info())
        return 1


def exit_code(value: object) -> int:
    """The exit status `sys.exit(value)` gives."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    with contextlib.suppress(Exception):
        print(value, file=sys.stderr)
    return 1


def logging_variables(env: Mapping[str, str]) -> dict[str, str]:
    """The variables flytekit configures its loggers from when it is imported."""
    return {k: v for k, v in env.items() if k.startswith(LOGGING_PREFIX)}


def reset_flytekit_logging() -> None:
    """Sets flytekit's loggers up again, from the environment as it is now."""
    loggers = importlib.import_module("flytekit.loggers")
    for logger in (loggers.logger, loggers.user_space_logger, loggers.developer_logger):
        logger.handlers.clear()
    loggers.initialize_global_loggers()


def flytekit_loop_runners() -> dict[Any, Any]:
    """flytekit's `run_sync` runners by key (each an event loop and its thread, started once per thread and kept,
    as in any process); empty when flytekit's internals are not the ones known here."""
    asyn = sys.modules.get("flytekit.utils.asyn")
    runners = getattr(getattr(asyn, "loop_manager", None), "_runner_map", None)
    return runners if isinstance(runners, dict) else {}


def loop_thread(runner: object) -> threading.Thread | None:
    """A `run_sync` runner's event-loop thread."""
    thread = getattr(runner, "_TaskRunner__runner_thread", None)
    return thread if isinstance(thread, threading.Thread) else None


def resident_bytes() -> int:
    """This process's resident set size."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return pages * os.sysconf("SC_PAGE_SIZE")
