"""Cache keys: which dataset a task's results go to, and which tag names one set of inputs."""

from __future__ import annotations

import pytest
from google.protobuf import struct_pb2

from flyteidl_py.core import identifier_pb2, types_pb2
from flyteidl_py.datacatalog import datacatalog_pb2 as dc
from flyteplane.errors import InvalidArgument
from propeller.catalog import CatalogKey, artifact_tag, dataset_id, source_from_metadata
from propeller.catalog.keys import artifact_metadata, dataset_metadata
from tests.unit.propeller.catalog.builders import (
    FLOAT,
    INTEGER,
    STRING,
    inputs,
    integer,
    interface,
    simple,
    task,
    task_id,
)

SQUARE = interface({"x": INTEGER}, {"o0": INTEGER})


def test_the_dataset_is_named_after_the_task_in_its_project_and_domain() -> None:
    dataset = dataset_id(task_id("workflows.square"), "1.0", SQUARE)
    assert (dataset.project, dataset.domain, dataset.name) == (
        "flytesnacks",
        "development",
        "flyte_task-workflows.square",
    )
    version, inputs_hash, outputs_hash = dataset.version.rsplit("-", 2)
    assert version == "1.0"
    assert len(inputs_hash) == len(outputs_hash) == 8


def test_a_new_cache_version_is_a_new_dataset() -> None:
    assert dataset_id(task_id(), "1.0", SQUARE).version != dataset_id(task_id(), "1.1", SQUARE).version


def test_a_changed_interface_is_a_new_dataset() -> None:
    base = dataset_id(task_id(), "1.0", SQUARE).version
    assert dataset_id(task_id(), "1.0", interface({"x": FLOAT}, {"o0": INTEGER})).version != base
    assert dataset_id(task_id(), "1.0", interface({"y": INTEGER}, {"o0": INTEGER})).version != base
    assert dataset_id(task_id(), "1.0", interface({"x": INTEGER}, {"o0": STRING})).version != base
    assert dataset_id(task_id(), "1.0", interface({"x": INTEGER}, {})).version != base


def test_a_new_task_version_with_the_same_cache_version_and_interface_shares_the_dataset() -> None:
    assert dataset_id(task_id(version="v1"), "1.0", SQUARE) == dataset_id(task_id(version="v2"), "1.0", SQUARE)


def test_type_metadata_and_descriptions_do_not_change_the_dataset() -> None:
    documented = interface({"x": INTEGER}, {"o0": INTEGER})
    documented.inputs.variables["x"].description = "the number to square"
    documented.inputs.variables["x"].type.metadata.update({"format": "int64"})
    assert dataset_id(task_id(), "1.0", documented) == dataset_id(task_id(), "1.0", SQUARE)


def test_a_cache_key_annotation_changes_the_dataset() -> None:
    annotated = interface({"x": INTEGER}, {"o0": INTEGER})
    annotation = struct_pb2.Struct()
    annotation.update({"cache-key-metadata": {"serialization": "v2"}})
    annotated.inputs.variables["x"].type.annotation.annotations.CopyFrom(annotation)
    assert dataset_id(task_id(), "1.0", annotated) != dataset_id(task_id(), "1.0", SQUARE)


def test_the_cache_version_is_trimmed_and_must_not_be_empty() -> None:
    assert dataset_id(task_id(), " 1.0 ", SQUARE) == dataset_id(task_id(), "1.0", SQUARE)
    with pytest.raises(InvalidArgument, match="discovery_version"):
        dataset_id(task_id(), "  ", SQUARE)


def test_the_tag_names_the_inputs_hash() -> None:
    tag = artifact_tag(inputs({"x": integer(3)}))
    assert tag.startswith("flyte_cached-")
    assert tag != artifact_tag(inputs({"x": integer(4)}))


def test_a_key_for_a_task_leaves_out_the_inputs_it_ignores() -> None:
    typed = interface({"x": INTEGER, "seed": INTEGER}, {"o0": INTEGER})
    template = task(typed, ignore=("seed",))
    first = CatalogKey.for_task(template, inputs({"x": integer(3), "seed": integer(1)}))
    second = CatalogKey.for_task(template, inputs({"seed": integer(2), "x": integer(3)}))
    assert first.tag == second.tag
    assert first.dataset_id == second.dataset_id
    assert first.reservation_id == dc.ReservationID(dataset_id=first.dataset_id, tag_name=first.tag)
    unignored = CatalogKey.for_task(task(typed), inputs({"x": integer(3), "seed": integer(1)}))
    assert unignored.tag != first.tag


def test_a_key_without_a_cache_version_cannot_be_made() -> None:
    with pytest.raises(InvalidArgument):
        CatalogKey.for_task(task(SQUARE, cache_version=""), inputs({"x": integer(3)}))


def test_the_source_execution_round_trips_through_catalog_metadata() -> None:
    source = identifier_pb2.TaskExecutionIdentifier(
        task_id=task_id(version="v7"),
        node_execution_id=identifier_pb2.NodeExecutionIdentifier(
            node_id="n0",
            execution_id=identifier_pb2.WorkflowExecutionIdentifier(project="p2", domain="d2", name="exec1"),
        ),
        retry_attempt=2,
    )
    found = source_from_metadata(dataset_metadata(source), artifact_metadata(source), task_id(version="v9"))
    assert found.task_id.version == "v7"
    assert found.retry_attempt == 2
    assert found.node_execution_id.node_id == "n0"
    assert found.node_execution_id.execution_id.name == "exec1"
    assert found.node_execution_id.execution_id.project == "p2"


def test_missing_source_metadata_reads_unknown() -> None:
    found = source_from_metadata(dc.Metadata(), dc.Metadata(), task_id())
    assert found.task_id.version == "unknown"
    assert found.node_execution_id.node_id == "unknown"
    assert found.node_execution_id.execution_id.project == "flytesnacks"
    assert found.retry_attempt == 0


def test_simple_types_in_unions_are_stripped_too() -> None:
    with_metadata = types_pb2.LiteralType(union_type=types_pb2.UnionType(variants=[simple(types_pb2.INTEGER)]))
    with_metadata.union_type.variants[0].metadata.update({"doc": "x"})
    plain = types_pb2.LiteralType(union_type=types_pb2.UnionType(variants=[simple(types_pb2.INTEGER)]))
    assert dataset_id(task_id(), "1", interface({"x": with_metadata})) == dataset_id(
        task_id(), "1", interface({"x": plain})
    )
