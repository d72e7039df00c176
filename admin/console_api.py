"""The console's REST routes the IDL has no RPC for: a dataframe's parquet bytes, why a cache lookup missed.

`GET /api/v1/console/dataframe?uri=` answers the parquet file of a structured dataset URI as it is in the
store (file://, s3://, gs://: the stores admin signs download links for; a plain absolute path, as flytekit
writes local raw data, is the file:// store's). flytekit writes a dataframe as a
directory holding one file (`00000`); a directory URI answers its first data file (names starting with
`.` or `_` are markers, not data) and `X-Flyteplane-Dataframe-Files` says how many there are. The console
reads the bytes with a parquet reader of its own: the plane never decodes a dataframe. A file larger
than PREVIEW_LIMIT_BYTES is refused (RESOURCE_EXHAUSTED, 429): the download link is there for it.

`GET /api/v1/console/cache_explain/{project}/{domain}/{name}?node_id=&index=` answers the report of
`flyteplane cache explain` (text) for a node, or a map task's element `index`. It needs DataCatalog's
address, so the composition root (launcher) hands admin the explainer; an admin started without one
answers 501. The report's own errors (no such node, not a task node) are the explainer's.

Errors are the REST gateway's (`admin.rest.error_response`): 400 naming the bad parameter, 404 naming what
is missing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from admin.rest import error_response
from flyteidl_py.core import identifier_pb2
from flyteplane.errors import FlyteplaneError, InvalidArgument, NotFound, ResourceExhausted, Unimplemented
from flyteplane.storage.base import ObjectInfo
from flyteplane.storage.store import Storage

DATAFRAME_ROUTE = "/api/v1/console/dataframe"
CACHE_EXPLAIN_ROUTE = "/api/v1/console/cache_explain/{project}/{domain}/{name}"
FILE_HEADER = "X-Flyteplane-Dataframe-File"
FILES_HEADER = "X-Flyteplane-Dataframe-Files"
# A preview reads a whole file in the browser (the footer is at its end): beyond this, the download link.
PREVIEW_LIMIT_BYTES = 64 * 1024 * 1024
# How many entries of a dataframe directory are looked at to find its data files.
LISTED_FILES = 1000

# (admin's own gRPC address, the node, a map element or None) -> the report. The launcher builds it from
# propeller.catalog.node_report, which asks admin and DataCatalog over gRPC like the CLI does.
CacheExplainer = Callable[[str, identifier_pb2.NodeExecutionIdentifier, int | None], Awaitable[str]]


def _parameters(request: Request, allowed: frozenset[str]) -> None:
    unknown = sorted(set(request.query_params.keys()) - allowed)
    if unknown:
        raise InvalidArgument(f"unknown parameter {unknown[0]}", field=unknown[0])


def _is_data(info: ObjectInfo, directory: str) -> bool:
    name = info.uri[len(directory) :]
    return "/" not in name and not name.startswith((".", "_"))


class ConsoleApi:
    """The two routes; see the module docstring."""

    def __init__(self, storage: Storage, explainer: CacheExplainer | None, admin_address: Callable[[], str]) -> None:
        self.storage = storage
        self.explainer = explainer
        self.admin_address = admin_address  # known once admin's gRPC port is bound

    def routes(self) -> list[BaseRoute]:
        return [
            Route(DATAFRAME_ROUTE, self.dataframe, methods=["GET"]),
            Route(CACHE_EXPLAIN_ROUTE, self.cache_explain, methods=["GET"]),
        ]

    async def dataframe(self, request: Request) -> Response:
        try:
            _parameters(request, frozenset({"uri"}))
            uri = request.query_params.get("uri", "")
            if not uri:
                raise InvalidArgument("a structured dataset URI is required", field="uri")
            if uri.startswith("/"):  # flytekit's local raw data: a plain path, in the file:// store
                uri = "file://" + uri
            await self.storage.check(uri.rstrip("/"))  # a URI of the store's schemes, inside the local root
            found, count = await self._data_file(uri)
            if found.size > PREVIEW_LIMIT_BYTES:
                raise ResourceExhausted(
                    f"{found.uri} has {found.size} bytes, more than a preview reads ({PREVIEW_LIMIT_BYTES}): "
                    "download it instead"
                )
        except FlyteplaneError as error:
            return error_response(error)
        headers = {FILE_HEADER: found.uri, FILES_HEADER: str(count), "Cache-Control": "no-store"}
        if found.size >= 0:
            headers["Content-Length"] = str(found.size)
        return StreamingResponse(self._bytes(found.uri), media_type="application/vnd.apache.parquet", headers=headers)

    async def _bytes(self, uri: str) -> AsyncIterator[bytes]:
        async for chunk in self.storage.read_stream(uri):
            yield chunk

    async def _data_file(self, uri: str) -> tuple[ObjectInfo, int]:
        """The object `uri` names, else the first data file of the directory it names, and how many it has."""
        base = uri.rstrip("/")
        try:
            return await self.storage.head(base), 1
        except NotFound:
            pass
        directory = base + "/"
        files: list[ObjectInfo] = []
        async for info in self.storage.list(directory):
            if _is_data(info, directory):
                files.append(info)
            if len(files) >= LISTED_FILES:
                break
        if not files:
            raise NotFound(f"no parquet file at {uri} (neither an object nor a directory with data files)", field="uri")
        files.sort(key=lambda info: info.uri)
        return files[0], len(files)

    async def cache_explain(self, request: Request) -> Response:
        try:
            _parameters(request, frozenset({"node_id", "index"}))
            node_id = request.query_params.get("node_id", "")
            if not node_id:
                raise InvalidArgument("a node id is required", field="node_id")
            index_text = request.query_params.get("index", "")
            if index_text and not index_text.isdigit():
                raise InvalidArgument(
                    f"cannot read {index_text!r} as index: a non-negative integer is expected", field="index"
                )
            if self.explainer is None:
                raise Unimplemented("this admin was started without DataCatalog's address: it cannot explain caching")
            params = request.path_params
            node = identifier_pb2.NodeExecutionIdentifier(
                node_id=node_id,
                execution_id=identifier_pb2.WorkflowExecutionIdentifier(
                    project=params["project"], domain=params["domain"], name=params["name"]
                ),
            )
            report = await self.explainer(self.admin_address(), node, int(index_text) if index_text else None)
        except FlyteplaneError as error:
            return error_response(error)
        return PlainTextResponse(report, headers={"Cache-Control": "no-store"})
