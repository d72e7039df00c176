"""CreateArtifact, GetArtifact, ListArtifacts and UpdateArtifact over gRPC, on SQLite and PostgreSQL."""

from __future__ import annotations

import grpc

from flyteidl_py.datacatalog import datacatalog_pb2 as dc
from tests.integration.datacatalog.conftest import RunningCatalog
from tests.integration.datacatalog.helpers import (
    Stub,
    artifact_ids,
    create_artifact,
    create_dataset,
    dataset_id,
    integer,
    refused,
    tag,
    values,
)

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND


def stored_objects(catalog: RunningCatalog) -> list[str]:
    return sorted(str(path.relative_to(catalog.store_root)) for path in catalog.store_root.rglob("*.pb"))


async def test_an_artifact_reads_back_by_id_with_data_metadata_partitions_and_tags(stub: Stub) -> None:
    ds = await create_dataset(stub, partition_keys=("region",))
    await create_artifact(stub, ds, "a1", values(o0=1, o1=2), partitions={"region": "eu"}, **{"exec-node": "n0"})
    await tag(stub, ds, "t1", "a1")
    artifact = (await stub.GetArtifact(dc.GetArtifactRequest(dataset=ds, artifact_id="a1"))).artifact
    assert artifact.id == "a1"
    assert artifact.dataset.name == ds.name
    assert len(artifact.dataset.UUID) == 36
    assert [(d.name, d.value) for d in artifact.data] == [("o0", integer(1)), ("o1", integer(2))]
    assert dict(artifact.metadata.key_map) == {"exec-node": "n0"}
    assert [(p.key, p.value) for p in artifact.partitions] == [("region", "eu")]
    assert [(t.name, t.artifact_id) for t in artifact.tags] == [("t1", "a1")]
    assert artifact.created_at.seconds > 0


async def test_an_artifact_reads_back_by_tag(stub: Stub) -> None:
    ds = await create_dataset(stub)
    await create_artifact(stub, ds, "a1", values(o0=1))
    await create_artifact(stub, ds, "a2", values(o0=2))
    await tag(stub, ds, "flyte_cached-x", "a2")
    artifact = (await stub.GetArtifact(dc.GetArtifactRequest(dataset=ds, tag_name="flyte_cached-x"))).artifact
    assert artifact.id == "a2"
    assert artifact.data[0].value == integer(2)


async def test_missing_artifacts_datasets_and_tags_are_not_found(stub: Stub) -> None:
    ds = await create_dataset(stub)
    await create_artifact(stub, ds, "a1")
    await refused(stub.GetArtifact(dc.GetArtifactRequest(dataset=ds, artifact_id="nope")), NOT_FOUND, "Artifact")
    await refused(stub.GetArtifact(dc.GetArtifactRequest(dataset=ds, tag_name="nope")), NOT_FOUND, "Tag")
    await refused(
        stub.GetArtifact(dc.GetArtifactRequest(dataset=dataset_id(version="other"), artifact_id="a1")),
        NOT_FOUND,
        "Dataset",
    )


async def test_an_artifact_id_is_unique_within_its_dataset_only(stub: Stub, catalog: RunningCatalog) -> None:
    ds, other = await create_dataset(stub), await create_dataset(stub, dataset_id(version="2"))
    await create_artifact(stub, ds, "a1", values(o0=1))
    before = stored_objects(catalog)
    await refused(
        stub.CreateArtifact(dc.CreateArtifactRequest(artifact=dc.Artifact(id="a1", dataset=ds, data=values(o0=9)))),
        grpc.StatusCode.ALREADY_EXISTS,
    )
    assert stored_objects(catalog) == before
    assert (await stub.GetArtifact(dc.GetArtifactRequest(dataset=ds, artifact_id="a1"))).artifact.data[
        0
    ].value == integer(1)
    await create_artifact(stub, other, "a1", values(o0=2))


async def test_bad_artifacts_are_refused_and_store_nothing(stub: Stub, catalog: RunningCatalog) -> None:
    ds = await create_dataset(stub, partition_keys=("region",))
    region = [dc.Partition(key="region", value="eu")]

    async def create(artifact: dc.Artifact, code: grpc.StatusCode, *fragments: str) -> None:
        await refused(stub.CreateArtifact(dc.CreateArtifactRequest(artifact=artifact)), code, *fragments)

    await create(dc.Artifact(), INVALID, "missing dataset")
    await refused(stub.CreateArtifact(dc.CreateArtifactRequest()), INVALID, "missing artifact")
    await create(
        dc.Artifact(dataset=ds, data=values(o0=1), partitions=region), INVALID, "artifact.id: missing artifactID"
    )
    await create(dc.Artifact(id="a", dataset=ds, partitions=region), INVALID, "missing artifactData")
    await create(
        dc.Artifact(id="a", dataset=ds, data=[dc.ArtifactData(name="o0")], partitions=region), INVALID, "value"
    )
    await create(
        dc.Artifact(id="a", dataset=ds, data=values(o0=1) + values(o0=2), partitions=region), INVALID, "not unique"
    )
    await create(dc.Artifact(id="a", dataset=ds, data=values(o0=1)), INVALID, "Partition key mismatch")
    await create(
        dc.Artifact(id="a", dataset=ds, data=values(o0=1), partitions=[dc.Partition(key="day", value="1")]),
        INVALID,
        "Partition key mismatch",
    )
    await create(
        dc.Artifact(id="a", dataset=ds, data=values(o0=1), partitions=[dc.Partition(key="region")]),
        INVALID,
        "missing partitionValue",
    )
    await create(dc.Artifact(id="a", dataset=dataset_id(version="nope"), data=values(o0=1)), NOT_FOUND, "Dataset")
    assert await artifact_ids(stub, ds) == []
    assert stored_objects(catalog) == []


async def test_get_requests_without_a_handle_or_with_empty_values_are_invalid(stub: Stub) -> None:
    ds = await create_dataset(stub)
    await refused(stub.GetArtifact(dc.GetArtifactRequest(dataset=ds)), INVALID, "one of artifactID/tagName")
    await refused(stub.GetArtifact(dc.GetArtifactRequest(dataset=ds, artifact_id="")), INVALID, "missing artifactID")
    await refused(stub.GetArtifact(dc.GetArtifactRequest(dataset=ds, tag_name="")), INVALID, "missing tagName")
    await refused(stub.GetArtifact(dc.GetArtifactRequest(tag_name="t")), INVALID, "missing dataset")


async def test_artifacts_list_newest_first_with_offset_tokens(stub: Stub) -> None:
    ds = await create_dataset(stub)
    for name in ("a1", "a2", "a3"):
        await create_artifact(stub, ds, name)
    assert await artifact_ids(stub, ds) == ["a3", "a2", "a1"]
    page = await stub.ListArtifacts(dc.ListArtifactsRequest(dataset=ds, pagination=dc.PaginationOptions(limit=2)))
    assert [a.id for a in page.artifacts] == ["a3", "a2"]
    assert page.next_token == "2"
    assert await artifact_ids(stub, ds, pagination=dc.PaginationOptions(limit=2, token=page.next_token)) == ["a1"]
    ascending = dc.PaginationOptions(sortOrder=dc.PaginationOptions.ASCENDING)
    assert await artifact_ids(stub, ds, pagination=ascending) == ["a1", "a2", "a3"]
    listed = await stub.ListArtifacts(dc.ListArtifactsRequest(dataset=ds))
    assert all(a.data[0].value == integer(1) for a in listed.artifacts)


async def test_artifacts_filter_by_tag_partition_and_id(stub: Stub) -> None:
    ds = await create_dataset(stub, partition_keys=("region", "day"))
    await create_artifact(stub, ds, "eu1", partitions={"region": "eu", "day": "1"})
    await create_artifact(stub, ds, "eu2", partitions={"region": "eu", "day": "2"})
    await create_artifact(stub, ds, "us1", partitions={"region": "us", "day": "1"})
    await tag(stub, ds, "latest", "eu2")

    def partition(key: str, value: str) -> dc.SinglePropertyFilter:
        return dc.SinglePropertyFilter(
            partition_filter=dc.PartitionPropertyFilter(key_val=dc.KeyValuePair(key=key, value=value))
        )

    async def matching(*filters: dc.SinglePropertyFilter) -> list[str]:
        return sorted(await artifact_ids(stub, ds, filter=dc.FilterExpression(filters=filters)))

    assert await matching(partition("region", "eu")) == ["eu1", "eu2"]
    assert await matching(partition("region", "eu"), partition("day", "1")) == ["eu1"]
    assert await matching(dc.SinglePropertyFilter(tag_filter=dc.TagPropertyFilter(tag_name="latest"))) == ["eu2"]
    assert await matching(dc.SinglePropertyFilter(artifact_filter=dc.ArtifactPropertyFilter(artifact_id="us1"))) == [
        "us1"
    ]
    assert await matching(partition("region", "asia")) == []


async def test_bad_artifact_lists_are_invalid_arguments(stub: Stub) -> None:
    ds = await create_dataset(stub)
    await refused(stub.ListArtifacts(dc.ListArtifactsRequest()), INVALID, "missing dataset")
    await refused(
        stub.ListArtifacts(
            dc.ListArtifactsRequest(
                dataset=ds,
                filter=dc.FilterExpression(
                    filters=[dc.SinglePropertyFilter(dataset_filter=dc.DatasetPropertyFilter(project="p"))]
                ),
            )
        ),
        INVALID,
        "artifact cannot be filtered by dataset properties",
    )
    await refused(
        stub.ListArtifacts(
            dc.ListArtifactsRequest(
                dataset=ds,
                filter=dc.FilterExpression(
                    filters=[
                        dc.SinglePropertyFilter(
                            partition_filter=dc.PartitionPropertyFilter(key_val=dc.KeyValuePair(key="k"))
                        )
                    ]
                ),
            )
        ),
        INVALID,
        "missing partitionValue",
    )
    for token in ("x", "5" * 5000, "9" * 19):  # 5,000 digits and beyond 31 bits were INTERNAL
        await refused(
            stub.ListArtifacts(dc.ListArtifactsRequest(dataset=ds, pagination=dc.PaginationOptions(token=token))),
            INVALID,
            "Invalid token",
        )
    await refused(stub.ListArtifacts(dc.ListArtifactsRequest(dataset=dataset_id(version="nope"))), NOT_FOUND)


async def test_an_update_by_tag_replaces_data_and_metadata_and_deletes_the_old_data(
    stub: Stub, catalog: RunningCatalog
) -> None:
    ds = await create_dataset(stub)
    await create_artifact(stub, ds, "a1", values(o0=1, o1=1), **{"exec-attempt": "0"})
    await tag(stub, ds, "t", "a1")
    before = stored_objects(catalog)
    assert len(before) == 2
    response = await stub.UpdateArtifact(
        dc.UpdateArtifactRequest(
            dataset=ds, tag_name="t", data=values(o0=5), metadata=dc.Metadata(key_map={"exec-attempt": "1"})
        )
    )
    assert response.artifact_id == "a1"
    artifact = (await stub.GetArtifact(dc.GetArtifactRequest(dataset=ds, artifact_id="a1"))).artifact
    assert [(d.name, d.value) for d in artifact.data] == [("o0", integer(5))]
    assert dict(artifact.metadata.key_map) == {"exec-attempt": "1"}
    after = stored_objects(catalog)
    assert len(after) == 1
    assert not set(after) & set(before)


async def test_an_update_by_id_works_and_bad_updates_change_nothing(stub: Stub, catalog: RunningCatalog) -> None:
    ds = await create_dataset(stub)
    await create_artifact(stub, ds, "a1", values(o0=1))
    before = stored_objects(catalog)
    await refused(
        stub.UpdateArtifact(dc.UpdateArtifactRequest(dataset=ds, artifact_id="a1")), INVALID, "missing artifactData"
    )
    await refused(stub.UpdateArtifact(dc.UpdateArtifactRequest(dataset=ds, data=values(o0=2))), INVALID, "one of")
    await refused(
        stub.UpdateArtifact(dc.UpdateArtifactRequest(dataset=ds, artifact_id="nope", data=values(o0=2))), NOT_FOUND
    )
    await refused(
        stub.UpdateArtifact(dc.UpdateArtifactRequest(dataset=ds, tag_name="nope", data=values(o0=2))), NOT_FOUND
    )
    assert stored_objects(catalog) == before
    await stub.UpdateArtifact(dc.UpdateArtifactRequest(dataset=ds, artifact_id="a1", data=values(o0=3)))
    artifact = (await stub.GetArtifact(dc.GetArtifactRequest(dataset=ds, artifact_id="a1"))).artifact
    assert artifact.data[0].value == integer(3)


async def test_user_strings_cannot_escape_the_artifact_data_prefix(stub: Stub, catalog: RunningCatalog) -> None:
    # Dataset names and versions that are no names are refused (test_datasets); what is left are the
    # artifact id and the data names, which only ever become escaped path segments.
    ds = await create_dataset(stub, dataset_id(name="n", version="v"))
    await create_artifact(stub, ds, "/etc/passwd", [dc.ArtifactData(name="..", value=integer(1))])
    artifact = (await stub.GetArtifact(dc.GetArtifactRequest(dataset=ds, artifact_id="/etc/passwd"))).artifact
    assert artifact.data[0].value == integer(1)
    [stored] = stored_objects(catalog)
    assert stored.startswith("flyteplane/datacatalog/flytesnacks/development/n/v/")
