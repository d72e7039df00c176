"""The DataCatalog server: every RPC answers deliberately, health and reflection, and its schema checks."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from google.protobuf import symbol_database
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from sqlalchemy import text

from datacatalog.db import MIGRATIONS
from datacatalog.server import start_datacatalog
from datacatalog.service import SERVICE
from flyteidl_py.datacatalog import datacatalog_pb2 as dc
from flyteplane.database import Database
from flyteplane.errors import FailedPrecondition
from launcher.main import main as cli
from tests.integration.datacatalog.conftest import RunningCatalog, catalog_config
from tests.integration.datacatalog.helpers import create_artifact, create_dataset

_METHODS = list(SERVICE.methods)


@pytest.mark.parametrize("method", _METHODS, ids=[m.name for m in _METHODS])
async def test_an_empty_request_is_an_invalid_argument_and_changes_nothing(
    catalog: RunningCatalog, method: object
) -> None:
    rpc = method  # a MethodDescriptor
    request_cls = symbol_database.Default().GetSymbol(rpc.input_type.full_name)  # type: ignore[attr-defined]
    response_cls = symbol_database.Default().GetSymbol(rpc.output_type.full_name)  # type: ignore[attr-defined]
    ds = await create_dataset(catalog.stub)
    await create_artifact(catalog.stub, ds, "a1")
    call = catalog.channel.unary_unary(
        f"/{SERVICE.full_name}/{rpc.name}",  # type: ignore[attr-defined]
        request_serializer=request_cls.SerializeToString,
        response_deserializer=response_cls.FromString,
    )
    if rpc.name == "ListDatasets":  # type: ignore[attr-defined]
        # Listing everything is what an empty list request asks for.
        assert len((await call(request_cls())).datasets) == 1
    else:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call(request_cls())
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    listed = await catalog.stub.ListArtifacts(dc.ListArtifactsRequest(dataset=ds))
    assert [a.id for a in listed.artifacts] == ["a1"]
    assert not listed.artifacts[0].tags


async def test_health_reports_the_service_serving(catalog: RunningCatalog) -> None:
    health = health_pb2_grpc.HealthStub(catalog.channel)
    for service in ("", SERVICE.full_name):
        answer = await health.Check(health_pb2.HealthCheckRequest(service=service))
        assert answer.status == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_lists_the_service(catalog: RunningCatalog) -> None:
    reflection = reflection_pb2_grpc.ServerReflectionStub(catalog.channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    async for answer in reflection.ServerReflectionInfo(iter([request])):
        names = {service.name for service in answer.list_services_response.service}
        assert SERVICE.full_name in names
        break


async def test_datacatalog_refuses_an_unmigrated_database(database_url: str, tmp_path: Path) -> None:
    with pytest.raises(FailedPrecondition, match="flyteplane migrate"):
        await start_datacatalog(catalog_config(database_url, tmp_path))


async def test_datacatalog_refuses_a_schema_newer_than_itself(database_url: str, tmp_path: Path) -> None:
    db = Database.connect(database_url)
    await MIGRATIONS.upgrade(db, database_url)
    async with db.session() as session:
        await session.execute(text(f"UPDATE {MIGRATIONS.version_table} SET version_num = 'f00dfeed'"))
    await db.dispose()
    with pytest.raises(FailedPrecondition, match="newer than this flyteplane"):
        await start_datacatalog(catalog_config(database_url, tmp_path))


def test_the_migrate_command_creates_the_datacatalog_schema_idempotently(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FLYTEPLANE_DATACATALOG__DATABASE_URL", database_url)
    assert cli(["migrate", "datacatalog"]) == 0
    assert cli(["migrate", "datacatalog"]) == 0
    assert f"datacatalog schema at {MIGRATIONS.head()}" in capsys.readouterr().out
