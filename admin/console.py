"""Serving the web console: the built single-page app under /console, and the little it asks of admin beyond the IDL.

The app is built from console/ by scripts/setup.sh (Vite; hashed file names under assets/). Every
other /console/... URL — those flytekit and flytectl print, and the app's own — answers the app's
index.html, whose script then reads the URL; so no page of the console is a 404. Responses carry a
Content-Security-Policy that allows only the console's own files: no inline script, no other origin
(stored text such as execution names or logs can never become script even if it became markup).
"""

from __future__ import annotations

import asyncio
import mimetypes
from pathlib import Path

from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from admin.config import ConsoleConfig
from flyteplane.tracing import derived_id

# The checkout's build, when admin runs from a source tree (the usual case: `pip install -e .`).
DEFAULT_DIST = Path(__file__).resolve().parent.parent / "console" / "dist"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
NOT_BUILT = (
    "The flyteplane console is not built: {index} is missing.\n"
    "Run scripts/setup.sh in the checkout (it builds console/ with npm), or by hand:\n"
    "  npm --prefix console ci && npm --prefix console run build\n"
    "or point admin.console.dist_dir at a built console.\n"
)

# Vite's output uses these; the platform's table is not relied on for them (some lack .mjs or .svg).
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("text/css", ".css")
mimetypes.add_type("image/svg+xml", ".svg")
mimetypes.add_type("application/json", ".json")


def trace_id_of(project: str, domain: str, name: str) -> str:
    """The trace id the engine derives for an execution launched without a trace context (flyteplane.tracing)."""
    return f"{derived_id(128, project, domain, name):032x}"


class Console:
    """The console's routes, reading the build from `dist`."""

    def __init__(self, config: ConsoleConfig) -> None:
        self.config = config
        self.dist = (config.dist_dir or DEFAULT_DIST).expanduser().resolve()

    def routes(self) -> list[BaseRoute]:
        if not self.config.enabled:
            return []
        # The app's script is most of a first load's bytes: sent compressed (about a third of its size).
        compressed = [Middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)]
        return [
            Route("/console", self.page, middleware=compressed),
            Route("/console/assets/{file:path}", self.asset, middleware=compressed),
            Route("/console/{path:path}", self.page, middleware=compressed),
            Route("/api/v1/console/trace/{project}/{domain}/{name}", self.trace),
        ]

    async def page(self, request: Request) -> Response:
        index = self.dist / "index.html"
        if not await asyncio.to_thread(index.is_file):
            return PlainTextResponse(NOT_BUILT.format(index=index), status_code=503, headers=SECURITY_HEADERS)
        # The page names the current hashed assets: never cached, so a rebuild is seen on reload.
        return FileResponse(
            index, media_type="text/html; charset=utf-8", headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"}
        )

    async def asset(self, request: Request) -> Response:
        root = self.dist / "assets"
        wanted = (root / request.path_params["file"]).resolve()
        if not wanted.is_relative_to(root) or not await asyncio.to_thread(wanted.is_file):
            return PlainTextResponse("no such console file\n", status_code=404, headers=SECURITY_HEADERS)
        media_type, _ = mimetypes.guess_type(wanted.name)
        # Names carry a content hash: a file of a given name never changes.
        headers = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=31536000, immutable"}
        return FileResponse(wanted, media_type=media_type or "application/octet-stream", headers=headers)

    async def trace(self, request: Request) -> Response:
        project, domain, name = (request.path_params[k] for k in ("project", "domain", "name"))
        trace_id = trace_id_of(project, domain, name)
        body: dict[str, str] = {"traceId": trace_id}
        if self.config.trace_url_template:
            body["traceUrl"] = self.config.trace_url_template.replace("{trace_id}", trace_id)
        return JSONResponse(body)
