"""The console's routes outside the IDL: a dataframe's parquet bytes from the store, and the cache-miss report.

Admin's HTTP routes over a real local store (no fake storage); the bytes' meaning (parquet) is the
browser's business, tested with real flytekit dataframes in tests/e2e/console.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from admin import console_api
from admin.console_api import ConsoleApi
from flyteidl_py.core import identifier_pb2
from flyteplane.errors import NotFound
from flyteplane.storage.config import StorageConfig
from flyteplane.storage.store import Storage
from tests.integration.flyteplane.storage.conftest import (
    backend,
    base,
    gcs_client,
    gcs_endpoint,
    http_socket,
    moto_endpoint,
    new_base,
    s3_client,
    service_account_key,
    storage_config,
)

# Fixtures shared with the storage tests: real moto S3 and GCS emulator servers and a local root.
__all__ = [
    "backend",
    "base",
    "gcs_client",
    "gcs_endpoint",
    "http_socket",
    "moto_endpoint",
    "new_base",
    "s3_client",
    "service_account_key",
    "storage_config",
]


def _client(api: ConsoleApi) -> httpx.AsyncClient:
    app = Starlette(routes=api.routes())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://admin.test")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Storage]:
    (tmp_path / "store").mkdir()
    yield Storage(StorageConfig(local_root=tmp_path / "store"))


def _uri(store: Storage, path: str) -> str:
    return f"file://{store.config.local_root}/{path}"


async def test_a_dataframe_directory_answers_its_first_data_file(store: Storage) -> None:
    directory = _uri(store, "bucket/run/o0")
    await store.write(f"{directory}/00001", b"second")
    await store.write(f"{directory}/00000", b"PAR1 first")
    await store.write(f"{directory}/_SUCCESS", b"")
    await store.write(f"{directory}/.00000.crc", b"crc")
    async with _client(ConsoleApi(store, None, lambda: "")) as client:
        for uri in (directory, directory + "/"):
            answer = await client.get("/api/v1/console/dataframe", params={"uri": uri})
            assert answer.status_code == 200, answer.text
            assert answer.content == b"PAR1 first"
            assert answer.headers["x-flyteplane-dataframe-file"] == f"{directory}/00000"
            assert answer.headers["x-flyteplane-dataframe-files"] == "2"
        path = directory.removeprefix("file://")  # flytekit's local raw data: a plain path
        answer = await client.get("/api/v1/console/dataframe", params={"uri": path})
        assert (answer.status_code, answer.content) == (200, b"PAR1 first")
        single = await client.get("/api/v1/console/dataframe", params={"uri": f"{directory}/00001"})
        assert (single.status_code, single.content) == (200, b"second")
        assert single.headers["x-flyteplane-dataframe-files"] == "1"


async def test_a_dataframe_directory_is_read_from_every_store(storage_config: StorageConfig, base: str) -> None:
    storage = Storage(storage_config)
    await storage.write(f"{base}/frame/00000", b"PAR1 in " + base.encode())
    await storage.write(f"{base}/frame/_SUCCESS", b"")
    async with _client(ConsoleApi(storage, None, lambda: "")) as client:
        answer = await client.get("/api/v1/console/dataframe", params={"uri": f"{base}/frame"})
    assert answer.status_code == 200, answer.text
    assert answer.content == b"PAR1 in " + base.encode()
    assert answer.headers["x-flyteplane-dataframe-file"] == f"{base}/frame/00000"


async def test_bad_dataframe_requests_get_the_gateways_errors(store: Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    await store.write(_uri(store, "bucket/big/00000"), b"x" * 100)
    big, nothing = _uri(store, "bucket/big"), _uri(store, "bucket/nothing-here")
    monkeypatch.setattr(console_api, "PREVIEW_LIMIT_BYTES", 10)
    async with _client(ConsoleApi(store, None, lambda: "")) as client:
        cases = {
            "": (400, "uri"),
            "?uri=": (400, "uri"),
            f"?uri={big}&limit=3": (400, "unknown parameter limit"),
            f"?uri={nothing}": (404, "no parquet file"),
            "?uri=file:///etc/passwd": (400, "outside the storage root"),
            f"?uri={big}": (429, "download it instead"),
        }
        for query, (status, words) in cases.items():
            answer = await client.get(f"/api/v1/console/dataframe{query}")
            assert answer.status_code == status, (query, answer.text)
            body = answer.json()
            assert set(body) == {"code", "message", "error", "details"}
            assert words in body["message"], (query, body)


async def test_the_cache_report_comes_from_the_explainer_with_checked_parameters(store: Storage) -> None:
    asked: list[tuple[str, str, str, int | None]] = []

    async def explainer(admin: str, node: identifier_pb2.NodeExecutionIdentifier, index: int | None) -> str:
        asked.append((admin, node.execution_id.name, node.node_id, index))
        if node.node_id == "gone":
            raise NotFound("node gone of execution p/d/e does not exist")
        return "verdict: <b>text</b>"

    async with _client(ConsoleApi(store, explainer, lambda: "127.0.0.1:1234")) as client:
        answer = await client.get("/api/v1/console/cache_explain/p/d/e", params={"node_id": "n0"})
        assert (answer.status_code, answer.text) == (200, "verdict: <b>text</b>")
        assert answer.headers["content-type"].startswith("text/plain")
        await client.get("/api/v1/console/cache_explain/p/d/e", params={"node_id": "n4", "index": "7"})
        assert asked == [("127.0.0.1:1234", "e", "n0", None), ("127.0.0.1:1234", "e", "n4", 7)]
        for params, status, words in [
            ({}, 400, "node_id"),
            ({"node_id": "n0", "index": "-1"}, 400, "index"),
            ({"node_id": "n0", "attempt": "1"}, 400, "unknown parameter attempt"),
            ({"node_id": "gone"}, 404, "does not exist"),
        ]:
            answer = await client.get("/api/v1/console/cache_explain/p/d/e", params=params)
            assert answer.status_code == status, (params, answer.text)
            assert words in answer.json()["message"]
    async with _client(ConsoleApi(store, None, lambda: "")) as client:
        answer = await client.get("/api/v1/console/cache_explain/p/d/e", params={"node_id": "n0"})
        assert answer.status_code == 501
        assert "DataCatalog" in answer.json()["message"]
