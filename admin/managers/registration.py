"""Registration: tasks, workflows and launch plans — validated, compiled, digested, stored once per version.

Re-registering an identical body answers ALREADY_EXISTS (flytekit swallows it); a different body under
an existing id answers ALREADY_EXISTS with `exists_different_structure` details, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from admin.managers.context import AdminContext
from admin.managers.ids import RESOURCE_NAMES, check_identifier, check_project_domain, check_text, id_str, require
from admin.models import LaunchPlan, Task, Workflow
from admin.repositories import entities
from admin.repositories.entities import Versioned
from flyteidl_py.admin import (
    description_entity_pb2,
    launch_plan_pb2,
    task_pb2,
    workflow_pb2,
)
from flyteidl_py.core import compiler_pb2, identifier_pb2, interface_pb2, tasks_pb2
from flyteplane.errors import AlreadyExists, FlyteplaneError, InvalidArgument, NotFound
from flyteplane.schedules import check_schedule
from propeller.compiler import (
    LaunchPlanInterface,
    compile_task,
    compile_workflow,
    digest,
    requirements,
    validate_launch_plan,
)

_QUANTITY_SUFFIXES = ("Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E", "")


def _quantity(text: str) -> float | None:
    """A Kubernetes resource quantity as a number, or None when it does not parse."""
    factors = {
        "Ki": 2**10,
        "Mi": 2**20,
        "Gi": 2**30,
        "Ti": 2**40,
        "Pi": 2**50,
        "Ei": 2**60,
        "n": 1e-9,
        "u": 1e-6,
        "m": 1e-3,
        "k": 1e3,
        "M": 1e6,
        "G": 1e9,
        "T": 1e12,
        "P": 1e15,
        "E": 1e18,
        "": 1,
    }
    for suffix in _QUANTITY_SUFFIXES:
        if suffix and not text.endswith(suffix):
            continue
        number = text[: len(text) - len(suffix)] if suffix else text
        try:
            return float(number) * factors[suffix]
        except ValueError:
            continue
    return None


def _check_resources(resources: tasks_pb2.Resources, field: str) -> None:
    names = tasks_pb2.Resources.ResourceName
    for kind in ("requests", "limits"):
        seen: set[int] = set()
        for i, entry in enumerate(getattr(resources, kind)):
            if entry.name in seen:
                raise InvalidArgument(
                    f"can't specify {names.Name(entry.name).lower()} {kind[:-1]} multiple times",
                    field=f"{field}.{kind}[{i}]",
                )
            seen.add(entry.name)
            value = _quantity(entry.value)
            if value is None:
                raise InvalidArgument(f"invalid quantity {entry.value!r}", field=f"{field}.{kind}[{i}].value")
            if entry.name == tasks_pb2.Resources.GPU and value != int(value):
                raise InvalidArgument("gpu must be a whole number", field=f"{field}.{kind}[{i}].value")
    requests = {e.name: _quantity(e.value) for e in resources.requests}
    limits = {e.name: _quantity(e.value) for e in resources.limits}
    for name, request in requests.items():
        limit = limits.get(name)
        if limit is not None and request is not None and request > limit:
            raise InvalidArgument(
                f"requested {names.Name(name).lower()} is greater than its limit", field=f"{field}.requests"
            )


def _validate_task_template(template: tasks_pb2.TaskTemplate) -> None:
    require(template.type, "spec.template.type")
    if not template.HasField("metadata"):
        raise InvalidArgument("missing metadata", field="spec.template.metadata")
    if template.metadata.HasField("runtime") and not template.metadata.runtime.version:
        raise InvalidArgument("missing version", field="spec.template.metadata.runtime.version")
    if not template.HasField("interface"):
        raise InvalidArgument("missing interface", field="spec.template.interface")
    if template.HasField("container"):
        require(template.container.image, "spec.template.container.image")
        if template.container.HasField("resources"):
            _check_resources(template.container.resources, "spec.template.container.resources")
    if template.HasField("k8s_pod") and not template.k8s_pod.HasField("pod_spec"):
        raise InvalidArgument(
            "pod tasks should specify their target as a K8sPod with a defined pod spec",
            field="spec.template.k8s_pod.pod_spec",
        )


def _check_concurrency_policy(policy: launch_plan_pb2.ConcurrencyPolicy) -> None:
    if policy.max < 0:
        raise InvalidArgument("concurrency_policy.max must not be negative", field="spec.concurrency_policy.max")
    if policy.behavior not in launch_plan_pb2.ConcurrencyLimitBehavior.values():
        raise InvalidArgument(
            f"unknown concurrency limit behavior {policy.behavior}", field="spec.concurrency_policy.behavior"
        )


def _exists_error(kind: str, ident: identifier_pb2.Identifier, identical: bool) -> AlreadyExists:
    reason = workflow_pb2.CreateWorkflowFailureReason()
    if identical:
        reason.exists_identical_structure.id.CopyFrom(ident)
        return AlreadyExists(f"{kind} with identical structure already exists", field="id", details=reason)
    reason.exists_different_structure.id.CopyFrom(ident)
    return AlreadyExists(
        f"{kind} [{id_str(ident)}] with different structure already exists. "
        f"(Please register a new version of the {kind})",
        field="id",
        details=reason,
    )


def _timestamp(ctx: AdminContext) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(ctx.clock())
    return ts


def _entity_id(
    resource_type: identifier_pb2.ResourceType, row: Task | Workflow | LaunchPlan
) -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(
        resource_type=resource_type,
        project=row.project,
        domain=row.domain,
        name=row.name,
        version=row.version,
        org=row.org,
    )


def to_task(row: Task) -> task_pb2.Task:
    return task_pb2.Task(
        id=_entity_id(identifier_pb2.TASK, row),
        closure=task_pb2.TaskClosure.FromString(row.closure),
        short_description=row.short_description,
    )


def to_workflow(row: Workflow) -> workflow_pb2.Workflow:
    return workflow_pb2.Workflow(
        id=_entity_id(identifier_pb2.WORKFLOW, row),
        closure=workflow_pb2.WorkflowClosure.FromString(row.closure),
        short_description=row.short_description,
    )


def to_launch_plan(row: LaunchPlan) -> launch_plan_pb2.LaunchPlan:
    closure = launch_plan_pb2.LaunchPlanClosure.FromString(row.closure)
    closure.state = row.state  # type: ignore[assignment]
    return launch_plan_pb2.LaunchPlan(
        id=_entity_id(identifier_pb2.LAUNCH_PLAN, row),
        spec=launch_plan_pb2.LaunchPlanSpec.FromString(row.spec),
        closure=closure,
    )


def _description(
    spec: task_pb2.TaskSpec | workflow_pb2.WorkflowSpec,
) -> description_entity_pb2.DescriptionEntity | None:
    """The spec's description entity, its short description checked as Flyte does (at most 255 characters)."""
    if not spec.HasField("description"):
        return None
    check_text(spec.description.short_description, "spec.description.short_description", limit=255)
    return spec.description


# The model and the name in messages of each kind of registered entity.
_KINDS: dict[int, tuple[type[Task] | type[Workflow] | type[LaunchPlan], str]] = {
    identifier_pb2.TASK: (Task, "task"),
    identifier_pb2.WORKFLOW: (Workflow, "workflow"),
    identifier_pb2.LAUNCH_PLAN: (LaunchPlan, "launch plan"),
}


class RegistrationManager:
    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx

    async def _get(self, model: type[Versioned], resource_type: int, ident: identifier_pb2.Identifier) -> Versioned:
        """The registered version; NOT_FOUND when there is none."""
        check_identifier(ident, resource_type)
        async with self.ctx.db.session() as session:
            row = await entities.find(session, model, ident)
        if row is None:
            raise NotFound(
                f"missing entity of type {RESOURCE_NAMES[resource_type]} with identifier {id_str(ident)}", field="id"
            )
        return row

    async def _insert(
        self,
        session: AsyncSession,
        resource_type: int,
        ident: identifier_pb2.Identifier,
        new_digest: bytes,
        row: Callable[[Timestamp], Task | Workflow | LaunchPlan],
        description: description_entity_pb2.DescriptionEntity | None,
    ) -> None:
        """Stores a new version; ALREADY_EXISTS (saying whether the body is identical) when the id is taken.

        The version's name gets its named-entity metadata, and the description its entity.
        """
        model, kind = _KINDS[resource_type]
        existing = await entities.find(session, model, ident)
        if existing is not None:
            raise _exists_error(kind, ident, identical=existing.digest == new_digest)
        entities.add(session, row(_timestamp(self.ctx)))
        await entities.ensure_named_entity(session, resource_type, ident)
        if description is not None:
            await entities.save_description(session, ident, description)

    async def _registering(self, write: Callable[[], Awaitable[None]]) -> None:
        """Runs a registration's transaction, once more if it lost a race for a unique key.

        pyflyte sends a task once per workflow that uses it, several calls at a time: two
        registrations of one version (or two versions of one new name) can both pass the existence
        checks, and the database refuses the later one. Run again, it sees what the other stored and
        answers as any repeat does (ALREADY_EXISTS), instead of leaking the database's error.
        """
        try:
            await write()
        except IntegrityError:
            await write()

    # ---- tasks ---------------------------------------------------------------------------------

    async def create_task(self, request: task_pb2.TaskCreateRequest) -> task_pb2.TaskCreateResponse:
        check_identifier(request.id, identifier_pb2.TASK)
        if not request.HasField("spec") or not request.spec.HasField("template"):
            raise InvalidArgument("missing spec", field="spec.template")
        template = tasks_pb2.TaskTemplate()
        template.CopyFrom(request.spec.template)
        _validate_task_template(template)
        check_text(template.type, "spec.template.type", limit=255)
        template.id.CopyFrom(request.id)
        compiled = compile_task(template)
        task_digest = digest(compiled)

        async def write() -> None:
            async with self.ctx.db.session() as session:
                await check_project_domain(session, self.ctx.config, request.id.project, request.id.domain)

                def row(now: Timestamp) -> Task:
                    return Task(
                        **entities.version_key(request.id),
                        digest=task_digest,
                        type=template.type,
                        closure=task_pb2.TaskClosure(compiled_task=compiled, created_at=now).SerializeToString(),
                        short_description=request.spec.description.short_description,
                    )

                await self._insert(
                    session, identifier_pb2.TASK, request.id, task_digest, row, _description(request.spec)
                )

        await self._registering(write)
        return task_pb2.TaskCreateResponse()

    async def get_task(self, ident: identifier_pb2.Identifier) -> task_pb2.Task:
        return to_task(await self._get(Task, identifier_pb2.TASK, ident))

    async def compiled_tasks(
        self, session: AsyncSession, ids: Sequence[identifier_pb2.Identifier]
    ) -> list[compiler_pb2.CompiledTask]:
        found = []
        for ident in ids:
            row = await entities.find(session, Task, ident)
            if row is not None:
                found.append(task_pb2.TaskClosure.FromString(row.closure).compiled_task)
        return found

    # ---- workflows -----------------------------------------------------------------------------

    async def compile(
        self,
        session: AsyncSession,
        primary: Any,
        sub_workflows: Sequence[Any],
        where: str,
    ) -> compiler_pb2.CompiledWorkflowClosure:
        needs = requirements(primary, sub_workflows)
        tasks = await self.compiled_tasks(session, needs.task_ids)
        launch_plans = []
        for ident in needs.launch_plan_ids:
            row = await entities.find(session, LaunchPlan, ident)
            if row is not None:
                closure = launch_plan_pb2.LaunchPlanClosure.FromString(row.closure)
                launch_plans.append(LaunchPlanInterface(ident, closure.expected_inputs, closure.expected_outputs))
        try:
            return compile_workflow(primary, sub_workflows, tasks, launch_plans)
        except FlyteplaneError as exc:
            raise InvalidArgument(f"failed to compile workflow for [{where}] with err: {exc}", field="spec") from exc

    async def create_workflow(self, request: workflow_pb2.WorkflowCreateRequest) -> workflow_pb2.WorkflowCreateResponse:
        check_identifier(request.id, identifier_pb2.WORKFLOW)
        if not request.HasField("spec") or not request.spec.HasField("template"):
            raise InvalidArgument("missing spec", field="spec.template")
        primary = workflow_pb2.WorkflowSpec()
        primary.CopyFrom(request.spec)
        primary.template.id.CopyFrom(request.id)

        async def write() -> None:
            async with self.ctx.db.session() as session:
                await check_project_domain(session, self.ctx.config, request.id.project, request.id.domain)
                compiled = await self.compile(session, primary.template, primary.sub_workflows, id_str(request.id))
                wf_digest = digest(compiled)

                def row(now: Timestamp) -> Workflow:
                    return Workflow(
                        **entities.version_key(request.id),
                        digest=wf_digest,
                        typed_interface=compiled.primary.template.interface.SerializeToString(),
                        closure=workflow_pb2.WorkflowClosure(
                            compiled_workflow=compiled, created_at=now
                        ).SerializeToString(),
                        short_description=request.spec.description.short_description,
                    )

                await self._insert(
                    session, identifier_pb2.WORKFLOW, request.id, wf_digest, row, _description(request.spec)
                )

        await self._registering(write)
        return workflow_pb2.WorkflowCreateResponse()

    async def get_workflow(self, ident: identifier_pb2.Identifier) -> workflow_pb2.Workflow:
        return to_workflow(await self._get(Workflow, identifier_pb2.WORKFLOW, ident))

    # ---- launch plans --------------------------------------------------------------------------

    async def create_launch_plan(
        self, request: launch_plan_pb2.LaunchPlanCreateRequest
    ) -> launch_plan_pb2.LaunchPlanCreateResponse:
        check_identifier(request.id, identifier_pb2.LAUNCH_PLAN)
        if not request.HasField("spec"):
            raise InvalidArgument("missing spec", field="spec")
        check_identifier(request.spec.workflow_id, identifier_pb2.WORKFLOW, "spec.workflow_id")
        if request.spec.max_parallelism < 0:
            raise InvalidArgument("max_parallelism must not be negative", field="spec.max_parallelism")
        _check_concurrency_policy(request.spec.concurrency_policy)

        async def write() -> None:
            async with self.ctx.db.session() as session:
                await check_project_domain(session, self.ctx.config, request.id.project, request.id.domain)
                workflow = await entities.find(session, Workflow, request.spec.workflow_id)
                if workflow is None:
                    raise NotFound(
                        f"missing entity of type workflow with identifier {id_str(request.spec.workflow_id)}",
                        field="spec.workflow_id",
                    )
                interface = interface_pb2.TypedInterface.FromString(workflow.typed_interface)
                expected_inputs, expected_outputs = validate_launch_plan(request.spec, interface)
                lp_digest = digest(request.spec)
                schedule = request.spec.entity_metadata.schedule

                def row(now: Timestamp) -> LaunchPlan:
                    closure = launch_plan_pb2.LaunchPlanClosure(
                        state=launch_plan_pb2.INACTIVE,
                        expected_inputs=expected_inputs,
                        expected_outputs=expected_outputs,
                        created_at=now,
                        updated_at=now,
                    )
                    return LaunchPlan(
                        **entities.version_key(request.id),
                        digest=lp_digest,
                        workflow_id=workflow.id,
                        spec=request.spec.SerializeToString(),
                        closure=closure.SerializeToString(),
                        state=launch_plan_pb2.INACTIVE,
                        schedule_type=(schedule.WhichOneof("ScheduleExpression") or "NONE").upper(),
                    )

                await self._insert(session, identifier_pb2.LAUNCH_PLAN, request.id, lp_digest, row, None)

        await self._registering(write)
        return launch_plan_pb2.LaunchPlanCreateResponse()

    async def get_launch_plan(self, ident: identifier_pb2.Identifier) -> launch_plan_pb2.LaunchPlan:
        return to_launch_plan(await self._get(LaunchPlan, identifier_pb2.LAUNCH_PLAN, ident))

    async def update_launch_plan(
        self, request: launch_plan_pb2.LaunchPlanUpdateRequest
    ) -> launch_plan_pb2.LaunchPlanUpdateResponse:
        check_identifier(request.id, identifier_pb2.LAUNCH_PLAN)
        if request.state not in (launch_plan_pb2.ACTIVE, launch_plan_pb2.INACTIVE):
            raise InvalidArgument(f"Unrecognized launch plan state {request.state}", field="state")
        async with self.ctx.db.session() as session:
            target = await entities.find(session, LaunchPlan, request.id)
            if target is None:
                raise NotFound(f"missing entity of type launch_plan with identifier {id_str(request.id)}", field="id")
            if request.state == launch_plan_pb2.ACTIVE:
                # A version stored before its schedule was checked must not become a schedule the scheduler
                # cannot run: refused here as CreateLaunchPlan refuses it.
                check_schedule(launch_plan_pb2.LaunchPlanSpec.FromString(target.spec).entity_metadata.schedule)
                # One active version per name: deactivate the others in the same transaction.
                await entities.deactivate_other_versions(session, target)
            target.state = request.state
        return launch_plan_pb2.LaunchPlanUpdateResponse()

    async def get_active_launch_plan(
        self, request: launch_plan_pb2.ActiveLaunchPlanRequest
    ) -> launch_plan_pb2.LaunchPlan:
        for part in ("project", "domain", "name"):
            require(getattr(request.id, part), f"id.{part}")
        async with self.ctx.db.session() as session:
            row = await entities.active_launch_plan(session, request.id.project, request.id.domain, request.id.name)
        if row is None:
            raise NotFound(
                f"No active launch plan could be found: {request.id.project}:{request.id.domain}:{request.id.name}",
                field="id",
            )
        return to_launch_plan(row)
