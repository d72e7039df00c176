"""The HTTP endpoint that serves file:// signed URLs (GET streams an object out, PUT streams one in).

Mount the app returned by `signed_url_app` at the root of the server named by
`StorageConfig.public_base_url`; it answers under `/storage/`. See `flyteplane.storage.signing` for
the URL scheme. Status codes: 200 done; 400 malformed URL or a body whose MD5 is not the signed
one; 403 bad signature, expired, wrong method, path outside the root, or a missing or different
`Content-MD5`; 404 no such object (GET); 413 body larger than `max_upload_bytes`. A refused PUT
stores nothing.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from flyteplane.errors import (
    FlyteplaneError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
)
from flyteplane.storage.signing import ROUTE_PREFIX, LocalUrlSigner, SignedRequest
from flyteplane.storage.store import Storage
from flyteplane.storage.streams import size_limited


def _error_response(error: FlyteplaneError) -> Response:
    """The refusal a client sees; handlers make sure its message never names server paths."""
    match error:
        case InvalidArgument():
            status = 400
        case PermissionDenied():
            status = 403
        case NotFound():
            status = 404
        case ResourceExhausted():
            status = 413
        case _:
            return PlainTextResponse("storage failed", status_code=500)
    return PlainTextResponse(error.message, status_code=status)


def signed_url_app(storage: Storage, signer: LocalUrlSigner | None = None) -> Starlette:
    """An ASGI app serving GET and PUT of `storage`'s file:// signed URLs, verified by `signer`
    (default: `storage.local_signer`, the one that signed them)."""
    verifier = signer or storage.local_signer
    root = storage.config.local_root.as_posix().rstrip("/")

    async def authorize(request: Request) -> tuple[SignedRequest, str]:
        path = request.path_params["path"]
        signed = verifier.verify(request.method, path, request.query_params)
        uri = f"file://{root}/{signed.path}"
        try:
            await storage.check(uri)
        except InvalidArgument as error:  # e.g. a symlink out of the root: validly signed, still refused
            raise PermissionDenied("path is not inside the store", field="url") from error
        return signed, uri

    async def get(request: Request) -> Response:
        try:
            _, uri = await authorize(request)
            chunks = storage.read_stream(uri)
            try:
                first = await anext(chunks, b"")
            except NotFound as error:
                raise NotFound("no such object") from error
        except FlyteplaneError as error:
            return _error_response(error)

        async def body() -> AsyncIterator[bytes]:
            if first:
                yield first
            async for chunk in chunks:
                yield chunk

        return StreamingResponse(body(), media_type="application/octet-stream")

    async def put(request: Request) -> Response:
        try:
            signed, uri = await authorize(request)
            if signed.content_md5 is not None:
                sent = request.headers.get("content-md5", "")
                try:
                    matches = base64.b64decode(sent, validate=True) == signed.content_md5
                except binascii.Error:
                    matches = False
                if not matches:
                    raise PermissionDenied("Content-MD5 header is missing or not the signed one", field="url")
            limit = storage.config.max_upload_bytes
            declared = request.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                raise ResourceExhausted(f"object is larger than {limit} bytes")
            body = size_limited(request.stream(), limit)
            try:
                await storage.write_stream(uri, body, content_md5=signed.content_md5)
            except InvalidArgument as error:
                if error.field == "content_md5":
                    raise InvalidArgument("body does not match the signed Content-MD5") from error
                raise InvalidArgument("cannot store an object at this path") from error
        except FlyteplaneError as error:
            return _error_response(error)
        return Response(status_code=200)

    routes = [
        Route(ROUTE_PREFIX + "{path:path}", get, methods=["GET"]),
        Route(ROUTE_PREFIX + "{path:path}", put, methods=["PUT"]),
    ]
    return Starlette(routes=routes)
