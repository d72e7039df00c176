"""Admin to a generic gRPC client: grpcurl discovers the services through reflection and calls them."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import RunningAdmin
from tests.support.grpcurl import grpcurl, grpcurl_call


async def test_grpcurl_lists_every_admin_service(grpcurl_binary: Path, module_admin: RunningAdmin) -> None:
    services = set((await grpcurl(grpcurl_binary, module_admin.grpc_port, "list")).split())

    assert services >= {
        "flyteidl.service.AdminService",
        "flyteidl.service.DataProxyService",
        "flyteidl.service.AuthMetadataService",
        "flyteidl.service.IdentityService",
        "flyteidl.service.SignalService",
        "grpc.health.v1.Health",
    }


async def test_grpcurl_describes_admin_service_methods(grpcurl_binary: Path, module_admin: RunningAdmin) -> None:
    described = await grpcurl(grpcurl_binary, module_admin.grpc_port, "describe", "flyteidl.service.AdminService")

    assert "rpc CreateExecution ( .flyteidl.admin.ExecutionCreateRequest )" in described


async def test_grpcurl_calls_get_version(grpcurl_binary: Path, module_admin: RunningAdmin) -> None:
    answer = await grpcurl_call(grpcurl_binary, module_admin.grpc_port, "flyteidl.service.AdminService/GetVersion", {})

    version = answer["controlPlaneVersion"]
    assert version["Version"].startswith("v") and version["Build"] and version["BuildTime"]


async def test_grpcurl_calls_list_projects(grpcurl_binary: Path, module_admin: RunningAdmin) -> None:
    answer = await grpcurl_call(
        grpcurl_binary, module_admin.grpc_port, "flyteidl.service.AdminService/ListProjects", {}
    )

    projects = {project["id"]: project for project in answer["projects"]}
    assert projects["flytesnacks"]["domains"] == [
        {"id": "development", "name": "development"},
        {"id": "staging", "name": "staging"},
        {"id": "production", "name": "production"},
    ]
