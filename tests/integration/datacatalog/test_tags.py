"""AddTag: a tag names one artifact of its dataset; adding it to another artifact moves it."""

from __future__ import annotations

import grpc

from flyteidl_py.datacatalog import datacatalog_pb2 as dc
from tests.integration.datacatalog.helpers import (
    Stub,
    artifact_ids,
    create_artifact,
    create_dataset,
    dataset_id,
    refused,
    tag,
)

INVALID = grpc.StatusCode.INVALID_ARGUMENT


async def tagged(stub: Stub, ds: dc.DatasetID, name: str) -> str:
    return (await stub.GetArtifact(dc.GetArtifactRequest(dataset=ds, tag_name=name))).artifact.id


async def test_adding_a_taken_tag_to_another_artifact_moves_it(stub: Stub) -> None:
    ds = await create_dataset(stub)
    await create_artifact(stub, ds, "a1")
    await create_artifact(stub, ds, "a2")
    await tag(stub, ds, "latest", "a1")
    await tag(stub, ds, "latest", "a2")
    assert await tagged(stub, ds, "latest") == "a2"
    a1 = (await stub.GetArtifact(dc.GetArtifactRequest(dataset=ds, artifact_id="a1"))).artifact
    assert not a1.tags
    by_tag = dc.FilterExpression(filters=[dc.SinglePropertyFilter(tag_filter=dc.TagPropertyFilter(tag_name="latest"))])
    assert await artifact_ids(stub, ds, filter=by_tag) == ["a2"]


async def test_adding_a_tag_twice_to_the_same_artifact_already_exists(stub: Stub) -> None:
    ds = await create_dataset(stub)
    await create_artifact(stub, ds, "a1")
    await tag(stub, ds, "t", "a1")
    await refused(tag(stub, ds, "t", "a1"), grpc.StatusCode.ALREADY_EXISTS)
    assert await tagged(stub, ds, "t") == "a1"


async def test_tags_are_per_dataset(stub: Stub) -> None:
    first, second = await create_dataset(stub), await create_dataset(stub, dataset_id(version="2"))
    await create_artifact(stub, first, "a1")
    await create_artifact(stub, second, "b1")
    await tag(stub, first, "t", "a1")
    await tag(stub, second, "t", "b1")
    assert (await tagged(stub, first, "t"), await tagged(stub, second, "t")) == ("a1", "b1")


async def test_an_artifact_may_carry_several_tags(stub: Stub) -> None:
    ds = await create_dataset(stub)
    await create_artifact(stub, ds, "a1")
    await tag(stub, ds, "x", "a1")
    await tag(stub, ds, "y", "a1")
    artifact = (await stub.GetArtifact(dc.GetArtifactRequest(dataset=ds, artifact_id="a1"))).artifact
    assert [t.name for t in artifact.tags] == ["x", "y"]


async def test_tags_need_an_existing_dataset_and_artifact(stub: Stub) -> None:
    ds = await create_dataset(stub)
    await refused(tag(stub, ds, "t", "nope"), grpc.StatusCode.NOT_FOUND, "Artifact")
    await refused(tag(stub, dataset_id(version="nope"), "t", "a1"), grpc.StatusCode.NOT_FOUND, "Dataset")


async def test_incomplete_tags_are_invalid_and_change_nothing(stub: Stub) -> None:
    ds = await create_dataset(stub)
    await create_artifact(stub, ds, "a1")
    await refused(stub.AddTag(dc.AddTagRequest()), INVALID, "missing tag")
    await refused(tag(stub, ds, "", "a1"), INVALID, "tag.name: missing tagName")
    await refused(tag(stub, ds, "t", ""), INVALID, "tag.artifact_id: missing artifactID")
    await refused(stub.AddTag(dc.AddTagRequest(tag=dc.Tag(name="t", artifact_id="a1"))), INVALID, "missing dataset")
    await refused(stub.GetArtifact(dc.GetArtifactRequest(dataset=ds, tag_name="t")), grpc.StatusCode.NOT_FOUND)
