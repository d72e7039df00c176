"""Matchable attributes over gRPC at each level: update, read back, delete, and the NOT_FOUND after."""

from __future__ import annotations

import grpc
import pytest

from flyteidl_py.admin import common_pb2
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


@pytest.mark.parametrize(
    ("attributes", "field"),
    [
        (
            mr.MatchingAttributes(execution_queue_attributes=mr.ExecutionQueueAttributes(tags=["gpu", "a\x00b"])),
            "execution_queue_attributes.tags[1]",
        ),
        (
            mr.MatchingAttributes(execution_cluster_label=mr.ExecutionClusterLabel(value="x" * 10_000)),
            "execution_cluster_label.value",
        ),
        (
            mr.MatchingAttributes(
                workflow_execution_config=mr.WorkflowExecutionConfig(
                    labels=common_pb2.Labels(values={"team": "ml\r\nX-Injected: 1"})
                )
            ),
            "workflow_execution_config.labels.values[team]",
        ),
        (
            mr.MatchingAttributes(
                plugin_overrides=mr.PluginOverrides(overrides=[mr.PluginOverride(plugin_id=["local"])])
            ),
            "plugin_overrides.overrides[0].task_type",
        ),
    ],
    ids=["nul", "10kb", "crlf", "no-task-type"],
)
async def test_meaningless_attribute_values_are_refused_and_nothing_is_stored(
    stub: admin_pb2_grpc.AdminServiceStub, attributes: mr.MatchingAttributes, field: str
) -> None:
    request = pa.ProjectAttributesUpdateRequest(
        attributes=pa.ProjectAttributes(project=PROJECT, matching_attributes=attributes)
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.UpdateProjectAttributes(request)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert f"attributes.matching_attributes.{field}" in (raised.value.details() or "")
    kind = mr.MatchableResource.Value(
        {
            "execution_queue_attributes": "EXECUTION_QUEUE",
            "execution_cluster_label": "EXECUTION_CLUSTER_LABEL",
            "workflow_execution_config": "WORKFLOW_EXECUTION_CONFIG",
            "plugin_overrides": "PLUGIN_OVERRIDE",
        }[attributes.WhichOneof("target")]
    )
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await stub.GetProjectAttributes(pa.ProjectAttributesGetRequest(project=PROJECT, resource_type=kind))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
