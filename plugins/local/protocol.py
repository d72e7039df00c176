"""What the `local` backend and the processes it starts tell each other: the attempt directory's files and the warm
processes' messages, each a typed JSON object with its decoder.

Both sides use these definitions: the plugin and the warm pool (`plugins.local.backend`, `plugins.local.warm.pool`)
in propeller's interpreter, and the process programs -- the cold runner (`plugins.local.runner`), fork servers
(`plugins.local.warm.server`) and reuse workers (`plugins.local.warm.worker`) -- where our packages cannot be
imported (`plugins.local.launch` loads them by file path). So: standard library only (and nothing the cold runner
does not load anyway: JSON objects typed as `TypedDict`s), runnable by any Python from 3.9 on. Decoders check what
they rely on (ValueError otherwise) and ignore fields they do not know.

The attempt directory (one per task attempt, named by the plugin):

- `spec.json` (`RunnerSpec`, written by the plugin): what the cold runner runs.
- `run.lock`: held by whichever runner (cold runner, fork server, reuse worker) runs the attempt.
- `runner.json` (`RunnerRecord`, written first): who runs the attempt, to re-attach to and to signal.
- `status.json` (`AttemptStatus`, written last): how the attempt's command ended.
- `runner.err`: what a runner could not report any other way.

The warm channel: the pool starts a fork server or reuse worker with its `WarmSettings` as the only argument and
reads one line, its `Ready`; then each `AttemptRequest` line it writes gets one `Answer` line back, and, from a reuse
worker, once the attempt it started is over and recorded, one `Finished` line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypedDict, cast

if TYPE_CHECKING:  # not at run time: Python 3.9 has no NotRequired, and the annotations stay strings
    from typing import NotRequired

SPEC = "spec.json"
LOCK = "run.lock"
RECORD = "runner.json"
STATUS = "status.json"
RUNNER_ERRORS = "runner.err"
BUNDLE_COMPLETE = ".flyteplane-complete"  # the marker of a finished extraction in a bundle's shared directory
TMP_DIRECTORY = "tmp"  # an attempt's TMPDIR, inside its attempt directory
# An attempt's scratch directories: the code bundle's copy, the working directory and TMPDIR. The runner removes them
# once the task is over, before it records the status; the plugin removes what is left (`plugins.local.backend`).
SCRATCH_DIRECTORIES = ("code", "cwd", TMP_DIRECTORY)
# A map task element's own inputs (the array's narrowed to it), read by its command; removed with the scratch
# directories, by whoever removes those.
ELEMENT_INPUTS = "inputs.pb"
# What the cold runner writes to its stdout once runner.json is there (its starter awaits it instead of polling).
RECORDED = b"recorded\n"

# A runner's answer to an attempt: it runs it now, another runner has it, or it ran already.
Result = Literal["started", "busy", "done"]
RESULTS: tuple[Result, ...] = ("started", "busy", "done")


# -- the attempt directory ---------------------------------------------------------------------------------


class Sandbox(TypedDict):
    """How an isolated task process is fenced in (`plugins.local.sandbox` enters it, `plugins.local.isolation` plans
    it): tmpfs over `hide`, then each `expose` path (path, writable) mounted back from the real tree, then the
    process becomes `uid`/`gid` with no supplementary groups and no way to gain privileges."""

    uid: int
    gid: int
    hide: list[str]
    expose: list[list[Any]]  # [path, writable]
    scratch: NotRequired[list[str]]  # hidden directories whose tmpfs anyone may write to (sticky, as /tmp is)


class RunnerSpec(TypedDict):
    """spec.json: the cold runner's command."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    log: str
    memory_limit_bytes: int | None
    memory_limit_kind: str  # "address-space" or "data"
    sandbox: NotRequired[Sandbox]  # isolation on: the task process enters it before it runs


class RunnerRecord(TypedDict):
    """runner.json: who runs the attempt -- the cold runner, a fork server's task process (`warm`) or a reuse worker
    (`reuse`: its process outlives the attempt). A fork server's `Answer` carries the first three fields."""

    pid: int
    pgid: int
    start_time: int | None  # kernel start time (clock ticks since boot); None where /proc cannot tell
    started_at: NotRequired[float]
    warm: NotRequired[bool]
    reuse: NotRequired[bool]
    server_pid: NotRequired[int]
    attempts: NotRequired[int]  # a reuse worker's attempts so far, this one included


class AttemptStatus(TypedDict):
    """status.json: the command's exit code, or the signal that ended it, or why it could not start."""

    exit_code: int | None
    signal: int | None
    start_error: str | None
    errno: int | None
    finished_at: NotRequired[float]
    memory_limit_bytes: NotRequired[int | None]
    recorded_by: NotRequired[str]  # who wrote it in the runner's place (the warm pool, for a dead reuse worker)


def attempt_status(
    *,
    exit_code: int | None = None,
    signal_number: int | None = None,
    start_error: str | None = None,
    error_number: int | None = None,
) -> AttemptStatus:
    return {"exit_code": exit_code, "signal": signal_number, "start_error": start_error, "errno": error_number}


def status_of_returncode(returncode: int) -> AttemptStatus:
    """What `Popen.returncode` / `os.waitstatus_to_exitcode` says -- an exit code, or minus a signal -- as a status."""
    return attempt_status(exit_code=returncode) if returncode >= 0 else attempt_status(signal_number=-returncode)


def decode_spec(data: bytes | str) -> RunnerSpec:
    return cast(RunnerSpec, _checked(_object(data), _SPEC_FIELDS))


def decode_record(value: object) -> RunnerRecord:
    return cast(RunnerRecord, _checked(value, _RECORD_FIELDS))


def decode_status(value: object) -> AttemptStatus:
    return cast(AttemptStatus, _checked(value, _STATUS_FIELDS))


# -- the warm channel ----------------------------------------------------------------------------------------


class WarmSettings(TypedDict):
    """A fork server's or reuse worker's only argument."""

    script_dir: str  # the environment's console-script directory: sys.path[0], as for `pyflyte-execute`
    preload: list[str]  # modules imported at start, after flytekit's entrypoint


class AttemptRequest(TypedDict):
    """One attempt for a fork server (which hands it on to the task process it forked) or a reuse worker: the console
    script to call in-process, with what the cold runner's command would have had."""

    attempt: str  # the attempt directory
    entry: str  # "pyflyte-execute" or "pyflyte-map-execute"
    script: str  # the console script's path: sys.argv[0] of the task
    args: list[str]
    env: dict[str, str]
    cwd: str
    log: str
    memory_limit_bytes: int | None
    memory_limit_kind: str
    modules: list[str]  # task modules a fork server imports before forking
    fsync_status: bool
    sandbox: NotRequired[Sandbox]  # isolation on: the task process enters it (a reuse worker refuses such a request)
    # [extracted bundle, destination, the archive's file name]: the task process copies the bundle's files there
    # before the task runs, as the cold path's pyflyte-fast-execute unpacks them (as the task's own user, inside its
    # sandbox)
    bundle: NotRequired[list[str]]
    # A map task element's own inputs (base64): the process that runs the attempt writes them to ELEMENT_INPUTS in
    # the attempt directory before the task starts (so the plane does not make that file per element). Only without
    # isolation: an isolated attempt's inputs are the plane's file, made readable to the task's user.
    inputs: NotRequired[str]


class Ready(TypedDict):
    """A warm process's first line: ready to serve (its pid, size and import time), or why not (then it exits)."""

    ready: bool
    pid: NotRequired[int]
    rss: NotRequired[int]
    import_seconds: NotRequired[float]
    error: NotRequired[str | None]


class Answer(TypedDict):
    """The answer to an `AttemptRequest`: `ok`, with the runner's `result` and pid -- a fork server adds its fork
    count and size, and for a started attempt the runner's record -- or a refusal that says why, and whether the
    process must be given up (`fatal`: it exits)."""

    ok: bool
    result: NotRequired[Result]
    pid: NotRequired[int]
    forks: NotRequired[int]
    rss: NotRequired[int]
    record: NotRequired[RunnerRecord]
    error: NotRequired[str]
    fatal: NotRequired[bool]


class Finished(TypedDict):
    """A reuse worker's word, after its `Answer`, that the attempt it started is over and recorded; `recycle` says
    why it cannot go on (it exits after this), if it cannot."""

    finished: str  # the attempt directory
    exit_code: int | None
    recycle: str | None
    attempts: int
    rss: int


def refusal(error: str, *, fatal: bool) -> Answer:
    return {"ok": False, "error": error, "fatal": fatal}


def encode(message: Mapping[str, Any]) -> bytes:
    """A message as one line of the warm channel."""
    return json.dumps(message).encode() + b"\n"


def decode_settings(text: str) -> WarmSettings:
    return cast(WarmSettings, _checked(_object(text), _SETTINGS_FIELDS))


def decode_request(data: bytes) -> AttemptRequest:
    """The request in `data` (a line, or a fork server's hand-over to its task process); ValueError if it is not one."""
    return cast(AttemptRequest, _checked(_object(data), _REQUEST_FIELDS))


def decode_ready(line: bytes) -> Ready:
    """The line as a `Ready`; a not-ready one (saying why, where it can) for anything else, an empty line included."""
    try:
        value = _object(line) if line else {}
    except ValueError:
        return {"ready": False, "error": f"unreadable answer {line[:200]!r}"}
    if not value.get("ready"):
        return {"ready": False, "error": value.get("error")}
    return cast(Ready, value)


def decode_answer(line: bytes) -> Answer:
    """The line as an `Answer`; a refusal that quotes it when it is not one."""
    try:
        value = _object(line)
        if value.get("ok"):
            _checked(value, _STARTED_FIELDS)
            if value["result"] not in RESULTS:
                raise ValueError(f"unknown result {value['result']!r}")
            if "record" in value:
                decode_record(value["record"])
        return cast(Answer, value)
    except ValueError:
        return refusal(f"unreadable answer {line[:200]!r}", fatal=False)


def decode_finished(line: bytes) -> Finished | None:
    """The line as a `Finished`; None when it is not one."""
    try:
        return cast(Finished, _checked(_object(line), _FINISHED_FIELDS))
    except ValueError:
        return None


# -- checking --------------------------------------------------------------------------------------------------

_INT: tuple[type, ...] = (int,)
_OPTIONAL_INT: tuple[type, ...] = (int, type(None))
_STR: tuple[type, ...] = (str,)
_LIST: tuple[type, ...] = (list,)
_DICT: tuple[type, ...] = (dict,)
# The fields each decoder relies on, with the JSON types they may have.
_SPEC_FIELDS = {"argv": _LIST, "env": _DICT, "cwd": _STR, "log": _STR, "memory_limit_bytes": _OPTIONAL_INT}
_RECORD_FIELDS = {"pid": _INT, "pgid": _INT}
_STATUS_FIELDS = {"exit_code": _OPTIONAL_INT, "signal": _OPTIONAL_INT}
_SETTINGS_FIELDS = {"script_dir": _STR}
_REQUEST_FIELDS = {
    "attempt": _STR, "entry": _STR, "script": _STR, "args": _LIST, "env": _DICT, "cwd": _STR, "log": _STR,
}  # fmt: skip
_STARTED_FIELDS = {"result": _STR, "pid": _INT}
_FINISHED_FIELDS = {"finished": _STR, "exit_code": _OPTIONAL_INT}


def _object(data: bytes | str) -> dict[str, Any]:
    """One JSON object; ValueError for anything else."""
    value = json.loads(data)
    if not isinstance(value, dict):
        raise ValueError(f"not a JSON object: {data[:200]!r}")
    return value


def _checked(value: object, fields: Mapping[str, tuple[type, ...]]) -> dict[str, Any]:
    """`value` if it is an object with `fields` of their types; ValueError otherwise."""
    if not isinstance(value, dict):
        raise ValueError(f"not a JSON object: {value!r}")
    for name, types in fields.items():
        if name not in value:
            raise ValueError(f"no {name!r} in {value!r}")
        if not isinstance(value[name], types) or (isinstance(value[name], bool) and bool not in types):
            raise ValueError(f"{name!r} is {value[name]!r}")
    return value
