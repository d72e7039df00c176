"""A task attempt as its plugin sees it: the TaskExecutionContext, and the task's verdict from the files it wrote.

Task nodes, their dynamic workflows and array-node elements all run attempts this way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from flyteidl_py.core import errors_pb2, identifier_pb2, literals_pb2, security_pb2, tasks_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteplane import tracing
from flyteplane.errors import FlyteplaneError
from flyteplane.storage.task_credentials import TaskCredentials, TaskScope, read_prefixes
from flyteplane.storage.uri import parse_bucket_key
from flyteplane.tracing import tracing_on
from plugins.core import DataPaths, SecretValue, TaskExecutionContext
from propeller import traces
from propeller.ids import fixed_length_id, raw_output_shard
from propeller.nodes.base import NodeContext, NodeResult, Outcome
from propeller.scope import task_key
from propeller.services import Services
from propeller.store import ExecutionState


def task_template(ctx: NodeContext, reference: identifier_pb2.Identifier) -> tasks_pb2.TaskTemplate:
    template = ctx.scope.tasks.get(task_key(reference))
    if template is None:
        raise FlyteplaneError(f"task {task_key(reference)} is not in the compiled closure")
    return template


def task_context(
    ctx: NodeContext,
    template: tasks_pb2.TaskTemplate,
    *,
    attempt: int,
    plugin_state: bytes,
    output_dir: str | None = None,
    array_index: int | None = None,
    inputs_uri: str | None = None,
    narrowed_inputs_reader: Callable[[], Awaitable[literals_pb2.LiteralMap | None]] | None = None,
    wake: Callable[[], None] | None = None,
) -> TaskExecutionContext:
    """The plugin's view of one attempt (also used by array nodes for their elements); `wake` replaces the plain
    wake of the execution (an array node's also notes which element called it)."""
    state, services = ctx.state, ctx.services
    spec = state.spec
    e = state.ident
    unique = ctx.unique_id if array_index is None else f"{ctx.unique_id}-n{array_index}"
    raw_base = spec.raw_output_data_config.output_location_prefix or services.settings.raw_output_prefix
    # flytekit treats a file:// blob URI as a local path and then cannot find the file: hand it plain
    # paths for user data on this machine (metadata files keep their URIs; flytekit reads those fine).
    raw_base = raw_base.removeprefix("file://")
    if services.task_credentials is not None:
        # Scoped credentials admit an attempt to its own execution's raw data only, so that data needs a prefix
        # of its own; project and domain first, so a role per project can bound it too.
        raw_base = f"{raw_base.rstrip('/')}/{e.project}/{e.domain}/{e.name}"
    raw_id = fixed_length_id(50, [e.name, unique, str(attempt)])
    raw = f"{raw_base.rstrip('/')}/{raw_output_shard(raw_id)}/{raw_id}"
    previous = ""
    if attempt > 0:
        prev_id = fixed_length_id(50, [e.name, unique, str(attempt - 1)])
        previous = f"{raw_base.rstrip('/')}/{raw_output_shard(prev_id)}/{prev_id}/_flytecheckpoints"
    env = {ev.key: ev.value for ev in spec.envs.values}
    env.update(
        FLYTE_INTERNAL_EXECUTION_WORKFLOW=state.closure.primary.template.id.name,
        FLYTE_INTERNAL_EXECUTION_LAUNCHPLAN=state.launch_plan.name,
    )
    paths = DataPaths(
        inputs=inputs_uri or ctx.inputs_uri,
        output_prefix=output_dir or ctx.output_dir,
        raw_output_prefix=raw,
        checkpoint_prefix=f"{raw}/_flytecheckpoints",
        previous_checkpoint_prefix=previous,
    )
    return TaskExecutionContext(
        task_execution_id=identifier_pb2.TaskExecutionIdentifier(
            task_id=template.id,
            node_execution_id=identifier_pb2.NodeExecutionIdentifier(execution_id=e, node_id=ctx.unique_id),
            retry_attempt=attempt,
        ),
        template=template,
        paths=paths,
        storage=services.storage,
        plugin_state=plugin_state,
        environment=env,
        # Per attempt, so not among the execution's envs (a local fork server is chosen by those).
        trace_parent=tracing.traceparent_of(traces.attempt_context(ctx, attempt)) if tracing_on() else "",
        labels=dict(spec.labels.values),
        annotations=dict(spec.annotations.values),
        interruptible=spec.interruptible.value if spec.HasField("interruptible") else template.metadata.interruptible,
        max_attempts=(template.metadata.retries.retries + 1) if template.metadata.HasField("retries") else 1,
        security_context=spec.security_context,
        resources=template.container.resources if template.HasField("container") else None,
        array_index=array_index,
        narrowed_inputs_reader=narrowed_inputs_reader,
        platform_environment=services.settings.platform_environment,
        wake=wake or (lambda: services.wake(state.record_id)),
        secrets_reader=_secrets_reader(services, e.project, e.domain),
        task_token_reader=_task_token_reader(services, e),
        storage_credentials_reader=_storage_credentials_reader(ctx, template, paths, raw_base, f"{unique}/{attempt}"),
        inputs_reader=lambda: services.read_literals(state, paths.inputs),
        # An array element's outputs are read back from the store (the array gathers them): written now.
        outputs_writer=(
            (lambda outputs: _write_outputs(services, state, tctx_paths=paths, outputs=outputs))
            if array_index is None
            else (lambda outputs: services.write_literals(paths.outputs, outputs))
        ),
    )


def _secrets_reader(
    services: Services, project: str, domain: str
) -> Callable[[Sequence[security_pb2.Secret]], Awaitable[Sequence[SecretValue]]] | None:
    store = services.secrets
    if store is None:
        return None
    return lambda requests: store.resolve(project, domain, requests)


def _task_token_reader(
    services: Services, execution: identifier_pb2.WorkflowExecutionIdentifier
) -> Callable[[], Awaitable[str]] | None:
    source = services.task_tokens
    if source is None:
        return None
    return lambda: source.token(execution)


def _storage_credentials_reader(
    ctx: NodeContext, template: tasks_pb2.TaskTemplate, paths: DataPaths, raw_base: str, attempt_key: str
) -> Callable[[], Awaitable[TaskCredentials]] | None:
    """With scoped task credentials, the reader of this attempt's: it may read its execution's metadata (node
    inputs and upstream outputs, admin's inputs) and raw data, the objects its command names (the code bundle) and
    its project's configured prefixes (uploads); it may write its output and raw-output prefixes."""
    state, services = ctx.state, ctx.services
    issuer = services.task_credentials
    if issuer is None:
        return None
    e = state.ident
    container = template.container if template.HasField("container") else None
    named = [arg for arg in [*container.command, *container.args] if _object_uri(arg)] if container else []
    reads = [
        f"{services.workflow_dir(state)}/",
        state.inputs_uri.rsplit("/", 1)[0] + "/",
        f"{raw_base}/",
        *named,
        *read_prefixes(issuer.config, services.storage.config.default_bucket, e.project, e.domain),
    ]
    scope = TaskScope(
        project=e.project,
        domain=e.domain,
        execution=e.name,
        attempt_key=f"{e.project}/{e.domain}/{e.name}/{attempt_key}",
        reads=tuple(uri for uri in dict.fromkeys(reads) if uri.startswith("s3://")),
        writes=tuple(uri for uri in (paths.output_prefix, paths.raw_output_prefix) if uri.startswith("s3://")),
    )
    return lambda: issuer.credentials(scope)


def _object_uri(arg: str) -> bool:
    """Whether a command argument names an S3 object (the code bundle, a pickled task) the task will read."""
    if not arg.startswith("s3://"):
        return False
    try:
        parse_bucket_key(arg)
    except FlyteplaneError:
        return False
    return True


async def _write_outputs(
    services: Services, state: ExecutionState, *, tctx_paths: DataPaths, outputs: literals_pb2.LiteralMap
) -> None:
    """An in-process plugin's outputs (TaskExecutionContext.write_outputs): queued and written with
    the round's other queued objects before it saves, and known to exist without looking (see
    `completion`)."""
    services.write_literals_later(state, tctx_paths.outputs, outputs)


async def completion(ctx: NodeContext, template: tasks_pb2.TaskTemplate, paths: DataPaths) -> NodeResult | None:
    """After a plugin reports success: the task's own verdict from the files it wrote (None = dynamic)."""
    storage = ctx.services.storage
    if ctx.services.written_in_memory(paths.outputs):
        # The plugin wrote its outputs through the engine (an in-process plugin: no task process
        # that could also leave error.pb or futures.pb).
        return NodeResult(Outcome.SUCCESS, output_uri=paths.outputs)
    has_futures, has_error, has_outputs = await storage.exist([paths.futures, paths.error, paths.outputs])
    if has_futures:
        return None
    if has_error:
        document = await storage.read_proto(paths.error, errors_pb2.ErrorDocument)
        error = document.error
        kind = core.ExecutionError.SYSTEM if error.origin == core.ExecutionError.SYSTEM else core.ExecutionError.USER
        result = NodeResult.fail(
            error.code, error.message, retryable=error.kind == errors_pb2.ContainerError.RECOVERABLE
        )
        assert result.error is not None
        result.error.kind = kind
        return result
    if template.interface.outputs.variables and not has_outputs:
        return NodeResult.fail(
            "OutputsNotFound", "Outputs not generated by task execution", retryable=True, system=True
        )
    return NodeResult(Outcome.SUCCESS, output_uri=paths.outputs)
