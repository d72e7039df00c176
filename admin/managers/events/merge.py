"""How an event changes what is recorded: pure functions on timestamps, logs, custom info and metadata.

No I/O here: each function takes the stored value and the incoming one and returns (or updates in
place) the merged value, so every rule can be tested on plain messages.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, overload

from google.protobuf import json_format
from google.protobuf.duration_pb2 import Duration
from google.protobuf.struct_pb2 import Struct
from google.protobuf.timestamp_pb2 import Timestamp

from admin.managers.transitions import TASK, TASK_TERMINAL
from admin.models import Execution, NodeExecution, TaskExecution
from flyteidl_py.admin import execution_pb2 as admin_execution_pb2
from flyteidl_py.admin import node_execution_pb2, task_execution_pb2
from flyteidl_py.core import catalog_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.event import event_pb2
from flyteplane.errors import InvalidArgument

# The range proto3 gives google.protobuf.Timestamp: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z.
_MIN_SECONDS, _MAX_SECONDS = -62_135_596_800, 253_402_300_799


def to_datetime(ts: Timestamp, field: str = "event.occurred_at") -> datetime:
    """The timestamp as an aware datetime; INVALID_ARGUMENT naming `field` beyond proto3's range."""
    if not _MIN_SECONDS <= ts.seconds <= _MAX_SECONDS or not 0 <= ts.nanos <= 999_999_999:
        raise InvalidArgument(f"timestamp out of range (seconds={ts.seconds}, nanos={ts.nanos})", field=field)
    return ts.ToDatetime(tzinfo=UTC)


def elapsed_ns(later: datetime, earlier: datetime | None) -> int:
    """Nanoseconds from `earlier` to `later`; 0 when it never started."""
    return int((later - earlier).total_seconds() * 1e9) if earlier else 0


def duration_of(ns: int) -> Duration:
    d = Duration()
    d.FromNanoseconds(ns)
    return d


def outcome(
    event: event_pb2.WorkflowExecutionEvent | event_pb2.NodeExecutionEvent | event_pb2.TaskExecutionEvent,
    offloaded_uri: str,
) -> str | core.ExecutionError | None:
    """What an event reports of its result: where its outputs are (its URI, else where its inline
    outputs were offloaded), else its error; None when it reports neither."""
    if event.HasField("output_uri"):
        return event.output_uri
    if offloaded_uri:
        return offloaded_uri
    if event.HasField("error"):
        return event.error
    return None


def record_outcome(
    closure: admin_execution_pb2.ExecutionClosure
    | node_execution_pb2.NodeExecutionClosure
    | task_execution_pb2.TaskExecutionClosure,
    event: event_pb2.WorkflowExecutionEvent | event_pb2.NodeExecutionEvent | event_pb2.TaskExecutionEvent,
    offloaded_uri: str,
) -> core.ExecutionError | None:
    """Put the event's `outcome` in the closure: its outputs' URI, else its error (returned, for the row's columns)."""
    result = outcome(event, offloaded_uri)
    if isinstance(result, str):
        # The IDL names the field differently on an execution's closure.
        if isinstance(closure, admin_execution_pb2.ExecutionClosure):
            closure.outputs.uri = result
        else:
            closure.output_uri = result
        return None
    if result is not None:
        closure.error.CopyFrom(result)
    return result


def record_duration(
    row: Execution | NodeExecution | TaskExecution,
    closure: admin_execution_pb2.ExecutionClosure
    | node_execution_pb2.NodeExecutionClosure
    | task_execution_pb2.TaskExecutionClosure,
    finished: datetime,
) -> None:
    """A finished run's duration since it started, on its row (ns) and in its closure."""
    row.duration = elapsed_ns(finished, row.started_at)
    closure.duration.CopyFrom(duration_of(row.duration))


def error_columns(error: core.ExecutionError) -> tuple[str, str]:
    """The error's kind (by name) and code, as an execution's or node's row keeps them."""
    return core.ExecutionError.ErrorKind.Name(error.kind), error.code[:255]


def logs_merged(incoming: list[core.TaskLog], existing: list[core.TaskLog], phase: int) -> list[core.TaskLog]:
    """Incoming logs first, then the stored ones they do not replace (same URI or name).

    A terminal phase drops the logs hidden once finished; a pending phase keeps only those shown
    while pending; any other phase (e.g. -1, "no change of phase") keeps all.
    """
    uris = {log.uri for log in incoming}
    names = {log.name for log in incoming if log.name}
    merged = list(incoming) + [log for log in existing if log.uri not in uris and not (log.name and log.name in names)]
    if phase in TASK_TERMINAL:
        merged = [log for log in merged if not log.HideOnceFinished]
    elif phase in (TASK.QUEUED, TASK.INITIALIZING):
        merged = [log for log in merged if log.ShowWhilePending]
    return merged


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def custom_info_merged(stored: Struct, incoming: Struct) -> Struct:
    """The stored custom info with the incoming one applied to it as a JSON merge patch."""
    patched = merge_patch(json_format.MessageToDict(stored), json_format.MessageToDict(incoming))
    merged = Struct()
    merged.update(patched)
    return merged


def task_reasons(event: event_pb2.TaskExecutionEvent) -> list[task_execution_pb2.Reason]:
    """The event's reasons; its single `reason` when it lists none."""
    reasons = [task_execution_pb2.Reason(occurred_at=r.occurred_at, message=r.reason) for r in event.reasons]
    if reasons or not event.reason:
        return reasons
    return [task_execution_pb2.Reason(occurred_at=event.occurred_at, message=event.reason)]


def merge_node_flags(stored: node_execution_pb2.NodeExecutionMetaData, event: event_pb2.NodeExecutionEvent) -> None:
    """A node that was once reported a parent, dynamic, array or eager node stays one."""
    stored.is_parent_node |= event.is_parent
    stored.is_dynamic |= event.is_dynamic
    stored.is_array |= event.is_array
    stored.is_eager |= event.is_eager


def _resource_key(resource: event_pb2.ExternalResourceInfo) -> tuple[int, int]:
    return (resource.index, resource.retry_attempt)


class _ResourceKeys(Sequence[tuple[int, int]]):
    """The keys of a sorted list of external resources, computed as bisection asks for them."""

    def __init__(self, resources: Sequence[event_pb2.ExternalResourceInfo]) -> None:
        self.resources = resources

    def __len__(self) -> int:
        return len(self.resources)

    @overload
    def __getitem__(self, index: int) -> tuple[int, int]: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[tuple[int, int]]: ...
    def __getitem__(self, index: int | slice) -> tuple[int, int] | Sequence[tuple[int, int]]:
        if isinstance(index, slice):
            return [_resource_key(r) for r in self.resources[index]]
        return _resource_key(self.resources[index])


def merge_task_metadata(
    stored: event_pb2.TaskExecutionMetadata, incoming: event_pb2.TaskExecutionMetadata, phase_changed: bool
) -> None:
    """Updates the stored metadata with what the incoming event sets.

    External resources (an array's elements) are keyed by (index, retry attempt): elements after
    every stored one are appended; otherwise each incoming element updates its stored one (logs
    merged, filtered for the new phase only when the phase changed) or is added, and the list is
    kept sorted.
    """
    if incoming.generated_name:
        stored.generated_name = incoming.generated_name
    if incoming.plugin_identifier:
        stored.plugin_identifier = incoming.plugin_identifier
    if incoming.resource_pool_info:
        del stored.resource_pool_info[:]
        stored.resource_pool_info.extend(incoming.resource_pool_info)
    if incoming.instance_class != event_pb2.TaskExecutionMetadata.DEFAULT:
        stored.instance_class = incoming.instance_class
    resources = stored.external_resources
    # The stored list is sorted by key, so each incoming element finds its stored one by bisection: an array's
    # event costs what it reports, not the array's size (a 10,000-element map reports hundreds of events).
    keys = _ResourceKeys(resources)
    added: list[event_pb2.ExternalResourceInfo] = []
    for new in incoming.external_resources:
        key = _resource_key(new)
        position = bisect.bisect_left(keys, key)
        if position == len(resources) or _resource_key(resources[position]) != key:
            added.append(new)
            continue
        old = resources[position]
        if new.external_id:
            old.external_id = new.external_id
        old.phase = new.phase
        if new.cache_status != catalog_pb2.CACHE_DISABLED:
            old.cache_status = new.cache_status
        merged = logs_merged(list(new.logs), list(old.logs), new.phase if phase_changed else -1)
        del old.logs[:]
        old.logs.extend(merged)
        if new.HasField("custom_info"):
            old.custom_info.CopyFrom(new.custom_info)
    if not added:
        return
    by_key = {_resource_key(r): r for r in added}  # the last of an element reported twice in one event wins
    fresh = [by_key[k] for k in sorted(by_key)]
    if not resources or _resource_key(fresh[0]) > _resource_key(resources[-1]):
        resources.extend(fresh)  # elements after every stored one (an array reporting them in order): appended
        return
    ordered = sorted([*resources, *fresh], key=_resource_key)
    copies = [event_pb2.ExternalResourceInfo() for _ in ordered]
    for target, source in zip(copies, ordered, strict=True):
        target.CopyFrom(source)
    del resources[:]
    resources.extend(copies)
