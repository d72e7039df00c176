"""Authentication on admin: the built-in authorization server and the guard on every RPC and REST call.

Real admin on loopback (SQLite), real gRPC and HTTP; tokens come from admin's own token endpoint with client
credentials, as flytekit's `authType: ClientSecret` gets them, and bad ones are made with real keys.
"""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from admin.auth.clients import ServiceClients
from admin.config import AuthConfig
from flyteidl_py.admin import execution_pb2, project_pb2
from flyteidl_py.service import admin_pb2_grpc, auth_pb2, auth_pb2_grpc, identity_pb2, identity_pb2_grpc
from tests.integration.admin.helpers import DOMAIN, PROJECT, launch, register
from tests.support.admin import RunningAdmin, running_admin


@pytest.fixture
async def admin(tmp_path: Path) -> AsyncIterator[RunningAdmin]:
    async with running_admin(f"sqlite:///{tmp_path / 'admin.db'}", tmp_path, auth=AuthConfig(enabled=True)) as a:
        yield a


@pytest.fixture
async def client_secret(admin: RunningAdmin) -> str:
    return await ServiceClients(admin.server.db).create("ci-bot", "the CI")


def _http(admin: RunningAdmin) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{admin.http_port}", timeout=30)


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


async def _token(admin: RunningAdmin, secret: str, client_id: str = "ci-bot", **form: str) -> dict[str, Any]:
    async with _http(admin) as http:
        answer = await http.post(
            "/oauth2/token", data={"grant_type": "client_credentials", **form}, headers=_basic(client_id, secret)
        )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


@pytest.fixture
async def token(admin: RunningAdmin, client_secret: str) -> str:
    return str((await _token(admin, client_secret))["access_token"])


@pytest.fixture
async def open_channel(admin: RunningAdmin) -> AsyncIterator[grpc.aio.Channel]:
    """A channel like a user's: no plane credential."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{admin.grpc_port}") as channel:
        yield channel


def _bearer(token: str, key: str = "flyte-authorization") -> list[tuple[str, str]]:
    return [(key, f"Bearer {token}")]


def authed(channel: grpc.aio.Channel, token: str) -> Any:
    """AdminService over `channel`, every call with the bearer token (for the helpers that take a stub)."""
    stub = admin_pb2_grpc.AdminServiceStub(channel)

    class Authed:
        def __getattr__(self, name: str) -> Any:
            method = getattr(stub, name)
            return lambda request: method(request, metadata=_bearer(token))

    return Authed()


async def _refused(channel: grpc.aio.Channel, metadata: list[tuple[str, str]] | None = None) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await admin_pb2_grpc.AdminServiceStub(channel).RegisterProject(
            project_pb2.ProjectRegisterRequest(project=project_pb2.Project(id="sneaky", name="sneaky")),
            metadata=metadata,
        )
    return refused.value


async def _project_ids(admin: RunningAdmin) -> set[str]:
    listing = await admin_pb2_grpc.AdminServiceStub(admin.channel).ListProjects(project_pb2.ProjectListRequest())
    return {p.id for p in listing.projects}


async def test_a_call_without_a_token_is_refused_naming_the_token_endpoint_and_changes_nothing(
    admin: RunningAdmin, open_channel: grpc.aio.Channel
) -> None:
    error = await _refused(open_channel)
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert f"http://127.0.0.1:{admin.http_port}/oauth2/token" in (error.details() or "")
    assert "sneaky" not in await _project_ids(admin)
    async with _http(admin) as http:
        answer = await http.get("/api/v1/projects")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert answer.json()["code"] == grpc.StatusCode.UNAUTHENTICATED.value[0]


async def test_a_client_credentials_token_opens_grpc_and_rest_under_either_header(
    admin: RunningAdmin, client_secret: str, open_channel: grpc.aio.Channel
) -> None:
    issued = await _token(admin, client_secret, scope="all")
    assert issued["token_type"] == "bearer"
    assert issued["expires_in"] == 3600
    assert issued["scope"] == "all"
    stub = admin_pb2_grpc.AdminServiceStub(open_channel)
    for key in ("flyte-authorization", "authorization"):
        listing = await stub.ListProjects(
            project_pb2.ProjectListRequest(), metadata=_bearer(issued["access_token"], key)
        )
        assert PROJECT in {p.id for p in listing.projects}
    async with _http(admin) as http:
        answer = await http.get("/api/v1/projects", headers={"Authorization": f"Bearer {issued['access_token']}"})
    assert answer.status_code == 200
    assert PROJECT in {p["id"] for p in answer.json()["projects"]}


async def test_the_token_is_signed_by_the_published_key_and_says_who_and_for_whom(
    admin: RunningAdmin, token: str
) -> None:
    async with _http(admin) as http:
        jwks = (await http.get("/oauth2/jwks")).json()
    (jwk,) = jwks["keys"]
    assert jwt.get_unverified_header(token)["kid"] == jwk["kid"]
    public = jwt.PyJWK(jwk).key
    base = f"http://127.0.0.1:{admin.http_port}"
    claims = jwt.decode(token, public, algorithms=["RS256"], audience=base, issuer=base)
    assert claims["sub"] == claims["client_id"] == "ci-bot"
    assert claims["scp"] == ["all"]


async def test_auth_metadata_is_open_and_names_the_endpoints_that_answer(
    admin: RunningAdmin, open_channel: grpc.aio.Channel
) -> None:
    stub = auth_pb2_grpc.AuthMetadataServiceStub(open_channel)
    metadata = await stub.GetOAuth2Metadata(auth_pb2.OAuth2MetadataRequest())
    client = await stub.GetPublicClientConfig(auth_pb2.PublicClientAuthConfigRequest())
    base = f"http://127.0.0.1:{admin.http_port}"
    assert metadata.issuer == base
    assert metadata.token_endpoint == f"{base}/oauth2/token"
    assert list(metadata.grant_types_supported) == ["client_credentials"]
    assert client.authorization_metadata_key == "flyte-authorization"
    assert client.audience == base
    async with _http(admin) as http:
        assert (await http.get(metadata.jwks_uri.removeprefix(base))).status_code == 200
        rest = await http.get("/.well-known/oauth-authorization-server")
        assert rest.status_code == 200
        assert rest.json()["tokenEndpoint"] == metadata.token_endpoint
    # Every endpoint advertised answers something other than 404.
    async with _http(admin) as http:
        assert (await http.post(metadata.token_endpoint.removeprefix(base))).status_code == 400


async def test_user_info_and_executions_name_the_token_subject(
    admin: RunningAdmin, token: str, open_channel: grpc.aio.Channel
) -> None:
    me = await identity_pb2_grpc.IdentityServiceStub(open_channel).UserInfo(
        identity_pb2.UserInfoRequest(), metadata=_bearer(token)
    )
    assert me.subject == "ci-bot"

    stub = authed(open_channel, token)
    await register(stub)
    ident = await launch(stub, "by-bot")
    got = await stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=ident))
    assert got.spec.metadata.principal == "ci-bot"  # not flytekit's "placeholder"
    assert got.closure.state_change_details.principal == "ci-bot"
    await stub.TerminateExecution(execution_pb2.ExecutionTerminateRequest(id=ident, cause="stop"))
    got = await stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=ident))
    assert got.closure.abort_metadata.principal == "ci-bot"
    assert (ident.project, ident.domain) == (PROJECT, DOMAIN)


def _sign(claims: dict[str, Any], key: Any, **headers: Any) -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers=headers or None)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("expired", "expired at"),
        ("forged", "signature does not verify"),
        ("wrong_audience", "is for audience 'https://elsewhere.example'"),
        ("wrong_issuer", "issued by 'https://idp.example'"),
        ("unsigned", "not signed with RS256"),
        ("garbage", "not a valid JWT"),
        ("no_subject", "no 'sub' claim"),
        ("not_bearer", "must be 'Bearer <access token>'"),
    ],
)
async def test_a_bad_token_is_unauthenticated_saying_why_and_changes_nothing(
    admin: RunningAdmin, token: str, open_channel: grpc.aio.Channel, tmp_path: Path, case: str, reason: str
) -> None:
    good = jwt.decode(token, options={"verify_signature": False})
    own_key = (tmp_path / "auth-signing-key.pem").read_bytes()
    now = int(time.time())
    metadata = None
    if case == "expired":
        bad = _sign({**good, "iat": now - 7200, "exp": now - 3600}, own_key)
    elif case == "forged":
        bad = _sign(good, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    elif case == "wrong_audience":
        bad = _sign({**good, "aud": "https://elsewhere.example"}, own_key)
    elif case == "wrong_issuer":
        bad = _sign({**good, "iss": "https://idp.example"}, own_key)
    elif case == "unsigned":
        bad = jwt.encode(good, key=None, algorithm="none")
    elif case == "garbage":
        bad = "not-a-token"
    elif case == "no_subject":
        bad = _sign({k: v for k, v in good.items() if k != "sub"}, own_key)
    else:
        bad, metadata = "", [("authorization", f"Token {token}")]
    error = await _refused(open_channel, metadata or _bearer(bad))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert reason in (error.details() or "")
    assert "sneaky" not in await _project_ids(admin)
    async with _http(admin) as http:
        answer = await http.get(
            "/api/v1/projects", headers={"Authorization": metadata[0][1] if metadata else f"Bearer {bad}"}
        )
    assert answer.status_code == 401
    assert reason in answer.json()["message"]


async def test_a_revoked_token_is_refused_and_only_its_client_may_revoke_it(
    admin: RunningAdmin, client_secret: str, token: str, open_channel: grpc.aio.Channel
) -> None:
    other_secret = await ServiceClients(admin.server.db).create("other-bot")
    async with _http(admin) as http:
        theirs = await http.post("/oauth2/revoke", data={"token": token}, headers=_basic("other-bot", other_secret))
        assert theirs.status_code == 400
        assert theirs.json()["error"] == "unauthorized_client"
        stub = admin_pb2_grpc.AdminServiceStub(open_channel)
        await stub.ListProjects(project_pb2.ProjectListRequest(), metadata=_bearer(token))  # still valid
        ours = await http.post("/oauth2/revoke", data={"token": token}, headers=_basic("ci-bot", client_secret))
        assert ours.status_code == 200
    error = await _refused(open_channel, _bearer(token))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "revoked" in (error.details() or "")
    # A new token for the same client works.
    fresh = (await _token(admin, client_secret))["access_token"]
    await admin_pb2_grpc.AdminServiceStub(open_channel).ListProjects(
        project_pb2.ProjectListRequest(), metadata=_bearer(fresh)
    )


@pytest.mark.parametrize(
    ("form", "credentials", "status", "error"),
    [
        ({"grant_type": "client_credentials"}, ("ci-bot", "wrong"), 401, "invalid_client"),
        ({"grant_type": "client_credentials"}, ("nobody", "wrong"), 401, "invalid_client"),
        ({"grant_type": "client_credentials"}, None, 401, "invalid_client"),
        ({"grant_type": "password", "username": "a", "password": "b"}, "ok", 400, "unsupported_grant_type"),
        ({}, "ok", 400, "invalid_request"),
        ({"grant_type": "client_credentials", "scope": "admin"}, "ok", 400, "invalid_scope"),
        ({"grant_type": "client_credentials", "audience": "https://other"}, "ok", 400, "invalid_target"),
    ],
)
async def test_the_token_endpoint_answers_bad_requests_with_oauth_errors(
    admin: RunningAdmin,
    client_secret: str,
    form: dict[str, str],
    credentials: tuple[str, str] | str | None,
    status: int,
    error: str,
) -> None:
    headers = {}
    if credentials == "ok":
        headers = _basic("ci-bot", client_secret)
    elif isinstance(credentials, tuple):
        headers = _basic(*credentials)
    async with _http(admin) as http:
        answer = await http.post("/oauth2/token", data=form, headers=headers)
    assert answer.status_code == status
    assert answer.json()["error"] == error
    assert answer.json()["error_description"]
    assert answer.headers["cache-control"] == "no-store"


async def test_secret_in_the_body_works_too(admin: RunningAdmin, client_secret: str) -> None:
    async with _http(admin) as http:
        answer = await http.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials", "client_id": "ci-bot", "client_secret": client_secret},
        )
    assert answer.status_code == 200
    assert answer.json()["access_token"]


async def test_the_engines_reports_stay_reserved_for_the_plane_even_with_a_token(
    admin: RunningAdmin, token: str, open_channel: grpc.aio.Channel
) -> None:
    from flyteidl_py.admin import event_pb2

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await admin_pb2_grpc.AdminServiceStub(open_channel).CreateWorkflowEvent(
            event_pb2.WorkflowExecutionEventRequest(), metadata=_bearer(token)
        )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_with_auth_off_no_token_is_needed_and_the_token_endpoint_still_answers(tmp_path: Path) -> None:
    async with running_admin(f"sqlite:///{tmp_path / 'admin.db'}", tmp_path) as admin:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{admin.grpc_port}") as channel:
            listing = await admin_pb2_grpc.AdminServiceStub(channel).ListProjects(project_pb2.ProjectListRequest())
            assert PROJECT in {p.id for p in listing.projects}
            me = await identity_pb2_grpc.IdentityServiceStub(channel).UserInfo(identity_pb2.UserInfoRequest())
            assert me.subject == "anonymous"
        secret = await ServiceClients(admin.server.db).create("ci-bot")
        assert (await _token(admin, secret))["access_token"]


async def test_a_task_token_is_for_the_plane_to_ask_and_acts_as_the_executions_principal(
    admin: RunningAdmin, token: str, open_channel: grpc.aio.Channel
) -> None:
    from flyteidl_py.flyteplane.auth.v1 import tokens_pb2, tokens_pb2_grpc

    stub = authed(open_channel, token)
    await register(stub)
    ident = await launch(stub, "tokened")
    request = tokens_pb2.IssueTaskTokenRequest(execution_id=ident)
    with pytest.raises(grpc.aio.AioRpcError) as refused:  # a user's token does not get task tokens
        await tokens_pb2_grpc.TaskTokenServiceStub(open_channel).IssueTaskToken(request, metadata=_bearer(token))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    plane = tokens_pb2_grpc.TaskTokenServiceStub(admin.channel)  # the plane credential
    issued = await plane.IssueTaskToken(request)
    assert issued.expires_in == 86400
    claims = jwt.decode(issued.access_token, options={"verify_signature": False})
    assert (claims["sub"], claims["client_id"]) == ("ci-bot", "flyteplane-task")
    assert claims["flyteplane_execution"] == f"{PROJECT}/{DOMAIN}/tokened"
    me = await identity_pb2_grpc.IdentityServiceStub(open_channel).UserInfo(
        identity_pb2.UserInfoRequest(), metadata=_bearer(issued.access_token)
    )
    assert me.subject == "ci-bot"
    missing = tokens_pb2.IssueTaskTokenRequest(
        execution_id=ident.__class__(project=PROJECT, domain=DOMAIN, name="nope")
    )
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await plane.IssueTaskToken(missing)
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await plane.IssueTaskToken(tokens_pb2.IssueTaskTokenRequest())
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_with_auth_off_a_task_gets_no_token(tmp_path: Path) -> None:
    from flyteidl_py.flyteplane.auth.v1 import tokens_pb2, tokens_pb2_grpc

    async with running_admin(f"sqlite:///{tmp_path / 'admin.db'}", tmp_path) as admin:
        stub = admin_pb2_grpc.AdminServiceStub(admin.channel)
        await register(stub)
        ident = await launch(stub, "untokened")
        issued = await tokens_pb2_grpc.TaskTokenServiceStub(admin.channel).IssueTaskToken(
            tokens_pb2.IssueTaskTokenRequest(execution_id=ident)
        )
        assert issued.access_token == ""


async def test_an_unreachable_identity_provider_is_unavailable_not_unknown(tmp_path: Path) -> None:
    from admin.config import ExternalAuthConfig
    from tests.support.postgres import free_port

    issuer = f"http://127.0.0.1:{free_port()}/dex"  # nothing listens there
    auth = AuthConfig(enabled=True, external=ExternalAuthConfig(issuer=issuer))
    now = int(time.time())
    claims = {"iss": issuer, "sub": "someone", "aud": "flytectl", "iat": now, "exp": now + 600}
    token = jwt.encode(claims, rsa.generate_private_key(public_exponent=65537, key_size=2048), algorithm="RS256")
    async with running_admin(f"sqlite:///{tmp_path / 'admin.db'}", tmp_path, auth=auth) as admin:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{admin.grpc_port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await admin_pb2_grpc.AdminServiceStub(channel).ListProjects(
                    project_pb2.ProjectListRequest(), metadata=_bearer(token)
                )
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "cannot be read" in (refused.value.details() or "")
        async with _http(admin) as http:
            answer = await http.get("/api/v1/projects", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 503
        assert "cannot be read" in answer.json()["message"]
