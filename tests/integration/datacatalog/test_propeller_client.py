"""Propeller's catalog client against a real DataCatalog: misses, stores, hits, overwrites and reservations."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from flyteidl_py.core import catalog_pb2, identifier_pb2, literals_pb2
from flyteidl_py.datacatalog import datacatalog_pb2 as dc
from propeller.catalog import CatalogClient, CatalogError, CatalogKey
from tests.integration.datacatalog.conftest import RunningCatalog
from tests.unit.propeller.catalog.builders import INTEGER, inputs, integer, interface, string, task

SQUARE = task(interface({"x": INTEGER, "seed": INTEGER}, {"o0": INTEGER}), ignore=("seed",))
ACQUIRED = catalog_pb2.CatalogReservation.RESERVATION_ACQUIRED
EXISTS = catalog_pb2.CatalogReservation.RESERVATION_EXISTS


def source(attempt: int = 0, execution: str = "exec1") -> identifier_pb2.TaskExecutionIdentifier:
    return identifier_pb2.TaskExecutionIdentifier(
        task_id=SQUARE.id,
        node_execution_id=identifier_pb2.NodeExecutionIdentifier(
            node_id="n0",
            execution_id=identifier_pb2.WorkflowExecutionIdentifier(
                project=SQUARE.id.project, domain=SQUARE.id.domain, name=execution
            ),
        ),
        retry_attempt=attempt,
    )


def key(x: int, seed: int = 0) -> CatalogKey:
    return CatalogKey.for_task(SQUARE, inputs({"x": integer(x), "seed": integer(seed)}))


def outputs(value: int) -> literals_pb2.LiteralMap:
    return inputs({"o0": integer(value)})


@pytest.fixture
async def client(catalog: RunningCatalog) -> AsyncIterator[CatalogClient]:
    async with CatalogClient(catalog.channel, clock=catalog.clock) as catalog_client:
        yield catalog_client


async def test_an_unknown_key_is_a_miss(client: CatalogClient) -> None:
    assert await client.lookup(key(3)) is None


async def test_stored_outputs_are_a_hit_with_their_source(client: CatalogClient) -> None:
    put = await client.put(key(3), outputs(9), source(attempt=1))
    assert put.status == catalog_pb2.CACHE_POPULATED
    assert put.catalog_metadata is not None
    hit = await client.lookup(key(3))
    assert hit is not None
    assert hit.outputs == outputs(9)
    assert hit.source.node_execution_id.execution_id.name == "exec1"
    assert hit.source.retry_attempt == 1
    assert hit.source.task_id.version == SQUARE.id.version
    assert hit.catalog_metadata.dataset_id.resource_type == identifier_pb2.DATASET
    assert hit.catalog_metadata.dataset_id.name == f"flyte_task-{SQUARE.id.name}"
    assert hit.catalog_metadata.artifact_tag.name == key(3).tag
    assert hit.catalog_metadata.artifact_tag.artifact_id == put.catalog_metadata.artifact_tag.artifact_id


async def test_ignored_inputs_do_not_split_the_cache(client: CatalogClient) -> None:
    await client.put(key(3, seed=1), outputs(9), source())
    assert await client.lookup(key(3, seed=2)) is not None
    assert await client.lookup(key(4, seed=1)) is None


async def test_a_new_cache_version_misses(client: CatalogClient) -> None:
    await client.put(key(3), outputs(9), source())
    bumped = CatalogKey.for_task(
        task(SQUARE.interface, cache_version="2.0", ignore=("seed",)), inputs({"x": integer(3), "seed": integer(0)})
    )
    assert await client.lookup(bumped) is None


async def test_a_second_put_for_the_same_inputs_still_populates(client: CatalogClient) -> None:
    await client.put(key(3), outputs(9), source(execution="first"))
    second = await client.put(key(3), outputs(9), source(execution="second"))
    assert second.status == catalog_pb2.CACHE_POPULATED
    hit = await client.lookup(key(3))
    assert hit is not None and hit.source.node_execution_id.execution_id.name == "second"


async def test_overwrite_replaces_the_cached_outputs(client: CatalogClient, catalog: RunningCatalog) -> None:
    first = await client.put(key(3), outputs(1), source(execution="first"))
    second = await client.put(key(3), outputs(9), source(execution="second"), overwrite=True)
    assert first.catalog_metadata is not None and second.catalog_metadata is not None
    assert second.catalog_metadata.artifact_tag.artifact_id == first.catalog_metadata.artifact_tag.artifact_id
    hit = await client.lookup(key(3))
    assert hit is not None
    assert hit.outputs == outputs(9)
    assert hit.source.node_execution_id.execution_id.name == "second"


async def test_overwrite_without_a_cached_result_creates_one(client: CatalogClient) -> None:
    put = await client.put(key(5), outputs(25), source(), overwrite=True)
    assert put.status == catalog_pb2.CACHE_POPULATED
    assert (await client.lookup(key(5))) is not None


async def test_empty_outputs_are_not_cached(client: CatalogClient) -> None:
    put = await client.put(key(3), literals_pb2.LiteralMap(), source())
    assert put.status == catalog_pb2.CACHE_DISABLED
    assert await client.lookup(key(3)) is None


async def test_results_older_than_the_maximum_age_are_a_miss(catalog: RunningCatalog) -> None:
    async with CatalogClient(catalog.channel, clock=catalog.clock, max_cache_age=timedelta(hours=1)) as aged:
        await aged.put(key(3), outputs(9), source())
        catalog.clock.now = datetime.now(UTC)  # artifacts are stamped by the server's real clock
        assert await aged.lookup(key(3)) is not None
        catalog.clock.advance(3601)
        assert await aged.lookup(key(3)) is None


async def test_cached_outputs_that_do_not_fit_the_interface_are_an_error(
    client: CatalogClient, catalog: RunningCatalog
) -> None:
    k = key(3)
    await catalog.stub.CreateDataset(dc.CreateDatasetRequest(dataset=dc.Dataset(id=k.dataset_id)))
    await catalog.stub.CreateArtifact(
        dc.CreateArtifactRequest(
            artifact=dc.Artifact(
                id="bad", dataset=k.dataset_id, data=[dc.ArtifactData(name="o0", value=string("nine"))]
            )
        )
    )
    await catalog.stub.AddTag(dc.AddTagRequest(tag=dc.Tag(name=k.tag, artifact_id="bad", dataset=k.dataset_id)))
    with pytest.raises(CatalogError, match="does not fit"):
        await client.lookup(k)


async def test_reservations_go_to_one_owner_until_released(client: CatalogClient) -> None:
    k = key(3)
    mine = await client.get_or_extend_reservation(k, "node-a", timedelta(seconds=5))
    assert (mine.status, mine.owner_id) == (ACQUIRED, "node-a")
    theirs = await client.get_or_extend_reservation(k, "node-b", timedelta(seconds=5))
    assert (theirs.status, theirs.owner_id) == (EXISTS, "node-a")
    assert await client.release_reservation(k, "node-a") == catalog_pb2.CatalogReservation.RESERVATION_RELEASED
    after = await client.get_or_extend_reservation(k, "node-b", timedelta(seconds=5))
    assert after.status == ACQUIRED


async def test_racing_nodes_see_exactly_one_acquisition(client: CatalogClient) -> None:
    results = await asyncio.gather(
        *(client.get_or_extend_reservation(key(7), f"node-{i}", timedelta(seconds=5)) for i in range(8))
    )
    assert [r.status for r in results].count(ACQUIRED) == 1
    assert len({r.owner_id for r in results}) == 1


async def test_catalog_failures_raise_with_their_status(catalog: RunningCatalog) -> None:
    client = CatalogClient.connect("127.0.0.1:1", timeout=1)
    try:
        with pytest.raises(CatalogError):
            await client.lookup(key(3))
    finally:
        await client.close()
