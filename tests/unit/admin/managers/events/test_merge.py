"""The pure merge functions of event ingestion: how an event changes what admin has recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf.struct_pb2 import Struct
from google.protobuf.timestamp_pb2 import Timestamp

from admin.managers.events import merge
from admin.managers.transitions import TASK
from flyteidl_py.admin import node_execution_pb2
from flyteidl_py.core import catalog_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.event import event_pb2

START = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _log(
    uri: str, name: str = "", *, hide_once_finished: bool = False, show_while_pending: bool = False
) -> core.TaskLog:
    return core.TaskLog(uri=uri, name=name, HideOnceFinished=hide_once_finished, ShowWhilePending=show_while_pending)


def _uris(logs: list[core.TaskLog]) -> list[str]:
    return [log.uri for log in logs]


def _struct(value: dict[str, int | str | bool | None]) -> Struct:
    struct = Struct()
    struct.update(value)
    return struct


def _resource(
    index: int,
    attempt: int = 0,
    *,
    external_id: str = "",
    phase: core.TaskExecution.Phase = TASK.UNDEFINED,
    cache_status: catalog_pb2.CatalogCacheStatus = catalog_pb2.CACHE_DISABLED,
    logs: tuple[core.TaskLog, ...] = (),
) -> event_pb2.ExternalResourceInfo:
    return event_pb2.ExternalResourceInfo(
        index=index,
        retry_attempt=attempt,
        external_id=external_id,
        phase=phase,
        cache_status=cache_status,
        logs=logs,
    )


def _keys(metadata: event_pb2.TaskExecutionMetadata) -> list[tuple[int, int]]:
    return [(r.index, r.retry_attempt) for r in metadata.external_resources]


# ---- time -----------------------------------------------------------------------------------------


def test_a_timestamp_becomes_an_aware_utc_datetime() -> None:
    ts = Timestamp()
    ts.FromDatetime(START)

    assert merge.to_datetime(ts) == START


def test_elapsed_time_is_counted_in_nanoseconds() -> None:
    assert merge.elapsed_ns(START + timedelta(seconds=1, microseconds=5), START) == 1_000_005_000


def test_elapsed_time_of_what_never_started_is_zero() -> None:
    assert merge.elapsed_ns(START, None) == 0


def test_a_duration_carries_its_nanoseconds() -> None:
    assert merge.duration_of(1_500_000_000).ToNanoseconds() == 1_500_000_000


# ---- outcome --------------------------------------------------------------------------------------


def test_the_outcome_is_the_events_output_uri_first() -> None:
    event = event_pb2.NodeExecutionEvent(output_uri="s3://b/outputs.pb")

    assert merge.outcome(event, "s3://b/offloaded") == "s3://b/outputs.pb"


def test_an_empty_output_uri_that_is_set_is_still_the_outcome() -> None:
    event = event_pb2.TaskExecutionEvent(output_uri="")

    assert merge.outcome(event, "s3://b/offloaded") == ""


def test_the_outcome_is_the_offloaded_outputs_when_the_event_names_no_uri() -> None:
    event = event_pb2.WorkflowExecutionEvent(error=core.ExecutionError(code="E"))

    assert merge.outcome(event, "s3://b/offloaded") == "s3://b/offloaded"


def test_the_outcome_is_the_error_when_there_are_no_outputs() -> None:
    error = core.ExecutionError(code="E", message="boom")

    assert merge.outcome(event_pb2.NodeExecutionEvent(error=error), "") == error


def test_an_event_without_outputs_or_error_has_no_outcome() -> None:
    assert merge.outcome(event_pb2.TaskExecutionEvent(), "") is None


def test_error_columns_name_the_kind_and_cut_the_code_to_the_column() -> None:
    error = core.ExecutionError(kind=core.ExecutionError.USER, code="x" * 300)

    assert merge.error_columns(error) == ("USER", "x" * 255)


# ---- logs -----------------------------------------------------------------------------------------


def test_incoming_logs_come_first_then_the_stored_ones_they_do_not_replace() -> None:
    merged = merge.logs_merged([_log("new")], [_log("old")], TASK.RUNNING)

    assert _uris(merged) == ["new", "old"]


def test_an_incoming_log_replaces_the_stored_one_with_its_uri() -> None:
    merged = merge.logs_merged([_log("same", "incoming")], [_log("same", "stored")], TASK.RUNNING)

    assert [log.name for log in merged] == ["incoming"]


def test_an_incoming_log_replaces_the_stored_one_with_its_name() -> None:
    merged = merge.logs_merged([_log("new", "Kubernetes")], [_log("old", "Kubernetes")], TASK.RUNNING)

    assert _uris(merged) == ["new"]


def test_unnamed_logs_replace_only_by_uri() -> None:
    merged = merge.logs_merged([_log("new")], [_log("old")], TASK.RUNNING)

    assert len(merged) == 2


def test_a_terminal_phase_drops_the_logs_hidden_once_finished() -> None:
    merged = merge.logs_merged([_log("live", hide_once_finished=True)], [_log("kept")], TASK.SUCCEEDED)

    assert _uris(merged) == ["kept"]


def test_a_pending_phase_keeps_only_the_logs_shown_while_pending() -> None:
    merged = merge.logs_merged([_log("pending", show_while_pending=True)], [_log("later")], TASK.QUEUED)

    assert _uris(merged) == ["pending"]


def test_no_phase_keeps_every_log() -> None:
    merged = merge.logs_merged([_log("a", hide_once_finished=True)], [_log("b")], -1)

    assert _uris(merged) == ["a", "b"]


# ---- custom info ----------------------------------------------------------------------------------


def test_a_merge_patch_merges_objects_key_by_key() -> None:
    assert merge.merge_patch({"a": 1, "b": {"c": 2}}, {"b": {"d": 3}}) == {"a": 1, "b": {"c": 2, "d": 3}}


def test_a_merge_patch_deletes_keys_set_to_null() -> None:
    assert merge.merge_patch({"a": 1, "b": 2}, {"a": None}) == {"b": 2}


def test_a_merge_patch_replaces_anything_that_is_not_an_object() -> None:
    assert merge.merge_patch({"a": [1, 2]}, {"a": [3]}) == {"a": [3]}


def test_a_merge_patch_that_is_not_an_object_replaces_the_whole_target() -> None:
    assert merge.merge_patch({"a": 1}, "text") == "text"


def test_custom_info_is_patched_with_the_incoming_custom_info() -> None:
    merged = merge.custom_info_merged(_struct({"a": 1, "b": "x"}), _struct({"b": None, "c": True}))

    assert merged == _struct({"a": 1, "c": True})


# ---- reasons and node flags ------------------------------------------------------------------------


def test_task_reasons_are_the_events_reasons() -> None:
    event = event_pb2.TaskExecutionEvent(
        reason="ignored", reasons=[event_pb2.EventReason(reason="one"), event_pb2.EventReason(reason="two")]
    )

    assert [r.message for r in merge.task_reasons(event)] == ["one", "two"]


def test_a_single_reason_stands_for_an_event_that_lists_none() -> None:
    ts = Timestamp(seconds=7)
    reasons = merge.task_reasons(event_pb2.TaskExecutionEvent(reason="pulling image", occurred_at=ts))

    assert [(r.message, r.occurred_at) for r in reasons] == [("pulling image", ts)]


def test_an_event_without_a_reason_has_no_reasons() -> None:
    assert merge.task_reasons(event_pb2.TaskExecutionEvent()) == []


def test_a_node_once_reported_a_parent_dynamic_or_array_node_stays_one() -> None:
    stored = node_execution_pb2.NodeExecutionMetaData(is_parent_node=True, is_dynamic=False, is_array=True)

    merge.merge_node_flags(stored, event_pb2.NodeExecutionEvent(is_parent=False, is_dynamic=True, is_array=False))

    assert (stored.is_parent_node, stored.is_dynamic, stored.is_array) == (True, True, True)


# ---- task metadata --------------------------------------------------------------------------------


def test_task_metadata_takes_the_names_the_event_sets() -> None:
    stored = event_pb2.TaskExecutionMetadata(generated_name="old", plugin_identifier="local")

    merge.merge_task_metadata(stored, event_pb2.TaskExecutionMetadata(generated_name="new"), phase_changed=False)

    assert (stored.generated_name, stored.plugin_identifier) == ("new", "local")


def test_task_metadata_keeps_its_instance_class_when_the_event_leaves_the_default() -> None:
    stored = event_pb2.TaskExecutionMetadata(instance_class=event_pb2.TaskExecutionMetadata.INTERRUPTIBLE)

    merge.merge_task_metadata(stored, event_pb2.TaskExecutionMetadata(), phase_changed=False)

    assert stored.instance_class == event_pb2.TaskExecutionMetadata.INTERRUPTIBLE


def test_task_metadata_resource_pool_info_is_replaced_as_a_whole() -> None:
    stored = event_pb2.TaskExecutionMetadata(resource_pool_info=[event_pb2.ResourcePoolInfo(namespace="a")])
    incoming = event_pb2.TaskExecutionMetadata(resource_pool_info=[event_pb2.ResourcePoolInfo(namespace="b")])

    merge.merge_task_metadata(stored, incoming, phase_changed=False)

    assert [p.namespace for p in stored.resource_pool_info] == ["b"]


def test_external_resources_after_every_stored_one_are_appended_in_order() -> None:
    stored = event_pb2.TaskExecutionMetadata(external_resources=[_resource(0), _resource(1)])
    incoming = event_pb2.TaskExecutionMetadata(external_resources=[_resource(3), _resource(2)])

    merge.merge_task_metadata(stored, incoming, phase_changed=False)

    assert _keys(stored) == [(0, 0), (1, 0), (2, 0), (3, 0)]


def test_an_external_resource_already_stored_is_updated_in_place() -> None:
    stored = event_pb2.TaskExecutionMetadata(
        external_resources=[_resource(0, external_id="pod-0", phase=TASK.RUNNING), _resource(1)]
    )
    incoming = event_pb2.TaskExecutionMetadata(external_resources=[_resource(0, phase=TASK.SUCCEEDED)])

    merge.merge_task_metadata(stored, incoming, phase_changed=False)

    first = stored.external_resources[0]
    assert (first.external_id, first.phase, len(stored.external_resources)) == ("pod-0", TASK.SUCCEEDED, 2)


def test_stored_external_resources_are_updated_and_later_ones_appended_by_one_event() -> None:
    stored = event_pb2.TaskExecutionMetadata(external_resources=[_resource(i, phase=TASK.RUNNING) for i in range(5)])
    incoming = event_pb2.TaskExecutionMetadata(
        external_resources=[_resource(6), _resource(3, phase=TASK.SUCCEEDED), _resource(5), _resource(1)]
    )

    merge.merge_task_metadata(stored, incoming, phase_changed=False)

    assert _keys(stored) == [(i, 0) for i in range(7)]
    assert stored.external_resources[3].phase == TASK.SUCCEEDED
    assert stored.external_resources[2].phase == TASK.RUNNING


def test_a_disabled_cache_status_leaves_the_stored_one() -> None:
    stored = event_pb2.TaskExecutionMetadata(external_resources=[_resource(0, cache_status=catalog_pb2.CACHE_HIT)])
    incoming = event_pb2.TaskExecutionMetadata(
        external_resources=[_resource(0, cache_status=catalog_pb2.CACHE_DISABLED)]
    )

    merge.merge_task_metadata(stored, incoming, phase_changed=False)

    assert stored.external_resources[0].cache_status == catalog_pb2.CACHE_HIT


def test_external_resources_out_of_order_are_merged_and_kept_sorted() -> None:
    stored = event_pb2.TaskExecutionMetadata(external_resources=[_resource(0), _resource(2)])
    incoming = event_pb2.TaskExecutionMetadata(external_resources=[_resource(1), _resource(2, 1)])

    merge.merge_task_metadata(stored, incoming, phase_changed=False)

    assert _keys(stored) == [(0, 0), (1, 0), (2, 0), (2, 1)]


def _stored_with_a_log_hidden_once_finished() -> event_pb2.TaskExecutionMetadata:
    return event_pb2.TaskExecutionMetadata(
        external_resources=[_resource(0, logs=(_log("live", hide_once_finished=True),))]
    )


def test_an_external_resources_logs_are_filtered_for_its_new_phase_when_the_phase_changed() -> None:
    stored = _stored_with_a_log_hidden_once_finished()
    incoming = event_pb2.TaskExecutionMetadata(external_resources=[_resource(0, phase=TASK.SUCCEEDED)])

    merge.merge_task_metadata(stored, incoming, phase_changed=True)

    assert _uris(list(stored.external_resources[0].logs)) == []


def test_an_external_resources_logs_are_all_kept_when_the_phase_did_not_change() -> None:
    stored = _stored_with_a_log_hidden_once_finished()
    incoming = event_pb2.TaskExecutionMetadata(external_resources=[_resource(0, phase=TASK.SUCCEEDED)])

    merge.merge_task_metadata(stored, incoming, phase_changed=False)

    assert _uris(list(stored.external_resources[0].logs)) == ["live"]
