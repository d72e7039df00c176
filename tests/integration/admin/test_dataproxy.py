"""The data proxy as flytekit uses it: sign an upload, PUT over plain HTTP, find the object where promised."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import grpc
import httpx
import pytest

from flyteidl_py.service import dataproxy_pb2, dataproxy_pb2_grpc
from flyteplane.storage import Storage, StorageConfig
from tests.conftest import RunningAdmin


async def test_a_signed_upload_of_a_code_bundle_lands_at_its_native_url(
    admin: RunningAdmin, dataproxy: dataproxy_pb2_grpc.DataProxyServiceStub
) -> None:
    body = b"pretend this is fast<md5>.tar.gz" * 1000
    md5 = hashlib.md5(body).digest()
    location = await dataproxy.CreateUploadLocation(
        dataproxy_pb2.CreateUploadLocationRequest(
            project="flytesnacks",
            domain="development",
            filename=f"fast{md5.hex()}.tar.gz",
            content_md5=md5,
            add_content_md5_metadata=True,
        )
    )
    # a scheme flytekit takes for a store's, never checking it on the client (admin.managers.dataproxy.native_url)
    assert location.native_url.startswith(f"local://{admin.storage_root}/")
    assert location.native_url.endswith(
        f"/flytesnacks/development/{base64.b32encode(md5).decode()}/fast{md5.hex()}.tar.gz"
    )
    async with httpx.AsyncClient() as client:
        put = await client.put(
            location.signed_url,
            content=body,
            headers={"Content-MD5": base64.b64encode(md5).decode(), **dict(location.headers)},
        )
    assert put.status_code in (200, 201)
    stored = await Storage(StorageConfig(local_root=admin.storage_root)).read(location.native_url)
    assert stored == body
    download = await dataproxy.CreateDownloadLocation(
        dataproxy_pb2.CreateDownloadLocationRequest(native_url=location.native_url)
    )
    async with httpx.AsyncClient() as client:
        got = await client.get(download.signed_url)
    assert got.status_code == 200
    assert got.content == body


async def test_an_upload_with_different_content_than_signed_is_refused_and_stores_nothing(
    admin: RunningAdmin, dataproxy: dataproxy_pb2_grpc.DataProxyServiceStub
) -> None:
    md5 = hashlib.md5(b"the real thing").digest()
    location = await dataproxy.CreateUploadLocation(
        dataproxy_pb2.CreateUploadLocationRequest(
            project="flytesnacks", domain="development", filename="input.txt", content_md5=md5
        )
    )
    async with httpx.AsyncClient() as client:
        put = await client.put(
            location.signed_url,
            content=b"something else",
            headers={"Content-MD5": base64.b64encode(md5).decode()},
        )
        tampered = await client.put(location.signed_url.replace("signature=", "signature=0"), content=b"the real thing")
    assert put.status_code == 400
    assert tampered.status_code in (400, 403)
    assert not await Storage(StorageConfig(local_root=admin.storage_root)).exists(location.native_url)


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (dataproxy_pb2.CreateUploadLocationRequest(domain="development", content_md5=b"x" * 16), "project"),
        (
            dataproxy_pb2.CreateUploadLocationRequest(project="flytesnacks", domain="development"),
            "content_md5",
        ),
        (
            dataproxy_pb2.CreateUploadLocationRequest(
                project="flytesnacks", domain="development", content_md5=b"short"
            ),
            "content_md5",
        ),
        (
            dataproxy_pb2.CreateUploadLocationRequest(
                project="flytesnacks", domain="development", content_md5=b"x" * 16, filename="../escape"
            ),
            "filename",
        ),
    ],
)
async def test_bad_upload_requests_are_invalid(
    dataproxy: dataproxy_pb2_grpc.DataProxyServiceStub,
    request_: dataproxy_pb2.CreateUploadLocationRequest,
    field: str,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await dataproxy.CreateUploadLocation(request_)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in raised.value.details()


async def test_get_data_refuses_urls_that_are_not_flyte_urls(
    dataproxy: dataproxy_pb2_grpc.DataProxyServiceStub,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await dataproxy.GetData(dataproxy_pb2.GetDataRequest(flyte_url="s3://bucket/key"))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_signed_url_handed_out_before_a_restart_still_works_after_it(database_url: str, tmp_path: Path) -> None:
    from tests.support.admin import running_admin

    async with running_admin(database_url, tmp_path) as first:
        native = f"file://{first.storage_root}/flytesnacks/development/kept.txt"
        await Storage(StorageConfig(local_root=first.storage_root)).write(native, b"still here")
        stub = dataproxy_pb2_grpc.DataProxyServiceStub(first.channel)
        link = await stub.CreateDownloadLocation(dataproxy_pb2.CreateDownloadLocationRequest(native_url=native))
    signed = httpx.URL(link.signed_url)
    async with running_admin(database_url, tmp_path) as second, httpx.AsyncClient() as client:
        again = signed.copy_with(host="127.0.0.1", port=second.http_port)
        fetched = await client.get(again)
    assert fetched.status_code == 200, fetched.text
    assert fetched.content == b"still here"
