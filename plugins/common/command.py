"""A task's command and environment for one attempt, as every backend that runs the task's container renders them.

The container (`container_of`), Flyte's template variables rendered for the attempt (`render_for_attempt`), the
variables propeller injects into every task (`flyte_environment`) and those that let flytekit reach our object
stores (`storage_environment`). Used by the `local`, `k8s-pod` (and the Kubernetes backends built on its pods) and
`ray-jobs` backends.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from google.protobuf import json_format

from flyteidl_py.core import identifier_pb2, literals_pb2, tasks_pb2
from flyteplane.storage import file_uri
from flyteplane.storage.config import StorageConfig
from plugins.common.templates import TemplateValues, render, variables_in
from plugins.core import TaskExecutionContext

ARRAY_INDEX_VARIABLE = "FLYTE_K8S_ARRAY_INDEX"
# What a first attempt's {{.PrevCheckpointPrefix}} renders to in a container propeller starts (a pod, a Ray job).
NO_PREVIOUS_CHECKPOINT = '""'


# flytekit gives only its `@dynamic` tasks (and eager ones) this variable: the serialization settings their compile
# step needs at run time. flytekit compiles a dynamic's workflow once per process and keeps it on the task object,
# so such a task must never run in a process that ran it before (a reuse worker, a Ray worker).
DYNAMIC_MARKER = "_F_SS_C"


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
    if ctx.trace_parent:
        env["TRACEPARENT"] = ctx.trace_parent  # spans the task starts join its attempt's span
    if ctx.array_index is not None:
        env["BATCH_JOB_ARRAY_INDEX_VAR_NAME"] = ARRAY_INDEX_VARIABLE
        env[ARRAY_INDEX_VARIABLE] = str(ctx.array_index)
    return env


def storage_environment(config: StorageConfig, uris: Iterable[str], *, scoped: bool = False) -> dict[str, str]:
    """How flytekit (fsspec) inside the task reaches the object stores `uris` live in, from our storage settings.

    `scoped`: the attempt gets credentials of its own (`TaskExecutionContext.read_storage_credentials`), so the
    store's keys are left out."""
    schemes = {uri.split("://", 1)[0] for uri in uris if "://" in uri}
    env: dict[str, str] = {}
    if "s3" in schemes:
        s3 = config.s3
        env["AWS_DEFAULT_REGION"] = s3.region
        if s3.endpoint_url:
            env["FLYTE_AWS_ENDPOINT"] = s3.endpoint_url
        if s3.access_key_id and s3.secret_access_key is not None and not scoped:
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
    """`argv` with Flyte's template variables substituted for this attempt (TemplateError, a BadTaskDefinition,
    when it cannot be); `path` maps each data URI, `no_previous_checkpoint` stands for a first attempt's previous
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
    """A `file://` (or `local://`) URI as the plain path it names; any other URI (or a path) as it is.

    flytekit writes and reads both forms, but a FlyteFile it writes under a `file://` prefix gets a
    `file://` URI, which flytekit 1.16 then refuses to read back as an input ("is not a file"):
    plain paths keep the blobs of a local store usable by the next task.
    """
    uri = file_uri(uri)
    if not uri.startswith("file://"):
        return uri
    rest = uri.removeprefix("file://")
    return rest.removeprefix("localhost") if rest.startswith("localhost/") else rest
