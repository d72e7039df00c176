"""Registration through gRPC: flytekit's real packages register, compile, and read back complete."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import grpc
import pytest
from grpc_status import rpc_status

from flyteidl_py.admin import common_pb2, launch_plan_pb2, task_pb2, workflow_pb2
from flyteidl_py.core import identifier_pb2
from flyteidl_py.service import admin_pb2_grpc
from tests.support.packages import Package, load_package
from tests.support.paths import fixtures_dir


def _package(version: str = "v1") -> Package:
    return load_package(fixtures_dir() / "examples-package-fast.tgz", version=version)


async def _register(stub: admin_pb2_grpc.AdminServiceStub, package: Package) -> None:
    for request in package.requests():
        if isinstance(request, task_pb2.TaskCreateRequest):
            await stub.CreateTask(request)
        elif isinstance(request, workflow_pb2.WorkflowCreateRequest):
            await stub.CreateWorkflow(request)
        else:
            assert isinstance(request, launch_plan_pb2.LaunchPlanCreateRequest)
            await stub.CreateLaunchPlan(request)


def _wf_id(name: str, version: str = "v1") -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(
        resource_type=identifier_pb2.WORKFLOW,
        project="flytesnacks",
        domain="development",
        name=name,
        version=version,
    )


async def test_a_flytekit_package_registers_and_every_workflow_reads_back_with_a_complete_closure(
    stub: admin_pb2_grpc.AdminServiceStub,
) -> None:
    package = _package()
    await _register(stub, package)
    for request in package.workflow_requests():
        workflow = await stub.GetWorkflow(common_pb2.ObjectGetRequest(id=request.id))
        closure = workflow.closure.compiled_workflow
        assert closure.primary.template.id == request.id
        task_ids = {(t.template.id.name, t.template.id.version) for t in closure.tasks}
        referenced = {
            (n.task_node.reference_id.name, n.task_node.reference_id.version)
            for n in request.spec.template.nodes
            if n.HasField("task_node")
        }
        assert referenced <= task_ids
    advanced = await stub.GetWorkflow(common_pb2.ObjectGetRequest(id=_wf_id("examples.advanced.advanced_wf")))
    closure = advanced.closure.compiled_workflow
    assert [s.template.id.name for s in closure.sub_workflows] == ["examples.advanced.sub_wf"]
    # The map task behind the array node and the tasks inside the branch are in tasks[] too.
    names = {t.template.id.name for t in closure.tasks}
    assert any(n.endswith("-arraynode") for n in names)
    assert {"examples.advanced.halve", "examples.advanced.negate"} <= names


async def test_registering_the_same_package_again_answers_already_exists_and_changes_nothing(
    stub: admin_pb2_grpc.AdminServiceStub,
) -> None:
    package = _package()
    await _register(stub, package)
    before = await stub.ListTasks(
        common_pb2.ResourceListRequest(
            id=common_pb2.NamedEntityIdentifier(
                project="flytesnacks", domain="development", name="examples.advanced.square"
            ),
            limit=10,
        )
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.CreateTask(package.task_requests()[0])
    assert raised.value.code() == grpc.StatusCode.ALREADY_EXISTS
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.CreateWorkflow(package.workflow_requests()[0])
    assert raised.value.code() == grpc.StatusCode.ALREADY_EXISTS
    after = await stub.ListTasks(
        common_pb2.ResourceListRequest(
            id=common_pb2.NamedEntityIdentifier(
                project="flytesnacks", domain="development", name="examples.advanced.square"
            ),
            limit=10,
        )
    )
    assert before == after


async def test_a_different_task_body_under_an_existing_version_is_refused_with_its_reason(
    stub: admin_pb2_grpc.AdminServiceStub,
) -> None:
    request = _package().task_requests()[0]
    await stub.CreateTask(request)
    changed = task_pb2.TaskCreateRequest()
    changed.CopyFrom(request)
    changed.spec.template.container.image = "another/image:2"
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.CreateTask(changed)
    assert raised.value.code() == grpc.StatusCode.ALREADY_EXISTS
    status = rpc_status.from_call(raised.value)
    assert status is not None
    reason = workflow_pb2.CreateWorkflowFailureReason()
    status.details[0].Unpack(reason)
    assert reason.exists_different_structure.id.name == request.id.name
    stored = await stub.GetTask(common_pb2.ObjectGetRequest(id=request.id))
    assert stored.closure.compiled_task.template.container.image == request.spec.template.container.image


async def test_a_workflow_whose_task_is_not_registered_is_invalid_and_names_the_task(
    stub: admin_pb2_grpc.AdminServiceStub,
) -> None:
    request = next(w for w in _package().workflow_requests() if w.id.name == "examples.basics.basics_wf")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.CreateWorkflow(request)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "examples.basics" in raised.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await stub.GetWorkflow(common_pb2.ObjectGetRequest(id=request.id))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


async def test_activating_a_launch_plan_version_deactivates_the_previous_one(
    stub: admin_pb2_grpc.AdminServiceStub,
) -> None:
    for version in ("v1", "v2"):
        await _register(stub, _package(version))
    lp = next(lp.id for lp in _package().launch_plan_requests() if lp.id.name == "examples.basics.basics_wf")
    v1, v2 = (identifier_pb2.Identifier(**{**_fields(lp), "version": v}) for v in ("v1", "v2"))
    await stub.UpdateLaunchPlan(launch_plan_pb2.LaunchPlanUpdateRequest(id=v1, state=launch_plan_pb2.ACTIVE))
    await stub.UpdateLaunchPlan(launch_plan_pb2.LaunchPlanUpdateRequest(id=v2, state=launch_plan_pb2.ACTIVE))
    active = await stub.GetActiveLaunchPlan(
        launch_plan_pb2.ActiveLaunchPlanRequest(
            id=common_pb2.NamedEntityIdentifier(project=lp.project, domain=lp.domain, name=lp.name)
        )
    )
    assert active.id.version == "v2"
    assert active.closure.state == launch_plan_pb2.ACTIVE
    old = await stub.GetLaunchPlan(common_pb2.ObjectGetRequest(id=v1))
    assert old.closure.state == launch_plan_pb2.INACTIVE
    listed = await stub.ListActiveLaunchPlans(
        launch_plan_pb2.ActiveLaunchPlanListRequest(project=lp.project, domain=lp.domain, limit=100)
    )
    assert [p.id.version for p in listed.launch_plans] == ["v2"]


def _fields(ident: identifier_pb2.Identifier) -> dict[str, object]:
    return {f.name: v for f, v in ident.ListFields()}


async def test_listing_versions_newest_first_is_what_flyteremote_fetch_task_relies_on(
    stub: admin_pb2_grpc.AdminServiceStub,
) -> None:
    for version in ("v1", "v2", "v3"):
        await stub.CreateTask(_package(version).task_requests()[0])
    name = _package().task_requests()[0].id.name
    listed = await stub.ListTasks(
        common_pb2.ResourceListRequest(
            id=common_pb2.NamedEntityIdentifier(project="flytesnacks", domain="development", name=name),
            limit=1,
            sort_by=common_pb2.Sort(key="created_at", direction=common_pb2.Sort.DESCENDING),
        )
    )
    assert [t.id.version for t in listed.tasks] == ["v3"]
    assert listed.token == "1"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda r: r.id.ClearField("project"), "project"),
        (lambda r: r.id.ClearField("version"), "version"),
        (lambda r: setattr(r.id, "resource_type", identifier_pb2.WORKFLOW), "resource type"),
        (lambda r: setattr(r.id, "project", "no-such-project"), "no-such-project"),
        (lambda r: setattr(r.id, "domain", "qa"), "domain"),
        (lambda r: r.spec.template.ClearField("metadata"), "metadata"),
        (lambda r: r.spec.template.container.ClearField("image"), "image"),
    ],
)
async def test_a_malformed_task_registration_is_invalid_names_the_problem_and_stores_nothing(
    stub: admin_pb2_grpc.AdminServiceStub, mutate: object, field: str
) -> None:
    request = task_pb2.TaskCreateRequest()
    request.CopyFrom(_package().task_requests()[0])
    mutate(request)  # type: ignore[operator]
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.CreateTask(request)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in raised.value.details()
    listed = await stub.ListTaskIds(
        common_pb2.NamedEntityIdentifierListRequest(project="flytesnacks", domain="development", limit=10)
    )
    assert list(listed.entities) == []


async def test_concurrent_registrations_of_one_version_store_it_once_and_answer_already_exists(
    stub: admin_pb2_grpc.AdminServiceStub,
) -> None:
    """pyflyte register sends a task once per workflow that uses it, several calls at a time."""
    package = _package()
    task = package.task_requests()[0]
    workflow = next(w for w in package.workflow_requests() if w.id.name == "examples.basics.basics_wf")
    for request in package.task_requests():
        if request.id != task.id:
            await stub.CreateTask(request)

    async def outcome(call: Awaitable[object]) -> grpc.StatusCode:
        try:
            await call
        except grpc.aio.AioRpcError as error:
            return error.code()
        return grpc.StatusCode.OK

    expected = sorted([grpc.StatusCode.OK] + [grpc.StatusCode.ALREADY_EXISTS] * 7, key=str)
    codes = await asyncio.gather(*(outcome(stub.CreateTask(task)) for _ in range(8)))
    assert sorted(codes, key=str) == expected, codes
    codes = await asyncio.gather(*(outcome(stub.CreateWorkflow(workflow)) for _ in range(8)))
    assert sorted(codes, key=str) == expected, codes
    versions = await stub.ListTasks(
        common_pb2.ResourceListRequest(
            id=common_pb2.NamedEntityIdentifier(project=task.id.project, domain=task.id.domain, name=task.id.name),
            limit=10,
        )
    )
    assert [t.id.version for t in versions.tasks] == [task.id.version]
