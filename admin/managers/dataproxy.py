"""The data proxy: signed upload and download URLs for clients that hold no storage credentials.

flytekit uploads code bundles and local file inputs through CreateUploadLocation and an HTTP PUT;
the object lands at <prefix>/<uploads>/<project>/<domain>/<filename_root or base32(md5)>/<filename>.
"""

from __future__ import annotations

import base64
import re
import secrets
from datetime import timedelta

from google.protobuf import duration_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from admin.managers.context import AdminContext
from admin.managers.ids import check_node_execution_id, require
from admin.managers.node_executions import LiteralData
from admin.repositories import node_executions, task_executions
from flyteidl_py.admin import node_execution_pb2, task_execution_pb2
from flyteidl_py.core import identifier_pb2
from flyteidl_py.service import dataproxy_pb2
from flyteplane.errors import AlreadyExists, InvalidArgument, NotFound
from flyteplane.storage import LOCAL_ALIAS, join

MAX_ATTEMPT = 2**31 - 1  # attempts are 32-bit on the wire (TaskExecutionIdentifier.retry_attempt)
_FLYTE_URL = re.compile(
    r"^flyte://v1/(?P<p>[a-zA-Z0-9_-]+)/(?P<d>[a-zA-Z0-9_-]+)/(?P<e>[a-zA-Z0-9_-]+)/(?P<n>[a-zA-Z0-9_-]+)"
    r"(?:/(?P<a>[0-9]+))?/(?P<kind>[iod])(?:/(?P<lit>[a-zA-Z0-9_-]+))?$"
)


def _expiry(ctx: AdminContext, duration: duration_pb2.Duration, maximum: int, field: str) -> timedelta:
    # Read as numbers: a Duration beyond timedelta's range (seconds=10**18) must be refused, not overflow.
    seconds = duration.seconds + duration.nanos / 1e9
    if seconds < 0:
        raise InvalidArgument("expires_in must not be negative", field=field)
    if seconds > maximum:
        raise InvalidArgument(f"expires_in must be at most {maximum} seconds", field=field)
    return timedelta(seconds=seconds or maximum)


def _timestamp(when: object) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(when)  # type: ignore[arg-type]
    return ts


def native_url(uri: str) -> str:
    """The name flytekit is given for an upload: a local store's object as `local:///path`, others as they are.

    flytekit puts native_url into literals and task arguments. It takes a `file://` URI or a plain
    path for the client's own file: a task is handed the `file://` text as a path it cannot open,
    and `pyflyte run --remote` checks a plain path on the client's disk -- where a directory of one
    file, named by that file's upload, is refused as "not a directory". `local://` is a scheme
    flytekit treats as a store's (it never looks for it on the client) and that fsspec, which tasks
    read through, opens as a local file; the plane reads it as `file://` (flyteplane.storage.uri).
    """
    if uri.startswith("file://"):
        return LOCAL_ALIAS + uri.removeprefix("file")
    return uri


class DataProxy:
    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx
        self.data = LiteralData(ctx)

    async def create_upload_location(
        self, request: dataproxy_pb2.CreateUploadLocationRequest
    ) -> dataproxy_pb2.CreateUploadLocationResponse:
        require(request.project, "project")
        require(request.domain, "domain")
        if not request.content_md5 and not request.filename_root:
            raise InvalidArgument("content_md5 or filename_root is required", field="content_md5")
        if request.content_md5 and len(request.content_md5) != 16:
            raise InvalidArgument("content_md5 must be the 16-byte MD5 digest", field="content_md5")
        expires_in = _expiry(self.ctx, request.expires_in, self.ctx.config.max_upload_expiry_seconds, "expires_in")
        prefix = request.filename_root or base64.b32encode(request.content_md5).decode()
        filename = request.filename or secrets.token_hex(10)
        if "/" in filename or filename in (".", ".."):
            raise InvalidArgument("filename must be a plain file name", field="filename")
        native = join(
            self.ctx.storage.default_prefix,
            self.ctx.config.upload_prefix,
            request.org,
            request.project,
            request.domain,
            prefix,
            filename,
        )
        if request.filename and request.filename_root and await self.ctx.storage.exists(native):
            stored = (await self.ctx.storage.head(native)).md5
            if not request.content_md5 or stored != request.content_md5:
                raise AlreadyExists(f"an object with different content already exists at {native}", field="filename")
        signed = await self.ctx.storage.signed_url(native, "PUT", expires_in, request.content_md5 or None)
        return dataproxy_pb2.CreateUploadLocationResponse(
            signed_url=signed.url,
            native_url=native_url(native),
            expires_at=_timestamp(signed.expires_at),
            headers=dict(signed.headers),
        )

    async def create_download_location(
        self, request: dataproxy_pb2.CreateDownloadLocationRequest
    ) -> dataproxy_pb2.CreateDownloadLocationResponse:
        require(request.native_url, "native_url")
        expires_in = _expiry(self.ctx, request.expires_in, self.ctx.config.max_download_expiry_seconds, "expires_in")
        await self.ctx.storage.check(request.native_url)
        signed = await self.ctx.storage.signed_url(request.native_url, "GET", expires_in)
        return dataproxy_pb2.CreateDownloadLocationResponse(
            signed_url=signed.url, expires_at=_timestamp(signed.expires_at)
        )

    async def create_download_link(
        self, request: dataproxy_pb2.CreateDownloadLinkRequest
    ) -> dataproxy_pb2.CreateDownloadLinkResponse:
        if request.artifact_type == dataproxy_pb2.ARTIFACT_TYPE_UNDEFINED:
            raise InvalidArgument("artifact_type must be set (ARTIFACT_TYPE_DECK)", field="artifact_type")
        if not request.HasField("node_execution_id"):
            raise InvalidArgument("unsupported source: a node_execution_id is required", field="node_execution_id")
        check_node_execution_id(request.node_execution_id, "node_execution_id")
        expires_in = _expiry(self.ctx, request.expires_in, self.ctx.config.max_download_expiry_seconds, "expires_in")
        async with self.ctx.db.session() as session:
            try:
                row = await node_executions.get(session, request.node_execution_id)
            except NotFound as exc:
                raise InvalidArgument(str(exc), field="node_execution_id") from exc
        deck = node_execution_pb2.NodeExecutionClosure.FromString(row.closure).deck_uri
        if not deck:
            raise NotFound("node execution has no deck", field="node_execution_id")
        if not await self.ctx.storage.exists(deck):
            raise NotFound("object not found", field="node_execution_id")
        signed = await self.ctx.storage.signed_url(deck, "GET", expires_in)
        urls = dataproxy_pb2.PreSignedURLs(signed_url=[signed.url], expires_at=_timestamp(signed.expires_at))
        return dataproxy_pb2.CreateDownloadLinkResponse(
            signed_url=[signed.url], expires_at=urls.expires_at, pre_signed_urls=urls
        )

    async def get_data(self, request: dataproxy_pb2.GetDataRequest) -> dataproxy_pb2.GetDataResponse:
        require(request.flyte_url, "flyte_url")
        match = _FLYTE_URL.match(request.flyte_url)
        if not match:
            raise InvalidArgument(f"invalid flyte url {request.flyte_url!r}", field="flyte_url")
        node_id = identifier_pb2.NodeExecutionIdentifier(
            execution_id=identifier_pb2.WorkflowExecutionIdentifier(
                project=match["p"], domain=match["d"], name=match["e"]
            ),
            node_id=match["n"],
        )
        kind, literal_name, attempt = match["kind"], match["lit"], match["a"]
        if kind == "d":
            if attempt is not None:
                raise InvalidArgument("decks are per node, not per attempt", field="flyte_url")
            link = await self.create_download_link(
                dataproxy_pb2.CreateDownloadLinkRequest(
                    artifact_type=dataproxy_pb2.ARTIFACT_TYPE_DECK, node_execution_id=node_id
                )
            )
            return dataproxy_pb2.GetDataResponse(pre_signed_urls=link.pre_signed_urls)
        async with self.ctx.db.session() as session:
            node = await node_executions.get(session, node_id)
            if attempt is None:
                closure = node_execution_pb2.NodeExecutionClosure.FromString(node.closure)
                input_uri, output_uri = node.input_uri, closure.output_uri
            else:
                if int(attempt) > MAX_ATTEMPT:
                    raise InvalidArgument(f"no attempt {attempt[:20]} of node {node_id.node_id}", field="flyte_url")
                task = await task_executions.attempt(session, node.id, int(attempt))
                if task is None:
                    raise InvalidArgument(f"no attempt {attempt} of node {node_id.node_id}", field="flyte_url")
                input_uri = task.input_uri
                output_uri = task_execution_pb2.TaskExecutionClosure.FromString(task.closure).output_uri
        literals, _ = await self.data.read(input_uri if kind == "i" else output_uri)
        if literal_name is None:
            return dataproxy_pb2.GetDataResponse(literal_map=literals)
        if literal_name not in literals.literals:
            raise InvalidArgument(f"no literal named {literal_name}", field="flyte_url")
        return dataproxy_pb2.GetDataResponse(literal=literals.literals[literal_name])
