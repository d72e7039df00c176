"""Roles per project and domain on admin: every RPC and REST route checked against the caller's bindings.

Real admin (SQLite), tokens from its own token endpoint (service clients) or signed with its key (a person
with groups, as an identity provider would give them); the refused calls change nothing.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import jwt
import pytest

from admin.auth.clients import ServiceClients
from admin.config import AuthConfig, AuthorizationConfig, RoleBinding
from flyteidl_py.admin import common_pb2, execution_pb2, project_pb2
from flyteidl_py.service import admin_pb2_grpc
from tests.integration.admin.helpers import DOMAIN, PROJECT, launch, lp_id, register
from tests.integration.admin.test_auth import _token, authed
from tests.support.admin import RunningAdmin, running_admin

BINDINGS = [
    RoleBinding(role="admin", subjects=["admin-bot"]),
    RoleBinding(role="viewer", subjects=["viewer-bot"], projects=[PROJECT]),
    RoleBinding(role="launcher", subjects=["ops-bot"], projects=[PROJECT], domains=[DOMAIN]),
    RoleBinding(role="viewer", subjects=["ops-bot"], projects=[PROJECT]),
    RoleBinding(role="launcher", groups=["ml-team"], projects=[PROJECT]),
]


@pytest.fixture
async def admin(tmp_path: Path) -> AsyncIterator[RunningAdmin]:
    auth = AuthConfig(enabled=True, authorization=AuthorizationConfig(enabled=True, bindings=BINDINGS))
    async with running_admin(f"sqlite:///{tmp_path / 'admin.db'}", tmp_path, auth=auth) as running:
        yield running


@pytest.fixture
async def tokens(admin: RunningAdmin) -> dict[str, str]:
    server: Any = admin.server
    clients = ServiceClients(server.db)
    found = {}
    for name in ("admin-bot", "viewer-bot", "ops-bot", "nobody-bot"):
        found[name] = (await _token(admin, await clients.create(name), name))["access_token"]
    return found


@pytest.fixture
async def channel(admin: RunningAdmin) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{admin.grpc_port}") as opened:
        yield opened


async def _denied(call: Any) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    return refused.value.details() or ""


async def _executions(admin: RunningAdmin, domain: str = DOMAIN) -> set[str]:
    listing = await admin_pb2_grpc.AdminServiceStub(admin.channel).ListExecutions(
        common_pb2.ResourceListRequest(id=common_pb2.NamedEntityIdentifier(project=PROJECT, domain=domain), limit=100)
    )
    return {e.id.name for e in listing.executions}


async def test_each_role_does_what_it_grants_where_it_is_bound_and_nothing_else(
    admin: RunningAdmin, tokens: dict[str, str], channel: grpc.aio.Channel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="flyteplane.audit")
    await register(authed(channel, tokens["admin-bot"]))  # registering needs admin

    viewer = authed(channel, tokens["viewer-bot"])
    reason = await _denied(launch(viewer, "by-viewer"))
    assert "viewer-bot lacks the 'execute' permission in project flytesnacks, domain development" in reason
    assert "by-viewer" not in await _executions(admin)
    assert "administer" in await _denied(register(viewer))

    ops = authed(channel, tokens["ops-bot"])
    ident = await launch(ops, "by-ops")
    assert (await viewer.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=ident))).id.name == "by-ops"
    staging = execution_pb2.ExecutionCreateRequest(
        project=PROJECT, domain="staging", name="ops-staging", spec=execution_pb2.ExecutionSpec(launch_plan=lp_id("x"))
    )
    assert "domain staging" in await _denied(ops.CreateExecution(staging))
    await ops.TerminateExecution(execution_pb2.ExecutionTerminateRequest(id=ident, cause="done"))

    nobody = authed(channel, tokens["nobody-bot"])
    assert "'view'" in await _denied(nobody.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=ident)))

    audited = [r.getMessage() for r in caplog.records if r.name == "flyteplane.audit"]
    assert "ops-bot called CreateExecution in flytesnacks/development (execute)" in audited
    assert "viewer-bot was refused CreateExecution in flytesnacks/development (execute)" in audited
    assert not any("GetExecution" in line for line in audited)  # reads are not audited


async def test_projects_are_listed_only_where_the_caller_may_view(
    admin: RunningAdmin, tokens: dict[str, str], channel: grpc.aio.Channel
) -> None:
    boss = authed(channel, tokens["admin-bot"])
    await boss.RegisterProject(project_pb2.ProjectRegisterRequest(project=project_pb2.Project(id="secret", name="s")))
    everything = {p.id for p in (await boss.ListProjects(project_pb2.ProjectListRequest())).projects}
    assert {"secret", PROJECT} <= everything
    listing = await authed(channel, tokens["viewer-bot"]).ListProjects(project_pb2.ProjectListRequest())
    seen = {p.id for p in listing.projects}
    assert seen == {PROJECT}
    reason = await _denied(
        authed(channel, tokens["ops-bot"]).RegisterProject(
            project_pb2.ProjectRegisterRequest(project=project_pb2.Project(id="mine", name="m"))
        )
    )
    assert "in project mine" in reason


async def test_a_group_from_the_token_gets_its_bindings(
    admin: RunningAdmin, tokens: dict[str, str], channel: grpc.aio.Channel, tmp_path: Path
) -> None:
    await register(authed(channel, tokens["admin-bot"]))
    base = f"http://127.0.0.1:{admin.http_port}"
    now = int(time.time())
    claims = {
        "iss": base, "aud": base, "sub": "carol@example.com", "iat": now, "exp": now + 600,
        "jti": uuid.uuid4().hex, "groups": ["ml-team"],
    }  # fmt: skip
    carol = jwt.encode(claims, (tmp_path / "auth-signing-key.pem").read_bytes(), algorithm="RS256")
    ident = await launch(authed(channel, carol), "by-carol")
    got = await admin_pb2_grpc.AdminServiceStub(admin.channel).GetExecution(
        execution_pb2.WorkflowExecutionGetRequest(id=ident)
    )
    assert got.spec.metadata.principal == "carol@example.com"


async def test_rest_routes_are_authorized_as_their_rpcs(admin: RunningAdmin, tokens: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{admin.http_port}", timeout=30) as http:
        viewer = {"Authorization": f"Bearer {tokens['viewer-bot']}"}
        listed = await http.get(f"/api/v1/executions/{PROJECT}/{DOMAIN}?limit=10", headers=viewer)
        assert listed.status_code == 200
        body = {"project": PROJECT, "domain": DOMAIN, "name": "rest-viewer", "spec": {}}
        refused = await http.post("/api/v1/executions", json=body, headers=viewer)
        assert refused.status_code == 403
        assert "'execute'" in refused.json()["message"]
        logs = await http.get("/api/v1/logs/secret/development/anything", headers=viewer)
        assert logs.status_code == 403
        projects = await http.get("/api/v1/projects", headers=viewer)
        assert {p["id"] for p in projects.json()["projects"]} == {PROJECT}
