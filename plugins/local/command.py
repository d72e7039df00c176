"""What a local task process runs: its command line, environment and limits, built from one task attempt.

Pure functions of the task execution context and the `local` backend's settings; nothing here starts
a process or blocks (apart from reading inputs.pb through the async store when the command renders
`{{.Inputs.<name>}}`). `plugins.local.backend` starts what `build_command` returns.
"""

from __future__ import annotations

import asyncio
import fnmatch
import os
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

from flyteidl_py.core import tasks_pb2
from plugins.common.command import container_of, flyte_environment, local_path, render_for_attempt, storage_environment
from plugins.common.quantity import whole_units
from plugins.common.templates import rewrite_dest_dir, variables_in
from plugins.config import LocalEnvironment, LocalPluginConfig
from plugins.core import BadTaskDefinition, TaskExecutionContext
from plugins.local import jflyte
from plugins.local.protocol import TMP_DIRECTORY, RunnerSpec, Sandbox
from plugins.local.secrets import secret_environment, token_environment


@dataclass(frozen=True)
class Command:
    """One attempt's process: what `plugins.local.runner` reads from spec.json."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    memory_limit_bytes: int | None
    memory_limit_kind: str
    # The environment standing in for the task's image, and the part of `env` that comes from it alone
    # (what a fork server of that environment starts with; see `plugins.local.warm.plan`).
    environment: LocalEnvironment = field(default_factory=LocalEnvironment)
    base_env: dict[str, str] = field(default_factory=dict)
    # `env` but for the variables that name this attempt (execution, task, attempt number, array index: what
    # `flyte_environment` sets and the execution does not override): what a fork server that imports the task's
    # modules ahead of its attempts starts with, so that module-level code reads the task's registered and
    # execution variables as on a cold start (`plugins.local.warm.plan`).
    import_env: dict[str, str] = field(default_factory=dict)
    # `env` holds S3 credentials of this attempt's own (`storage.s3.task_credentials.mode: sts`).
    scoped_credentials: bool = False
    # Isolation on: what the task process is fenced in by (`plugins.local.isolation`), entered before it runs.
    sandbox: Sandbox | None = None
    # The task is a flytekit eager workflow (its template's `metadata.is_eager`): it runs in a process of its own.
    eager: bool = False

    def spec(self, log: Path) -> RunnerSpec:
        spec: RunnerSpec = {
            "argv": self.argv,
            "env": self.env,
            "cwd": self.cwd,
            "log": str(log),
            "memory_limit_bytes": self.memory_limit_bytes,
            "memory_limit_kind": self.memory_limit_kind,
        }
        if self.sandbox is not None:
            spec["sandbox"] = self.sandbox
        return spec


def environment_for(image: str, config: LocalPluginConfig) -> LocalEnvironment:
    """The environment standing in for `image`: an exact entry, else the first matching pattern, else the default."""
    mapped = _mapped_environment(image, config)
    return config.default_environment if mapped is None else mapped


def _mapped_environment(image: str, config: LocalPluginConfig) -> LocalEnvironment | None:
    if image in config.images:
        return config.images[image]
    for pattern, environment in config.images.items():
        if fnmatch.fnmatchcase(image, pattern):
            return environment
    return None


def unmapped_code_hint(template: tasks_pb2.TaskTemplate, config: LocalPluginConfig) -> str:
    """What to do when a task's module cannot be imported because its image carries the code: "" unless the task
    ships no code bundle (`pyflyte register --copy none`) and `images` maps its image to no environment.

    Such a task runs in the default environment, which holds flytekit but not the user's package; on Flyte the
    image would carry it. Locally an image stands for an environment whose `python_path` holds the package.
    """
    container = container_of(template)
    if container is None or _mapped_environment(container.image, config) is not None:
        return ""
    if any(arg.rsplit("/", 1)[-1] == "pyflyte-fast-execute" for arg in [*container.command, *container.args]):
        return ""
    image = container.image
    return (
        f"The task's image {image!r} is not mapped to a local environment, so it ran in the default environment, "
        "which does not hold the task's code: the task was registered without a code bundle (`pyflyte register "
        "--copy none`), expecting the image to carry it. Map the image to the directory that holds the code, in "
        f'the local backend\'s settings: `propeller.plugins.backends.local.images: {{"{image}": {{"venv": '
        '"<virtualenv with flytekit>", "python_path": ["<directory holding the package>"]}}`; an fnmatch '
        "pattern (`registry.example/*`) maps several images. Or register with a code bundle (`--copy auto`)."
    )


def memory_limit(ctx: TaskExecutionContext, container: tasks_pb2.Container, default: int | None = None) -> int | None:
    """The attempt's memory limit in bytes: the effective resources' (else the container's) limit; without one, the
    platform's `default` -- or the task's memory request where that is larger (a limit below the request would
    refuse what the task asked for). None: no limit.

    Flyte would make a request without a limit the limit itself; here the limit bounds address space (or data),
    which a Python process holds far more of than it keeps resident, so the platform default is the floor."""
    resources = ctx.resources if ctx.resources is not None else container.resources
    limit = _memory(resources.limits)
    if limit is not None or default is None:
        return limit
    return max(default, _memory(resources.requests) or 0)


def _memory(entries: Iterable[tasks_pb2.Resources.ResourceEntry]) -> int | None:
    for entry in entries:
        if entry.name == tasks_pb2.Resources.MEMORY and entry.value:
            return whole_units(entry.value)
    return None


def _inherited(environ: Mapping[str, str], patterns: Iterable[str]) -> dict[str, str]:
    wanted = tuple(patterns)
    return {k: v for k, v in environ.items() if any(fnmatch.fnmatchcase(k, p) for p in wanted)}


def environment_variables(
    environment: LocalEnvironment, config: LocalPluginConfig, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The variables every process of `environment` gets, before those of the task, its store and its execution."""
    environ = os.environ if environ is None else environ
    env = _inherited(environ, config.inherit_env)
    system_path = config.system_path if config.system_path is not None else environ.get("PATH", os.defpath)
    venv_bin = str(environment.venv / "bin") if environment.venv else ""
    env["PATH"] = os.pathsep.join(p for p in (venv_bin, system_path) if p)
    if environment.venv is not None:
        env["VIRTUAL_ENV"] = str(environment.venv)
    if environment.python_path:
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in environment.python_path)
    env["PYTHONUNBUFFERED"] = "1"  # the log is readable while the task runs
    env.update(environment.env)
    return env


async def build_command(
    ctx: TaskExecutionContext,
    config: LocalPluginConfig,
    attempt_dir: Path,
    environ: Mapping[str, str] | None = None,
    base_envs: MutableMapping[int, dict[str, str]] | None = None,
    environment: LocalEnvironment | None = None,
) -> Command:
    """The process for this attempt; BadTaskDefinition when the task cannot run locally as defined.

    Unless the environment names a working directory, `attempt_dir/cwd` is the working directory and the
    code bundle's destination; otherwise the bundle goes to `attempt_dir/code`. The caller creates both.
    `base_envs` keeps each environment's `environment_variables` (by the environment's identity) from one
    call to the next: a caller whose `config` and `environ` do not change passes the same mapping every time.
    `environment`: the one standing in for the task's image when the caller resolved it (an ImageSpec's, see
    `plugins.local.imagespec_env`; it must be the same object for the same environment); None: `environment_for`.
    """
    environ = os.environ if environ is None else environ
    container = container_of(ctx.template)
    if container is None:
        raise BadTaskDefinition(f"task type {ctx.template.type!r} has no container to run as a local process")
    raw_argv = [*container.command, *container.args]
    if not raw_argv:
        raise BadTaskDefinition("the task's container has neither command nor args")

    java: str | None = None
    if jflyte.runs_jflyte(container):
        jflyte.check_store([ctx.paths.inputs, ctx.paths.output_prefix])
        java = await asyncio.to_thread(jflyte.find_java, config.jflyte)
    execution = ctx.task_execution_id.node_execution_id.execution_id
    argv = await render_for_attempt(ctx, raw_argv, namespace=f"{execution.project}-{execution.domain}", path=local_path)
    if "remote_package_path" in variables_in(raw_argv) and not ctx.remote_package_path:  # it stayed as it was
        raise BadTaskDefinition(
            "the command still holds {{ .remote_package_path }}: register the task with `pyflyte register`, "
            "which uploads the code bundle and fills it in"
        )
    if environment is None:
        environment = environment_for(container.image, config)
    cwd = environment.working_dir or attempt_dir / "cwd"
    # Flyte unpacks a code bundle into the image's working directory (`--dest-dir .`), and flytekit relies on
    # it: a pickled task (interactive mode) opens `pkl.gz` there, a `--copy all` bundle's data files are read
    # relative to it. An attempt's own working directory is that place; a working directory the environment
    # names is shared by attempts, so bundles are kept out of it, in the attempt's `code` directory.
    argv = rewrite_dest_dir(argv, str(attempt_dir / "code" if environment.working_dir else cwd))
    base_env = base_envs.get(id(environment)) if base_envs is not None else None
    if base_env is None:
        base_env = environment_variables(environment, config, environ)
        if base_envs is not None:
            base_envs[id(environment)] = base_env
    env = dict(base_env)
    paths = ctx.paths
    data_uris = [paths.inputs, paths.output_prefix, paths.raw_output_prefix, paths.checkpoint_prefix, *argv]
    env.update(storage_environment(ctx.storage.config, data_uris, scoped=ctx.scoped_storage_credentials))
    env.update(ctx.platform_environment)
    env.update(environment.env)  # the environment's own settings win over the store's and the plane's
    if java is not None:
        env.update(jflyte.environment(config.jflyte, container.image))
    env.update({pair.key: pair.value for pair in container.env})
    identity = flyte_environment(ctx)
    import_env = {**env, **ctx.environment}
    env.update(identity)
    env.update(ctx.environment)
    # A pod's /tmp goes with the pod; an attempt's temporary files (flytekit makes a `flyte-*` sandbox
    # there per task) go with the attempt: its own `tmp` directory, removed when the attempt is finalized.
    # Not in `import_env`, which keys warm servers. A TMPDIR the environment or the task names wins.
    if not any("TMPDIR" in named for named in (environment.env, ctx.environment, {p.key for p in container.env})):
        env["TMPDIR"] = str(attempt_dir / TMP_DIRECTORY)
    # Last, and never in `import_env` (which keys warm servers): only this attempt's process gets them.
    secrets = await ctx.read_secrets()
    if secrets:
        env.update(await asyncio.to_thread(secret_environment, secrets, attempt_dir))
    token = await ctx.read_task_token()
    if token:
        env.update(await asyncio.to_thread(token_environment, token, attempt_dir))
    credentials = await ctx.read_storage_credentials()  # scoped to this attempt's data, short-lived
    if credentials is not None:
        env.update(credentials.environment())

    limit = None if config.memory_limit == "off" else memory_limit(ctx, container, config.default_memory_limit_bytes)
    if java is not None:
        argv = jflyte.command(java, config.jflyte, argv, tmp_dir=env.get("TMPDIR"), memory_limit=limit)

    return Command(
        argv=argv,
        env=env,
        cwd=str(cwd),
        memory_limit_bytes=limit,
        memory_limit_kind=config.memory_limit,
        environment=environment,
        base_env=base_env,
        import_env=import_env,
        scoped_credentials=credentials is not None,
        eager=ctx.template.metadata.is_eager,
    )
