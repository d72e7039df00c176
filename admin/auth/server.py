"""The OAuth2 endpoints on admin's HTTP port: token, revocation (RFC 7009) and the JWKS.

The token endpoint answers client credentials (service clients) and, when people log in here
(admin.auth.people), the authorization code, device code and refresh token grants of public clients.

Their addresses are what AuthMetadataService (`/.well-known/oauth-authorization-server`) advertises, so
flytekit's `authType: ClientSecret` and any OAuth2 client library find them. Errors are RFC 6749's JSON
(`error`, `error_description`), never a stack trace.
"""

from __future__ import annotations

import base64
import binascii
import logging
from datetime import UTC, datetime
from urllib.parse import unquote_plus

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from admin.auth.clients import ServiceClients
from admin.auth.grants import TokenAnswer
from admin.auth.oauth import NO_STORE, OAuthError, granted_scopes, read_form
from admin.auth.people import PEOPLE_GRANTS, PeopleLogins
from admin.auth.tokens import TokenService
from flyteplane.errors import Unauthenticated

log = logging.getLogger("flyteplane.admin.auth")

TOKEN_PATH = "/oauth2/token"
REVOKE_PATH = "/oauth2/revoke"
JWKS_PATH = "/oauth2/jwks"
GRANT_TYPES = ("client_credentials",)  # and, when people log in here, PEOPLE_GRANTS


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

    def __init__(self, tokens: TokenService, clients: ServiceClients, people: PeopleLogins) -> None:
        self.tokens = tokens
        self.clients = clients
        self.people = people

    def routes(self) -> list[Route]:
        return [
            *self.people.routes(),
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
            form = await read_form(request)
            grant = form.get("grant_type", "")
            if not grant:
                raise OAuthError("invalid_request", "grant_type is required")
            if grant in PEOPLE_GRANTS and self.people.enabled:
                return JSONResponse(await self._people_grant(grant, form), headers=NO_STORE)
            if grant not in GRANT_TYPES:
                why = f" ({self.people.off()})" if grant in PEOPLE_GRANTS else ""
                raise OAuthError(
                    "unsupported_grant_type",
                    f"grant_type {grant!r} is not supported here{why} (supported: {', '.join(self.grant_types)})",
                )
            self._check_audience(form.get("audience", ""))
            scopes = granted_scopes(form.get("scope", ""))
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
            headers=NO_STORE,
        )

    @property
    def grant_types(self) -> list[str]:
        return [*GRANT_TYPES, *(PEOPLE_GRANTS if self.people.enabled else ())]

    def _check_audience(self, audience: str) -> None:
        if audience and audience not in self.tokens.audiences:
            raise OAuthError(
                "invalid_target",
                f"audience {audience!r} is not this server's (accepted: {', '.join(self.tokens.audiences)})",
            )

    async def _people_grant(self, grant: str, form: dict[str, str]) -> TokenAnswer:
        """A public client's grant: it names itself (it has no secret); PKCE or the device code stand for it."""
        client = self.people.public_client(form)
        self._check_audience(form.get("audience", ""))
        if grant == "authorization_code":
            return await self.people.exchange_code(form, client)
        if grant == "refresh_token":
            token = form.get("refresh_token", "")
            if not token:
                raise OAuthError("invalid_request", "refresh_token is required")
            return await self.people.grants.refresh(token, client.client_id)
        return await self.people.poll_device(form, client)

    async def revoke(self, request: Request) -> Response:
        try:
            form = await read_form(request)
            # A public client (no secret) names itself; a confidential one authenticates.
            public = self.people.enabled and form.get("client_id", "") in self.people.clients
            public = public and "client_secret" not in form
            client_id = form["client_id"] if public else await self._client(request, form)
            token = form.get("token", "")
            if not token:
                raise OAuthError("invalid_request", "token is required")
            # A refresh token (opaque) first, unless the client says it is an access token.
            if form.get("token_type_hint") != "access_token":
                owner = await self.people.grants.client_of(token)
                if owner is not None:
                    if owner != client_id:
                        raise OAuthError("unauthorized_client", "the token was not issued to this client")
                    await self.people.grants.revoke(token)
                    return Response(status_code=200, headers=NO_STORE)
            try:
                claims = await self.tokens.decode(token, verify_expiry=False)
            except Unauthenticated:
                return Response(status_code=200, headers=NO_STORE)  # RFC 7009: not ours or invalid -> nothing to do
            if claims.get("client_id") != client_id:
                raise OAuthError("unauthorized_client", "the token was not issued to this client")
        except OAuthError as error:
            return error.response()
        await self.tokens.revocations.add(str(claims["jti"]), datetime.fromtimestamp(int(claims["exp"]), UTC))
        log.info("client %r revoked token %s", client_id, claims["jti"])
        return Response(status_code=200, headers=NO_STORE)
