"""People's logins at admin's built-in server (`admin.auth.people: built-in`), their identity from Dex.

Real admin and real Dex on loopback, real HTTP: the person's browser is played over plain HTTP at Dex's login
page (tests/support/dex.py `log_in`; the browser itself is tested with flytekit in
tests/e2e/test_people_login_with_built_in_server.py). Every refusal is an RFC 6749 / RFC 8628 error that issues
nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import grpc
import httpx
import jwt
import pytest
from sqlalchemy import update

from admin.auth.external import code_challenge
from admin.config import AuthConfig, ExternalAuthConfig
from admin.models import PendingLogin
from flyteidl_py.admin import project_pb2
from flyteidl_py.service import admin_pb2_grpc, auth_pb2, auth_pb2_grpc, identity_pb2, identity_pb2_grpc
from tests.integration.admin.test_auth import _bearer
from tests.support.admin import RunningAdmin, running_admin
from tests.support.dex import USER_EMAIL, log_in, running_dex
from tests.support.postgres import free_port

REDIRECT = "http://localhost:53593/callback"  # flytekit's, registered for the built-in `flytectl` client
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture(scope="module")
async def people(dex_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[RunningAdmin, str]]:
    """Admin whose built-in server logs people in through Dex (one for the module); and its HTTP address."""
    directory = tmp_path_factory.mktemp("people")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with running_dex(dex_binary, directory / "dex", [f"{base}/oauth2/callback"]) as dex:
        auth = AuthConfig(
            enabled=True, people="built-in", device_poll_seconds=1, external=ExternalAuthConfig(issuer=dex.issuer)
        )
        async with running_admin(f"sqlite:///{directory / 'admin.db'}", directory, auth=auth, http_port=port) as admin:
            yield admin, base


@pytest.fixture
async def http(people: tuple[RunningAdmin, str]) -> AsyncIterator[httpx.AsyncClient]:
    """A browser's (and a client's) HTTP: cookies kept, redirects not followed."""
    async with httpx.AsyncClient(base_url=people[1], timeout=30) as client:
        yield client


def _authorize_url(verifier: str, **overrides: str) -> str:
    query = {
        "client_id": "flytectl",
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": "all offline",
        "state": "s-123",
        "code_challenge": code_challenge(verifier),
        "code_challenge_method": "S256",
        **overrides,
    }
    return f"/oauth2/authorize?{urlencode(query)}"


async def _code(http: httpx.AsyncClient, verifier: str) -> str:
    """A person logs in (PKCE): the authorization code sent back to flytekit's callback."""
    answer = await log_in(http, str(http.base_url.join(_authorize_url(verifier))), stop_at=REDIRECT)
    sent_back = parse_qs(urlparse(answer.headers["location"]).query)
    assert sent_back["state"] == ["s-123"]
    return sent_back["code"][0]


async def _token(http: httpx.AsyncClient, **form: str) -> httpx.Response:
    return await http.post("/oauth2/token", data={"client_id": "flytectl", **form})


def _refused(answer: httpx.Response, error: str) -> None:
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["error"] == error, body
    assert "access_token" not in body and "refresh_token" not in body


async def _exchange(http: httpx.AsyncClient, code: str, verifier: str, **form: str) -> httpx.Response:
    fields = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    return await _token(http, **{**fields, **form})


async def _grpc(admin: RunningAdmin, token: str) -> Any:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{admin.grpc_port}") as channel:
        me = await identity_pb2_grpc.IdentityServiceStub(channel).UserInfo(
            identity_pb2.UserInfoRequest(), metadata=_bearer(token)
        )
        await admin_pb2_grpc.AdminServiceStub(channel).ListProjects(
            project_pb2.ProjectListRequest(), metadata=_bearer(token)
        )
    return me


async def test_auth_metadata_advertises_the_built_in_servers_endpoints_for_people(
    people: tuple[RunningAdmin, str],
) -> None:
    admin, base = people
    async with grpc.aio.insecure_channel(f"127.0.0.1:{admin.grpc_port}") as channel:
        stub = auth_pb2_grpc.AuthMetadataServiceStub(channel)
        metadata = await stub.GetOAuth2Metadata(auth_pb2.OAuth2MetadataRequest())
        client = await stub.GetPublicClientConfig(auth_pb2.PublicClientAuthConfigRequest())
    assert metadata.issuer == base
    assert metadata.authorization_endpoint == f"{base}/oauth2/authorize"
    assert metadata.device_authorization_endpoint == f"{base}/oauth2/device/code"
    assert metadata.token_endpoint == f"{base}/oauth2/token"
    assert list(metadata.code_challenge_methods_supported) == ["S256"]
    assert {"client_credentials", "authorization_code", "refresh_token", DEVICE_GRANT} <= set(
        metadata.grant_types_supported
    )
    assert (client.client_id, client.redirect_uri) == ("flytectl", REDIRECT)
    assert "offline" in client.scopes


async def test_a_person_logs_in_with_pkce_and_gets_the_servers_own_token_naming_them(
    people: tuple[RunningAdmin, str], http: httpx.AsyncClient
) -> None:
    admin, base = people
    verifier = secrets.token_urlsafe(48)
    code = await _code(http, verifier)
    answer = await _exchange(http, code, verifier)
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert tokens["refresh_token"] and tokens["scope"] == "all"
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert (claims["iss"], claims["sub"], claims["client_id"]) == (base, USER_EMAIL, "flytectl")
    me = await _grpc(admin, tokens["access_token"])
    assert (me.subject, me.email) == (USER_EMAIL, USER_EMAIL)
    # The code is single use: a second exchange is refused, issues nothing, and takes back what the first gave.
    _refused(await _exchange(http, code, verifier), "invalid_grant")
    _refused(await _token(http, grant_type="refresh_token", refresh_token=tokens["refresh_token"]), "invalid_grant")
    with pytest.raises(grpc.aio.AioRpcError) as revoked:
        await _grpc(admin, tokens["access_token"])
    assert revoked.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_wrong_pkce_verifier_or_redirect_uri_gets_no_token(http: httpx.AsyncClient) -> None:
    verifier = secrets.token_urlsafe(48)
    code = await _code(http, verifier)
    wrong = await _exchange(http, code, secrets.token_urlsafe(48))
    _refused(wrong, "invalid_grant")
    assert "code_verifier" in wrong.json()["error_description"]
    elsewhere = await _exchange(http, code, verifier, redirect_uri="http://localhost:12345/callback")
    _refused(elsewhere, "invalid_grant")
    assert "redirect_uri" in elsewhere.json()["error_description"]
    _refused(await _exchange(http, code, verifier, code_verifier=""), "invalid_request")


async def test_authorize_never_redirects_to_an_unregistered_uri_and_sends_other_refusals_back(
    http: httpx.AsyncClient,
) -> None:
    verifier = secrets.token_urlsafe(48)
    unregistered = await http.get(_authorize_url(verifier, redirect_uri="http://evil.example/cb"))
    assert unregistered.status_code == 400 and "location" not in unregistered.headers
    unknown = await http.get(_authorize_url(verifier, client_id="nobody"))
    assert unknown.status_code == 400 and "location" not in unknown.headers
    for overrides, error in (
        ({"code_challenge": ""}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "all sudo"}, "invalid_scope"),
    ):
        answer = await http.get(_authorize_url(verifier, **overrides))
        assert answer.status_code == 302, (overrides, answer.text)
        sent_back = parse_qs(urlparse(answer.headers["location"]).query)
        assert answer.headers["location"].startswith(REDIRECT)
        assert (sent_back["error"], sent_back["state"]) == ([error], ["s-123"]), overrides
        assert "code" not in sent_back


async def _device(http: httpx.AsyncClient) -> dict[str, Any]:
    answer = await http.post("/oauth2/device/code", data={"client_id": "flytectl", "scope": "all offline"})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def _poll(http: httpx.AsyncClient, device_code: str) -> httpx.Response:
    return await _token(http, grant_type=DEVICE_GRANT, device_code=device_code)


async def test_a_person_logs_in_with_the_device_flow_while_the_client_polls(
    people: tuple[RunningAdmin, str], http: httpx.AsyncClient
) -> None:
    admin, base = people
    device = await _device(http)
    assert device["verification_uri"] == f"{base}/oauth2/device"
    assert device["interval"] == 1 and device["expires_in"] == 600
    _refused(await _poll(http, device["device_code"]), "authorization_pending")
    _refused(await _poll(http, device["device_code"]), "slow_down")  # sooner than the interval
    # The person opens the link, confirms the code and logs in at the provider.
    page = await http.get(device["verification_uri_complete"])
    assert page.status_code == 200 and device["user_code"] in page.text
    confirmed = await http.post("/oauth2/device", data={"user_code": device["user_code"].lower()})
    assert confirmed.status_code == 303
    done = await log_in(http, confirmed.headers["location"])
    assert done.status_code == 200 and "logged in" in done.text.lower(), done.text
    answer = await _poll(http, device["device_code"])
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert tokens["refresh_token"]
    assert (await _grpc(admin, tokens["access_token"])).subject == USER_EMAIL
    _refused(await _poll(http, device["device_code"]), "invalid_grant")  # single use


async def test_an_expired_device_code_is_expired_token_and_a_refused_login_access_denied(
    people: tuple[RunningAdmin, str], http: httpx.AsyncClient
) -> None:
    admin, _ = people
    expired = await _device(http)
    # The person never came: move its expiry into the past rather than wait for it.
    async with admin.server.db.session() as session:
        await session.execute(update(PendingLogin).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    _refused(await _poll(http, expired["device_code"]), "expired_token")
    assert (await http.post("/oauth2/device", data={"user_code": expired["user_code"]})).status_code == 400

    denied = await _device(http)
    confirmed = await http.post("/oauth2/device", data={"user_code": denied["user_code"]})
    upstream_state = parse_qs(urlparse(confirmed.headers["location"]).query)["state"][0]
    # The provider sends the person back refusing them (as it does when they decline).
    back = await http.get("/oauth2/callback", params={"state": upstream_state, "error": "access_denied"})
    assert back.status_code == 401
    _refused(await _poll(http, denied["device_code"]), "access_denied")


async def _pkce_tokens(http: httpx.AsyncClient) -> dict[str, Any]:
    verifier = secrets.token_urlsafe(48)
    answer = await _exchange(http, await _code(http, verifier), verifier)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_a_refresh_token_is_rotated_and_a_reused_one_ends_the_grant(
    people: tuple[RunningAdmin, str], http: httpx.AsyncClient
) -> None:
    admin, _ = people
    first = await _pkce_tokens(http)
    refreshed = await _token(http, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    second = refreshed.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await _grpc(admin, second["access_token"])).subject == USER_EMAIL
    # The first one was retired: presenting it again (a stolen copy?) ends the grant, the new one included.
    _refused(await _token(http, grant_type="refresh_token", refresh_token=first["refresh_token"]), "invalid_grant")
    _refused(await _token(http, grant_type="refresh_token", refresh_token=second["refresh_token"]), "invalid_grant")


async def test_a_revoked_refresh_token_is_refused_and_its_access_token_too(
    people: tuple[RunningAdmin, str], http: httpx.AsyncClient
) -> None:
    admin, _ = people
    tokens = await _pkce_tokens(http)
    other = await http.post("/oauth2/revoke", data={"client_id": "someone", "token": tokens["refresh_token"]})
    assert other.status_code == 401  # only its own client revokes it
    revoked = await http.post("/oauth2/revoke", data={"client_id": "flytectl", "token": tokens["refresh_token"]})
    assert revoked.status_code == 200, revoked.text
    refused = await _token(http, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    _refused(refused, "invalid_grant")
    assert "revoked" in refused.json()["error_description"]
    with pytest.raises(grpc.aio.AioRpcError) as denied:
        await _grpc(admin, tokens["access_token"])
    assert denied.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_without_a_provider_people_cannot_log_in_here_and_nothing_is_advertised(tmp_path: Path) -> None:
    auth = AuthConfig(enabled=True, people="built-in")
    async with (
        running_admin(f"sqlite:///{tmp_path / 'admin.db'}", tmp_path, auth=auth) as admin,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{admin.http_port}", timeout=30) as http,
    ):
        device = await http.post("/oauth2/device/code", data={"client_id": "flytectl"})
        _refused(device, "unauthorized_client")
        assert "admin.auth.external" in device.json()["error_description"]
        _refused(await http.get(_authorize_url("x" * 50)), "unauthorized_client")
        _refused(await _token(http, grant_type="refresh_token", refresh_token="r"), "unsupported_grant_type")
        async with grpc.aio.insecure_channel(f"127.0.0.1:{admin.grpc_port}") as channel:
            metadata = await auth_pb2_grpc.AuthMetadataServiceStub(channel).GetOAuth2Metadata(
                auth_pb2.OAuth2MetadataRequest()
            )
        assert not metadata.authorization_endpoint and not metadata.device_authorization_endpoint
        assert list(metadata.grant_types_supported) == ["client_credentials"]
