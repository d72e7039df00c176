"""The OAuth2 endpoints on admin's HTTP port: token (client credentials), revocation (RFC 7009) and the JWKS.

Their addresses are what AuthMetadataService (`/.well-known/oauth-authorization-server`) advertises, so
flytekit's `authType: ClientSecret` and any OAuth2 client library find them. Errors are RFC 6749's JSON
(`error`, `error_description`), never a stack trace.
"""

from __future__ import annotations

import base64
import binascii
import logging
from datetime import UTC, datetime
from urllib.parse import parse_qsl, unquote_plus

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from admin.auth.clients import ServiceClients
from admin.auth.tokens import TokenService
from flyteplane.errors import Unauthenticated

log = logging.getLogger("flyteplane.admin.auth")

TOKEN_PATH = "/oauth2/token"
REVOKE_PATH = "/oauth2/revoke"
JWKS_PATH = "/oauth2/jwks"
SCOPES = ("all", "offline")  # Flyte's: "all" is every API; "offline" asks for a refresh token (people's flows)
GRANT_TYPES = ("client_credentials",)
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(Exception):
    """An RFC 6749 error answer."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status

    def response(self) -> JSONResponse:
        headers = dict(_NO_STORE)
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="flyteplane"'
        return JSONResponse(
            {"error": self.error, "error_description": self.description}, status_code=self.status, headers=headers
        )


def _basic_credentials(header: str) -> tuple[str, str] | None:
    """The client id and secret of an HTTP Basic header (each form-urlencoded first, as RFC 6749 2.3.1 says)."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError("invalid_client", "the Basic authorization header is not base64 of id:secret", 401) from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise OAuthError("invalid_client", "the Basic authorization header has no ':' between id and secret", 401)
    return unquote_plus(client_id), unquote_plus(secret)


class AuthorizationServer:
    """Answers the OAuth2 endpoints."""

    def __init__(self, tokens: TokenService, clients: ServiceClients) -> None:
        self.tokens = tokens
        self.clients = clients

    def routes(self) -> list[Route]:
        return [
            Route(TOKEN_PATH, self.token, methods=["POST"]),
            Route(REVOKE_PATH, self.revoke, methods=["POST"]),
            Route(JWKS_PATH, self.jwks, methods=["GET"]),
        ]

    async def jwks(self, _: Request) -> JSONResponse:
        key = await self.tokens.signing_key()
        return JSONResponse(key.jwks(), headers={"Cache-Control": "max-age=300"})

    async def _client(self, request: Request, form: dict[str, str]) -> str:
        """The authenticated client's id (Basic header, or client_id and client_secret in the body)."""
        basic = _basic_credentials(request.headers.get("authorization", ""))
        if basic is not None:
            client_id, secret = basic
        elif form.get("client_id") and form.get("client_secret"):
            client_id, secret = form["client_id"], form["client_secret"]
        else:
            raise OAuthError(
                "invalid_client",
                "client authentication is required: HTTP Basic with the client id and secret, or "
                "client_id and client_secret in the body",
                401,
            )
        if not await self.clients.authenticate(client_id, secret):
            log.info("token request refused: wrong secret or unknown client %r", client_id)
            raise OAuthError("invalid_client", f"unknown client {client_id!r} or wrong secret", 401)
        return client_id

    async def token(self, request: Request) -> Response:
        try:
            form = await _form(request)
            grant = form.get("grant_type", "")
            if not grant:
                raise OAuthError("invalid_request", "grant_type is required")
            if grant not in GRANT_TYPES:
                raise OAuthError(
                    "unsupported_grant_type",
                    f"grant_type {grant!r} is not supported here (supported: {', '.join(GRANT_TYPES)})",
                )
            audience = form.get("audience", "")
            if audience and audience not in self.tokens.audiences:
                raise OAuthError(
                    "invalid_target",
                    f"audience {audience!r} is not this server's (accepted: {', '.join(self.tokens.audiences)})",
                )
            scopes = _scopes(form.get("scope", ""))
            client_id = await self._client(request, form)
        except OAuthError as error:
            return error.response()
        issued = await self.tokens.issue(client_id, client_id, scopes)
        log.info("issued an access token to client %r (scopes: %s)", client_id, issued.scope)
        return JSONResponse(
            {
                "access_token": issued.access_token,
                "token_type": "bearer",
                "expires_in": issued.expires_in,
                "scope": issued.scope,
            },
            headers=_NO_STORE,
        )

    async def revoke(self, request: Request) -> Response:
        try:
            form = await _form(request)
            client_id = await self._client(request, form)
            token = form.get("token", "")
            if not token:
                raise OAuthError("invalid_request", "token is required")
            try:
                claims = await self.tokens.decode(token, verify_expiry=False)
            except Unauthenticated:
                return Response(status_code=200, headers=_NO_STORE)  # RFC 7009: not ours or invalid -> nothing to do
            if claims.get("client_id") != client_id:
                raise OAuthError("unauthorized_client", "the token was not issued to this client")
        except OAuthError as error:
            return error.response()
        await self.tokens.revocations.add(str(claims["jti"]), datetime.fromtimestamp(int(claims["exp"]), UTC))
        log.info("client %r revoked token %s", client_id, claims["jti"])
        return Response(status_code=200, headers=_NO_STORE)


async def _form(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > 64 * 1024:
        raise OAuthError("invalid_request", "the body is larger than 64 KiB")
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise OAuthError("invalid_request", "the body is not UTF-8") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:  # RFC 6749 3.1: parameters must not be included more than once
            raise OAuthError("invalid_request", f"parameter {key!r} is given more than once")
        form[key] = value
    return form


def _scopes(requested: str) -> list[str]:
    """The scopes granted: those requested (all of them known), else "all"."""
    asked = [s for s in requested.replace(",", " ").split() if s]
    unknown = [s for s in asked if s not in SCOPES]
    if unknown:
        raise OAuthError("invalid_scope", f"unknown scope {unknown[0]!r} (this server grants: {', '.join(SCOPES)})")
    return [s for s in asked if s != "offline"] or ["all"]
