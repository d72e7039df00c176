"""The console's login: the authorization code flow with PKCE against the identity provider, ending in a cookie.

`GET /login?redirect=/console/...` sends the browser to the provider (state and PKCE verifier kept in a
short-lived cookie signed with the plane's secret); `GET /callback` checks the state, exchanges the code at the
provider's token endpoint, verifies the access token as every call's token is verified, and keeps it in an
HttpOnly, SameSite=Strict cookie (`flyteplane_token`) that admin's guard accepts for its HTTP routes; the
console's calls are same-origin, so they carry it, and no other site's requests do. `GET /logout` forgets it.
The provider must know `<admin's HTTP address>/callback` as a redirect URI of the public client.
"""

from __future__ import annotations

import hmac
import logging
import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from admin.auth.external import IdentityProvider
from admin.auth.signed import Signer
from flyteplane.errors import FlyteplaneError

log = logging.getLogger("flyteplane.admin.auth")

TOKEN_COOKIE = "flyteplane_token"
LOGIN_COOKIE = "flyteplane_login"
LOGIN_SECONDS = 600  # how long a started login may take


def _safe_redirect(target: str) -> str:
    """Only a path on this server (never `//elsewhere` or a URL): no open redirect."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/console"


class ConsoleLogin:
    def __init__(self, provider: IdentityProvider | None, http_base: str, secret: str) -> None:
        self._provider = provider
        self._callback = f"{http_base}/callback"
        self._signer = Signer(secret, "console-login")

    def routes(self) -> list[Route]:
        return [
            Route("/login", self.login, methods=["GET"]),
            Route("/callback", self.callback, methods=["GET"]),
            Route("/logout", self.logout, methods=["GET"]),
        ]

    async def login(self, request: Request) -> Response:
        if self._provider is None:
            return JSONResponse(
                {
                    "message": "the console logs in through an OpenID Connect provider (admin.auth.external); "
                    "none is configured. Use the console with auth off, or configure a provider."
                },
                status_code=501,
            )
        state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
        try:
            url = await self._provider.login_url(self._callback, state, verifier)
        except FlyteplaneError as error:
            return JSONResponse({"message": str(error)}, status_code=503)
        response = RedirectResponse(url, status_code=302)
        started = {
            "state": state,
            "verifier": verifier,
            "redirect": _safe_redirect(request.query_params.get("redirect", "/console")),
        }
        response.set_cookie(
            LOGIN_COOKIE,
            self._signer.sign(started, LOGIN_SECONDS),
            max_age=LOGIN_SECONDS,
            httponly=True,
            samesite="lax",
            path="/",
        )
        return response

    async def callback(self, request: Request) -> Response:
        if self._provider is None:
            return JSONResponse({"message": "no identity provider is configured"}, status_code=501)
        started = self._signer.unsign(request.cookies.get(LOGIN_COOKIE, ""))
        if request.query_params.get("error"):
            return JSONResponse(
                {"message": f"the identity provider refused: {request.query_params.get('error_description', '')}"},
                status_code=401,
            )
        code, state = request.query_params.get("code", ""), request.query_params.get("state", "")
        if started is None or not code or not hmac.compare_digest(state, str(started.get("state", ""))):
            return JSONResponse({"message": "this login was not started here or took too long: try again"}, 400)
        try:
            login = await self._provider.finish_login(code, self._callback, str(started["verifier"]))
        except FlyteplaneError as error:
            return JSONResponse({"message": f"login failed: {error}"}, status_code=401)
        log.info("%s logged in to the console", login.principal.subject)
        response = RedirectResponse(_safe_redirect(str(started["redirect"])), status_code=302)
        response.set_cookie(
            TOKEN_COOKIE, login.access_token, max_age=login.expires_in, httponly=True, samesite="strict", path="/"
        )
        response.delete_cookie(LOGIN_COOKIE, path="/")
        return response

    async def logout(self, _: Request) -> Response:
        response = RedirectResponse("/console", status_code=302)
        response.delete_cookie(TOKEN_COOKIE, path="/")
        return response
