"""CreateDataset, GetDataset and ListDatasets over gRPC, on SQLite and PostgreSQL."""

from __future__ import annotations

import grpc
import pytest

from flyteidl_py.datacatalog import datacatalog_pb2 as dc
from tests.integration.datacatalog.helpers import Stub, create_dataset, dataset_id, refused

INVALID = grpc.StatusCode.INVALID_ARGUMENT


async def test_a_created_dataset_can_be_read_back_with_its_metadata_partition_keys_and_uuid(stub: Stub) -> None:
    ds = await create_dataset(stub, partition_keys=("region", "day"), **{"task-version": "v1"})
    found = (await stub.GetDataset(dc.GetDatasetRequest(dataset=ds))).dataset
    assert (found.id.project, found.id.domain, found.id.name, found.id.version) == (
        ds.project,
        ds.domain,
        ds.name,
        ds.version,
    )
    assert len(found.id.UUID) == 36
    assert list(found.partitionKeys) == ["region", "day"]
    assert dict(found.metadata.key_map) == {"task-version": "v1"}


async def test_a_second_dataset_with_the_same_key_already_exists(stub: Stub) -> None:
    ds = await create_dataset(stub, **{"task-version": "v1"})
    await refused(
        stub.CreateDataset(
            dc.CreateDatasetRequest(dataset=dc.Dataset(id=ds, metadata=dc.Metadata(key_map={"x": "y"})))
        ),
        grpc.StatusCode.ALREADY_EXISTS,
    )
    found = (await stub.GetDataset(dc.GetDatasetRequest(dataset=ds))).dataset
    assert dict(found.metadata.key_map) == {"task-version": "v1"}


async def test_datasets_differing_only_in_version_are_distinct(stub: Stub) -> None:
    await create_dataset(stub, dataset_id(version="1"))
    await create_dataset(stub, dataset_id(version="2"))
    listed = await stub.ListDatasets(dc.ListDatasetsRequest())
    assert sorted(d.id.version for d in listed.datasets) == ["1", "2"]


async def test_each_missing_dataset_id_field_is_named(stub: Stub) -> None:
    for field in ("project", "domain", "name", "version"):
        ds = dataset_id()
        ds.ClearField(field)  # type: ignore[arg-type]
        await refused(
            stub.CreateDataset(dc.CreateDatasetRequest(dataset=dc.Dataset(id=ds))),
            INVALID,
            f"dataset.id.{field}: missing {field}",
        )
    await refused(stub.CreateDataset(dc.CreateDatasetRequest()), INVALID, "missing dataset")
    await refused(stub.CreateDataset(dc.CreateDatasetRequest(dataset=dc.Dataset())), INVALID, "dataset.id")
    assert not (await stub.ListDatasets(dc.ListDatasetsRequest())).datasets


async def test_duplicate_partition_keys_are_refused_and_nothing_is_created(stub: Stub) -> None:
    await refused(
        stub.CreateDataset(dc.CreateDatasetRequest(dataset=dc.Dataset(id=dataset_id(), partitionKeys=["a", "a"]))),
        INVALID,
        "partitionKeys[1]",
    )
    await refused(stub.GetDataset(dc.GetDatasetRequest(dataset=dataset_id())), grpc.StatusCode.NOT_FOUND)


async def test_values_the_database_cannot_hold_are_invalid_arguments(stub: Stub) -> None:
    await refused(
        stub.CreateDataset(dc.CreateDatasetRequest(dataset=dc.Dataset(id=dataset_id(name="a\x00b")))),
        INVALID,
        "dataset.id.name",
    )
    await refused(
        stub.CreateDataset(dc.CreateDatasetRequest(dataset=dc.Dataset(id=dataset_id(version="v" * 600)))),
        INVALID,
        "longer than 512 bytes",
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", ".."), ("name", "a/../b"), ("version", "."), ("name", "evil\r\nX-Injected: 1"), ("project", "p\tq")],
)
async def test_dataset_ids_that_are_no_names_are_refused_and_nothing_is_created(
    stub: Stub, field: str, value: str
) -> None:
    bad = dataset_id(**{field: value})
    await refused(
        stub.CreateDataset(dc.CreateDatasetRequest(dataset=dc.Dataset(id=bad))), INVALID, f"dataset.id.{field}"
    )
    listed = await stub.ListDatasets(dc.ListDatasetsRequest())
    assert not listed.datasets


async def test_getting_a_missing_dataset_is_not_found(stub: Stub) -> None:
    await refused(stub.GetDataset(dc.GetDatasetRequest(dataset=dataset_id())), grpc.StatusCode.NOT_FOUND, "Dataset")
    await refused(stub.GetDataset(dc.GetDatasetRequest()), INVALID, "missing dataset")


async def test_datasets_list_newest_first_in_pages_whose_token_is_the_next_offset(stub: Stub) -> None:
    for version in "abcde":
        await create_dataset(stub, dataset_id(version=version))
    first = await stub.ListDatasets(dc.ListDatasetsRequest(pagination=dc.PaginationOptions(limit=2)))
    assert [d.id.version for d in first.datasets] == ["e", "d"]
    assert first.next_token == "2"
    second = await stub.ListDatasets(dc.ListDatasetsRequest(pagination=dc.PaginationOptions(limit=2, token="2")))
    assert [d.id.version for d in second.datasets] == ["c", "b"]
    last = await stub.ListDatasets(dc.ListDatasetsRequest(pagination=dc.PaginationOptions(limit=2, token="4")))
    assert [d.id.version for d in last.datasets] == ["a"]
    assert last.next_token == "5"  # always offset + page size, as Flyte answers
    empty = await stub.ListDatasets(dc.ListDatasetsRequest(pagination=dc.PaginationOptions(limit=2, token="5")))
    assert not empty.datasets
    assert empty.next_token == "5"
    ascending = await stub.ListDatasets(
        dc.ListDatasetsRequest(pagination=dc.PaginationOptions(sortOrder=dc.PaginationOptions.ASCENDING))
    )
    assert [d.id.version for d in ascending.datasets] == list("abcde")


async def test_datasets_filter_by_id_fields(stub: Stub) -> None:
    await create_dataset(stub, dataset_id(name="t1", version="1"))
    await create_dataset(stub, dataset_id(name="t1", version="2"))
    await create_dataset(stub, dataset_id(name="t2", version="1", project="other"))

    def by(**field: str) -> dc.SinglePropertyFilter:
        return dc.SinglePropertyFilter(dataset_filter=dc.DatasetPropertyFilter(**field))

    async def versions(*filters: dc.SinglePropertyFilter) -> list[tuple[str, str]]:
        listed = await stub.ListDatasets(dc.ListDatasetsRequest(filter=dc.FilterExpression(filters=filters)))
        return sorted((d.id.name, d.id.version) for d in listed.datasets)

    assert await versions(by(name="t1")) == [("t1", "1"), ("t1", "2")]
    assert await versions(by(name="t1"), by(version="2")) == [("t1", "2")]
    assert await versions(by(project="other")) == [("t2", "1")]
    assert await versions(by(domain="production")) == []


async def test_bad_list_requests_are_invalid_arguments(stub: Stub) -> None:
    await create_dataset(stub)
    for token in ("abc", "-1", "1.5", "99999999999"):
        await refused(
            stub.ListDatasets(dc.ListDatasetsRequest(pagination=dc.PaginationOptions(token=token))),
            INVALID,
            "Invalid token",
        )
    await refused(
        stub.ListDatasets(dc.ListDatasetsRequest(pagination=dc.PaginationOptions(sortOrder=7))),  # type: ignore[arg-type]
        INVALID,
        "sort order",
    )
    for bad, message in [
        (dc.SinglePropertyFilter(tag_filter=dc.TagPropertyFilter(tag_name="t")), "dataset cannot be filtered by tag"),
        (dc.SinglePropertyFilter(artifact_filter=dc.ArtifactPropertyFilter(artifact_id="a")), "by artifact"),
        (dc.SinglePropertyFilter(dataset_filter=dc.DatasetPropertyFilter(name="")), "missing name"),
        (dc.SinglePropertyFilter(dataset_filter=dc.DatasetPropertyFilter()), "missing dataset property"),
        (dc.SinglePropertyFilter(), "missing property filter"),
        (dc.SinglePropertyFilter(dataset_filter=dc.DatasetPropertyFilter(name="x"), operator=3), "operator"),  # type: ignore[arg-type]
    ]:
        await refused(
            stub.ListDatasets(dc.ListDatasetsRequest(filter=dc.FilterExpression(filters=[bad]))), INVALID, message
        )
