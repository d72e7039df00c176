"""The guard: with auth on, every RPC and REST call must present a valid access token (or the plane credential).

A call without one, or with an expired, forged, wrong-audience, wrong-issuer or revoked token, is answered
UNAUTHENTICATED (HTTP 401) with the reason — never UNKNOWN, which flytekit would take for a login loop — and
its handler never runs. A call with a valid token runs with its principal in `current_principal`. The plane's
own components (the scheduler, the engine) present the plane credential instead and act as the plane.
What a client needs before it has a token is open: AuthMetadataService, health and reflection.
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import Collection, Mapping
from http.cookies import CookieError, SimpleCookie
from typing import Any

import grpc
from google.protobuf.message import Message
from starlette.types import ASGIApp, Receive, Scope, Send

from admin.auth.authorization import Authorizer
from admin.auth.console_login import TOKEN_COOKIE
from admin.auth.principal import PLANE, Principal, current_principal
from admin.auth.tokens import TokenService
from admin.rest import error_response
from flyteidl_py.admin import project_pb2
from flyteplane.credentials import METADATA_KEY
from flyteplane.errors import FlyteplaneError, PermissionDenied, Unauthenticated
from flyteplane.rpc import UnaryCall, UnaryInterceptor

# Services a client calls before it has a token, or that say nothing about the plane's work.
OPEN_SERVICES = (
    "/flyteidl.service.AuthMetadataService/",
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/grpc.reflection.v1.ServerReflection/",
)


class Guard:
    """Finds the principal of a call from its metadata or headers (lower-case keys)."""

    def __init__(self, tokens: TokenService, credential: str, header_keys: Collection[str]) -> None:
        self.tokens = tokens
        self._credential = credential.encode()
        self._header_keys = tuple(dict.fromkeys(k.lower() for k in (*header_keys, "authorization")))

    async def authenticate(self, headers: Mapping[str, str]) -> Principal:
        presented = headers.get(METADATA_KEY, "")
        if presented and hmac.compare_digest(presented.encode(), self._credential):
            return PLANE
        for key in self._header_keys:
            value = headers.get(key, "")
            if not value:
                continue
            scheme, _, token = value.strip().partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthenticated(f"the {key} header must be 'Bearer <access token>'")
            return await self.tokens.verify(token.strip())
        raise Unauthenticated(
            f"this server requires an access token: send 'authorization: Bearer <token>'; get one from "
            f"{self.tokens.issuer}/oauth2/token (flytekit: set authType in your config)"
        )


def _metadata(context: grpc.aio.ServicerContext[Any, Any]) -> dict[str, str]:
    return {
        key.lower(): value if isinstance(value, str) else value.decode(errors="replace")
        for key, value in (context.invocation_metadata() or ())
    }


def authorized(authorizer: Authorizer, method: str, request: Any, response: Any) -> Any:
    """`response` as `principal` may see it: ListProjects answers only the projects they may view."""
    principal = current_principal.get()
    if principal is None or not authorizer.enabled or not isinstance(response, project_pb2.Projects):
        return response
    visible = authorizer.visible_projects(principal, [p.id for p in response.projects])
    kept = [p for p in response.projects if p.id in visible]
    del response.projects[:]
    response.projects.extend(kept)
    return response


class AuthInterceptor(UnaryInterceptor):
    """The guard on admin's gRPC server: who calls (UNAUTHENTICATED), and whether they may (PERMISSION_DENIED)."""

    def __init__(self, guard: Guard, authorizer: Authorizer) -> None:
        self._guard = guard
        self._authorizer = authorizer

    def wrap(self, method: str, call: UnaryCall) -> UnaryCall:
        if method.startswith(OPEN_SERVICES):
            return call
        short = method.rsplit("/", 1)[-1]

        async def guarded(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            try:
                principal = await self._guard.authenticate(_metadata(context))
            except Unauthenticated as error:
                await context.abort(grpc.StatusCode.UNAUTHENTICATED, str(error))
            if isinstance(request, Message):  # an undecodable body is refused before any handler runs
                try:
                    self._authorizer.check(principal, short, request)
                except PermissionDenied as error:
                    await context.abort(grpc.StatusCode.PERMISSION_DENIED, str(error))
            reset = current_principal.set(principal)
            try:
                return authorized(self._authorizer, short, request, await call(request, context))
            finally:
                current_principal.reset(reset)

        return guarded


def _needs_token(path: str) -> bool:
    """The REST API, task logs, the console's data routes and /me; not the console's files, health, metrics,
    OAuth2 endpoints, AuthMetadataService's routes, the OpenAPI document or the local store's signed URLs
    (those carry their own signature)."""
    if path in ("/.well-known/oauth-authorization-server", "/config/v1/flyte_client", "/api/v1/openapi.json"):
        return False
    return path.startswith("/api/") or path == "/me"


class RestGuard:
    """The guard on admin's HTTP port (an ASGI middleware): 401 with the reason, or the call as its principal."""

    def __init__(self, app: ASGIApp, guard: Guard, authorizer: Authorizer) -> None:
        self.app = app
        self.guard = guard
        self.authorizer = authorizer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _needs_token(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        if "authorization" not in headers:  # the console's session (admin/auth/console_login.py)
            cookies = SimpleCookie()
            with contextlib.suppress(CookieError):
                cookies.load(headers.get("cookie", ""))
            if TOKEN_COOKIE in cookies and cookies[TOKEN_COOKIE].value:
                headers["authorization"] = f"Bearer {cookies[TOKEN_COOKIE].value}"
        try:
            principal = await self.guard.authenticate(headers)
        except FlyteplaneError as error:  # mostly Unauthenticated; Unavailable when the provider cannot be read
            response = error_response(error)
            if isinstance(error, Unauthenticated):
                response.headers["WWW-Authenticate"] = 'Bearer realm="flyteplane"'
            await response(scope, receive, send)
            return
        try:
            self._check_own_routes(principal, scope["path"])
        except PermissionDenied as error:
            await error_response(error)(scope, receive, send)
            return
        reset = current_principal.set(principal)
        try:
            await self.app(scope, receive, send)
        finally:
            current_principal.reset(reset)

    def _check_own_routes(self, principal: Principal, path: str) -> None:
        """Admin's own HTTP routes outside the REST API: a task's log and a cache explanation name their
        project and domain; a dataframe is read by its URI, so it needs viewing in every project. (The REST API's
        routes are checked by the gateway, against the RPC they stand for.)"""
        if not self.authorizer.enabled:
            return
        for prefix in ("/api/v1/logs/", "/api/v1/console/cache_explain/"):
            if path.startswith(prefix):
                project, _, rest = path.removeprefix(prefix).partition("/")
                domain = rest.partition("/")[0]
                if not self.authorizer.may(principal, "view", (project, domain)):
                    raise PermissionDenied(f"{principal.subject} lacks the 'view' permission in project {project}")
        if path.startswith("/api/v1/console/dataframe") and not self.authorizer.may(principal, "view", None):
            raise PermissionDenied(f"{principal.subject} lacks the 'view' permission in every project (dataframes)")
