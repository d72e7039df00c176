"""Task logs on admin's HTTP port: `GET /api/v1/logs/{project}/{domain}/{name}`, as they are now or followed live.

Parameters: `node_id` (required; a nested node id as admin stores it), `attempt` (the retry attempt;
default the latest), `index` (a map task's element; its attempts are the element's), `offset` (a byte
offset; default 0) and `follow` (`true`: the response streams the log as the task writes it and
ends once the attempt is terminal and everything is sent, or when the client goes away).

The answer is `text/plain; charset=utf-8`, the log's bytes as written (a task may write anything:
clients decode leniently). `X-Flyteplane-Attempt-Phase` names the attempt's phase and
`X-Flyteplane-Log-Attempt` its retry attempt; without `follow`, `X-Flyteplane-Log-Offset` is the
offset after what was sent, to ask again from. Errors are the REST gateway's (`admin.rest`): 400
for a bad parameter, 404 naming what is missing -- the execution, the node, the attempt, the pod
that is gone, or "no local log for this attempt" (a file outside `admin.logs.roots`, a pod of a
cluster `admin.logs.kubernetes` does not name).

A Kubernetes pod's log (`admin.pod_logs`) keeps this contract with two differences, both from the pod
log API having no byte offsets: an offset is served by reading the log from its start and skipping
that many bytes, and an answer without `follow` holds at most `admin.logs.pod_window_bytes` (its
offset header says where the next one starts). Before the container starts, the log is empty (a
followed one waits for it); a followed log ends when the container does.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from admin.managers.task_logs import AttemptLog, LogQuery, TaskLogs
from admin.pod_logs import ContainerWaiting, PodContainer, PodLogs, Refused
from admin.rest import error_response
from flyteidl_py.core import identifier_pb2
from flyteplane.errors import FlyteplaneError, InvalidArgument, NotFound, Unavailable

LOG_ROUTE = "/api/v1/logs/{project}/{domain}/{name}"
OFFSET_HEADER = "X-Flyteplane-Log-Offset"
PHASE_HEADER = "X-Flyteplane-Attempt-Phase"
ATTEMPT_HEADER = "X-Flyteplane-Log-Attempt"
MEDIA_TYPE = "text/plain; charset=utf-8"
CHUNK_BYTES = 64 * 1024
# A followed attempt's phase is read from the database at most this often (the file is looked at every poll).
PHASE_CHECK_SECONDS = 1.0
# How often a followed pod's log is asked for again while its container has not started (an API call each).
POD_RETRY_SECONDS = 1.0
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

    def __init__(
        self, logs: TaskLogs, poll_interval_seconds: float, pods: PodLogs | None = None, pod_window_bytes: int = 1 << 22
    ) -> None:
        self.logs = logs
        self.poll = poll_interval_seconds
        self.pods = pods or PodLogs({})
        self.pod_window = pod_window_bytes

    async def handle(self, request: Request) -> Response:
        try:
            query, offset, follow = _query(request)
            found = await self.logs.find(query)
            if found.path is None and found.pod is not None and self.pods.serves(found.pod.backend):
                return await self._pod_log(request, found, query, offset, follow)
            if found.path is None:
                where = f"attempt {found.attempt} of node {query.node_id}"
                if found.pod is not None:
                    where += f", {found.pod} of backend {found.pod.backend}, a cluster admin.logs.kubernetes lacks"
                raise NotFound(f"no local log for this attempt ({where}, {found.phase_name})")
            size = (await asyncio.to_thread(os.stat, found.path)).st_size
        except FlyteplaneError as error:
            return error_response(error)
        except OSError:  # gone between finding and reading it
            return error_response(NotFound("no local log for this attempt (its file is gone)"))
        headers = {PHASE_HEADER: found.phase_name, ATTEMPT_HEADER: str(found.attempt), "Cache-Control": "no-store"}
        if follow:
            stream = self._follow(request, found, offset, query)
            return StreamingResponse(stream, media_type=MEDIA_TYPE, headers=headers)
        end = max(size, offset)
        headers[OFFSET_HEADER] = str(end)
        return StreamingResponse(_range(found.path, offset, end), media_type=MEDIA_TYPE, headers=headers)

    async def _follow(self, request: Request, found: AttemptLog, offset: int, query: LogQuery) -> AsyncIterator[bytes]:
        """The log from `offset` as it grows, until the attempt is terminal and nothing more is written, or the
        client is gone.

        The file's end is looked at every poll interval (no notification is portable across stores and
        the writer is another process); the attempt's phase at most every PHASE_CHECK_SECONDS. A client that
        went away is noticed between polls: a silent log sends nothing that could fail."""
        assert found.path is not None
        fd = await _open(found.path)
        if fd is None:
            return
        terminal = found.terminal
        checked = time.monotonic()
        query = replace(query, attempt=found.attempt)  # this attempt's phase, not a later retry's
        try:
            while True:
                chunk = await asyncio.to_thread(_read_at, fd, offset, CHUNK_BYTES)
                if chunk:
                    offset += len(chunk)
                    yield chunk
                    continue
                if terminal or await request.is_disconnected():  # terminal before this read, which found nothing more
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
            os.close(fd)  # not awaited: a cancelled stream (the client left) cannot await anything here

    async def _pod_log(
        self, request: Request, found: AttemptLog, query: LogQuery, offset: int, follow: bool
    ) -> Response:
        """A pod's log (see the module docstring); 404 naming the pod once it is gone."""
        assert found.pod is not None
        headers = {PHASE_HEADER: found.phase_name, ATTEMPT_HEADER: str(found.attempt), "Cache-Control": "no-store"}
        if follow:
            await self.pods.read(found.pod, 0, 1)  # a pod that is gone is a 404 now, not an empty stream
            stream = self._follow_pod(request, found, found.pod, offset, query)
            return StreamingResponse(stream, media_type=MEDIA_TYPE, headers=headers)
        data = await self.pods.read(found.pod, offset, self.pod_window)
        headers[OFFSET_HEADER] = str(offset + len(data))
        return Response(data, media_type=MEDIA_TYPE, headers=headers)

    async def _follow_pod(
        self, request: Request, found: AttemptLog, pod: PodContainer, offset: int, query: LogQuery
    ) -> AsyncIterator[bytes]:
        """The pod's log from `offset` as the container writes it, until the container has ended and everything is
        sent (or its attempt is terminal without it), the pod is gone, or the client is gone.

        The API server ends a followed stream when the container ends, and may drop it before; each new
        stream skips what was sent. The attempt's phase is looked at between streams only: an attempt can end
        without its container ever starting."""
        sent = offset
        terminal = found.terminal
        query = replace(query, attempt=found.attempt)  # this attempt's phase, not a later retry's
        while True:
            try:
                async for chunk in self.pods.follow(pod, sent):
                    sent += len(chunk)
                    yield chunk
            except Refused:  # the answer's status is sent already: nothing to say it with
                return
            except (ContainerWaiting, Unavailable):  # not started yet, or the connection dropped: ask again
                pass
            except FlyteplaneError:  # the pod is gone
                return
            if await self.pods.ended(pod):
                # Whatever the container wrote between a dropped stream and its end.
                while chunk := await _pod_read_or_nothing(self.pods, pod, sent, self.pod_window):
                    sent += len(chunk)
                    yield chunk
                return
            if terminal or await request.is_disconnected():
                return
            await asyncio.sleep(POD_RETRY_SECONDS)
            try:
                terminal = (await self.logs.find(query)).terminal
            except FlyteplaneError:  # the execution was deleted meanwhile: nothing more will come
                return


async def _pod_read_or_nothing(pods: PodLogs, pod: PodContainer, offset: int, window: int) -> bytes:
    try:
        return await pods.read(pod, offset, window)
    except FlyteplaneError:
        return b""


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
        os.close(fd)  # not awaited: a cancelled stream (the client left) cannot await anything here
