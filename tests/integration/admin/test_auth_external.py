"""Admin with an external OpenID Connect provider: Dex, built from the Go module proxy and run on loopback.

People's tokens come from the provider (here through its password grant, so no browser is needed; the
browser flows are tested end to end with flytekit in tests/e2e/test_people_login_with_flytekit.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from admin.auth.clients import ServiceClients
from admin.config import AuthConfig, ExternalAuthConfig
from flyteidl_py.admin import execution_pb2, project_pb2
from flyteidl_py.service import admin_pb2_grpc, auth_pb2, auth_pb2_grpc, identity_pb2, identity_pb2_grpc
from tests.integration.admin.helpers import launch, register
from tests.integration.admin.test_auth import _bearer, _token, authed
from tests.support.admin import RunningAdmin, running_admin
from tests.support.dex import OTHER_CLIENT, OTHER_SECRET, USER_EMAIL, RunningDex, running_dex


@pytest.fixture
async def dex(dex_binary: Path, tmp_path: Path) -> AsyncIterator[RunningDex]:
    async with running_dex(dex_binary, tmp_path / "dex") as running:
        yield running


@pytest.fixture
async def admin(dex: RunningDex, tmp_path: Path) -> AsyncIterator[RunningAdmin]:
    auth = AuthConfig(enabled=True, external=ExternalAuthConfig(issuer=dex.issuer))
    async with running_admin(f"sqlite:///{tmp_path / 'admin.db'}", tmp_path, auth=auth) as running:
        yield running


@pytest.fixture
async def channel(admin: RunningAdmin) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{admin.grpc_port}") as opened:
        yield opened


async def test_auth_metadata_sends_people_to_the_provider(
    admin: RunningAdmin, dex: RunningDex, channel: grpc.aio.Channel
) -> None:
    stub = auth_pb2_grpc.AuthMetadataServiceStub(channel)
    metadata = await stub.GetOAuth2Metadata(auth_pb2.OAuth2MetadataRequest())
    assert metadata.issuer == dex.issuer
    assert metadata.authorization_endpoint == f"{dex.issuer}/auth"
    assert metadata.token_endpoint == f"{dex.issuer}/token"
    assert metadata.device_authorization_endpoint == f"{dex.issuer}/device/code"
    assert "S256" in metadata.code_challenge_methods_supported
    client = await stub.GetPublicClientConfig(auth_pb2.PublicClientAuthConfigRequest())
    assert client.client_id == "flytectl"
    assert client.redirect_uri == "http://localhost:53593/callback"
    assert "offline_access" in client.scopes


async def test_a_persons_token_from_the_provider_is_accepted_and_names_them(
    admin: RunningAdmin, dex: RunningDex, channel: grpc.aio.Channel
) -> None:
    token = await dex.password_token("flytectl", scope="openid email profile")
    me = await identity_pb2_grpc.IdentityServiceStub(channel).UserInfo(
        identity_pb2.UserInfoRequest(), metadata=_bearer(token)
    )
    assert me.subject == USER_EMAIL
    assert me.email == USER_EMAIL

    stub = authed(channel, token)
    await register(stub)
    ident = await launch(stub, "by-alice")
    got = await admin_pb2_grpc.AdminServiceStub(admin.channel).GetExecution(
        execution_pb2.WorkflowExecutionGetRequest(id=ident)
    )
    assert got.spec.metadata.principal == USER_EMAIL


async def test_a_provider_token_for_another_client_is_refused_naming_its_audience(
    admin: RunningAdmin, dex: RunningDex, channel: grpc.aio.Channel
) -> None:
    token = await dex.password_token(OTHER_CLIENT, OTHER_SECRET)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await admin_pb2_grpc.AdminServiceStub(channel).ListProjects(
            project_pb2.ProjectListRequest(), metadata=_bearer(token)
        )
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert f"for audience '{OTHER_CLIENT}'" in (refused.value.details() or "")


async def test_service_clients_of_the_built_in_server_keep_working_beside_the_provider(
    admin: RunningAdmin, channel: grpc.aio.Channel
) -> None:
    server: Any = admin.server
    secret = await ServiceClients(server.db).create("ci-bot")
    token = (await _token(admin, secret))["access_token"]
    listing = await admin_pb2_grpc.AdminServiceStub(channel).ListProjects(
        project_pb2.ProjectListRequest(), metadata=_bearer(token)
    )
    assert listing.projects
