"""Explaining a cache miss: which key part differs from the nearest cached artifact of the same task."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from flyteidl_py.core import catalog_pb2, identifier_pb2, interface_pb2, types_pb2, workflow_pb2
from flyteidl_py.datacatalog import datacatalog_pb2 as dc
from propeller.catalog import CatalogKey
from propeller.catalog.explain import (
    CACHE_VERSION,
    DOMAIN,
    IGNORED_INPUT,
    INPUT,
    INPUT_VARIABLE,
    INPUTS,
    INPUTS_SIGNATURE,
    OUTPUT_VARIABLE,
    Cached,
    Difference,
    Explanation,
    Wanted,
    compare,
    literal_text,
    nearest,
)
from propeller.catalog.keys import artifact_metadata, dataset_metadata, element_interface, split_dataset_version
from tests.unit.propeller.catalog.builders import (
    FLOAT,
    INTEGER,
    STRING,
    collection,
    inputs,
    integer,
    interface,
    string,
    task,
)

ADD = interface({"a": INTEGER, "b": INTEGER, "note": STRING}, {"o0": INTEGER})


def _key(
    a: int = 1,
    b: int = 2,
    *,
    cache_version: str = "1.0",
    typed: interface_pb2.TypedInterface = ADD,
    ignore: tuple[str, ...] = (),
    domain: str = "",
) -> CatalogKey:
    template = task(typed, cache_version=cache_version, ignore=ignore)
    if domain:
        template.id.domain = domain
    return CatalogKey.for_task(template, inputs({"a": integer(a), "b": integer(b), "note": string("hi")}))


def _source(execution: str = "earlier", node: str = "n1") -> identifier_pb2.TaskExecutionIdentifier:
    return identifier_pb2.TaskExecutionIdentifier(
        task_id=identifier_pb2.Identifier(name="workflows.square", version="v1"),
        node_execution_id=identifier_pb2.NodeExecutionIdentifier(
            node_id=node,
            execution_id=identifier_pb2.WorkflowExecutionIdentifier(
                project="flytesnacks", domain="development", name=execution
            ),
        ),
    )


def _stored(
    key: CatalogKey,
    *,
    created: int = 1_700_000_000,
    execution: str = "earlier",
    recorded: bool = True,
    array_index: int | None = None,
) -> Cached:
    """The artifact our propeller stores for the key (`recorded=False`: as stored without per-part hashes)."""
    source = _source(execution)
    dataset = dc.Dataset(id=key.dataset_id, metadata=dataset_metadata(source, key if recorded else None))
    artifact = dc.Artifact(
        id=f"artifact-{execution}-{created}",
        dataset=key.dataset_id,
        metadata=artifact_metadata(source, key if recorded else None, array_index=array_index),
        tags=[dc.Tag(name=key.tag, artifact_id="x", dataset=key.dataset_id)],
        created_at=Timestamp(seconds=created),
    )
    return Cached.of(dataset, artifact, key.task_id)


def test_an_artifact_stored_under_the_same_key_differs_in_nothing() -> None:
    comparison = compare(Wanted.of(_key()), _stored(_key()))
    assert comparison.exact
    assert comparison.differences == ()


def test_a_changed_input_is_named_with_both_hashes() -> None:
    wanted, cached = _key(b=5), _key(b=3)
    comparison = compare(Wanted.of(wanted), _stored(cached))
    assert comparison.differences == (Difference(INPUT, "b", wanted.input_hashes["b"], cached.input_hashes["b"]),)
    assert comparison.input_names() == ["b"]


def test_every_changed_input_is_named_and_unchanged_ones_are_not() -> None:
    comparison = compare(Wanted.of(_key(a=9, b=9)), _stored(_key()))
    assert [d.name for d in comparison.differences] == ["a", "b"]


def test_a_new_cache_version_is_the_difference_when_the_inputs_are_the_same() -> None:
    comparison = compare(Wanted.of(_key(cache_version="2.0")), _stored(_key(cache_version="1.0")))
    assert comparison.differences == (Difference(CACHE_VERSION, wanted="2.0", cached="1.0"),)


def test_a_cache_version_with_dashes_is_read_back_whole() -> None:
    comparison = compare(Wanted.of(_key(cache_version="v-2-x")), _stored(_key(cache_version="v-1-x")))
    assert comparison.differences == (Difference(CACHE_VERSION, wanted="v-2-x", cached="v-1-x"),)


def test_dataset_versions_are_cut_by_length_because_hashes_may_contain_dashes() -> None:
    assert split_dataset_version("my-version-ab-d_fgh-A-CDEFGH") == ("my-version", "ab-d_fgh", "A-CDEFGH")
    assert split_dataset_version("short") == ("short", "", "")


def test_an_input_whose_type_changed_is_named() -> None:
    retyped = interface({"a": INTEGER, "b": FLOAT, "note": STRING}, {"o0": INTEGER})
    comparison = compare(Wanted.of(_key(typed=retyped)), _stored(_key()))
    assert [(d.part, d.name) for d in comparison.differences] == [(INPUT_VARIABLE, "b")]
    assert comparison.differences[0].describe() == "input 'b' changed type"


def test_added_and_removed_variables_are_named() -> None:
    widened = interface({"a": INTEGER, "b": INTEGER, "note": STRING, "c": INTEGER}, {"o0": INTEGER, "o1": STRING})
    comparison = compare(Wanted.of(_key(typed=widened)), _stored(_key()))
    described = [d.describe() for d in comparison.differences if d.part in (INPUT_VARIABLE, OUTPUT_VARIABLE)]
    assert described == [
        "input 'c' is new (the cached interface has no such input)",
        "output 'o1' is new (the cached interface has no such output)",
    ]


def test_without_recorded_types_an_interface_change_names_the_side() -> None:
    retyped = interface({"a": INTEGER, "b": FLOAT, "note": STRING}, {"o0": INTEGER})
    comparison = compare(Wanted.of(_key(typed=retyped)), _stored(_key(), recorded=False))
    assert [d.part for d in comparison.differences] == [INPUTS_SIGNATURE]


def test_without_recorded_input_hashes_the_inputs_differ_as_a_whole() -> None:
    comparison = compare(Wanted.of(_key(b=5)), _stored(_key(b=3), recorded=False))
    assert [d.part for d in comparison.differences] == [INPUTS]
    assert "does not record which ones" in comparison.differences[0].describe()


def test_an_input_newly_ignored_is_named_as_a_change_of_the_ignore_list() -> None:
    comparison = compare(Wanted.of(_key(ignore=("note",))), _stored(_key()))
    assert comparison.differences == (Difference(IGNORED_INPUT, "note", "", _key().input_hashes["note"]),)
    assert "cache_ignore_input_vars now" in comparison.differences[0].describe()


def test_the_nearest_artifact_is_in_the_same_dataset_before_another_cache_version() -> None:
    same_inputs_old_version = _stored(_key(b=5, cache_version="0.9"), created=3)
    other_input_same_version = _stored(_key(b=3), created=1)
    found = nearest(Wanted.of(_key(b=5)), [same_inputs_old_version, other_input_same_version])
    assert found is not None
    assert found.cached is other_input_same_version


def test_among_equally_near_artifacts_the_newest_is_nearest() -> None:
    older, newer = _stored(_key(b=3), created=1), _stored(_key(b=4), created=2)
    found = nearest(Wanted.of(_key(b=5)), [older, newer])
    assert found is not None and found.cached is newer


def test_another_domain_is_farther_than_anything_in_the_same_domain() -> None:
    elsewhere = _stored(_key(b=5, domain="production"), created=5)
    here = _stored(_key(b=3, cache_version="0.1"), created=1)
    found = nearest(Wanted.of(_key(b=5)), [elsewhere, here])
    assert found is not None and found.cached is here
    alone = nearest(Wanted.of(_key(b=5)), [elsewhere])
    assert alone is not None
    assert alone.differences == (Difference(DOMAIN, wanted="development", cached="production"),)


def test_a_map_element_is_compared_with_the_same_element_of_an_earlier_run_first() -> None:
    other_element, same_element = _stored(_key(b=3), array_index=0, created=2), _stored(_key(b=4), array_index=1)
    found = nearest(Wanted.of(_key(b=5), node_id="n1", array_index=1), [other_element, same_element])
    assert found is not None and found.cached is same_element


def test_nothing_cached_has_no_nearest_artifact() -> None:
    assert nearest(Wanted.of(_key()), []) is None


def test_an_artifact_knows_the_node_and_element_that_stored_it() -> None:
    cached = _stored(_key(), execution="run1", array_index=2)
    assert cached.produced_by("flytesnacks", "development", "run1", "n1", 2)
    assert not cached.produced_by("flytesnacks", "development", "run1", "n1", 1)
    assert not cached.produced_by("flytesnacks", "development", "run2", "n1", 2)


def test_the_report_names_the_input_with_its_values() -> None:
    wanted = _key(b=5)
    comparison = nearest(Wanted.of(wanted), [_stored(_key(b=3))])
    report = Explanation(
        subject="node n1 of execution flytesnacks/development/run2",
        task="workflows.square (version v1)",
        wanted=Wanted.of(wanted),
        cache_status=catalog_pb2.CACHE_POPULATED,
        datasets=1,
        artifacts=1,
        comparison=comparison,
        now={"a": "1", "b": "5", "note": "'hi'"},
        then={"a": "1", "b": "3", "note": "'hi'"},
    ).render()
    assert "cache status   CACHE_POPULATED" in report
    assert "\n  inputs\n    a = 1  (hash " in report and "\n    b = 5  (hash " in report
    assert "    - input 'b' differs: now 5, cached 3" in report
    assert report.endswith("verdict: missed because input 'b' differs: now 5, cached 3")


def test_the_report_says_when_nothing_of_the_task_is_cached() -> None:
    explanation = Explanation("node n1", "workflows.square", Wanted.of(_key()), catalog_pb2.CACHE_MISS, 0, 0, None)
    assert explanation.verdict().startswith("nothing of task workflows.square is cached: no dataset named")


def test_the_report_says_an_exact_entry_was_skipped_under_overwrite_cache() -> None:
    explanation = Explanation(
        "node n1", "t", Wanted.of(_key()), catalog_pb2.CACHE_SKIPPED, 1, 1, compare(Wanted.of(_key()), _stored(_key()))
    )
    assert "overwrite_cache" in explanation.verdict()


def test_a_map_element_is_keyed_with_its_element_interface() -> None:
    mapped = interface(
        {"marker": STRING, "x": types_pb2.LiteralType(collection_type=INTEGER)},
        {"o0": types_pb2.LiteralType(collection_type=INTEGER)},
    )
    element = element_interface(mapped, ("marker",))
    assert element.inputs.variables["x"].type == INTEGER
    assert element.inputs.variables["marker"].type == STRING
    assert element.outputs.variables["o0"].type == INTEGER
    template = task(mapped)
    array = workflow_pb2.ArrayNode(bound_inputs=["marker"])
    key = CatalogKey.for_element(template, array, inputs({"marker": string("m"), "x": integer(3)}))
    assert key.interface == element
    original = workflow_pb2.ArrayNode(bound_inputs=["marker"])
    original.is_original_sub_node_interface.value = True
    assert CatalogKey.for_element(template, original, key.inputs).interface == mapped


def test_literals_read_shortly_in_the_report() -> None:
    assert literal_text(integer(3)) == "3"
    assert literal_text(string("hi")) == "'hi'"
    assert literal_text(collection(*(integer(i) for i in range(7)))) == "[0, 1, 2, 3, 4, …]"
    assert len(literal_text(string("x" * 500))) == 60
