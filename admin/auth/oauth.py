"""RFC 6749's error answers and request parsing, shared by the token endpoint and people's logins."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse

SCOPES = ("all", "offline")  # Flyte's: "all" is every API; "offline" asks for a refresh token (people's flows)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(Exception):
    """An RFC 6749 error answer."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status

    def response(self) -> JSONResponse:
        headers = dict(NO_STORE)
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="flyteplane"'
        return JSONResponse(
            {"error": self.error, "error_description": self.description}, status_code=self.status, headers=headers
        )


async def read_form(request: Request) -> dict[str, str]:
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


def granted_scopes(requested: str) -> list[str]:
    """The scopes granted: those requested (all of them known), else "all"."""
    asked = [s for s in requested.replace(",", " ").split() if s]
    unknown = [s for s in asked if s not in SCOPES]
    if unknown:
        raise OAuthError("invalid_scope", f"unknown scope {unknown[0]!r} (this server grants: {', '.join(SCOPES)})")
    return [s for s in asked if s != "offline"] or ["all"]


def asks_offline(requested: str) -> bool:
    """Whether the client asked for a refresh token (scope `offline`)."""
    return "offline" in requested.replace(",", " ").split()
