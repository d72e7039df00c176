"""Which local attempts start warm, and what their fork server runs: a plan derived from the cold command line.

Pure functions over `plugins.local.command.Command` (apart from looking up console scripts on disk).
An attempt starts warm when all of these hold, otherwise it takes the cold path unchanged:

- warm starts are on: the backend's `warm`, overridden by its environment's `warm`, and the task's
  own environment does not say FLYTEPLANE_WARM=false (0/no/off);
- its environment names a virtualenv whose python exists;
- its command is flytekit's `pyflyte-execute` or `pyflyte-map-execute`, or `pyflyte-fast-execute
  --additional-distribution <bundle>.tar.gz|pkl.gz --dest-dir <dir> -- <one of those two>`, and the
  console script resolves to the environment's bin/ on the command's PATH;
- the task's environment agrees with the environment's on every variable that shapes an
  interpreter before it runs code (PYTHON*, LD_*): those cannot change after a fork.

Warm attempts run in one of two modes: `fork` (a fresh process forked from the fork server per
attempt) or `reuse` (successive attempts in the same long-lived warm worker, `plugins.local.warm.worker`).
The backend's `warm_mode`, overridden by the environment's, decides; a task's FLYTEPLANE_WARM=reuse
(or =fork; true/1/yes/on keep the environment's mode) overrides both. With isolation on
(`plugins.local.isolation`) every warm attempt is forked -- a reuse worker would run the task's code in a
process that must stay root to fence in the next one -- and no task module is imported by a fork server
(root). flytekit compiles a `@dynamic` task's workflow once per process and keeps it on the task object, so a
reuse worker forgets it before each attempt (`interpreter.forget_compiled_workflow`) and the task compiles the
call's own graph; that needs the task named through flytekit's default resolver (module and name), so a
dynamic task named any other way is forked, and so is an eager one (flytekit marks both with `_F_SS_C`).
The mode is part of the key: an environment's fork servers and reuse workers are separate processes.

For a fast-registered task the plan is what `pyflyte-fast-execute` would do after extracting the
bundle: the inner command with `--dynamic-addl-distro <bundle> --dynamic-dest-dir <dest dir>` before
`--resolver`, and the bundle's directory at the end of PYTHONPATH. The fork server of a bundle has it
extracted once into `<work dir>/.warm/bundles/<digest>/` and imports the task modules before forking.
A pickled task (interactive mode, `pkl.gz`) has no modules to import ahead: it starts from a server of
its environment, once its `pkl.gz` is in the attempt's destination (`WarmPlan.pickle_uri`).

A fork server that imports task modules (a bundle's, or with `preload_task_modules`) starts with the
task's own variables -- its environment's, its store's, its template's (`pyflyte register --env`) and
its execution's (`Command.import_env`) -- and they are part of its key: module-level code reads them
as on a cold start, and tasks whose variables differ get servers of their own. The server imports a
task module in the attempt's working directory with the attempt's `sys.argv`, as `pyflyte-execute`
would. One that imports flytekit alone (and the environment's `preload`) starts with the
environment's variables and serves all its tasks; each attempt gets its full environment after the
fork, and flytekit's loggers are set up again when that changes FLYTE_SDK_*.

What a forked task process shares with its siblings, unlike fresh interpreters: str/bytes hash
randomization (one seed per server), and whatever modules did at import in the server -- where the
variables that name one attempt (FLYTE_INTERNAL_EXECUTION_ID & co., FLYTE_ATTEMPT_NUMBER) are not yet
set, the working directory and `sys.argv` are those of the attempt that first needed the module, and a
bundle is imported from its shared extraction (`bundle_dir`) rather than the attempt's destination (which
still gets its own copy of the bundle's files, as on a cold start: `WarmPlan.dest_dir`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from plugins.common.command import DYNAMIC_MARKER
from plugins.config import LocalEnvironment, LocalPluginConfig, WarmMode
from plugins.local.command import Command
from plugins.local.protocol import AttemptRequest
from plugins.local.warm.interpreter import resolved_task

OPT_OUT_VARIABLE = "FLYTEPLANE_WARM"
FAST_EXECUTE = "pyflyte-fast-execute"
ENTRYPOINTS = ("pyflyte-execute", "pyflyte-map-execute")
BUNDLE_SUFFIX = ".tar.gz"
PICKLE_NAME = "pkl.gz"  # flytekit's interactive-mode bundle: one pickled entity, not an archive
WARM_DIR = ".warm"  # under the backend's work_dir; attempt directories never start with a dot

_FALSE = frozenset({"0", "false", "no", "off"})
_TRUE = frozenset({"1", "true", "yes", "on", ""})
_STARTUP_PREFIXES = ("PYTHON", "LD_")
# Set in a fork server so that flytekit configures its loggers at import as it does in a task process.
_SERVER_ONLY = MappingProxyType({"FLYTE_INTERNAL_EXECUTION_ID": ""})


@dataclass(frozen=True)
class ServerKey:
    """What makes warm servers interchangeable: interpreter, starting environment, code bundle, preloads, mode."""

    python: str
    env: tuple[tuple[str, str], ...]
    bundle_uri: str = ""
    bundle_dir: str = ""
    preload: tuple[str, ...] = ()
    mode: WarmMode = "fork"  # fork servers, or reuse workers

    @property
    def reuse(self) -> bool:
        return self.mode == "reuse"

    @property
    def digest(self) -> str:
        text = repr((self.python, self.env, self.bundle_uri, self.preload, self.mode))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def server_env(self) -> dict[str, str]:
        return dict(self.env)

    @property
    def script_dir(self) -> str:
        return str(Path(self.python).parent)


@dataclass(frozen=True)
class WarmPlan:
    """One attempt as its fork server starts it."""

    key: ServerKey
    entry: str  # "pyflyte-execute" or "pyflyte-map-execute"
    script: str  # the console script's path: sys.argv[0] of the task process
    args: tuple[str, ...]  # the command line after the script
    env: dict[str, str]
    modules: tuple[str, ...]  # task modules the server imports before forking
    # Where the cold path would unpack the code bundle (`--dest-dir`): the attempt gets a copy of the bundle
    # there too, since flytekit users read the bundle's files relative to the working directory.
    dest_dir: str = ""
    pickle_uri: str = ""  # a pickled task's `pkl.gz`, fetched into `dest_dir` before the attempt starts

    def request(self, attempt: Path, command: Command, log: Path, *, fsync_status: bool) -> AttemptRequest:
        """What a fork server or reuse worker is asked to run."""
        request: AttemptRequest = {
            "attempt": str(attempt),
            "entry": self.entry,
            "script": self.script,
            "args": list(self.args),
            "env": self.env,
            "cwd": command.cwd,
            "log": str(log),
            "memory_limit_bytes": command.memory_limit_bytes,
            "memory_limit_kind": command.memory_limit_kind,
            "modules": list(self.modules),
            "fsync_status": fsync_status,
        }
        if command.sandbox is not None:
            request["sandbox"] = command.sandbox
        if self.key.bundle_dir and self.dest_dir:
            request["bundle"] = [self.key.bundle_dir, self.dest_dir, bundle_archive(self.key.bundle_uri)]
        return request


def warm_enabled(environment: LocalEnvironment, config: LocalPluginConfig) -> bool:
    return config.warm if environment.warm is None else environment.warm


def warm_mode(
    environment: LocalEnvironment, config: LocalPluginConfig, task_env: Mapping[str, str]
) -> tuple[WarmMode | None, str]:
    """The mode warm attempts of this task run in; (None, why) when the task opts out of warm starts."""
    setting = task_env.get(OPT_OUT_VARIABLE, "").strip().lower()
    if setting in _FALSE:
        return None, f"the task sets {OPT_OUT_VARIABLE}"
    if setting == "reuse":
        return "reuse", ""
    if setting == "fork":
        return "fork", ""
    if setting not in _TRUE:
        return None, f"the task sets {OPT_OUT_VARIABLE}={setting!r}, which is none of false, true, fork, reuse"
    return environment.warm_mode or config.warm_mode, ""


def python_of(environment: LocalEnvironment) -> Path | None:
    """The environment's interpreter, if it has a virtualenv with one."""
    if environment.venv is None:
        return None
    python = environment.venv / "bin" / "python"
    if python in _PYTHONS:
        return python
    if not python.exists():
        return None
    if len(_PYTHONS) < _RESOLVED_LIMIT:
        _PYTHONS.add(python)
    return python


def bundle_archive(bundle_uri: str) -> str:
    """The file name of a bundle's archive: downloaded under it into the bundle's directory, as pyflyte-fast-execute
    downloads it into its destination."""
    return bundle_uri.rstrip("/").rsplit("/", 1)[-1]


def bundle_dir(config: LocalPluginConfig, bundle_uri: str) -> Path:
    """Where fork servers find `bundle_uri` extracted (one directory per bundle, shared by its servers)."""
    return config.work_dir / WARM_DIR / "bundles" / hashlib.sha256(bundle_uri.encode()).hexdigest()[:24]


def server_key(
    environment: LocalEnvironment,
    python: Path,
    base_env: Mapping[str, str],
    *,
    bundle_uri: str = "",
    bundle_path: Path | None = None,
    mode: WarmMode = "fork",
) -> ServerKey:
    """The key of the warm servers that start `environment`'s tasks (of one code bundle, if given)."""
    env = {**base_env, **_SERVER_ONLY}
    if bundle_path is not None:
        env["PYTHONPATH"] = _append_path(env.get("PYTHONPATH"), str(bundle_path))
    return ServerKey(
        python=str(python),
        env=tuple(sorted(env.items())),
        bundle_uri=bundle_uri,
        bundle_dir=str(bundle_path) if bundle_path is not None else "",
        preload=environment.preload,
        mode=mode,
    )


def plan(command: Command, config: LocalPluginConfig) -> WarmPlan | str:
    """How `command` starts warm, or why it cannot (the reason, for the log)."""
    environment = command.environment
    if not warm_enabled(environment, config):
        return "warm starts are off for this environment"
    mode, why = warm_mode(environment, config, command.env)
    if mode is None:
        return why
    isolated = config.isolation.mode != "off"
    if mode == "reuse" and (isolated or command.scoped_credentials):
        # A reuse worker outlives its attempts, so it would have to stay root to fence each one in, and run the
        # task's code in that root process: isolated attempts are forked instead (each its own process and user).
        # It also keeps fsspec's cached filesystems, and the credentials they hold, from one attempt to the next
        # (of any project): an attempt with S3 credentials of its own starts from a fork server too.
        mode = "fork"
    python = python_of(environment)
    if python is None:
        return "the environment names no virtualenv with a python"
    argv = command.argv
    path = command.env.get("PATH", "")
    bundle_uri = ""
    dest_dir = ""
    if _name(argv[0]) == FAST_EXECUTE:
        fast = _parse_fast_execute(argv[1:])
        if isinstance(fast, str):
            return fast
        bundle_uri, dest_dir, argv = fast
        if not _resolves_to(FAST_EXECUTE, command.argv[0], python, path):
            return f"{command.argv[0]} is not the environment's"
    if not argv or _name(argv[0]) not in ENTRYPOINTS:
        return f"{argv[0] if argv else 'an empty command'} is not a flytekit task entrypoint"
    entry = _name(argv[0])
    script = _resolves_to(entry, argv[0], python, path)
    if not script:
        return f"{argv[0]} is not the environment's"

    args = list(argv[1:])
    pickle_uri = ""
    if _name(bundle_uri) == PICKLE_NAME:
        pickle_uri, bundle_uri = bundle_uri, ""
        args = _with_dynamic_distribution(args, pickle_uri, dest_dir)
    if mode == "reuse" and DYNAMIC_MARKER in command.env and (command.eager or resolved_task(args) is None):
        mode = "fork"  # see the module docstring
    bundle_path = bundle_dir(config, bundle_uri) if bundle_uri else None
    env = dict(command.env)
    if bundle_path is not None:
        args = _with_dynamic_distribution(args, bundle_uri, dest_dir)
        env["PYTHONPATH"] = _append_path(command.env.get("PYTHONPATH"), str(bundle_path))  # as fast-execute does
    # Isolated: the task's modules are imported in its own process, never in the fork server, which is root.
    preload_modules = mode == "fork" and not isolated and (bundle_path is not None or environment.preload_task_modules)
    modules = tuple(_task_modules(args)) if preload_modules else ()
    # A server that imports the task's modules starts with the task's own variables, so that module-level code
    # reads what it reads on a cold start; one that imports flytekit alone serves all of the environment's tasks.
    start_env = (command.import_env or command.base_env) if modules else command.base_env
    key = server_key(environment, python, start_env, bundle_uri=bundle_uri, bundle_path=bundle_path, mode=mode)
    server_env = key.server_env
    for name in sorted(set(env) | set(server_env)):
        if name.startswith(_STARTUP_PREFIXES) and env.get(name) != server_env.get(name):
            return f"the task sets {name}, which a forked interpreter cannot take up"
    return WarmPlan(
        key=key,
        entry=entry,
        script=script,
        args=tuple(args),
        env=env,
        modules=modules,
        dest_dir=dest_dir,
        pickle_uri=pickle_uri,
    )


def _name(arg: str) -> str:
    return arg.rsplit("/", 1)[-1]


def _resolves_to(name: str, arg: str, python: Path, path: str) -> str:
    """The console script `arg` runs, if it is the environment's own `name`; "" otherwise."""
    known = _RESOLVED.get((name, arg, python, path))
    if known is not None:
        return known
    expected = python.parent / name
    found = arg if "/" in arg else shutil.which(arg, path=path)
    if found and os.path.realpath(found) == os.path.realpath(expected):
        if len(_RESOLVED) >= _RESOLVED_LIMIT:
            _RESOLVED.clear()
        _RESOLVED[(name, arg, python, path)] = str(expected)
        return str(expected)
    return ""


# What `_resolves_to` found (a PATH search and two realpath walks per attempt otherwise). Only the scripts that are
# the environment's are kept: one not found may yet be installed, while a venv's own script stays its own.
_RESOLVED: dict[tuple[str, str, Path, str], str] = {}
_RESOLVED_LIMIT = 256
# The virtualenv interpreters `python_of` found (a stat per attempt otherwise); kept on the same terms.
_PYTHONS: set[Path] = set()


def _parse_fast_execute(args: Sequence[str]) -> tuple[str, str, list[str]] | str:
    """(bundle, dest dir, inner command) of `pyflyte-fast-execute`'s arguments, or why they are not handled."""
    options: dict[str, str] = {}
    i = 0
    while i < len(args) and args[i] != "--":
        arg = args[i]
        name, eq, value = arg.partition("=")
        if name not in ("--additional-distribution", "--dest-dir"):
            return f"pyflyte-fast-execute argument {arg!r} is not handled warm"
        if not eq:
            if i + 1 >= len(args):
                return f"pyflyte-fast-execute {arg} has no value"
            value = args[i + 1]
            i += 1
        options[name] = value
        i += 1
    inner = list(args[i + 1 :])
    bundle = options.get("--additional-distribution", "")
    dest_dir = options.get("--dest-dir", "")
    if not bundle or not dest_dir:
        return "pyflyte-fast-execute without a code bundle and a destination"
    if not bundle.endswith(BUNDLE_SUFFIX) and _name(bundle) != PICKLE_NAME:
        return f"code bundle {bundle} is not a {BUNDLE_SUFFIX} archive or a pickled task ({PICKLE_NAME})"
    return bundle, dest_dir, inner


def _with_dynamic_distribution(args: Sequence[str], bundle_uri: str, dest_dir: str) -> list[str]:
    """What `pyflyte-fast-execute` passes on: the bundle and destination before `--resolver`, for @dynamic."""
    out: list[str] = []
    for arg in args:
        if arg == "--resolver":
            out.extend(["--dynamic-addl-distro", bundle_uri, "--dynamic-dest-dir", dest_dir])
        out.append(arg)
    return out


def _task_modules(args: Sequence[str]) -> list[str]:
    """The modules the resolver arguments name (`task-module <module>`)."""
    return [args[i + 1] for i in range(len(args) - 1) if args[i] == "task-module" and args[i + 1]]


def _append_path(current: str | None, entry: str) -> str:
    return current + os.pathsep + entry if current else entry
