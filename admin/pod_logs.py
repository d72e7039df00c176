"""Reading a task pod's container log from the Kubernetes pod log API, asynchronously, as admin serves it.

`GET /api/v1/namespaces/{ns}/pods/{pod}/log?container=..` on the API server of the backend that ran
the attempt (`admin.logs.kubernetes`, by backend id), over httpx: nothing blocks the event loop. The
API has no byte offsets, so an offset is honoured by reading the log from its start and skipping
that many bytes; `limitBytes` bounds what one request without `follow` reads.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from flyteplane.errors import NotFound, Unavailable
from flyteplane.kube import KubeConnection, http_endpoint


@dataclass(frozen=True)
class PodContainer:
    """One container of one pod, on the cluster of backend `backend` (the id an attempt's events name)."""

    backend: str
    namespace: str
    pod: str
    container: str

    def __str__(self) -> str:
        return f"pod {self.namespace}/{self.pod} (container {self.container})"

    @property
    def path(self) -> str:
        return f"/api/v1/namespaces/{self.namespace}/pods/{self.pod}"


class Refused(Unavailable):
    """The API server answered, but not with the log (401, 403, 5xx, ...): asking again the same way will not help
    soon."""


class ContainerWaiting(Exception):
    """The container has not started (or its pod is not scheduled yet): the API has no log for it so far."""


def _message(body: bytes) -> str:
    """The `message` of a Kubernetes Status answer, else the body's start."""
    text = body.decode(errors="replace")
    try:
        document: Any = json.loads(text)
    except ValueError:
        return text[:500]
    return str(document.get("message") or text[:500]) if isinstance(document, dict) else text[:500]


def _refusal(container: PodContainer, status: int, body: bytes) -> Exception:
    """What an unsuccessful answer of the pod log API means for the reader."""
    message = _message(body)
    if status == 404:
        return NotFound(f"{container} is gone (deleted since the attempt ran): its log went with it", field="pod")
    if status == 400 and "is not valid for pod" not in message:
        # "container ... is waiting to start: ContainerCreating", a pod not scheduled yet, ...
        return ContainerWaiting(message)
    if status == 400:
        return NotFound(f"{container} is not in the pod: {message}", field="pod")
    return Refused(f"the Kubernetes API server refused {container}'s log: {status} {message}".rstrip())


class PodLogs:
    """The pod log API of every configured cluster; see the module docstring."""

    def __init__(self, clusters: Mapping[str, KubeConnection]) -> None:
        self._clusters = dict(clusters)
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._lock = asyncio.Lock()

    def serves(self, backend: str) -> bool:
        return backend in self._clusters

    async def _client(self, backend: str) -> httpx.AsyncClient:
        async with self._lock:
            client = self._clients.get(backend)
            if client is None:
                connection = self._clusters[backend]
                try:  # a kubeconfig or service-account files are read: in a thread
                    endpoint = await asyncio.to_thread(http_endpoint, connection)
                except Exception as error:  # the kubernetes loader raises its own kinds for a bad kubeconfig
                    raise Unavailable(f"cannot reach the Kubernetes API of backend {backend}: {error}") from error
                headers = {"Authorization": endpoint.authorization} if endpoint.authorization else {}
                client = httpx.AsyncClient(
                    base_url=endpoint.base_url,
                    verify=endpoint.tls if endpoint.tls is not None else True,
                    headers=headers,
                    # A followed log may stay silent for as long as the task does: no read timeout.
                    timeout=httpx.Timeout(connection.request_timeout_seconds, read=None),
                )
                self._clients[backend] = client
            return client

    async def read(self, container: PodContainer, offset: int, window: int) -> bytes:
        """The log from byte `offset`, at most `window` bytes of it; b"" while the container has not started."""
        client = await self._client(container.backend)
        params = {"container": container.container, "limitBytes": str(offset + window)}
        try:
            answer = await client.get(f"{container.path}/log", params=params, timeout=httpx.Timeout(30.0))
        except httpx.HTTPError as error:
            raise Unavailable(f"cannot read {container}'s log: {error}") from error
        if answer.status_code == 204:  # nothing written yet
            return b""
        if answer.status_code != 200:
            refusal = _refusal(container, answer.status_code, answer.content)
            if isinstance(refusal, ContainerWaiting):
                return b""
            raise refusal
        return answer.content[offset:]

    async def follow(self, container: PodContainer, offset: int) -> AsyncIterator[bytes]:
        """The log from byte `offset` as the container writes it, until the API ends the stream (the container
        ended, or the connection dropped). Raises ContainerWaiting, NotFound (the pod is gone) or Unavailable
        before the first byte."""
        client = await self._client(container.backend)
        params = {"container": container.container, "follow": "true"}
        skip = offset
        try:
            async with client.stream("GET", f"{container.path}/log", params=params) as answer:
                if answer.status_code == 204:  # nothing written yet: the caller asks again
                    return
                if answer.status_code != 200:
                    raise _refusal(container, answer.status_code, await answer.aread())
                async for chunk in answer.aiter_raw():
                    if skip >= len(chunk):
                        skip -= len(chunk)
                        continue
                    yield chunk[skip:]
                    skip = 0
        except httpx.HTTPError as error:
            raise Unavailable(f"cannot follow {container}'s log: {error}") from error

    async def ended(self, container: PodContainer) -> bool:
        """Whether the container will write no more: it terminated (and is not restarted), or its pod is gone."""
        client = await self._client(container.backend)
        try:
            answer = await client.get(container.path, timeout=httpx.Timeout(30.0))
        except httpx.HTTPError:
            return False  # unknown: the caller looks again
        if answer.status_code == 404:
            return True
        if answer.status_code != 200:
            return False
        pod: dict[str, Any] = answer.json()
        status = pod.get("status") or {}
        if status.get("phase") in ("Succeeded", "Failed"):
            return True
        for entry in [*(status.get("containerStatuses") or []), *(status.get("initContainerStatuses") or [])]:
            if entry.get("name") == container.container:
                return bool((entry.get("state") or {}).get("terminated"))
        return False

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
