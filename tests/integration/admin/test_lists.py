"""Flyte's list grammar over gRPC: filters, sorting, offset tokens, and the errors for malformed ones."""

from __future__ import annotations

import grpc
import pytest

from flyteidl_py.admin import common_pb2, execution_pb2, project_pb2
from flyteidl_py.core import identifier_pb2
from flyteidl_py.service import admin_pb2_grpc
from tests.integration.admin.helpers import DOMAIN, PROJECT, WF, launch, register, wf_event


def _executions(filters: str = "", limit: int = 100, token: str = "", sort: common_pb2.Sort | None = None):  # type: ignore[no-untyped-def]
    return common_pb2.ResourceListRequest(
        id=common_pb2.NamedEntityIdentifier(project=PROJECT, domain=DOMAIN),
        limit=limit,
        token=token,
        filters=filters,
        sort_by=sort,
    )


async def _three_runs(stub: admin_pb2_grpc.AdminServiceStub) -> None:
    await register(stub)
    for name, phase in (("run-a", WF.SUCCEEDED), ("run-b", WF.FAILED), ("run-c", WF.RUNNING)):
        ident = await launch(stub, name=name)
        await stub.CreateWorkflowEvent(wf_event(ident, WF.RUNNING, 1))
        if phase != WF.RUNNING:
            await stub.CreateWorkflowEvent(wf_event(ident, phase, 2))


@pytest.mark.parametrize(
    ("filters", "names"),
    [
        ("eq(phase,SUCCEEDED)", ["run-a"]),
        ("ne(phase,SUCCEEDED)", ["run-b", "run-c"]),
        ("value_in(phase,FAILED;RUNNING)", ["run-b", "run-c"]),
        ("value_not_in(phase,FAILED;RUNNING)", ["run-a"]),
        ("contains(execution_name,-b)", ["run-b"]),
        ("eq(phase,SUCCEEDED)+eq(execution_name,run-b)", []),
        ("eq(launch_plan.name,examples.configured.configured_wf)", ["run-a", "run-b", "run-c"]),
        ("eq(workflow.name,examples.advanced.sub_wf)", []),
        ("gte(duration,1)", ["run-a", "run-b"]),
        ("lt(duration, 1s)", ["run-c"]),
    ],
)
async def test_execution_filters_select_what_they_say(
    stub: admin_pb2_grpc.AdminServiceStub, filters: str, names: list[str]
) -> None:
    await _three_runs(stub)
    listed = await stub.ListExecutions(
        _executions(filters, sort=common_pb2.Sort(key="execution_name", direction=common_pb2.Sort.ASCENDING))
    )
    assert [e.id.name for e in listed.executions] == names


async def test_pages_follow_tokens_and_the_last_full_page_yields_an_empty_one(
    stub: admin_pb2_grpc.AdminServiceStub,
) -> None:
    await _three_runs(stub)
    sort = common_pb2.Sort(key="execution_name", direction=common_pb2.Sort.DESCENDING)
    first = await stub.ListExecutions(_executions(limit=2, sort=sort))
    assert ([e.id.name for e in first.executions], first.token) == (["run-c", "run-b"], "2")
    second = await stub.ListExecutions(_executions(limit=2, token=first.token, sort=sort))
    assert ([e.id.name for e in second.executions], second.token) == (["run-a"], "")
    exact = await stub.ListExecutions(_executions(limit=3, sort=sort))
    assert exact.token == "3"
    after = await stub.ListExecutions(_executions(limit=3, token=exact.token, sort=sort))
    assert (list(after.executions), after.token) == ([], "")


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (_executions("eq(phase)"), "invalid value for filters"),
        (_executions("like(phase,x)"), "unrecognized filter function: like"),
        (_executions("eq(no_such_column,x)"), "is invalid filter"),
        (_executions("eq(project.name,x)"), "entity is not allowed in filters"),
        (_executions("eq(duration,forever)"), "duration"),
        (_executions(limit=0), "invalid value for limit"),
        (_executions(token="abc"), "invalid pagination token"),
        (_executions(token="-3"), "invalid pagination token"),
        (_executions(token="9" * 20), "invalid pagination token"),  # beyond 64 bits: was INTERNAL
        (_executions(token="1" * 5000), "invalid pagination token"),
        (_executions("eq(phase," + "(," * 5000 + ")"), "filters is longer than"),
        (_executions(sort=common_pb2.Sort(key="nope")), "invalid sort key"),
    ],
)
async def test_malformed_list_requests_are_invalid_and_name_the_problem(
    stub: admin_pb2_grpc.AdminServiceStub, request_: common_pb2.ResourceListRequest, message: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.ListExecutions(request_)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in raised.value.details()


async def test_list_results_drop_inputs_and_truncate_long_errors(
    stub: admin_pb2_grpc.AdminServiceStub,
) -> None:
    from flyteidl_py.core import execution_pb2 as core

    await register(stub)
    ident = await launch(stub, name="long-error")
    error = core.ExecutionError(code="USER:X", message="e" * 500, kind=core.ExecutionError.USER)
    await stub.CreateWorkflowEvent(wf_event(ident, WF.FAILED, 1, error=error))
    listed = await stub.ListExecutions(_executions())
    assert len(listed.executions[0].closure.error.message) == 100
    full = await stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=ident))
    assert len(full.closure.error.message) == 500


async def test_projects_list_in_identifier_order_and_hide_archived_ones_by_default(
    stub: admin_pb2_grpc.AdminServiceStub,
) -> None:
    for pid in ("zeta", "alpha"):
        await stub.RegisterProject(project_pb2.ProjectRegisterRequest(project=project_pb2.Project(id=pid, name=pid)))
    await stub.UpdateProject(project_pb2.Project(id="zeta", name="zeta", state=project_pb2.Project.ARCHIVED))
    listed = await stub.ListProjects(project_pb2.ProjectListRequest())
    assert [p.id for p in listed.projects] == ["alpha", "flytesnacks"]
    assert [d.id for d in listed.projects[0].domains] == ["development", "staging", "production"]
    archived = await stub.ListProjects(project_pb2.ProjectListRequest(filters="eq(state,1)"))
    assert [p.id for p in archived.projects] == ["zeta"]


@pytest.mark.parametrize(
    ("project", "message"),
    [
        (project_pb2.Project(id="Bad_Id", name="x"), "invalid project id"),
        (project_pb2.Project(id="ok", name=""), "missing project_name"),
        (project_pb2.Project(id="ok", name="x", domains=[project_pb2.Domain(id="d", name="d")]), "Domains"),
        (project_pb2.Project(id="flytesnacks", name="dup"), "already exists"),
    ],
)
async def test_bad_project_registrations_are_refused(
    stub: admin_pb2_grpc.AdminServiceStub, project: project_pb2.Project, message: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.RegisterProject(project_pb2.ProjectRegisterRequest(project=project))
    assert raised.value.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.ALREADY_EXISTS)
    assert message in raised.value.details()
    listed = await stub.ListProjects(project_pb2.ProjectListRequest())
    assert [p.id for p in listed.projects] == ["flytesnacks"]


async def test_task_and_workflow_ids_list_distinct_names(stub: admin_pb2_grpc.AdminServiceStub) -> None:
    await register(stub, "v1")
    await register(stub, "v2")
    ids = await stub.ListWorkflowIds(
        common_pb2.NamedEntityIdentifierListRequest(project=PROJECT, domain=DOMAIN, limit=100)
    )
    names = [e.name for e in ids.entities]
    assert len(names) == len(set(names)) == 5
    named = await stub.GetNamedEntity(
        common_pb2.NamedEntityGetRequest(
            resource_type=identifier_pb2.WORKFLOW,
            id=common_pb2.NamedEntityIdentifier(project=PROJECT, domain=DOMAIN, name=names[0]),
        )
    )
    assert named.metadata.state == common_pb2.NAMED_ENTITY_ACTIVE
