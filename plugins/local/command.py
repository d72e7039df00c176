"""What a local task process runs: its command line, environment and limits, built from one task attempt.

Pure functions of the task execution context and the `local` backend's settings; nothing here starts
a process or blocks (apart from reading inputs.pb through the async store when the command renders
`{{.Inputs.<name>}}`). `plugins.local.backend` starts what `build_command` returns.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import Any

from google.protobuf import json_format

from flyteidl_py.core import identifier_pb2, literals_pb2, tasks_pb2
from flyteplane.storage.config import StorageConfig
from plugins.config import LocalEnvironment, LocalPluginConfig
from plugins.core import BadTaskDefinition, TaskExecutionContext
from plugins.templates import TemplateError, TemplateValues, render, rewrite_dest_dir, variables_in

ARRAY_INDEX_VARIABLE = "FLYTE_K8S_ARRAY_INDEX"

_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE]([+-]?[0-9]+))?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m)?$")
_SUFFIX: Mapping[str | None, Decimal] = MappingProxyType({
    None: Decimal(1), "m": Decimal("0.001"),
    "k": Decimal(10**3), "M": Decimal(10**6), "G": Decimal(10**9), "T": Decimal(10**12), "P": Decimal(10**15),
    "E": Decimal(10**18), "Ki": Decimal(2**10), "Mi": Decimal(2**20), "Gi": Decimal(2**30), "Ti": Decimal(2**40),
    "Pi": Decimal(2**50), "Ei": Decimal(2**60),
})  # fmt: skip


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

    def spec(self, log: Path) -> dict[str, Any]:
        return {
            "argv": self.argv,
            "env": self.env,
            "cwd": self.cwd,
            "log": str(log),
            "memory_limit_bytes": self.memory_limit_bytes,
            "memory_limit_kind": self.memory_limit_kind,
        }


def container_of(template: tasks_pb2.TaskTemplate) -> tasks_pb2.Container | None:
    """The container a task runs: its `container` target, or the primary container of its `k8s_pod` target."""
    target = template.WhichOneof("target")
    if target == "container":
        return template.container
    if target != "k8s_pod":
        return None
    pod: dict[str, Any] = json_format.MessageToDict(template.k8s_pod.pod_spec)
    primary = template.config.get("primary_container_name")
    for spec in pod.get("containers", []):
        if spec.get("name") == primary:
            limits = (spec.get("resources") or {}).get("limits") or {}
            resources = tasks_pb2.Resources(
                limits=[tasks_pb2.Resources.ResourceEntry(name=tasks_pb2.Resources.MEMORY, value=str(limits["memory"]))]
                if "memory" in limits
                else []
            )
            return tasks_pb2.Container(
                image=spec.get("image", ""),
                command=spec.get("command", []),
                args=spec.get("args", []),
                env=[
                    literals_pb2.KeyValuePair(key=item["name"], value=str(item["value"]))
                    for item in spec.get("env", [])
                    if "name" in item and "value" in item
                ],
                resources=resources,
            )
    return None


def environment_for(image: str, config: LocalPluginConfig) -> LocalEnvironment:
    """The environment standing in for `image`: an exact entry, else the first matching pattern, else the default."""
    if image in config.images:
        return config.images[image]
    for pattern, environment in config.images.items():
        if fnmatch.fnmatchcase(image, pattern):
            return environment
    return config.default_environment


def parse_quantity(text: str) -> int:
    """A Kubernetes quantity (`512Mi`, `1G`, `1.5e3`, `100m`) in whole units, rounded up."""
    match = _QUANTITY.match(text.strip())
    if not match:
        raise BadTaskDefinition(f"invalid resource quantity {text!r}")
    number, exponent, suffix = match.groups()
    try:
        value = Decimal(number) * Decimal(10) ** int(exponent or 0) * _SUFFIX[suffix]
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only valid decimals
        raise BadTaskDefinition(f"invalid resource quantity {text!r}") from exc
    return int(value.to_integral_value(rounding="ROUND_CEILING"))


def memory_limit(ctx: TaskExecutionContext, container: tasks_pb2.Container) -> int | None:
    """The attempt's memory limit in bytes: from the effective resources, else the container's; None if unset."""
    resources = ctx.resources if ctx.resources is not None else container.resources
    for entry in resources.limits:
        if entry.name == tasks_pb2.Resources.MEMORY and entry.value:
            return parse_quantity(entry.value)
    return None


def _id_text(ident: identifier_pb2.Identifier | None) -> str:
    return f"{ident.project}:{ident.domain}:{ident.name}" if ident is not None else ""


def flyte_environment(ctx: TaskExecutionContext) -> dict[str, str]:
    """The variables propeller injects into every task container (flytekit reads them for ids and @dynamic)."""
    execution = ctx.task_execution_id.node_execution_id.execution_id
    task = ctx.task_execution_id.task_id
    env = {
        "FLYTE_INTERNAL_EXECUTION_ID": execution.name,
        "FLYTE_INTERNAL_EXECUTION_PROJECT": execution.project,
        "FLYTE_INTERNAL_EXECUTION_DOMAIN": execution.domain,
        "FLYTE_ATTEMPT_NUMBER": str(ctx.attempt),
        "FLYTE_INTERNAL_TASK_PROJECT": task.project,
        "FLYTE_INTERNAL_TASK_DOMAIN": task.domain,
        "FLYTE_INTERNAL_TASK_NAME": task.name,
        "FLYTE_INTERNAL_TASK_VERSION": task.version,
        # The legacy names, still set by propeller.
        "FLYTE_INTERNAL_PROJECT": task.project,
        "FLYTE_INTERNAL_DOMAIN": task.domain,
        "FLYTE_INTERNAL_NAME": task.name,
        "FLYTE_INTERNAL_VERSION": task.version,
    }
    if ctx.workflow_id is not None:
        env["FLYTE_INTERNAL_EXECUTION_WORKFLOW"] = _id_text(ctx.workflow_id)
    if ctx.launch_plan_id is not None:
        env["FLYTE_INTERNAL_EXECUTION_LAUNCHPLAN"] = _id_text(ctx.launch_plan_id)
    if ctx.array_index is not None:
        env["BATCH_JOB_ARRAY_INDEX_VAR_NAME"] = ARRAY_INDEX_VARIABLE
        env[ARRAY_INDEX_VARIABLE] = str(ctx.array_index)
    return env


def storage_environment(config: StorageConfig, uris: Iterable[str]) -> dict[str, str]:
    """How flytekit (fsspec) inside the task reaches the object stores `uris` live in, from our storage settings."""
    schemes = {uri.split("://", 1)[0] for uri in uris if "://" in uri}
    env: dict[str, str] = {}
    if "s3" in schemes:
        s3 = config.s3
        env["AWS_DEFAULT_REGION"] = s3.region
        if s3.endpoint_url:
            env["FLYTE_AWS_ENDPOINT"] = s3.endpoint_url
        if s3.access_key_id and s3.secret_access_key is not None:
            env["FLYTE_AWS_ACCESS_KEY_ID"] = s3.access_key_id
            env["FLYTE_AWS_SECRET_ACCESS_KEY"] = s3.secret_access_key.get_secret_value()
    if "gs" in schemes:
        gcs = config.gcs
        if gcs.endpoint_url:
            env["STORAGE_EMULATOR_HOST"] = gcs.endpoint_url
        if gcs.project:
            env["GOOGLE_CLOUD_PROJECT"] = gcs.project
        if gcs.service_account_file is not None and not gcs.anonymous:
            env["GOOGLE_APPLICATION_CREDENTIALS"] = str(gcs.service_account_file)
    return env


def per_retry_unique_key(generated_name: str) -> str:
    """Flyte's `{{.PerRetryUniqueKey}}`: the generated name as an identifier."""
    key = re.sub(r"[^a-zA-Z0-9_]+", "_", generated_name)
    return re.sub(r"^[^a-zA-Z_]", "a", key)


async def render_for_attempt(
    ctx: TaskExecutionContext,
    argv: Sequence[str],
    *,
    namespace: str,
    path: Callable[[str], str] = str,
    no_previous_checkpoint: str = "",
) -> list[str]:
    """`argv` with Flyte's template variables substituted for this attempt (TemplateError when it cannot
    be); `path` maps each data URI, `no_previous_checkpoint` stands for a first attempt's previous
    checkpoint. The task template is written beside the inputs only when the command names it."""
    if not argv:
        return []
    paths = ctx.paths
    input_prefix = paths.inputs.rsplit("/", 1)[0]
    mentioned = variables_in(argv)
    template_path = ""
    if "tasktemplatepath" in mentioned:
        template_path = f"{input_prefix}/task.pb"
        await ctx.storage.write_proto(template_path, ctx.template)
    inputs = None
    if any(name.startswith("inputs.") for name in mentioned):
        inputs = await ctx.storage.read_proto(paths.inputs, literals_pb2.LiteralMap)
    previous = paths.previous_checkpoint_prefix
    values = TemplateValues(
        input=path(paths.inputs),
        input_prefix=path(input_prefix),
        output_prefix=path(paths.output_prefix),
        raw_output_data_prefix=path(paths.raw_output_prefix),
        checkpoint_output_prefix=path(paths.checkpoint_prefix),
        prev_checkpoint_prefix=path(previous) if previous else no_previous_checkpoint,
        task_template_path=path(template_path) if template_path else "",
        remote_package_path=ctx.remote_package_path,
        per_retry_unique_key=per_retry_unique_key(ctx.generated_name),
        namespace=namespace,
    )
    return render(argv, values, inputs)


def local_path(uri: str) -> str:
    """A `file://` URI as the plain path it names; any other URI (or a path) as it is.

    flytekit writes and reads both forms, but a FlyteFile it writes under a `file://` prefix gets a
    `file://` URI, which flytekit 1.16 then refuses to read back as an input ("is not a file"):
    plain paths keep the blobs of a local store usable by the next task.
    """
    if not uri.startswith("file://"):
        return uri
    rest = uri.removeprefix("file://")
    return rest.removeprefix("localhost") if rest.startswith("localhost/") else rest


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
) -> Command:
    """The process for this attempt; BadTaskDefinition when the task cannot run locally as defined.

    `attempt_dir/code` is the fast-register destination and, unless the environment names a working
    directory, `attempt_dir/cwd` the working directory; the caller creates both. `base_envs` keeps
    each environment's `environment_variables` (by the environment's identity) from one call to the
    next: a caller whose `config` and `environ` do not change passes the same mapping every time.
    """
    environ = os.environ if environ is None else environ
    container = container_of(ctx.template)
    if container is None:
        raise BadTaskDefinition(f"task type {ctx.template.type!r} has no container to run as a local process")
    raw_argv = [*container.command, *container.args]
    if not raw_argv:
        raise BadTaskDefinition("the task's container has neither command nor args")

    execution = ctx.task_execution_id.node_execution_id.execution_id
    try:
        argv = await render_for_attempt(
            ctx, raw_argv, namespace=f"{execution.project}-{execution.domain}", path=local_path
        )
    except TemplateError as exc:
        raise BadTaskDefinition(str(exc)) from exc
    if "remote_package_path" in variables_in(argv):
        raise BadTaskDefinition(
            "the command still holds {{ .remote_package_path }}: register the task with `pyflyte register`, "
            "which uploads the code bundle and fills it in"
        )
    argv = rewrite_dest_dir(argv, str(attempt_dir / "code"))

    environment = environment_for(container.image, config)
    base_env = base_envs.get(id(environment)) if base_envs is not None else None
    if base_env is None:
        base_env = environment_variables(environment, config, environ)
        if base_envs is not None:
            base_envs[id(environment)] = base_env
    env = dict(base_env)
    paths = ctx.paths
    data_uris = [paths.inputs, paths.output_prefix, paths.raw_output_prefix, paths.checkpoint_prefix, *argv]
    env.update(storage_environment(ctx.storage.config, data_uris))
    env.update(environment.env)  # the environment's own settings win over the store's
    env.update({pair.key: pair.value for pair in container.env})
    env.update(flyte_environment(ctx))
    env.update(ctx.environment)

    cwd = environment.working_dir or attempt_dir / "cwd"
    return Command(
        argv=argv,
        env=env,
        cwd=str(cwd),
        memory_limit_bytes=None if config.memory_limit == "off" else memory_limit(ctx, container),
        memory_limit_kind=config.memory_limit,
        environment=environment,
        base_env=base_env,
    )
