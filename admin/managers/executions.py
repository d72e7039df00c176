"""Workflow executions: creation (launch plans and single tasks), relaunch, recovery, termination, reads.

An execution row is written (phase UNDEFINED) before the engine hears of it, so a crash between the
two loses nothing: the launch is idempotent and can be retried. A launch the engine refuses marks
the execution FAILED with the engine's error, as Flyte does when it cannot create the workflow CRD.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from datetime import timedelta
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from admin.auth.principal import acting_subject
from admin.engine import Launch
from admin.lists import list_request
from admin.managers import eager
from admin.managers.attributes import AttributesManager
from admin.managers.context import AdminContext
from admin.managers.ids import (
    check_execution_id,
    check_identifier,
    check_named_id,
    check_project_domain,
    check_text,
    exec_str,
    id_str,
    identifier,
    require,
)
from admin.managers.notifications import OutboxWriter, check_notifications
from admin.managers.registration import RegistrationManager, to_workflow
from admin.managers.uploads import UploadedDirectories
from admin.models import Execution, LaunchPlan, Task, Workflow
from admin.repositories import entities, executions, node_executions, task_executions
from flyteidl_py.admin import (
    common_pb2,
    event_pb2,
    execution_pb2,
    launch_plan_pb2,
    workflow_pb2,
)
from flyteidl_py.admin import (
    matchable_resource_pb2 as mr,
)
from flyteidl_py.core import (
    execution_pb2 as core_execution_pb2,
)
from flyteidl_py.core import (
    identifier_pb2,
    interface_pb2,
    literals_pb2,
    metrics_pb2,
    types_pb2,
)
from flyteidl_py.core import (
    workflow_pb2 as core_workflow_pb2,
)
from flyteplane.errors import AlreadyExists, FailedPrecondition, FlyteplaneError, InvalidArgument, NotFound
from flyteplane.tracing import execution_root
from propeller.compiler import is_castable, literal_type_of

log = logging.getLogger("flyteplane.admin.executions")

Phase = core_execution_pb2.WorkflowExecution.Phase
TERMINAL = {Phase.SUCCEEDED, Phase.FAILED, Phase.TIMED_OUT, Phase.ABORTED}
_NAME = re.compile(r"^[a-z][a-z\-0-9]*$")
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_LIST_ERROR_BYTES = 100


def generate_name() -> str:
    """Flyte's shape: "a" and 19 characters of the Kubernetes random alphabet (20 in all).

    One draw of the OS's randomness, uniform over every such name, spelled in the alphabet's digits (a draw per
    character made as many system calls)."""
    value = secrets.randbelow(len(_NAME_ALPHABET) ** 19)
    digits = []
    for _ in range(19):
        value, digit = divmod(value, len(_NAME_ALPHABET))
        digits.append(_NAME_ALPHABET[digit])
    return "a" + "".join(digits)


def _ts(ctx: AdminContext) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(ctx.clock())
    return ts


def _check_input_literals(inputs: literals_pb2.LiteralMap, field: str) -> None:
    for name, literal in inputs.literals.items():
        if not name:
            raise InvalidArgument("input names must not be empty", field=field)
        if literal.WhichOneof("value") is None:
            raise InvalidArgument(f"input {name} has no value", field=f"{field}.{name}")


def _type_text(literal_type: types_pb2.LiteralType) -> str:
    return str(literal_type).replace("\n", " ").strip()


def resolve_inputs(
    given: literals_pb2.LiteralMap,
    expected: interface_pb2.ParameterMap,
    fixed: literals_pb2.LiteralMap,
    field: str = "inputs",
) -> literals_pb2.LiteralMap:
    """Merge user inputs with launch-plan defaults and fixed inputs, type-checking every one."""
    out = literals_pb2.LiteralMap()
    for name, literal in given.literals.items():
        parameter = expected.parameters.get(name)
        if parameter is None:
            raise InvalidArgument(f"invalid input {name}", field=f"{field}.{name}")
        inferred = literal_type_of(literal)
        if not is_castable(inferred, parameter.var.type):
            raise InvalidArgument(
                f"invalid {name} input wrong type. Expected {_type_text(parameter.var.type)}, "
                f"but got {_type_text(inferred)}",
                field=f"{field}.{name}",
            )
        out.literals[name].CopyFrom(literal)
    for name in sorted(expected.parameters):
        parameter = expected.parameters[name]
        if name in out.literals:
            continue
        if parameter.required:
            raise InvalidArgument(f"expected_inputs {name} missing", field=f"{field}.{name}")
        if parameter.HasField("default"):
            out.literals[name].CopyFrom(parameter.default)
    for name, literal in fixed.literals.items():
        if name in out.literals and name in given.literals:
            raise InvalidArgument(f"fixed_inputs {name} cannot be overridden", field=f"{field}.{name}")
        out.literals[name].CopyFrom(literal)
    return out


def _flytegen_node_id(task_name: str) -> str:
    tail = task_name[-63:] if len(task_name) >= 63 else task_name
    return "".join(c for c in tail if c == "-" or c.isalnum())


def _merge_config(spec: execution_pb2.ExecutionSpec, sources: list[Any], default_parallelism: int) -> None:
    """Field by field, the first source that sets a value wins (request, launch plan, attributes, config)."""
    for source in sources:
        if source is None:
            continue
        if not spec.max_parallelism and getattr(source, "max_parallelism", False):
            spec.max_parallelism = source.max_parallelism
        if not spec.raw_output_data_config.output_location_prefix and source.HasField("raw_output_data_config"):
            spec.raw_output_data_config.CopyFrom(source.raw_output_data_config)
        if not spec.labels.values and source.HasField("labels") and source.labels.values:
            spec.labels.CopyFrom(source.labels)
        if not spec.annotations.values and source.HasField("annotations") and source.annotations.values:
            spec.annotations.CopyFrom(source.annotations)
        if not spec.HasField("security_context") and source.HasField("security_context"):
            run_as = source.security_context.run_as
            if run_as.k8s_service_account or run_as.iam_role or run_as.execution_identity:
                spec.security_context.CopyFrom(source.security_context)
        if hasattr(source, "envs") and not spec.envs.values and source.HasField("envs") and source.envs.values:
            spec.envs.CopyFrom(source.envs)
        if hasattr(source, "interruptible") and not spec.HasField("interruptible") and source.HasField("interruptible"):
            spec.interruptible.CopyFrom(source.interruptible)
        if hasattr(source, "overwrite_cache") and not spec.overwrite_cache and source.overwrite_cache:
            spec.overwrite_cache = True
    if not spec.max_parallelism:
        spec.max_parallelism = default_parallelism


def to_execution(row: Execution | Row[Any], *, for_list: bool = False) -> execution_pb2.Execution:
    spec = execution_pb2.ExecutionSpec.FromString(row.spec)
    closure = execution_pb2.ExecutionClosure.FromString(row.closure)
    closure.phase = Phase.Value(row.phase)  # type: ignore[assignment]  # enum values are ints on the wire
    if for_list:
        spec.ClearField("inputs")
        closure.ClearField("computed_inputs")
        if closure.HasField("error"):
            closure.error.message = closure.error.message.encode()[:_LIST_ERROR_BYTES].decode(errors="ignore")
    return execution_pb2.Execution(
        id=identifier_pb2.WorkflowExecutionIdentifier(
            project=row.execution_project, domain=row.execution_domain, name=row.execution_name, org=row.org
        ),
        spec=spec,
        closure=closure,
    )


class ExecutionManager:
    def __init__(self, ctx: AdminContext, registration: RegistrationManager, attributes: AttributesManager) -> None:
        self.ctx = ctx
        self.registration = registration
        self.attributes = attributes
        self.outbox = OutboxWriter(ctx.config)

    # ---- create --------------------------------------------------------------------------------

    async def create(
        self,
        request: execution_pb2.ExecutionCreateRequest,
        *,
        source_execution_id: int | None = None,
    ) -> execution_pb2.ExecutionCreateResponse:
        inputs = request.inputs if request.inputs.literals else request.spec.inputs
        require(request.project, "project")
        require(request.domain, "domain")
        if request.name and (len(request.name) > 63 or not _NAME.match(request.name.lower())):
            raise InvalidArgument(
                f"invalid name format: {request.name}, does not match regex {_NAME.pattern} (at most 63 characters)",
                field="name",
            )
        if not request.HasField("spec"):
            raise InvalidArgument("missing spec", field="spec")
        if request.spec.max_parallelism < 0:
            raise InvalidArgument("max_parallelism must not be negative", field="spec.max_parallelism")
        check_notifications(request.spec.notifications.notifications, "spec.notifications.notifications")
        target = request.spec.launch_plan
        if target.resource_type not in (identifier_pb2.LAUNCH_PLAN, identifier_pb2.TASK):
            raise InvalidArgument("Invalid reference entity resource type", field="spec.launch_plan.resource_type")
        check_identifier(target, target.resource_type, "spec.launch_plan")
        _check_input_literals(inputs, "inputs")

        task_row: Task | None = None
        if target.resource_type == identifier_pb2.TASK:
            async with self.ctx.db.session() as session:
                await check_project_domain(session, self.ctx.config, request.project, request.domain, field="")
            launch_plan, workflow_row, task_row = await self._single_task_entities(target)
        name = request.name or generate_name()
        ident = identifier_pb2.WorkflowExecutionIdentifier(
            project=request.project, domain=request.domain, name=name, org=request.org
        )
        spec = execution_pb2.ExecutionSpec()
        spec.CopyFrom(request.spec)
        spec.ClearField("inputs")
        # flytekit claims "placeholder"; with auth on, the token says who launched.
        spec.metadata.principal = acting_subject(spec.metadata.principal)
        # Every read and check in one transaction; nothing is written until they all pass.
        async with self.ctx.db.session() as session:
            if task_row is None:
                await check_project_domain(session, self.ctx.config, request.project, request.domain, field="")
                launch_plan, workflow_row = await self._launch_plan_entities(session, target)
            lp_spec = launch_plan_pb2.LaunchPlanSpec.FromString(launch_plan.spec)
            lp_closure = launch_plan_pb2.LaunchPlanClosure.FromString(launch_plan.closure)
            effective = resolve_inputs(inputs, lp_closure.expected_inputs, lp_spec.fixed_inputs)
            workflow = to_workflow(workflow_row)
            await self._resolve_config(
                session,
                spec,
                lp_spec if task_row is None else None,
                request.project,
                request.domain,
                workflow.id.name if task_row is None else "",
            )
            parent_node_id = await self._parent(session, spec)
            if await executions.name_taken(session, ident):
                raise AlreadyExists(f"execution {exec_str(ident)} already exists", field="name")
        types = {name: parameter.var.type for name, parameter in lp_closure.expected_inputs.parameters.items()}
        uploads = UploadedDirectories(self.ctx.storage, self.ctx.config.upload_prefix)
        inputs = await uploads.rewrite(inputs, types)
        effective = await uploads.rewrite(effective, types)
        # As Flyte: the request's own notifications if it names any, none with disable_all, else the
        # launch plan's (flytekit sends an empty list when the caller gives none).
        if not spec.notifications.notifications and not spec.disable_all:
            spec.notifications.notifications.extend(lp_spec.entity_metadata.notifications)

        inputs_uri = self.ctx.metadata_uri(request.project, request.domain, name, "inputs")
        user_inputs_uri = self.ctx.metadata_uri(request.project, request.domain, name, "user_inputs")
        now = self.ctx.clock()
        closure = execution_pb2.ExecutionClosure(
            phase=Phase.UNDEFINED,
            created_at=_ts(self.ctx),
            updated_at=_ts(self.ctx),
            workflow_id=workflow.id,
            notifications=spec.notifications.notifications,
            state_change_details=execution_pb2.ExecutionStateChangeDetails(
                state=execution_pb2.EXECUTION_ACTIVE,
                occurred_at=_ts(self.ctx),
                principal=spec.metadata.principal,
            ),
        )
        # Inputs are in the store before the row that points at them exists.
        await asyncio.gather(
            self.ctx.storage.write_proto(inputs_uri, effective),
            self.ctx.storage.write_proto(user_inputs_uri, inputs),
        )
        async with self.ctx.db.session() as session:
            # An execution an eager task launches becomes a node of it in this same transaction (or in
            # that of the eager node's first event, if admin has not heard of the node yet).
            eager_link = await eager.find_parent(session, ident, spec)
            eager_parent = eager_link.parent(name) if eager_link is not None else None
            if eager_parent is not None:
                eager.adopt(spec, eager_parent)
                closure.state_change_details.principal = spec.metadata.principal
            if task_row is None:
                await self._check_concurrency(session, launch_plan, lp_spec.concurrency_policy)
            row = Execution(
                execution_project=ident.project,
                execution_domain=ident.domain,
                execution_name=ident.name,
                org=ident.org,
                launch_plan_id=launch_plan.id if task_row is None else None,
                workflow_id=workflow_row.id,
                task_id=task_row.id if task_row else None,
                phase="UNDEFINED",
                spec=spec.SerializeToString(),
                closure=closure.SerializeToString(),
                started_at=None,
                execution_created_at=now,
                execution_updated_at=now,
                mode=spec.metadata.mode,
                source_execution_id=source_execution_id,
                parent_node_execution_id=parent_node_id,
                inputs_uri=inputs_uri,
                user_inputs_uri=user_inputs_uri,
                user=spec.metadata.principal,
                launch_entity="task" if task_row else "launch_plan",
                eager_parent_id=eager_link.execution.id if eager_link is not None else None,
            )
            tags = {(k, v) for k, v in request.spec.labels.values.items()} | {(t, "") for t in request.spec.tags}
            await executions.create(session, row, sorted(tags))
            if eager_parent is not None:
                await eager.attach(session, eager_parent, row, now)
        await self._launch(ident, workflow.closure.compiled_workflow, inputs_uri, spec, launch_plan, task_row)
        return execution_pb2.ExecutionCreateResponse(id=ident)

    async def _check_concurrency(
        self, session: AsyncSession, launch_plan: LaunchPlan, policy: launch_plan_pb2.ConcurrencyPolicy
    ) -> None:
        """ALREADY_EXISTS when the launch plan's SKIP policy allows no more running executions of its name.

        Counted in the transaction that inserts the execution, after taking the name's lock, so two
        concurrent launches cannot both see room for one.
        """
        if policy.behavior != launch_plan_pb2.CONCURRENCY_LIMIT_BEHAVIOR_SKIP:
            return
        project, domain, name = launch_plan.project, launch_plan.domain, launch_plan.name
        await executions.lock_launch_plan_name(session, project, domain, name)
        running = await executions.count_active(session, project, domain, name)
        if running >= policy.max:
            log.warning("skipping an execution of launch plan %s/%s/%s: %d running", project, domain, name, running)
            raise AlreadyExists(
                f"concurrency limit ({policy.max}) reached for launch plan {name}; skipping execution",
                field="spec.launch_plan",
            )

    async def _launch(
        self,
        ident: identifier_pb2.WorkflowExecutionIdentifier,
        closure: Any,
        inputs_uri: str,
        spec: execution_pb2.ExecutionSpec,
        launch_plan: LaunchPlan,
        task_row: Task | None,
    ) -> None:
        lp_id = identifier(identifier_pb2.LAUNCH_PLAN, launch_plan)
        try:
            # Without a caller's trace context, the request becomes the root of the execution's derived trace here.
            with execution_root(ident.project, ident.domain, ident.name):
                await self.ctx.engine.launch(Launch(ident, closure, inputs_uri, spec, lp_id))
        except Exception as exc:
            log.exception("engine refused execution %s", exec_str(ident))
            code = exc.code.name.title().replace("_", "") if isinstance(exc, FlyteplaneError) else "Unknown"
            kind = (
                core_execution_pb2.ExecutionError.USER
                if isinstance(exc, InvalidArgument)
                else core_execution_pb2.ExecutionError.SYSTEM
            )
            async with self.ctx.db.session() as session:
                row = await executions.get(session, ident)
                closure_pb = execution_pb2.ExecutionClosure.FromString(row.closure)
                closure_pb.phase = Phase.FAILED
                closure_pb.error.CopyFrom(core_execution_pb2.ExecutionError(code=code, message=str(exc), kind=kind))
                row.phase = "FAILED"
                row.closure = closure_pb.SerializeToString()
                row.error_code, row.error_kind = code, core_execution_pb2.ExecutionError.ErrorKind.Name(kind)
                # The engine will never report this execution: its FAILED notifications start here.
                session.add_all(self.outbox.notifications(row, Phase.FAILED, self.ctx.clock()))
                await eager.follow(session, row, closure_pb)
            if task_row is not None:
                raise

    async def _parent(self, session: AsyncSession, spec: execution_pb2.ExecutionSpec) -> int | None:
        """A child execution (launch-plan node) inherits nesting and principal from its parent."""
        parent = spec.metadata.parent_node_execution
        if not parent.node_id:
            return None
        parent_exec = await executions.get(session, parent.execution_id)
        node = await node_executions.find(session, parent_exec.id, parent.node_id)
        parent_spec = execution_pb2.ExecutionSpec.FromString(parent_exec.spec)
        spec.metadata.nesting = parent_spec.metadata.nesting + 1
        spec.metadata.principal = parent_exec.user or spec.metadata.principal
        return node.id if node is not None else None

    async def _resolve_config(
        self,
        session: AsyncSession,
        spec: execution_pb2.ExecutionSpec,
        lp_spec: launch_plan_pb2.LaunchPlanSpec | None,
        project: str,
        domain: str,
        workflow_name: str,
    ) -> None:
        resolve = self.attributes.resolve
        workflow_level = await resolve(mr.WORKFLOW_EXECUTION_CONFIG, project, domain, workflow_name, session=session)
        project_level = await resolve(mr.WORKFLOW_EXECUTION_CONFIG, project, session=session)
        _merge_config(
            spec,
            [
                lp_spec,
                workflow_level.workflow_execution_config if workflow_level else None,
                project_level.workflow_execution_config if project_level else None,
            ],
            self.ctx.config.max_parallelism,
        )
        stored = await resolve(mr.CLUSTER_ASSIGNMENT, project, domain, session=session)
        requested = spec.cluster_assignment.cluster_pool_name
        if stored and stored.cluster_assignment.cluster_pool_name:
            pool = stored.cluster_assignment.cluster_pool_name
            if requested and requested != pool:
                raise InvalidArgument(
                    f"execution with project {project} and domain {domain} cannot run on cluster pool "
                    f"{requested}, because its configured to run on pool {pool}",
                    field="spec.cluster_assignment",
                )
            spec.cluster_assignment.cluster_pool_name = pool

    async def _launch_plan_entities(
        self, session: AsyncSession, target: identifier_pb2.Identifier
    ) -> tuple[LaunchPlan, Workflow]:
        lp = await entities.find(session, LaunchPlan, target)
        if lp is None:
            raise NotFound(
                f"missing entity of type launch_plan with identifier {id_str(target)}",
                field="spec.launch_plan",
            )
        workflow = await entities.workflow(session, lp.workflow_id)
        assert workflow is not None
        return lp, workflow

    async def _single_task_entities(self, target: identifier_pb2.Identifier) -> tuple[LaunchPlan, Workflow, Task]:
        """The generated `.flytegen.<task>` workflow and launch plan a single-task execution runs."""
        task = await self.registration.get_task(identifier(identifier_pb2.TASK, target))
        template = task.closure.compiled_task.template
        generated = f".flytegen.{target.name}"
        wf_id = identifier(identifier_pb2.WORKFLOW, target, name=generated)
        node_id = _flytegen_node_id(target.name)
        retries = template.metadata.retries if template.metadata.HasField("retries") else None
        node = core_workflow_pb2.Node(
            id=node_id,
            metadata=core_workflow_pb2.NodeMetadata(
                name=node_id, retries=retries or literals_pb2.RetryStrategy(retries=3)
            ),
            inputs=[
                literals_pb2.Binding(
                    var=name,
                    binding=literals_pb2.BindingData(promise=types_pb2.OutputReference(node_id="", var=name)),
                )
                for name in template.interface.inputs.variables
            ],
            task_node=core_workflow_pb2.TaskNode(reference_id=task.id),
        )
        workflow_template = core_workflow_pb2.WorkflowTemplate(
            id=wf_id,
            interface=template.interface,
            nodes=[node],
            outputs=[
                literals_pb2.Binding(
                    var=name,
                    binding=literals_pb2.BindingData(promise=types_pb2.OutputReference(node_id=node_id, var=name)),
                )
                for name in template.interface.outputs.variables
            ],
        )
        with contextlib.suppress(AlreadyExists):
            await self.registration.create_workflow(
                workflow_pb2.WorkflowCreateRequest(id=wf_id, spec=workflow_pb2.WorkflowSpec(template=workflow_template))
            )
        lp_id = identifier(identifier_pb2.LAUNCH_PLAN, target, name=generated)
        with contextlib.suppress(AlreadyExists):
            await self.registration.create_launch_plan(
                launch_plan_pb2.LaunchPlanCreateRequest(
                    id=lp_id, spec=launch_plan_pb2.LaunchPlanSpec(workflow_id=wf_id)
                )
            )
        async with self.ctx.db.session() as session:
            for resource_type, ident in (
                (identifier_pb2.WORKFLOW, wf_id),
                (identifier_pb2.LAUNCH_PLAN, lp_id),
            ):
                await entities.ensure_named_entity(session, resource_type, ident, state=common_pb2.SYSTEM_GENERATED)
            lp = await entities.find(session, LaunchPlan, lp_id)
            task_row = await entities.find(session, Task, target)
            assert lp is not None and task_row is not None
            workflow = await entities.workflow(session, lp.workflow_id)
            assert workflow is not None
            return lp, workflow, task_row

    # ---- relaunch / recover --------------------------------------------------------------------

    async def relaunch(self, request: execution_pb2.ExecutionRelaunchRequest) -> execution_pb2.ExecutionCreateResponse:
        return await self._again(
            request, execution_pb2.ExecutionMetadata.RELAUNCH, overwrite_cache=request.overwrite_cache
        )

    async def recover(self, request: execution_pb2.ExecutionRecoverRequest) -> execution_pb2.ExecutionCreateResponse:
        return await self._again(
            request, execution_pb2.ExecutionMetadata.RECOVERED, parent=request.metadata.parent_node_execution
        )

    async def _again(
        self,
        source: execution_pb2.ExecutionRelaunchRequest | execution_pb2.ExecutionRecoverRequest,
        mode: int,
        *,
        overwrite_cache: bool = False,
        parent: identifier_pb2.NodeExecutionIdentifier | None = None,
    ) -> execution_pb2.ExecutionCreateResponse:
        """Relaunch or recover (by `mode`) the execution `source.id` names, as a new one named `source.name`."""
        check_execution_id(source.id)
        ident, name = source.id, source.name
        async with self.ctx.db.session() as session:
            row = await executions.get(session, ident)
        spec = execution_pb2.ExecutionSpec.FromString(row.spec)
        inputs = (
            await self.ctx.storage.read_proto(row.user_inputs_uri, literals_pb2.LiteralMap)
            if row.user_inputs_uri
            else spec.inputs
        )
        spec.ClearField("inputs")
        spec.metadata.mode = mode  # type: ignore[assignment]
        spec.metadata.reference_execution.CopyFrom(ident)
        spec.overwrite_cache = overwrite_cache
        if parent is not None and parent.node_id:
            spec.metadata.parent_node_execution.CopyFrom(parent)
        request = execution_pb2.ExecutionCreateRequest(
            project=ident.project, domain=ident.domain, name=name, spec=spec, inputs=inputs, org=ident.org
        )
        return await self.create(request, source_execution_id=row.id)

    # ---- terminate / update / get --------------------------------------------------------------

    async def terminate(
        self, request: execution_pb2.ExecutionTerminateRequest
    ) -> execution_pb2.ExecutionTerminateResponse:
        check_execution_id(request.id)
        check_text(request.cause, "cause", limit=0x10000)
        async with self.ctx.db.session() as session:
            row = await executions.get(session, request.id, for_update=True)
            phase = Phase.Value(row.phase)
            if phase in TERMINAL:
                raise FailedPrecondition(
                    "Cannot abort an already terminated workflow execution",
                    field="id",
                    details=event_pb2.EventFailureReason(
                        already_in_terminal_state=event_pb2.EventErrorAlreadyInTerminalState(current_phase=row.phase)
                    ),
                )
            closure = execution_pb2.ExecutionClosure.FromString(row.closure)
            closure.phase = Phase.ABORTING
            closure.abort_metadata.CopyFrom(
                execution_pb2.AbortMetadata(cause=request.cause, principal=acting_subject(row.user))
            )
            closure.updated_at.CopyFrom(_ts(self.ctx))
            row.phase = "ABORTING"
            row.abort_cause = request.cause[:255]
            row.closure = closure.SerializeToString()
            row.execution_updated_at = self.ctx.clock()
        await self.ctx.engine.abort(request.id, request.cause)
        return execution_pb2.ExecutionTerminateResponse()

    async def update(self, request: execution_pb2.ExecutionUpdateRequest) -> execution_pb2.ExecutionUpdateResponse:
        check_execution_id(request.id)
        if request.state not in execution_pb2.ExecutionState.values():
            raise InvalidArgument(f"unknown execution state {request.state}", field="state")
        async with self.ctx.db.session() as session:
            row = await executions.get(session, request.id, for_update=True)
            closure = execution_pb2.ExecutionClosure.FromString(row.closure)
            closure.state_change_details.CopyFrom(
                execution_pb2.ExecutionStateChangeDetails(state=request.state, occurred_at=_ts(self.ctx))
            )
            row.state = request.state
            row.closure = closure.SerializeToString()
        return execution_pb2.ExecutionUpdateResponse()

    async def get(self, ident: identifier_pb2.WorkflowExecutionIdentifier) -> execution_pb2.Execution:
        check_execution_id(ident)
        return to_execution(await executions.shown(self.ctx.db, ident))

    async def list(self, request: common_pb2.ResourceListRequest) -> execution_pb2.ExecutionList:
        check_named_id(request.id)
        listing = list_request(request, "execution")
        async with self.ctx.db.session() as session:
            rows = await executions.list_page(session, request.id, listing)
        return execution_pb2.ExecutionList(
            executions=[to_execution(r, for_list=True) for r in rows], token=listing.token_after(rows)
        )

    async def metrics(
        self, request: execution_pb2.WorkflowExecutionGetMetricsRequest
    ) -> execution_pb2.WorkflowExecutionGetMetricsResponse:
        """A span for the execution with one child span per top-level node and per task attempt."""
        check_execution_id(request.id)
        async with self.ctx.db.session() as session:
            row = await executions.get(session, request.id)
            nodes = await node_executions.top_level(session, row.id)
            attempts = await task_executions.of_nodes(session, [n.id for n in nodes])

        def span(start: Any, duration_ns: int) -> metrics_pb2.Span:
            s = metrics_pb2.Span()
            if start is not None:
                s.start_time.FromDatetime(start)
                s.end_time.FromDatetime(start + timedelta(microseconds=duration_ns // 1000))
            return s

        root = span(row.started_at, row.duration)
        root.workflow_id.CopyFrom(request.id)
        for node in nodes:
            child = span(node.started_at, node.duration)
            child.node_id.CopyFrom(
                identifier_pb2.NodeExecutionIdentifier(execution_id=request.id, node_id=node.node_id)
            )
            for attempt in (a for a in attempts if a.node_execution_id == node.id):
                leaf = span(attempt.started_at, attempt.duration)
                leaf.task_id.CopyFrom(
                    identifier_pb2.TaskExecutionIdentifier(
                        task_id=identifier(identifier_pb2.TASK, attempt),
                        node_execution_id=child.node_id,
                        retry_attempt=attempt.retry_attempt,
                    )
                )
                child.spans.append(leaf)
            root.spans.append(child)
        return execution_pb2.WorkflowExecutionGetMetricsResponse(span=root)
