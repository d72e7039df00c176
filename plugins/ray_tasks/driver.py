"""The `ray-tasks` backend's driver: joins a Ray cluster and runs the plane's attempts there as Ray tasks.

Started by `plugins.ray_tasks.backend` as `<cluster python> driver.py <settings JSON>` -- by file path, under the
interpreter of the cluster's task environment (ray and flytekit), never inside the plane: ray is imported here
only. Standard library and ray only, no module of ours, so the definitions below live in `__main__` and Ray ships
them to the cluster by value (cloudpickle): the cluster needs no copy of this repository.

The driver `ray.init`s against the configured address and gets (or creates) a *named, detached* dispatcher actor
in the configured namespace (`<dispatcher>-v<PROTOCOL_VERSION>`), placed on the head node. The dispatcher holds
the attempts: `submit` starts an attempt once under its name (a second `submit` of that name answers what the
first started), as a Ray task with the attempt's resource request (`num_cpus`, `memory`, `num_gpus`, custom
resources) and `max_retries=0` (Flyte retries, not Ray). Because the actor is detached, attempts outlive this
driver and the plane: a restarted plane starts a new driver, which finds the actor by name, and the attempts by
theirs.

The Ray task (`run_attempt`) runs in a Ray worker process, where flytekit stays imported from one attempt to the
next (warm): it points fds 1 and 2 at the attempt's log, adds the attempt's variables to the environment, calls
flytekit's `pyflyte-execute` / `pyflyte-map-execute` in-process (a fast-registered code bundle is extracted once
per node and put on `sys.path`), uploads the log to `<output prefix>/task.log` every few seconds and at the end
(flytekit's own data layer, with the attempt's store credentials), then restores the worker and removes the
attempt's directory (its working directory and TMPDIR, unless the task names its own). Commands that are
not flytekit's entrypoints (and pickled tasks), attempts with S3 credentials of their own (`own_process`:
fsspec's cached filesystems would carry them into the next attempt of the worker) and flytekit @dynamic tasks
(`own_process` too: flytekit compiles a dynamic's workflow once per process), run as a child process of the
worker instead.

The protocol with the plane, one JSON object per line: first `{"ready": true}` (or `{"ready": false, "error":
...}` and exit 1); then for each request `{"id": n, "op": "submit"|"status"|"cancel", "name": ..., ...}` a reply
`{"id": n, "ok": true, "state": <record or null>}` (or `"ok": false, "error": ...`), and, unasked, `{"event":
"finished", "state": <record>}` for every attempt that ends. A record: `name`, `status` (running, succeeded,
failed, cancelled), `exit_code`, `error`, `node` (the Ray node id it ran on), `worker_attempts` (how many
attempts that Ray worker had run, this one included: >1 is a warm start), `seq`. EOF on stdin ends the driver;
the dispatcher and its attempts stay.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import contextvars
import hashlib
import importlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

# Part of the dispatcher's name: a plane whose driver speaks another version gets a dispatcher of its own, not one
# an older plane left on the cluster running older code.
PROTOCOL_VERSION = 1
ENTRYPOINTS = {"pyflyte-execute": "execute_task_cmd", "pyflyte-map-execute": "map_execute_task_cmd"}
FAST_EXECUTE = "pyflyte-fast-execute"
BUNDLE_SUFFIX = ".tar.gz"
_WORKER_STATE = "_flyteplane_ray_tasks"  # an attribute of `sys` in a Ray worker: survives between attempts


# -- in the Ray worker: one attempt --------------------------------------------------------------------------------


def parse_fast_execute(args: list[str]) -> tuple[str, list[str]] | str:
    """(code bundle, inner command) of `pyflyte-fast-execute`'s arguments, or why they are not run in-process."""
    options: dict[str, str] = {}
    i = 0
    while i < len(args) and args[i] != "--":
        name, eq, value = args[i].partition("=")
        if name not in ("--additional-distribution", "--dest-dir"):
            return f"pyflyte-fast-execute argument {args[i]!r} is not run in-process"
        if not eq:
            if i + 1 >= len(args):
                return f"pyflyte-fast-execute {args[i]} has no value"
            value = args[i + 1]
            i += 1
        options[name] = value
        i += 1
    bundle = options.get("--additional-distribution", "")
    if not bundle.endswith(BUNDLE_SUFFIX):
        return f"code bundle {bundle!r} is not a {BUNDLE_SUFFIX} archive"
    return bundle, list(args[i + 1 :])


def with_dynamic_distribution(args: list[str], bundle_uri: str, dest_dir: str) -> list[str]:
    """What `pyflyte-fast-execute` hands on: the bundle and its destination before `--resolver` (for @dynamic)."""
    out: list[str] = []
    for arg in args:
        if arg == "--resolver":
            out.extend(["--dynamic-addl-distro", bundle_uri, "--dynamic-dest-dir", dest_dir])
        out.append(arg)
    return out


def _file_access(scratch: Path) -> Any:
    """flytekit's data layer, configured from the environment as it is now (the attempt's store credentials)."""
    persistence = importlib.import_module("flytekit.core.data_persistence")
    return persistence.FileAccessProvider(local_sandbox_dir=str(scratch), raw_output_prefix=str(scratch))


def _bundle(uri: str, work_dir: Path) -> Path:
    """The code bundle `uri` extracted on this node, once: extracted aside, then renamed into place."""
    final = work_dir / "bundles" / hashlib.sha256(uri.encode()).hexdigest()[:20]
    if final.is_dir():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    part = Path(tempfile.mkdtemp(prefix=".part-", dir=final.parent))
    try:
        archive = part / "bundle.tar.gz"
        _file_access(part / "sandbox").get_data(uri, str(archive))
        with tarfile.open(archive) as tar:
            tar.extractall(part / "code", filter="data")
        with contextlib.suppress(OSError):  # another worker of this node won the race: use its copy
            os.rename(part / "code", final)
    finally:
        shutil.rmtree(part, ignore_errors=True)
    return final


def _use_bundle(state: dict[str, Any], bundle: Path) -> None:
    """Makes `bundle` the importable code; the modules of the bundle used before are forgotten (another version)."""
    previous = state.get("bundle")
    if previous is not None and previous != str(bundle):
        for name, module in list(sys.modules.items()):
            if str(getattr(module, "__file__", None) or "").startswith(previous + os.sep):
                del sys.modules[name]
        importlib.invalidate_caches()
    state["bundle"] = str(bundle)


class _LogUploader:
    """Copies the attempt's log to the store every `interval` seconds while the attempt runs, and once at the end."""

    def __init__(self, log: Path, uri: str, interval: float, scratch: Path) -> None:
        self.log, self.uri, self.interval, self.scratch = log, uri, interval, scratch
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="flyteplane-log-upload", daemon=True)
        if uri and interval > 0:
            self.thread.start()

    def _loop(self) -> None:
        while not self.stop.wait(self.interval):
            self.upload()

    def upload(self) -> None:
        if not self.uri:
            return
        try:
            _file_access(self.scratch).put_data(str(self.log), self.uri)
        except Exception as exc:  # a log not copied must not fail the attempt
            with contextlib.suppress(OSError):
                os.write(2, f"flyteplane: copying the log to {self.uri} failed: {exc!r}\n".encode())

    def finish(self) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join()
        self.upload()


class _Saved:
    """What an attempt changes in the Ray worker's process, captured before it runs and restored after."""

    def __init__(self) -> None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        self.environ = dict(os.environ)
        self.cwd = os.getcwd()
        self.argv = list(sys.argv)
        self.path = list(sys.path)
        self.streams = (sys.stdout, sys.stderr)
        self.fds = (os.dup(1), os.dup(2))
        self.tempdir = tempfile.tempdir

    def restore(self) -> None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        sys.stdout, sys.stderr = self.streams
        os.dup2(self.fds[0], 1)
        os.dup2(self.fds[1], 2)
        for fd in self.fds:
            os.close(fd)
        os.chdir(self.cwd)
        if os.environ != self.environ:
            os.environ.clear()
            os.environ.update(self.environ)
        sys.argv[:] = self.argv
        sys.path[:] = self.path
        tempfile.tempdir = self.tempdir


def _call(command: Any) -> int:
    """What the console script does -- `sys.exit(command())` -- as an exit status."""
    try:
        value = command()
    except SystemExit as exc:
        value = exc.code
    except BaseException:
        traceback.print_exc()
        return 1
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    print(value, file=sys.stderr)
    return 1


def _process(argv: list[str], cwd: Path) -> int:
    """The command as a child process of this worker; a bare console script name is this environment's."""
    own = Path(sys.executable).parent / argv[0]
    if "/" not in argv[0] and own.exists():
        argv = [str(own), *argv[1:]]
    return subprocess.call(argv, cwd=cwd)


def _execute(spec: dict[str, Any], attempt_dir: Path, state: dict[str, Any]) -> tuple[int, bool]:
    """Runs the attempt's command; its exit status and whether it ran in this process (warm)."""
    argv = list(spec["argv"])
    cwd = attempt_dir / "cwd"
    cwd.mkdir(parents=True, exist_ok=True)
    if spec.get("own_process"):
        return _process(argv, cwd), False
    if Path(argv[0]).name == FAST_EXECUTE:
        parsed = parse_fast_execute(argv[1:])
        if isinstance(parsed, str):
            print(f"flyteplane: {parsed}; running it as a process", file=sys.stderr, flush=True)
            return _process(argv, cwd), False
        bundle_uri, inner = parsed
        bundle = _bundle(bundle_uri, Path(spec["work_dir"]))
        _use_bundle(state, bundle)
        sys.path.insert(0, str(bundle))  # as fast-execute puts it on PYTHONPATH
        argv = with_dynamic_distribution(inner, bundle_uri, str(bundle))
        cwd = bundle  # Flyte unpacks the bundle into the task's working directory
    entry = Path(argv[0]).name if argv else ""
    if entry not in ENTRYPOINTS:
        return _process(argv, cwd), False
    for entry_path in reversed(spec.get("python_path", [])):
        sys.path.insert(0, entry_path)
    os.chdir(cwd)
    tempfile.tempdir = None  # the attempt's TMPDIR, if it names one
    sys.argv = argv
    command = getattr(importlib.import_module("flytekit.bin.entrypoint"), ENTRYPOINTS[entry])
    # A fresh copy of the context: flytekit's context stack lives there.
    return contextvars.copy_context().run(_call, command), True


def run_attempt(spec: dict[str, Any]) -> dict[str, Any]:
    """The Ray task: one attempt in this Ray worker; what the dispatcher records of it."""
    ray = importlib.import_module("ray")
    state: dict[str, Any] = getattr(sys, _WORKER_STATE, None) or {"attempts": 0}
    setattr(sys, _WORKER_STATE, state)
    state["attempts"] += 1
    # flytekit is imported once per worker with the worker's own environment (its import-time sandbox then lives in
    # the worker's temp directory, not in an attempt's, which goes with the attempt).
    importlib.import_module("flytekit.bin.entrypoint")
    attempt_dir = Path(spec["work_dir"]) / spec["name"]
    (attempt_dir / "tmp").mkdir(parents=True, exist_ok=True)
    log = attempt_dir / "task.log"
    saved = _Saved()
    uploader: _LogUploader | None = None
    in_process = False
    try:
        # The attempt's temporary files (flytekit's `flyte-*` sandbox per execution) go with its directory.
        os.environ.update({"TMPDIR": str(attempt_dir / "tmp"), **spec["env"]})
        log_fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(log_fd)
        uploader = _LogUploader(log, spec.get("log_uri", ""), float(spec.get("log_upload_seconds", 0)), attempt_dir)
        code, in_process = _execute(spec, attempt_dir, state)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        if uploader is not None:
            uploader.finish()  # with the attempt's variables (its store credentials) still set
        saved.restore()
        shutil.rmtree(attempt_dir, ignore_errors=True)  # its log is in the store now
    return {
        "exit_code": code,
        "node": ray.get_runtime_context().get_node_id(),
        "pid": os.getpid(),
        "worker_attempts": state["attempts"],
        "in_process": in_process,
    }


# -- the dispatcher: a named detached actor ------------------------------------------------------------------------


class Dispatcher:
    """Starts each attempt once under its name and keeps what became of it for `keep_seconds` after it ended."""

    def __init__(self, keep_seconds: float) -> None:
        self.ray = importlib.import_module("ray")
        self.keep_seconds = keep_seconds
        self.run = self.ray.remote(run_attempt)
        self.records: dict[str, dict[str, Any]] = {}
        self.refs: dict[str, Any] = {}
        self.finished: list[tuple[int, str]] = []  # (seq, name), in the order attempts ended
        self.seq = 0
        self.changed: asyncio.Event | None = None

    def _event(self) -> asyncio.Event:
        if self.changed is None:
            self.changed = asyncio.Event()
        return self.changed

    async def cursor(self) -> int:
        return self.seq

    async def submit(self, name: str, spec: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
        record = self.records.get(name)
        if record is not None:
            return record
        ref = self.run.options(name=name, max_retries=0, retry_exceptions=False, **options).remote(spec)
        record = {"name": name, "status": "running", "exit_code": None, "error": "", "node": "", "seq": 0,
                  "worker_attempts": 0, "submitted_at": time.time()}  # fmt: skip
        self.records[name] = record
        self.refs[name] = ref
        asyncio.get_running_loop().create_task(self._watch(name, ref, record))
        return record

    async def _watch(self, name: str, ref: Any, record: dict[str, Any]) -> None:
        try:
            result = await ref
            status = "succeeded" if result["exit_code"] == 0 else "failed"
            record.update(status=status, exit_code=result["exit_code"], node=result["node"],
                          worker_attempts=result["worker_attempts"], in_process=result["in_process"])  # fmt: skip
        except self.ray.exceptions.TaskCancelledError:
            record.update(status="cancelled", error="the attempt was cancelled")
        except Exception as exc:  # the worker died (out of memory, killed), the node went away, ...
            status = "cancelled" if record.get("cancelled") else "failed"
            record.update(status=status, error=f"{type(exc).__name__}: {exc}"[-4000:])
        self.refs.pop(name, None)
        self.seq += 1
        record.update(seq=self.seq, finished_at=time.time())
        self.finished.append((self.seq, name))
        self._prune()
        event, self.changed = self._event(), asyncio.Event()
        event.set()

    def _prune(self) -> None:
        horizon = time.time() - self.keep_seconds
        drop = 0
        for _, name in self.finished:
            record = self.records.get(name)
            if record is not None and record.get("finished_at", 0) > horizon:
                break
            self.records.pop(name, None)
            drop += 1
        del self.finished[:drop]

    async def status(self, name: str) -> dict[str, Any] | None:
        return self.records.get(name)

    async def cancel(self, name: str) -> dict[str, Any] | None:
        record = self.records.get(name)
        ref = self.refs.get(name)
        if record is not None and ref is not None:
            record["cancelled"] = True
            self.ray.cancel(ref, force=True)
        return record

    async def changes(self, cursor: int, wait_seconds: float) -> tuple[int, list[dict[str, Any]]]:
        """The attempts that ended after `cursor` (waiting up to `wait_seconds` for one), and the new cursor."""
        if self.seq <= cursor:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._event().wait(), wait_seconds)
        start = bisect.bisect_right(self.finished, (cursor, "\uffff"))
        return self.seq, [self.records[name] for _, name in self.finished[start:] if name in self.records]


# -- the driver: the plane's end -----------------------------------------------------------------------------------


class _Channel:
    """Answers to the plane on a private copy of stdout (fd 1 then points at stderr: what ray prints stays off it)."""

    def __init__(self) -> None:
        self.out: IO[bytes] = os.fdopen(os.dup(1), "wb", buffering=0)
        os.dup2(2, 1)
        self.lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        line = json.dumps(message, default=str).encode() + b"\n"
        with self.lock:
            self.out.write(line)


def _dispatcher(ray: Any, settings: dict[str, Any]) -> Any:
    actor = ray.remote(Dispatcher).options(
        name=f"{settings['dispatcher']}-v{PROTOCOL_VERSION}",
        namespace=settings["namespace"],
        lifetime="detached",
        get_if_exists=True,
        num_cpus=0,
        max_concurrency=int(settings.get("max_concurrency", 10000)),
        resources={"node:__internal_head__": 0.001},  # on the head: it goes when the cluster goes, not before
    )
    return actor.remote(float(settings["keep_seconds"]))


def _serve(channel: _Channel, ray: Any, dispatcher: Any, request: dict[str, Any]) -> None:
    ident = request.get("id")
    try:
        op, name = request["op"], request["name"]
        if op == "submit":
            ref = dispatcher.submit.remote(name, request["spec"], request.get("options", {}))
        elif op == "status":
            ref = dispatcher.status.remote(name)
        elif op == "cancel":
            ref = dispatcher.cancel.remote(name)
        else:
            raise ValueError(f"no operation {op!r}")
        channel.send({"id": ident, "ok": True, "state": ray.get(ref)})
    except Exception as exc:
        channel.send({"id": ident, "ok": False, "error": f"{type(exc).__name__}: {exc}"[-4000:]})


def _watch(channel: _Channel, ray: Any, dispatcher: Any, cursor: int) -> None:
    while True:
        try:
            cursor, ended = ray.get(dispatcher.changes.remote(cursor, 10.0))
        except Exception as exc:  # the dispatcher is unreachable for now: the plane's requests will say so
            print(f"flyteplane ray-tasks driver: waiting for changes: {exc!r}", file=sys.stderr, flush=True)
            time.sleep(1.0)
            continue
        for record in ended:
            channel.send({"event": "finished", "state": record})


def main() -> int:
    settings = json.loads(sys.argv[1])
    channel = _Channel()
    try:
        ray = importlib.import_module("ray")
        ray.init(address=settings["address"], namespace=settings["namespace"], log_to_driver=False,
                 logging_level="WARNING")  # fmt: skip
        dispatcher = _dispatcher(ray, settings)
        cursor = ray.get(dispatcher.cursor.remote())
    except Exception as exc:
        traceback.print_exc()
        channel.send({"ready": False, "error": f"{type(exc).__name__}: {exc}"})
        return 1
    channel.send({"ready": True, "cursor": cursor})
    threading.Thread(target=_watch, args=(channel, ray, dispatcher, cursor), daemon=True).start()
    with ThreadPoolExecutor(max_workers=int(settings.get("driver_threads", 16))) as pool:
        for line in sys.stdin.buffer:
            try:
                request = json.loads(line)
            except ValueError as exc:
                channel.send({"id": None, "ok": False, "error": f"unreadable request: {exc}"})
                continue
            pool.submit(_serve, channel, ray, dispatcher, request)
    return 0


if __name__ == "__main__":
    sys.exit(main())
