"""Task logs on admin's HTTP port: `GET /api/v1/logs/{project}/{domain}/{name}`, as they are now or followed live.

Parameters: `node_id` (required; a nested node id as admin stores it), `attempt` (the retry attempt;
default the latest), `index` (a map task's element; its attempts are the element's), `offset` (a byte
offset; default 0) and `follow` (`true`: the response streams the log as the task writes it and
ends once the attempt is terminal and everything is sent, or when the client goes away).

The answer is `text/plain; charset=utf-8`, the log's bytes as written (a task may write anything:
clients decode leniently). `X-Flyteplane-Attempt-Phase` names the attempt's phase and
`X-Flyteplane-Log-Attempt` its retry attempt; without `follow`, `X-Flyteplane-Log-Offset` is the
offset after what was sent, to ask again from. Errors are the REST gateway's (`admin.rest`): 400
for a bad parameter, 404 naming what is missing -- the execution, the node, the attempt, or "no
local log for this attempt" (a Kubernetes pod's, or a file outside `admin.logs.roots`).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from admin.managers.task_logs import AttemptLog, LogQuery, TaskLogs
from admin.rest import error_response
from flyteidl_py.core import identifier_pb2
from flyteplane.errors import FlyteplaneError, InvalidArgument, NotFound

LOG_ROUTE = "/api/v1/logs/{project}/{domain}/{name}"
OFFSET_HEADER = "X-Flyteplane-Log-Offset"
PHASE_HEADER = "X-Flyteplane-Attempt-Phase"
ATTEMPT_HEADER = "X-Flyteplane-Log-Attempt"
MEDIA_TYPE = "text/plain; charset=utf-8"
CHUNK_BYTES = 64 * 1024
# A followed attempt's phase is read from the database at most this often (the file is looked at every poll).
PHASE_CHECK_SECONDS = 1.0
_PARAMETERS = frozenset({"node_id", "attempt", "index", "offset", "follow"})


def _integer(request: Request, name: str) -> int | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return None
    if not text.isdigit():
        raise InvalidArgument(f"cannot read {text!r} as {name}: a non-negative integer is expected", field=name)
    return int(text)


def _query(request: Request) -> tuple[LogQuery, int, bool]:
    unknown = sorted(set(request.query_params.keys()) - _PARAMETERS)
    if unknown:
        raise InvalidArgument(f"unknown parameter {unknown[0]}", field=unknown[0])
    follow_text = request.query_params.get("follow", "false")
    if follow_text not in ("true", "false", "1", "0"):
        raise InvalidArgument(f"cannot read {follow_text!r} as follow: true or false is expected", field="follow")
    params = request.path_params
    query = LogQuery(
        execution=identifier_pb2.WorkflowExecutionIdentifier(
            project=params["project"], domain=params["domain"], name=params["name"]
        ),
        node_id=request.query_params.get("node_id", ""),
        attempt=_integer(request, "attempt"),
        index=_integer(request, "index"),
    )
    return query, _integer(request, "offset") or 0, follow_text in ("true", "1")


def _read_at(fd: int, offset: int, size: int) -> bytes:
    return os.pread(fd, size, offset)


class LogEndpoint:
    """The Starlette endpoint; see the module docstring."""

    def __init__(self, logs: TaskLogs, poll_interval_seconds: float) -> None:
        self.logs = logs
        self.poll = poll_interval_seconds

    async def handle(self, request: Request) -> Response:
        try:
            query, offset, follow = _query(request)
            found = await self.logs.find(query)
            if found.path is None:
                where = f"attempt {found.attempt} of node {query.node_id}"
                raise NotFound(f"no local log for this attempt ({where}, {found.phase_name})")
            size = (await asyncio.to_thread(os.stat, found.path)).st_size
        except FlyteplaneError as error:
            return error_response(error)
        except OSError:  # gone between finding and reading it
            return error_response(NotFound("no local log for this attempt (its file is gone)"))
        headers = {PHASE_HEADER: found.phase_name, ATTEMPT_HEADER: str(found.attempt), "Cache-Control": "no-store"}
        if follow:
            return StreamingResponse(self._follow(found, offset, query), media_type=MEDIA_TYPE, headers=headers)
        end = max(size, offset)
        headers[OFFSET_HEADER] = str(end)
        return StreamingResponse(_range(found.path, offset, end), media_type=MEDIA_TYPE, headers=headers)

    async def _follow(self, found: AttemptLog, offset: int, query: LogQuery) -> AsyncIterator[bytes]:
        """The log from `offset` as it grows, until the attempt is terminal and nothing more is written.

        The file's end is looked at every poll interval (no notification is portable across stores and
        the writer is another process); the attempt's phase at most every PHASE_CHECK_SECONDS."""
        assert found.path is not None
        fd = await _open(found.path)
        if fd is None:
            return
        terminal = found.terminal
        checked = time.monotonic()
        try:
            while True:
                chunk = await asyncio.to_thread(_read_at, fd, offset, CHUNK_BYTES)
                if chunk:
                    offset += len(chunk)
                    yield chunk
                    continue
                if terminal:  # terminal before this read, and the read found nothing more
                    return
                if time.monotonic() - checked >= PHASE_CHECK_SECONDS:
                    checked = time.monotonic()
                    try:
                        terminal = (await self.logs.find(query)).terminal
                    except FlyteplaneError:  # the execution was deleted meanwhile: nothing more will come
                        return
                    if terminal:
                        continue  # read what was written before the attempt ended
                await asyncio.sleep(self.poll)
        finally:
            await asyncio.to_thread(os.close, fd)


async def _open(path: Path) -> int | None:
    """The file opened for reading (None if it is gone); in the generator, so that it is closed by its `finally`."""
    try:
        # The path is resolved already: a link put in its place since is not followed.
        return await asyncio.to_thread(os.open, path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None


async def _range(path: Path | None, start: int, end: int) -> AsyncIterator[bytes]:
    fd = await _open(path) if path is not None and start < end else None
    if fd is None:
        return
    try:
        while start < end:
            chunk = await asyncio.to_thread(_read_at, fd, start, min(CHUNK_BYTES, end - start))
            if not chunk:  # truncated meanwhile
                return
            start += len(chunk)
            yield chunk
    finally:
        await asyncio.to_thread(os.close, fd)
