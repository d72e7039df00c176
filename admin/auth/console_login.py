"""The console's login: the authorization code flow with PKCE against the identity provider, ending in a cookie.

`GET /login?redirect=/console/...` sends the browser to the provider (state and PKCE verifier kept in a
short-lived cookie signed with the plane's secret); `GET /callback` checks the state, exchanges the code at the
provider's token endpoint, verifies the access token as every call's token is verified, and keeps it in an
HttpOnly, SameSite=Strict cookie (`flyteplane_token`) that admin's guard accepts for its HTTP routes; the
console's calls are same-origin, so they carry it, and no other site's requests do. `GET /logout` forgets it.
The provider must know `<admin's HTTP address>/callback` as a redirect URI of the public client.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from admin.auth.external import IdentityProvider
from flyteplane.errors import FlyteplaneError

log = logging.getLogger("flyteplane.admin.auth")

TOKEN_COOKIE = "flyteplane_token"
LOGIN_COOKIE = "flyteplane_login"
LOGIN_SECONDS = 600  # how long a started login may take


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _safe_redirect(target: str) -> str:
    """Only a path on this server (never `//elsewhere` or a URL): no open redirect."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/console"


class ConsoleLogin:
    def __init__(self, provider: IdentityProvider | None, http_base: str, secret: str) -> None:
        self._provider = provider
        self._callback = f"{http_base}/callback"
        self._secret = secret.encode()

    def routes(self) -> list[Route]:
        return [
            Route("/login", self.login, methods=["GET"]),
            Route("/callback", self.callback, methods=["GET"]),
            Route("/logout", self.logout, methods=["GET"]),
        ]

    def _sign(self, payload: dict[str, Any]) -> str:
        body = _b64(json.dumps(payload).encode())
        return f"{body}.{_b64(hmac.new(self._secret, body.encode(), hashlib.sha256).digest())}"

    def _unsign(self, value: str) -> dict[str, Any] | None:
        body, _, signature = value.partition(".")
        expected = _b64(hmac.new(self._secret, body.encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(signature, expected):
            return None
        try:
            payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            return None
        return payload if payload.get("until", 0) > time.time() else None

    async def login(self, request: Request) -> Response:
        if self._provider is None:
            return JSONResponse(
                {
                    "message": "the console logs in through an OpenID Connect provider (admin.auth.external); "
                    "none is configured. Use the console with auth off, or configure a provider."
                },
                status_code=501,
            )
        try:
            document = await self._provider.discovery()
        except FlyteplaneError as error:
            return JSONResponse({"message": str(error)}, status_code=503)
        state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
        challenge = _b64(hashlib.sha256(verifier.encode()).digest())
        settings = self._provider.settings
        query = {
            "client_id": settings.client_id,
            "response_type": "code",
            "redirect_uri": self._callback,
            "scope": " ".join(settings.scopes),
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        response = RedirectResponse(f"{document['authorization_endpoint']}?{urlencode(query)}", status_code=302)
        started = {
            "state": state,
            "verifier": verifier,
            "redirect": _safe_redirect(request.query_params.get("redirect", "/console")),
            "until": time.time() + LOGIN_SECONDS,
        }
        response.set_cookie(
            LOGIN_COOKIE, self._sign(started), max_age=LOGIN_SECONDS, httponly=True, samesite="lax", path="/"
        )
        return response

    async def callback(self, request: Request) -> Response:
        if self._provider is None:
            return JSONResponse({"message": "no identity provider is configured"}, status_code=501)
        started = self._unsign(request.cookies.get(LOGIN_COOKIE, ""))
        if request.query_params.get("error"):
            return JSONResponse(
                {"message": f"the identity provider refused: {request.query_params.get('error_description', '')}"},
                status_code=401,
            )
        code, state = request.query_params.get("code", ""), request.query_params.get("state", "")
        if started is None or not code or not hmac.compare_digest(state, str(started.get("state", ""))):
            return JSONResponse({"message": "this login was not started here or took too long: try again"}, 400)
        try:
            document = await self._provider.discovery()
            async with httpx.AsyncClient(timeout=self._provider.settings.timeout_seconds) as http:
                answer = await http.post(
                    str(document["token_endpoint"]),
                    data={
                        "grant_type": "authorization_code",
                        "code": code,
                        "redirect_uri": self._callback,
                        "client_id": self._provider.settings.client_id,
                        "code_verifier": str(started["verifier"]),
                    },
                )
            if answer.status_code != 200:
                return JSONResponse({"message": f"the identity provider answered {answer.text[:300]}"}, 401)
            tokens = answer.json()
            token = str(tokens["access_token"])
            principal = await self._provider.verify(token)
        except (httpx.HTTPError, KeyError, ValueError, FlyteplaneError) as error:
            return JSONResponse({"message": f"login failed: {error}"}, status_code=401)
        log.info("%s logged in to the console", principal.subject)
        response = RedirectResponse(_safe_redirect(str(started["redirect"])), status_code=302)
        lifetime = int(tokens.get("expires_in", 3600))
        response.set_cookie(TOKEN_COOKIE, token, max_age=lifetime, httponly=True, samesite="strict", path="/")
        response.delete_cookie(LOGIN_COOKIE, path="/")
        return response

    async def logout(self, _: Request) -> Response:
        response = RedirectResponse("/console", status_code=302)
        response.delete_cookie(TOKEN_COOKIE, path="/")
        return response
