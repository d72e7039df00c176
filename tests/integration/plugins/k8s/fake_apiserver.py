"""A small in-memory Kubernetes API server over HTTP, for the resource manager's tests.

MOCK BOUNDARY: this stands in for kube-apiserver where the tests need to script what a real one
does rarely or on purpose (500s, 429s, quota refusals, conflicts, external deletions, events).
The `kubernetes` client talks to it over real HTTP exactly as to a cluster. Its answers follow
the API server's (object metadata it fills in, finalizer-aware deletion, merge patches with
resourceVersion preconditions, `Status` error bodies as kube-apiserver writes them); the real
kube-apiserver tests in `test_manager_apiserver.py` check the same flows against the real thing.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

_ITEM = re.compile(r"^/(?:api/v1|apis/[^/]+/[^/]+)/namespaces/([^/]+)/([^/]+)(?:/([^/]+))?(?:/(status))?$")


def status_body(code: int, reason: str, message: str, **details: Any) -> dict[str, Any]:
    """A `Status` object as kube-apiserver returns it for a failed request."""
    return {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "details": details, "code": code,
    }  # fmt: skip


@dataclass
class Injected:
    """Answer the next matching request with `code` and `body` instead of handling it."""

    method: str
    path: str  # a regular expression over the path
    code: int
    body: dict[str, Any]
    times: int = 1


@dataclass
class FakeApiServer:
    namespaces: set[str] = field(default_factory=lambda: {"default"})
    objects: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)  # (plural, ns, name)
    events: list[dict[str, Any]] = field(default_factory=list)
    injected: list[Injected] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""
    _versions: Iterator[int] = field(default_factory=lambda: itertools.count(100))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- helpers for tests ------------------------------------------------------------------------------

    def get(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        with self._lock:
            found = self.objects.get((plural, namespace, name))
            return copy.deepcopy(found) if found else None

    def names(self, plural: str) -> list[str]:
        with self._lock:
            return sorted(name for (kind, _, name) in self.objects if kind == plural)

    def set_status(self, plural: str, namespace: str, name: str, status: dict[str, Any]) -> None:
        """What a kubelet or an operator does: replace the object's status."""
        with self._lock:
            obj = self.objects[(plural, namespace, name)]
            obj["status"] = status
            obj["metadata"]["resourceVersion"] = str(next(self._versions))

    def remove(self, plural: str, namespace: str, name: str) -> None:
        """Someone else deleted the object for good."""
        with self._lock:
            self.objects.pop((plural, namespace, name), None)

    def add_event(self, namespace: str, name: str, kind: str, reason: str, message: str, when: datetime) -> None:
        with self._lock:
            self.events.append({
                "metadata": {"name": f"{name}.{len(self.events)}", "namespace": namespace},
                "involvedObject": {"name": name, "kind": kind, "namespace": namespace},
                "reason": reason, "message": message, "lastTimestamp": when.isoformat().replace("+00:00", "Z"),
            })  # fmt: skip

    # -- HTTP ---------------------------------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, body: Any) -> tuple[int, dict[str, Any]]:
        parsed = urlparse(raw_path)
        path, query = parsed.path, parse_qs(parsed.query)
        with self._lock:
            self.requests.append((method, path))
            for injected in self.injected:
                if injected.method == method and re.search(injected.path, path) and injected.times > 0:
                    injected.times -= 1
                    return injected.code, injected.body
            if path == "/api/v1/namespaces" and method == "POST":
                name = body["metadata"]["name"]
                if name in self.namespaces:
                    return 409, status_body(409, "AlreadyExists", f'namespaces "{name}" already exists')
                self.namespaces.add(name)
                return 201, body
            match = _ITEM.match(path)
            if match is None:
                return 404, status_body(404, "NotFound", "the server could not find the requested resource")
            namespace, plural, name, _subresource = match.groups()
            if plural == "events":
                return 200, {"items": self._events(namespace, query)}
            if name is None:
                if method == "POST":
                    return self._create(plural, namespace, body)
                return 200, {"items": self._list(plural, namespace, query)}
            return self._item(method, plural, namespace, name, body)

    def _events(self, namespace: str, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        wanted = dict(part.split("=", 1) for part in query.get("fieldSelector", [""])[0].split(",") if part)
        return [
            e for e in self.events
            if e["metadata"]["namespace"] == namespace
            and all(e["involvedObject"].get(k.split(".", 1)[1]) == v for k, v in wanted.items())
        ]  # fmt: skip

    def _list(self, plural: str, namespace: str, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        wanted = dict(part.split("=", 1) for part in query.get("labelSelector", [""])[0].split(",") if part)
        return [
            copy.deepcopy(obj)
            for (kind, ns, _), obj in sorted(self.objects.items())
            if kind == plural and ns == namespace
            and all(obj["metadata"].get("labels", {}).get(k) == v for k, v in wanted.items())
        ]  # fmt: skip

    def _create(self, plural: str, namespace: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        name = body["metadata"]["name"]
        if namespace not in self.namespaces:
            return 404, status_body(404, "NotFound", f'namespaces "{namespace}" not found', name=namespace,
                                    kind="namespaces")  # fmt: skip
        if (plural, namespace, name) in self.objects:
            return 409, status_body(409, "AlreadyExists", f'{plural} "{name}" already exists', name=name, kind=plural)
        obj = copy.deepcopy(body)
        obj["metadata"].update(
            uid=str(uuid.uuid4()),
            resourceVersion=str(next(self._versions)),
            creationTimestamp=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        )
        if plural == "pods":
            obj["status"] = {"phase": "Pending"}
        self.objects[(plural, namespace, name)] = obj
        return 201, copy.deepcopy(obj)

    def _item(self, method: str, plural: str, namespace: str, name: str, body: Any) -> tuple[int, dict[str, Any]]:
        key = (plural, namespace, name)
        obj = self.objects.get(key)
        if obj is None:
            return 404, status_body(404, "NotFound", f'{plural} "{name}" not found', name=name, kind=plural)
        if method == "GET":
            return 200, copy.deepcopy(obj)
        if method == "DELETE":
            if obj["metadata"].get("finalizers"):
                obj["metadata"].setdefault("deletionTimestamp", datetime.now(UTC).isoformat().replace("+00:00", "Z"))
                obj["metadata"]["resourceVersion"] = str(next(self._versions))
                return 200, copy.deepcopy(obj)
            del self.objects[key]
            return 200, status_body(200, "", "deleted")  # kube-apiserver answers 200 with the object or a Status
        if method == "PATCH":
            wanted = (body.get("metadata") or {}).get("resourceVersion")
            if wanted is not None and wanted != obj["metadata"]["resourceVersion"]:
                message = f'Operation cannot be fulfilled on {plural} "{name}": the object has been modified'
                return 409, status_body(409, "Conflict", message, name=name, kind=plural)
            patch = copy.deepcopy(body)
            patch.get("metadata", {}).pop("resourceVersion", None)
            _merge_patch(obj, patch)
            obj["metadata"]["resourceVersion"] = str(next(self._versions))
            if obj["metadata"].get("deletionTimestamp") and not obj["metadata"].get("finalizers"):
                del self.objects[key]
            return 200, copy.deepcopy(obj)
        return 405, status_body(405, "MethodNotAllowed", method)


def _merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """RFC 7386: null removes a key, mappings merge, everything else replaces."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge_patch(target[key], value)
        else:
            target[key] = value


@contextmanager
def serving(api: FakeApiServer) -> Iterator[FakeApiServer]:
    """Serves `api` on a free loopback port (its `url` is set) for the duration of the context."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            code, answer = api.handle(method, self.path, body)
            data = json.dumps(answer).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def do_PATCH(self) -> None:
            self._answer("PATCH")

        def do_DELETE(self) -> None:
            self._answer("DELETE")

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
