"""Propeller's DataCatalog client: look up, store and overwrite cached task outputs, and hold reservations.

It speaks `datacatalog.DataCatalog` over gRPC, as Flyte's propeller does:

- `lookup`: GetDataset, then GetArtifact by the inputs' tag. A missing dataset or tag is a miss
  (None), as is an artifact older than `max_cache_age`. A hit's outputs are checked against the
  task interface (names and castable types); a mismatch raises, like any other catalog failure.
- `put`: CreateDataset (ALREADY_EXISTS is fine), CreateArtifact under a fresh UUID with one
  ArtifactData per output, AddTag (ALREADY_EXISTS is fine) -> CACHE_POPULATED. With `overwrite`
  (the execution's `overwrite_cache`) it first tries UpdateArtifact by tag and creates only when
  that finds nothing. Empty outputs are not stored (CACHE_DISABLED).
- `get_or_extend_reservation` / `release_reservation` for `cache_serializable` tasks.
- `datasets` / `artifacts`: every dataset of a task (any cache version or interface) and every
  artifact of a dataset, for explaining a miss.

Failures raise CatalogError carrying the gRPC status code; callers map them to
CACHE_LOOKUP_FAILURE, CACHE_PUT_FAILURE or RESERVATION_FAILURE as their node requires.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType

import grpc
from google.protobuf.duration_pb2 import Duration

from flyteidl_py.core import catalog_pb2, identifier_pb2, literals_pb2
from flyteidl_py.datacatalog import datacatalog_pb2 as dc
from flyteidl_py.datacatalog import datacatalog_pb2_grpc
from flyteplane import tracing
from flyteplane.database import utcnow
from flyteplane.errors import FlyteplaneError
from flyteplane.tracing import propagating, tracing_on
from propeller.catalog.keys import (
    CatalogKey,
    artifact_metadata,
    catalog_metadata,
    dataset_metadata,
    source_from_metadata,
)
from propeller.compiler.literals import literal_type_of
from propeller.compiler.types import is_castable


class CatalogError(FlyteplaneError):
    """A DataCatalog call failed (or answered something unusable); `code` is the gRPC status."""

    def __init__(self, message: str, code: grpc.StatusCode = grpc.StatusCode.INTERNAL) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class CachedOutputs:
    """A cache hit: the outputs to use instead of running the task, and where they came from."""

    outputs: literals_pb2.LiteralMap
    source: identifier_pb2.TaskExecutionIdentifier
    catalog_metadata: catalog_pb2.CatalogMetadata
    artifact_id: str
    created_at: datetime


@dataclass(frozen=True)
class PutResult:
    status: catalog_pb2.CatalogCacheStatus  # CACHE_POPULATED, or CACHE_DISABLED for empty outputs
    catalog_metadata: catalog_pb2.CatalogMetadata | None


@dataclass(frozen=True)
class ReservationResult:
    status: catalog_pb2.CatalogReservation.Status  # RESERVATION_ACQUIRED (ours) or RESERVATION_EXISTS
    owner_id: str
    expires_at: datetime
    heartbeat_interval: timedelta


_PAGE = 100


def _code(error: grpc.aio.AioRpcError) -> grpc.StatusCode:
    code: grpc.StatusCode = error.code()
    return code


class CatalogClient:
    """DataCatalog over one gRPC channel. `connect` opens (and `close` closes) a channel of its own."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        *,
        timeout: float | None = 30.0,
        max_cache_age: timedelta | None = None,
        clock: Callable[[], datetime] = utcnow,
        owns_channel: bool = False,
    ) -> None:
        self._channel = channel
        self._stub = datacatalog_pb2_grpc.DataCatalogStub(channel)
        self._timeout = timeout
        self._max_cache_age = max_cache_age
        self._clock = clock
        self._owns_channel = owns_channel

    @classmethod
    def connect(
        cls,
        target: str,
        *,
        timeout: float | None = 30.0,
        max_cache_age: timedelta | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> CatalogClient:
        """A client on a new insecure channel to `target` (`host:port`), closed by `close`."""
        channel = grpc.aio.insecure_channel(target, interceptors=propagating())
        return cls(channel, timeout=timeout, max_cache_age=max_cache_age, clock=clock, owns_channel=True)

    async def close(self) -> None:
        if self._owns_channel:
            await self._channel.close()

    async def __aenter__(self) -> CatalogClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.close()

    # -- cache ----------------------------------------------------------------------------------

    async def lookup(self, key: CatalogKey) -> CachedOutputs | None:
        """The cached outputs for the key, or None on a miss."""
        if not tracing_on():
            return await self._lookup(key)
        with tracing.span("datacatalog lookup", {"flyte.task": key.task_id.name}) as current:
            found = await self._lookup(key)
            if current is not None:
                current.set_attribute("flyte.cache_status", "CACHE_HIT" if found is not None else "CACHE_MISS")
            return found

    async def _lookup(self, key: CatalogKey) -> CachedOutputs | None:
        try:
            dataset = (
                await self._stub.GetDataset(dc.GetDatasetRequest(dataset=key.dataset_id), timeout=self._timeout)
            ).dataset
            artifact = (
                await self._stub.GetArtifact(
                    dc.GetArtifactRequest(dataset=key.dataset_id, tag_name=key.tag), timeout=self._timeout
                )
            ).artifact
        except grpc.aio.AioRpcError as error:
            if _code(error) == grpc.StatusCode.NOT_FOUND:
                return None
            raise CatalogError(f"catalog lookup failed: {error.details()}", _code(error)) from error
        created_at = artifact.created_at.ToDatetime(tzinfo=UTC)
        if self._max_cache_age is not None and self._clock() - created_at > self._max_cache_age:
            return None
        source = source_from_metadata(dataset.metadata, artifact.metadata, key.task_id)
        return CachedOutputs(
            outputs=self._outputs(key, artifact),
            source=source,
            catalog_metadata=catalog_metadata(key.dataset_id, key.tag, artifact.id, source),
            artifact_id=artifact.id,
            created_at=created_at,
        )

    def _outputs(self, key: CatalogKey, artifact: dc.Artifact) -> literals_pb2.LiteralMap:
        """The artifact's data as the task's outputs, checked against its interface."""
        expected = key.interface.outputs.variables
        if not expected:
            return literals_pb2.LiteralMap()
        if len(artifact.data) != len(expected):
            raise CatalogError(
                f"cached artifact {artifact.id} has {len(artifact.data)} values for {len(expected)} task outputs"
            )
        outputs = literals_pb2.LiteralMap()
        for item in artifact.data:
            if item.name not in expected:
                raise CatalogError(f"cached artifact {artifact.id} has value {item.name!r}, not a task output")
            try:
                castable = is_castable(literal_type_of(item.value), expected[item.name].type)
            except FlyteplaneError:
                castable = False
            if not castable:
                raise CatalogError(f"cached value {item.name!r} of artifact {artifact.id} does not fit the output type")
            outputs.literals[item.name].CopyFrom(item.value)
        return outputs

    async def put(
        self,
        key: CatalogKey,
        outputs: literals_pb2.LiteralMap,
        source: identifier_pb2.TaskExecutionIdentifier,
        *,
        overwrite: bool = False,
        array_index: int | None = None,
    ) -> PutResult:
        """Stores the outputs under the key (replacing the cached ones when `overwrite`); `array_index`
        names the map-task element that produced them."""
        if not outputs.literals:
            return PutResult(catalog_pb2.CACHE_DISABLED, None)
        data = [dc.ArtifactData(name=name, value=outputs.literals[name]) for name in sorted(outputs.literals)]
        metadata = artifact_metadata(source, key, array_index=array_index)
        try:
            if overwrite:
                try:
                    updated = await self._stub.UpdateArtifact(
                        dc.UpdateArtifactRequest(
                            dataset=key.dataset_id, tag_name=key.tag, data=data, metadata=metadata
                        ),
                        timeout=self._timeout,
                    )
                    return self._populated(key, updated.artifact_id, source)
                except grpc.aio.AioRpcError as error:
                    if _code(error) != grpc.StatusCode.NOT_FOUND:
                        raise
            artifact_id = str(uuid.uuid4())
            await self._tolerating_exists(
                self._stub.CreateDataset(
                    dc.CreateDatasetRequest(
                        dataset=dc.Dataset(id=key.dataset_id, metadata=dataset_metadata(source, key))
                    ),
                    timeout=self._timeout,
                )
            )
            await self._stub.CreateArtifact(
                dc.CreateArtifactRequest(
                    artifact=dc.Artifact(id=artifact_id, dataset=key.dataset_id, data=data, metadata=metadata)
                ),
                timeout=self._timeout,
            )
            await self._tolerating_exists(
                self._stub.AddTag(
                    dc.AddTagRequest(tag=dc.Tag(name=key.tag, artifact_id=artifact_id, dataset=key.dataset_id)),
                    timeout=self._timeout,
                )
            )
        except grpc.aio.AioRpcError as error:
            raise CatalogError(f"catalog put failed: {error.details()}", _code(error)) from error
        return self._populated(key, artifact_id, source)

    @staticmethod
    def _populated(key: CatalogKey, artifact_id: str, source: identifier_pb2.TaskExecutionIdentifier) -> PutResult:
        return PutResult(catalog_pb2.CACHE_POPULATED, catalog_metadata(key.dataset_id, key.tag, artifact_id, source))

    @staticmethod
    async def _tolerating_exists(call: Awaitable[object]) -> None:
        try:
            await call
        except grpc.aio.AioRpcError as error:
            if _code(error) != grpc.StatusCode.ALREADY_EXISTS:
                raise

    # -- listings -------------------------------------------------------------------------------

    async def datasets(self, name: str, *, project: str = "", domain: str = "") -> list[dc.Dataset]:
        """Every dataset named `name` (in `project` / `domain` when given), all pages."""
        filters = [
            dc.SinglePropertyFilter(dataset_filter=dc.DatasetPropertyFilter(**{prop: value}))
            for prop, value in (("name", name), ("project", project), ("domain", domain))
            if value
        ]
        found: list[dc.Dataset] = []
        token = ""
        while True:
            try:
                response = await self._stub.ListDatasets(
                    dc.ListDatasetsRequest(
                        filter=dc.FilterExpression(filters=filters),
                        pagination=dc.PaginationOptions(limit=_PAGE, token=token),
                    ),
                    timeout=self._timeout,
                )
            except grpc.aio.AioRpcError as error:
                raise CatalogError(f"listing datasets failed: {error.details()}", _code(error)) from error
            found.extend(response.datasets)
            token = response.next_token
            if not token or not response.datasets:
                return found

    async def artifacts(self, dataset: dc.DatasetID) -> list[dc.Artifact]:
        """Every artifact of the dataset (with its tags and metadata), all pages."""
        found: list[dc.Artifact] = []
        token = ""
        while True:
            try:
                response = await self._stub.ListArtifacts(
                    dc.ListArtifactsRequest(dataset=dataset, pagination=dc.PaginationOptions(limit=_PAGE, token=token)),
                    timeout=self._timeout,
                )
            except grpc.aio.AioRpcError as error:
                if _code(error) == grpc.StatusCode.NOT_FOUND:
                    return found
                raise CatalogError(f"listing artifacts failed: {error.details()}", _code(error)) from error
            found.extend(response.artifacts)
            token = response.next_token
            if not token or not response.artifacts:
                return found

    # -- reservations ---------------------------------------------------------------------------

    async def get_or_extend_reservation(
        self, key: CatalogKey, owner_id: str, heartbeat_interval: timedelta
    ) -> ReservationResult:
        """Takes or extends the reservation for the key; RESERVATION_EXISTS when someone else holds it."""
        interval = Duration()
        interval.FromTimedelta(heartbeat_interval)
        try:
            response = await self._stub.GetOrExtendReservation(
                dc.GetOrExtendReservationRequest(
                    reservation_id=key.reservation_id, owner_id=owner_id, heartbeat_interval=interval
                ),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as error:
            raise CatalogError(f"catalog reservation failed: {error.details()}", _code(error)) from error
        reservation = response.reservation
        ours = reservation.owner_id == owner_id
        return ReservationResult(
            status=catalog_pb2.CatalogReservation.RESERVATION_ACQUIRED
            if ours
            else catalog_pb2.CatalogReservation.RESERVATION_EXISTS,
            owner_id=reservation.owner_id,
            expires_at=reservation.expires_at.ToDatetime(tzinfo=UTC),
            heartbeat_interval=reservation.heartbeat_interval.ToTimedelta(),
        )

    async def release_reservation(self, key: CatalogKey, owner_id: str) -> catalog_pb2.CatalogReservation.Status:
        """Gives up the owner's reservation (a reservation they do not hold is left alone)."""
        try:
            await self._stub.ReleaseReservation(
                dc.ReleaseReservationRequest(reservation_id=key.reservation_id, owner_id=owner_id),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as error:
            raise CatalogError(f"catalog release failed: {error.details()}", _code(error)) from error
        return catalog_pb2.CatalogReservation.RESERVATION_RELEASED
