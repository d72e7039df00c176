"""An async face on the `kubernetes` client for any resource kind, as plain JSON objects, with errors classified.

Every call runs the blocking client in a thread (`asyncio.to_thread`), never on the event loop.
Objects go in and come out as dicts (what the API server speaks), so one client serves Pods and
custom resources (SparkApplication, RayJob) alike. An API error becomes a `KubeApiError` whose
`retryable` says whether the same call may succeed later (connection failures, 5xx, 429, conflicts)
or not (an invalid object, a forbidden or unknown kind).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import grpc
import urllib3
from kubernetes import client as k8s

from flyteplane.errors import FlyteplaneError
from flyteplane.kube import KubeConnection, api_configuration

JSON = dict[str, Any]
MERGE_PATCH = "application/merge-patch+json"


@dataclass(frozen=True)
class ResourceKind:
    """A namespaced resource type: `v1`/Pod/pods, `ray.io/v1`/RayJob/rayjobs, ..."""

    api_version: str
    kind: str
    plural: str

    def path(self, namespace: str, name: str | None = None) -> str:
        base = f"/api/{self.api_version}" if "/" not in self.api_version else f"/apis/{self.api_version}"
        path = f"{base}/namespaces/{namespace}/{self.plural}"
        return f"{path}/{name}" if name else path


POD = ResourceKind("v1", "Pod", "pods")
EVENT = ResourceKind("v1", "Event", "events")


class KubeApiError(FlyteplaneError):
    """A failed Kubernetes API call: HTTP `status` (0 = no answer), the Status `reason`, and whether to retry."""

    def __init__(self, message: str, *, status: int, reason: str, retryable: bool) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.retryable = retryable
        self.code = grpc.StatusCode.UNAVAILABLE if retryable else grpc.StatusCode.FAILED_PRECONDITION

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def already_exists(self) -> bool:
        return self.status == 409 and self.reason == "AlreadyExists"

    @property
    def quota_exceeded(self) -> bool:
        return self.status == 403 and "exceeded quota" in str(self)


def is_retryable(status: int, reason: str) -> bool:
    """Whether a call that failed with `status`/`reason` may succeed if made again unchanged."""
    if status in (0, 429) or status >= 500:
        return True  # no answer, throttled, or the server's own trouble
    if status == 409:
        return True  # a conflict (stale resourceVersion) or an object still being deleted
    if status == 401:
        return True  # expired credentials are refreshed on the next call
    return status == 403 and reason == "Forbidden:quota"


def _error_from(exc: BaseException, what: str) -> KubeApiError:
    if isinstance(exc, k8s.ApiException):
        status = int(exc.status or 0)
        reason, message = str(exc.reason or ""), ""
        body = exc.body.decode(errors="replace") if isinstance(exc.body, bytes) else exc.body
        if body:
            try:
                document = json.loads(body)
            except ValueError:
                message = str(body)[:500]
            else:
                reason = str(document.get("reason") or reason)
                message = str(document.get("message") or "")
        if status == 403 and "exceeded quota" in message:
            reason = "Forbidden:quota"
        text = f"{what}: {status} {reason}: {message}".rstrip(": ")
        return KubeApiError(text, status=status, reason=reason, retryable=is_retryable(status, reason))
    return KubeApiError(f"{what}: {exc}", status=0, reason=type(exc).__name__, retryable=True)


class KubeClient:
    """Create, read, patch, delete and list any namespaced kind; see the module docstring."""

    def __init__(self, connection: KubeConnection, configuration: k8s.Configuration | None = None) -> None:
        self.connection = connection
        self._configuration = configuration
        self._api: k8s.ApiClient | None = None
        self._lock = asyncio.Lock()

    async def _client(self) -> k8s.ApiClient:
        async with self._lock:
            if self._api is None:
                configuration = self._configuration or await asyncio.to_thread(api_configuration, self.connection)
                self._api = k8s.ApiClient(configuration)
            return self._api

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: Sequence[tuple[str, str]] = (),
        content_type: str = "application/json",
        what: str = "",
    ) -> JSON:
        """One API call; the decoded JSON answer, or KubeApiError."""
        api = await self._client()

        def call() -> JSON:
            response = api.call_api(
                path,
                method,
                query_params=list(query),
                header_params={"Accept": "application/json", "Content-Type": content_type},
                body=body,
                auth_settings=["BearerToken"],
                _preload_content=False,
                _request_timeout=self.connection.request_timeout_seconds,
            )
            data = response.data
            return cast(JSON, json.loads(data)) if data else {}

        try:
            return await asyncio.to_thread(call)
        except (k8s.ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise _error_from(exc, what or f"{method} {path}") from exc

    async def create(self, kind: ResourceKind, namespace: str, body: Mapping[str, Any]) -> JSON:
        name = body.get("metadata", {}).get("name", "")
        return await self.request(
            "POST",
            kind.path(namespace),
            body=dict(body),
            query=[("fieldValidation", "Strict")],  # a field the server does not know is an error, not dropped
            what=f"create {kind.kind} {namespace}/{name}",
        )

    async def get(self, kind: ResourceKind, namespace: str, name: str) -> JSON | None:
        """The object, or None when it does not exist."""
        try:
            return await self.request("GET", kind.path(namespace, name), what=f"get {kind.kind} {namespace}/{name}")
        except KubeApiError as error:
            if error.not_found:
                return None
            raise

    async def patch(self, kind: ResourceKind, namespace: str, name: str, patch: Mapping[str, Any]) -> JSON | None:
        """A JSON merge patch; None when the object does not exist. A `resourceVersion` in it makes it conditional."""
        try:
            return await self.request(
                "PATCH",
                kind.path(namespace, name),
                body=dict(patch),
                content_type=MERGE_PATCH,
                what=f"patch {kind.kind} {namespace}/{name}",
            )
        except KubeApiError as error:
            if error.not_found:
                return None
            raise

    async def delete(self, kind: ResourceKind, namespace: str, name: str) -> bool:
        """Deletes the object (its dependents in the background); False when it did not exist."""
        try:
            await self.request(
                "DELETE",
                kind.path(namespace, name),
                body={"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"},
                what=f"delete {kind.kind} {namespace}/{name}",
            )
        except KubeApiError as error:
            if error.not_found:
                return False
            raise
        return True

    async def list(
        self, kind: ResourceKind, namespace: str, *, label_selector: str = "", field_selector: str = ""
    ) -> list[JSON]:
        query = [("labelSelector", label_selector)] if label_selector else []
        if field_selector:
            query.append(("fieldSelector", field_selector))
        answer = await self.request("GET", kind.path(namespace), query=query, what=f"list {kind.plural} in {namespace}")
        return list(answer.get("items") or [])

    async def ensure_namespace(self, namespace: str) -> None:
        """Creates `namespace` unless it exists."""
        try:
            await self.request(
                "POST",
                "/api/v1/namespaces",
                body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
                what=f"create namespace {namespace}",
            )
        except KubeApiError as error:
            if not error.already_exists:
                raise

    def close(self) -> None:
        if self._api is not None:
            self._api.close()
            self._api = None
