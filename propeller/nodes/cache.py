"""Task caching around a task node: look up before running, record after success, serialize if asked.

A hit copies the cached outputs into the node's outputs and the node succeeds without starting the
task. A hit whose outputs point at objects that are gone from the store is treated as a miss (and
the entry is rewritten when the task runs). Failures never populate the cache.

Task nodes use `before_run` / `after_success` (a dynamic parent records once its sub-workflow has
produced the outputs); map-task elements use `lookup` / `record` directly, one key per element.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from flyteidl_py.core import catalog_pb2, identifier_pb2, literals_pb2, tasks_pb2
from flyteidl_py.event import event_pb2
from flyteplane.errors import FlyteplaneError
from propeller.catalog.client import CachedOutputs, CatalogClient
from propeller.catalog.keys import CatalogKey
from propeller.nodes.base import NodeContext, NodeResult, Outcome

WAITING = "waiting on serialized cache"


def cacheable(template: tasks_pb2.TaskTemplate, ctx: NodeContext) -> bool:
    return bool(template.metadata.discoverable) and ctx.services.catalog is not None


def _catalog(ctx: NodeContext) -> CatalogClient:
    """The catalog client; the functions below run only for `cacheable` tasks, so there is one."""
    catalog = ctx.services.catalog
    if catalog is None:
        raise FlyteplaneError("task caching is off: there is no catalog to ask")
    return catalog


def _blob_uris(literal: literals_pb2.Literal) -> list[str]:
    kind = literal.WhichOneof("value")
    if kind == "collection":
        return [u for item in literal.collection.literals for u in _blob_uris(item)]
    if kind == "map":
        return [u for item in literal.map.literals.values() for u in _blob_uris(item)]
    if kind == "scalar":
        scalar = literal.scalar
        if scalar.HasField("blob"):
            return [scalar.blob.uri]
        if scalar.HasField("structured_dataset"):
            return [scalar.structured_dataset.uri]
        if scalar.HasField("union"):
            return _blob_uris(scalar.union.value)
    return []


async def _still_there(ctx: NodeContext, outputs: literals_pb2.LiteralMap) -> bool:
    """Every object the cached outputs refer to still exists (plain paths are this machine's files)."""
    storage = ctx.services.storage
    for literal in outputs.literals.values():
        for uri in _blob_uris(literal):
            if not uri:
                continue
            location = uri if "://" in uri else f"file://{uri}"
            try:
                if await storage.exists(location):
                    continue
                async for _ in storage.list(location.rstrip("/") + "/"):  # a directory (multipart blob)
                    break
                else:
                    return False
            except FlyteplaneError:
                continue  # a location the store cannot address (another bucket): trust the catalog
    return True


async def lookup(ctx: NodeContext, key: CatalogKey) -> CachedOutputs | None:
    """The cached outputs for the key if they can be served (their objects still exist), else None."""
    hit: CachedOutputs | None = await _catalog(ctx).lookup(key)
    if hit is not None and await _still_there(ctx, hit.outputs):
        return hit
    return None


async def record(
    ctx: NodeContext,
    key: CatalogKey,
    outputs: literals_pb2.LiteralMap,
    source: identifier_pb2.TaskExecutionIdentifier,
    *,
    array_index: int | None = None,
) -> tuple[int, catalog_pb2.CatalogMetadata | None]:
    """Stores a successful run's outputs (replacing the entry under `overwrite_cache`): the cache status
    (CACHE_POPULATED, CACHE_DISABLED for no outputs, CACHE_PUT_FAILURE) and the catalog key."""
    try:
        result = await _catalog(ctx).put(
            key, outputs, source, overwrite=bool(ctx.state.spec.overwrite_cache), array_index=array_index
        )
    except FlyteplaneError:
        return catalog_pb2.CACHE_PUT_FAILURE, None
    return int(result.status), result.catalog_metadata


def _metadata(
    status: int, key: catalog_pb2.CatalogMetadata | None = None, reservation: int | None = None
) -> event_pb2.TaskNodeMetadata:
    metadata = event_pb2.TaskNodeMetadata(cache_status=status)  # type: ignore[arg-type]
    if key is not None:
        metadata.catalog_key.CopyFrom(key)
    if reservation is not None:
        metadata.reservation_status = reservation  # type: ignore[assignment]
    return metadata


def _owner(ctx: NodeContext) -> str:
    return f"{ctx.state.ident.name}-{ctx.unique_id}"


async def keep_reservation(ctx: NodeContext, template: tasks_pb2.TaskTemplate) -> float:
    """Extend this run's reservation while the task runs; returns when to come back to extend it again."""
    heartbeat = timedelta(seconds=ctx.services.settings.tuning.cache_reservation_heartbeat_seconds)
    key = CatalogKey.for_task(template, await ctx.read_inputs())
    # On failure the next round tries again; losing it costs at worst a duplicate run, never a wrong result.
    with contextlib.suppress(FlyteplaneError):
        await _catalog(ctx).get_or_extend_reservation(key, _owner(ctx), heartbeat)
    return heartbeat.total_seconds() / 2


async def before_run(ctx: NodeContext, template: tasks_pb2.TaskTemplate) -> NodeResult | None:
    """A result that replaces running the task (hit, or waiting for another run), or None to run it."""
    catalog = _catalog(ctx)
    key = CatalogKey.for_task(template, await ctx.read_inputs())
    if ctx.state.spec.overwrite_cache:
        ctx.status.cache_status = catalog_pb2.CACHE_SKIPPED
        return None
    hit = await lookup(ctx, key)
    if hit is not None:
        return await _served(ctx, template, hit)
    ctx.status.cache_status = catalog_pb2.CACHE_MISS
    if template.metadata.cache_serializable:
        heartbeat = timedelta(seconds=ctx.services.settings.tuning.cache_reservation_heartbeat_seconds)
        reservation = await catalog.get_or_extend_reservation(key, _owner(ctx), heartbeat)
        if reservation.status != catalog_pb2.CatalogReservation.RESERVATION_ACQUIRED:
            return NodeResult(
                Outcome.RUNNING,
                wake_after=heartbeat.total_seconds() / 2,
                task_node_metadata=_metadata(catalog_pb2.CACHE_MISS, reservation=reservation.status),
            )
        # The holder may have finished (populated, then released) between our lookup and our
        # reservation: look once more before running the task ourselves.
        hit = await lookup(ctx, key)
        if hit is not None:
            await catalog.release_reservation(key, _owner(ctx))
            return await _served(ctx, template, hit)
    return None


async def _served(ctx: NodeContext, template: tasks_pb2.TaskTemplate, hit: CachedOutputs) -> NodeResult:
    """The node succeeds with the cached outputs as its own."""
    await ctx.services.write_literals(ctx.outputs_uri, hit.outputs)
    ctx.status.cache_status = catalog_pb2.CACHE_HIT
    return NodeResult(
        Outcome.SUCCESS,
        output_uri=ctx.outputs_uri,
        target_entity=template.id,
        task_node_metadata=_metadata(catalog_pb2.CACHE_HIT, hit.catalog_metadata),
    )


async def after_success(
    ctx: NodeContext, template: tasks_pb2.TaskTemplate, source: identifier_pb2.TaskExecutionIdentifier
) -> event_pb2.TaskNodeMetadata:
    """Record the outputs of a successful run (CACHE_POPULATED), release any reservation. For a dynamic
    parent, call it once the sub-workflow's outputs are the node's outputs."""
    catalog = _catalog(ctx)
    key = CatalogKey.for_task(template, await ctx.read_inputs())
    outputs = await ctx.services.read_literals_or_empty(ctx.state, ctx.outputs_uri)
    status, key_metadata = await record(ctx, key, outputs, source)
    reservation = None
    if template.metadata.cache_serializable:
        try:
            reservation = await catalog.release_reservation(key, _owner(ctx))
        except FlyteplaneError:
            reservation = None
    ctx.status.cache_status = status
    return _metadata(status, key_metadata, reservation)
