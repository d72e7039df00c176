"""Building blocks for DataCatalog tests: ids, datasets, artifacts, and asserting a refusal by its status."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import grpc
import pytest

from flyteidl_py.core import literals_pb2
from flyteidl_py.datacatalog import datacatalog_pb2 as dc
from flyteidl_py.datacatalog import datacatalog_pb2_grpc

Stub = datacatalog_pb2_grpc.DataCatalogStub


def dataset_id(
    name: str = "flyte_task-square", version: str = "1.0-abc-def", project: str = "flytesnacks"
) -> dc.DatasetID:
    return dc.DatasetID(project=project, domain="development", name=name, version=version)


def integer(value: int) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=value)))


def values(**items: int) -> list[dc.ArtifactData]:
    return [dc.ArtifactData(name=name, value=integer(value)) for name, value in items.items()]


async def create_dataset(
    stub: Stub, ds: dc.DatasetID | None = None, partition_keys: tuple[str, ...] = (), **metadata: str
) -> dc.DatasetID:
    ds = ds or dataset_id()
    await stub.CreateDataset(
        dc.CreateDatasetRequest(
            dataset=dc.Dataset(id=ds, partitionKeys=partition_keys, metadata=dc.Metadata(key_map=metadata))
        )
    )
    return ds


async def create_artifact(
    stub: Stub,
    ds: dc.DatasetID,
    artifact_id: str,
    data: list[dc.ArtifactData] | None = None,
    partitions: dict[str, str] | None = None,
    **metadata: str,
) -> None:
    await stub.CreateArtifact(
        dc.CreateArtifactRequest(
            artifact=dc.Artifact(
                id=artifact_id,
                dataset=ds,
                data=data if data is not None else values(o0=1),
                partitions=[dc.Partition(key=k, value=v) for k, v in (partitions or {}).items()],
                metadata=dc.Metadata(key_map=metadata),
            )
        )
    )


async def tag(stub: Stub, ds: dc.DatasetID, name: str, artifact_id: str) -> None:
    await stub.AddTag(dc.AddTagRequest(tag=dc.Tag(name=name, artifact_id=artifact_id, dataset=ds)))


async def refused(call: Awaitable[Any], code: grpc.StatusCode, *fragments: str) -> str:
    """Awaits a call that must fail with `code`; its message must contain every fragment. Returns the message."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    error = caught.value
    assert error.code() == code, f"{error.code()}: {error.details()}"
    message = error.details() or ""
    for fragment in fragments:
        assert fragment in message, message
    return message


async def artifact_ids(stub: Stub, ds: dc.DatasetID, **options: Any) -> list[str]:
    response = await stub.ListArtifacts(dc.ListArtifactsRequest(dataset=ds, **options))
    return [artifact.id for artifact in response.artifacts]
