"""Matchable attributes over gRPC at each level: update, read back, delete, and the NOT_FOUND after."""

from __future__ import annotations

import grpc
import pytest

from flyteidl_py.admin import (
    matchable_resource_pb2 as mr,
)
from flyteidl_py.admin import (
    project_attributes_pb2 as pa,
)
from flyteidl_py.admin import (
    project_domain_attributes_pb2 as pda,
)
from flyteidl_py.admin import (
    workflow_attributes_pb2 as wa,
)
from flyteidl_py.service import admin_pb2_grpc
from tests.integration.admin.helpers import DOMAIN, PROJECT

QUEUE = mr.MatchingAttributes(execution_queue_attributes=mr.ExecutionQueueAttributes(tags=["gpu"]))


async def test_project_attributes_round_trip(stub: admin_pb2_grpc.AdminServiceStub) -> None:
    attributes = pa.ProjectAttributes(project=PROJECT, matching_attributes=QUEUE)
    await stub.UpdateProjectAttributes(pa.ProjectAttributesUpdateRequest(attributes=attributes))
    get = pa.ProjectAttributesGetRequest(project=PROJECT, resource_type=mr.EXECUTION_QUEUE)
    assert (await stub.GetProjectAttributes(get)).attributes == attributes
    await stub.DeleteProjectAttributes(
        pa.ProjectAttributesDeleteRequest(project=PROJECT, resource_type=mr.EXECUTION_QUEUE)
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.GetProjectAttributes(get)
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


async def test_project_domain_attributes_round_trip(stub: admin_pb2_grpc.AdminServiceStub) -> None:
    attributes = pda.ProjectDomainAttributes(project=PROJECT, domain=DOMAIN, matching_attributes=QUEUE)
    await stub.UpdateProjectDomainAttributes(pda.ProjectDomainAttributesUpdateRequest(attributes=attributes))
    get = pda.ProjectDomainAttributesGetRequest(project=PROJECT, domain=DOMAIN, resource_type=mr.EXECUTION_QUEUE)
    assert (await stub.GetProjectDomainAttributes(get)).attributes == attributes
    await stub.DeleteProjectDomainAttributes(
        pda.ProjectDomainAttributesDeleteRequest(project=PROJECT, domain=DOMAIN, resource_type=mr.EXECUTION_QUEUE)
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.GetProjectDomainAttributes(get)
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


async def test_workflow_attributes_round_trip(stub: admin_pb2_grpc.AdminServiceStub) -> None:
    attributes = wa.WorkflowAttributes(project=PROJECT, domain=DOMAIN, workflow="wf", matching_attributes=QUEUE)
    await stub.UpdateWorkflowAttributes(wa.WorkflowAttributesUpdateRequest(attributes=attributes))
    get = wa.WorkflowAttributesGetRequest(
        project=PROJECT, domain=DOMAIN, workflow="wf", resource_type=mr.EXECUTION_QUEUE
    )
    assert (await stub.GetWorkflowAttributes(get)).attributes == attributes
    await stub.DeleteWorkflowAttributes(
        wa.WorkflowAttributesDeleteRequest(
            project=PROJECT, domain=DOMAIN, workflow="wf", resource_type=mr.EXECUTION_QUEUE
        )
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.GetWorkflowAttributes(get)
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


async def test_update_names_the_missing_scope_part(stub: admin_pb2_grpc.AdminServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.UpdateWorkflowAttributes(
            wa.WorkflowAttributesUpdateRequest(
                attributes=wa.WorkflowAttributes(project=PROJECT, domain=DOMAIN, matching_attributes=QUEUE)
            )
        )
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "attributes.workflow" in (raised.value.details() or "")
