"""Why a cache lookup missed: the key a node looked up, compared part by part with what is cached.

A key has parts (see `propeller.catalog.keys`): the dataset's project and domain, the task's cache
version, the interface signature, and the tag (the hash of the inputs). Each cached artifact of the
same task is compared with the key part by part; the nearest one (fewest differing parts, scope and
cache version weighing most) says what changed: the cache version, a variable of the interface, or
which inputs. Input-by-input and variable-by-variable answers need the per-input hashes and
per-variable type hashes our propeller records in artifact and dataset metadata; for entries
written without them the answer names the whole side ("the inputs differ").

Pure functions over catalog messages: fetching (admin, DataCatalog) is the caller's business.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from google.protobuf import json_format

from flyteidl_py.core import catalog_pb2, identifier_pb2, literals_pb2
from flyteidl_py.datacatalog import datacatalog_pb2 as dc
from propeller.catalog.keys import (
    ARRAY_INDEX_KEY,
    INPUT_HASH_PREFIX,
    INPUT_TYPE_PREFIX,
    OUTPUT_TYPE_PREFIX,
    CatalogKey,
    prefixed,
    source_from_metadata,
    split_dataset_version,
    variable_hashes,
)

# The key parts, as the report names them.
PROJECT = "project"
DOMAIN = "domain"
CACHE_VERSION = "cache version"
INPUT_VARIABLE = "input variable"
OUTPUT_VARIABLE = "output variable"
INPUTS_SIGNATURE = "input interface"
OUTPUTS_SIGNATURE = "output interface"
IGNORED_INPUT = "ignored input"
INPUT = "input"
INPUTS = "inputs"

_SCOPE = frozenset({PROJECT, DOMAIN})
_INTERFACE = frozenset({INPUT_VARIABLE, OUTPUT_VARIABLE, INPUTS_SIGNATURE, OUTPUTS_SIGNATURE})
_SHORT = 10  # characters of a hash shown in the report


@dataclass(frozen=True)
class DatasetParts:
    """A dataset id taken apart: where it lives, its cache version, its interface."""

    project: str
    domain: str
    name: str
    version: str
    cache_version: str
    inputs_signature: str
    outputs_signature: str
    input_types: Mapping[str, str] | None = None  # variable -> type hash; None when not recorded
    output_types: Mapping[str, str] | None = None

    @classmethod
    def of_key(cls, key: CatalogKey) -> DatasetParts:
        interface = key.interface
        return cls._of(key.dataset_id, variable_hashes(interface.inputs), variable_hashes(interface.outputs))

    @classmethod
    def of_dataset(cls, dataset: dc.Dataset) -> DatasetParts:
        metadata = dataset.metadata
        return cls._of(dataset.id, prefixed(metadata, INPUT_TYPE_PREFIX), prefixed(metadata, OUTPUT_TYPE_PREFIX))

    @classmethod
    def _of(
        cls, ident: dc.DatasetID, input_types: Mapping[str, str] | None, output_types: Mapping[str, str] | None
    ) -> DatasetParts:
        cache_version, inputs, outputs = split_dataset_version(ident.version)
        return cls(
            project=ident.project,
            domain=ident.domain,
            name=ident.name,
            version=ident.version,
            cache_version=cache_version,
            inputs_signature=inputs,
            outputs_signature=outputs,
            input_types=input_types,
            output_types=output_types,
        )


@dataclass(frozen=True)
class Wanted:
    """The key a lookup used."""

    dataset: DatasetParts
    tag: str
    input_hashes: Mapping[str, str]
    ignored: tuple[str, ...] = ()
    node_id: str = ""  # the node (and map-task element) that looked up, if known
    array_index: int | None = None

    @classmethod
    def of(cls, key: CatalogKey, *, node_id: str = "", array_index: int | None = None) -> Wanted:
        return cls(
            DatasetParts.of_key(key), key.tag, key.input_hashes, key.cache_ignore_input_vars, node_id, array_index
        )


@dataclass(frozen=True)
class Cached:
    """One cached artifact of the task, with the key parts it was stored under."""

    dataset: DatasetParts
    artifact_id: str
    tags: tuple[str, ...]
    input_hashes: Mapping[str, str] | None  # None when the artifact does not record them
    source: identifier_pb2.TaskExecutionIdentifier
    array_index: int | None = None
    created_at: datetime | None = None

    @classmethod
    def of(cls, dataset: dc.Dataset, artifact: dc.Artifact, task_id: identifier_pb2.Identifier) -> Cached:
        index = artifact.metadata.key_map.get(ARRAY_INDEX_KEY, "")
        return cls(
            dataset=DatasetParts.of_dataset(dataset),
            artifact_id=artifact.id,
            tags=tuple(tag.name for tag in artifact.tags),
            input_hashes=prefixed(artifact.metadata, INPUT_HASH_PREFIX),
            source=source_from_metadata(dataset.metadata, artifact.metadata, task_id),
            array_index=int(index) if index.isdecimal() else None,
            created_at=artifact.created_at.ToDatetime(tzinfo=UTC) if artifact.HasField("created_at") else None,
        )

    def produced_by(self, project: str, domain: str, execution: str, node_id: str, index: int | None) -> bool:
        """Whether this artifact is the one the given node (element) stored itself."""
        node = self.source.node_execution_id
        e = node.execution_id
        return (e.project, e.domain, e.name, node.node_id, self.array_index) == (
            project,
            domain,
            execution,
            node_id,
            index,
        )

    def describe_source(self) -> str:
        node = self.source.node_execution_id
        e = node.execution_id
        element = "" if self.array_index is None else f" element {self.array_index}"
        when = f", stored {self.created_at:%Y-%m-%d %H:%M:%S} UTC" if self.created_at is not None else ""
        return f"execution {e.project}/{e.domain}/{e.name} node {node.node_id}{element}{when}"


@dataclass(frozen=True)
class Difference:
    """One key part where the lookup and a cached artifact disagree."""

    part: str
    name: str = ""  # the variable, for per-variable parts
    wanted: str = ""
    cached: str = ""

    def describe(self, now: Mapping[str, str] | None = None, then: Mapping[str, str] | None = None) -> str:
        """A sentence; `now` / `then` are readable input values (current / cached) when known."""
        if self.part in (PROJECT, DOMAIN, CACHE_VERSION):
            return f"{self.part}: looked up {self.wanted!r}, cached under {self.cached!r}"
        if self.part in (INPUT_VARIABLE, OUTPUT_VARIABLE):
            side = self.part.split()[0]
            if not self.cached:
                return f"{side} {self.name!r} is new (the cached interface has no such {side})"
            if not self.wanted:
                return f"{side} {self.name!r} is gone (the cached interface had it)"
            return f"{side} {self.name!r} changed type"
        if self.part in (INPUTS_SIGNATURE, OUTPUTS_SIGNATURE):
            return f"{self.part}: signature {self.wanted} now, {self.cached} cached (variables or types changed)"
        if self.part == IGNORED_INPUT:
            if not self.wanted:
                return f"input {self.name!r} is in cache_ignore_input_vars now, but was part of the cached key"
            return f"input {self.name!r} is part of the key now, but was ignored (cache_ignore_input_vars) when cached"
        if self.part == INPUT:
            current = (now or {}).get(self.name) or f"hash {self.wanted[:_SHORT]}"
            previous = (then or {}).get(self.name) or f"hash {self.cached[:_SHORT]}"
            return f"input {self.name!r} differs: now {current}, cached {previous}"
        return (
            "the inputs differ (the cached artifact does not record which ones; "
            f"tag {self.wanted} now, {self.cached} cached)"
        )


@dataclass(frozen=True)
class Comparison:
    cached: Cached
    differences: tuple[Difference, ...]
    same_place: bool = False  # stored by the node (and element) id that looked up, in another run

    @property
    def exact(self) -> bool:
        return not self.differences

    def rank(self) -> tuple[int, int, int, int, int, float]:
        """Smaller is nearer: scope, then cache version, then interface, then inputs; then what the
        same node (element) stored in another run; newest first."""
        parts = [d.part for d in self.differences]
        created = self.cached.created_at.timestamp() if self.cached.created_at is not None else 0.0
        return (
            sum(p in _SCOPE for p in parts),
            parts.count(CACHE_VERSION),
            sum(p in _INTERFACE for p in parts),
            sum(p in (INPUT, INPUTS, IGNORED_INPUT) for p in parts),
            0 if self.same_place else 1,
            -created,
        )

    def input_names(self) -> list[str]:
        return [d.name for d in self.differences if d.part == INPUT]


def _variables(part: str, wanted: Mapping[str, str] | None, cached: Mapping[str, str] | None) -> list[Difference]:
    """Per-variable differences of one interface side; none when either side's types are not recorded."""
    if wanted is None or cached is None:
        return []
    return [
        Difference(part, name, wanted.get(name, ""), cached.get(name, ""))
        for name in sorted(set(wanted) | set(cached))
        if wanted.get(name) != cached.get(name)
    ]


def compare(wanted: Wanted, cached: Cached) -> Comparison:
    """Every key part where `cached` differs from the key `wanted` looked up."""
    differences: list[Difference] = []
    have, got = wanted.dataset, cached.dataset
    if have.project != got.project:
        differences.append(Difference(PROJECT, wanted=have.project, cached=got.project))
    if have.domain != got.domain:
        differences.append(Difference(DOMAIN, wanted=have.domain, cached=got.domain))
    if have.cache_version != got.cache_version:
        differences.append(Difference(CACHE_VERSION, wanted=have.cache_version, cached=got.cache_version))
    sides = (
        (
            INPUT_VARIABLE,
            INPUTS_SIGNATURE,
            have.inputs_signature,
            got.inputs_signature,
            have.input_types,
            got.input_types,
        ),
        (
            OUTPUT_VARIABLE,
            OUTPUTS_SIGNATURE,
            have.outputs_signature,
            got.outputs_signature,
            have.output_types,
            got.output_types,
        ),
    )
    interface_changed = False
    for part, signature, mine, theirs, my_types, their_types in sides:
        if mine != theirs:
            interface_changed = True
            found = _variables(part, my_types, their_types)
            differences.extend(found or [Difference(signature, wanted=mine, cached=theirs)])
    if wanted.tag not in cached.tags:
        differences.extend(_inputs(wanted, cached, interface_changed))
    place = (cached.source.node_execution_id.node_id, cached.array_index)
    same_place = bool(wanted.node_id) and place == (wanted.node_id, wanted.array_index)
    return Comparison(cached, tuple(differences), same_place)


def _inputs(wanted: Wanted, cached: Cached, interface_changed: bool) -> list[Difference]:
    first_tag = cached.tags[0] if cached.tags else "(none)"
    if cached.input_hashes is None:
        return [Difference(INPUTS, wanted=wanted.tag, cached=first_tag)]
    mine, theirs = wanted.input_hashes, cached.input_hashes
    found: list[Difference] = []
    for name in sorted(set(mine) | set(theirs)):
        now, then = mine.get(name, ""), theirs.get(name, "")
        if now == then:
            continue
        if now and then:
            found.append(Difference(INPUT, name, now, then))
        elif not interface_changed:  # same variables on both sides: the ignore list changed
            found.append(Difference(IGNORED_INPUT, name, now, then))
    return found or [Difference(INPUTS, wanted=wanted.tag, cached=first_tag)]


def nearest(wanted: Wanted, cached: Iterable[Cached]) -> Comparison | None:
    """The comparison with the nearest cached artifact, or None when nothing is cached."""
    comparisons = [compare(wanted, artifact) for artifact in cached]
    return min(comparisons, key=Comparison.rank, default=None)


# -- the report ------------------------------------------------------------------------------------


def literal_text(literal: literals_pb2.Literal, limit: int = 60) -> str:
    """A short readable rendering of a literal for the report."""
    text = _literal_text(literal)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _literal_text(literal: literals_pb2.Literal) -> str:
    kind = literal.WhichOneof("value")
    if kind == "collection":
        items = literal.collection.literals
        shown = ", ".join(_literal_text(item) for item in items[:5])
        return f"[{shown}{', …' if len(items) > 5 else ''}]"
    if kind == "map":
        entries = sorted(literal.map.literals.items())
        return "{" + ", ".join(f"{k}: {_literal_text(v)}" for k, v in entries[:5]) + "}"
    if kind == "offloaded_metadata":
        return f"<offloaded {literal.offloaded_metadata.uri}>"
    if kind != "scalar":
        return f"<{kind}>"
    scalar = literal.scalar
    which = scalar.WhichOneof("value")
    if which == "primitive":
        primitive = scalar.primitive
        value = primitive.WhichOneof("value")
        if value == "string_value":
            return repr(primitive.string_value)
        if value == "datetime":
            return primitive.datetime.ToDatetime(tzinfo=UTC).isoformat()
        if value == "duration":
            return str(primitive.duration.ToTimedelta())
        return str(getattr(primitive, value)) if value else "<empty>"
    if which == "none_type":
        return "None"
    if which == "blob":
        return scalar.blob.uri
    if which == "structured_dataset":
        return scalar.structured_dataset.uri
    if which == "union":
        return _literal_text(scalar.union.value)
    if which == "generic":
        return json.dumps(json_format.MessageToDict(scalar.generic), sort_keys=True)
    if which == "binary":
        return f"<{scalar.binary.tag or 'binary'} {len(scalar.binary.value)} bytes>"
    return f"<{which}>"


@dataclass(frozen=True)
class Explanation:
    """What one lookup asked for, and how the nearest cached artifact differs."""

    subject: str  # e.g. "node n1 of execution flytesnacks/development/abc"
    task: str
    wanted: Wanted
    cache_status: int  # the node's (or element's) catalog_pb2.CatalogCacheStatus; 0 when unknown
    datasets: int  # datasets of the task found, and artifacts in them (the node's own left out)
    artifacts: int
    comparison: Comparison | None
    now: Mapping[str, str] = field(default_factory=dict)  # readable current input values
    then: Mapping[str, str] = field(default_factory=dict)  # readable inputs of the nearest artifact's run

    def verdict(self) -> str:
        """One sentence: why the lookup missed (or that it would hit)."""
        comparison = self.comparison
        if comparison is None:
            if not self.datasets:
                return f"nothing of task {self.task} is cached: no dataset named {self.wanted.dataset.name}"
            return f"nothing of task {self.task} is cached: its {self.datasets} dataset(s) hold no other artifact"
        if comparison.exact:
            return "an entry for exactly this key is cached: " + _exact_hint(self.cache_status)
        reasons = "; ".join(d.describe(self.now, self.then) for d in comparison.differences)
        return f"missed because {reasons}"

    def render(self) -> str:
        wanted = self.wanted
        lines = [
            f"{self.subject}: task {self.task}",
            f"  cache status   {_status_name(self.cache_status)}",
            f"  dataset        {wanted.dataset.project}/{wanted.dataset.domain}/{wanted.dataset.name}",
            f"  cache version  {wanted.dataset.cache_version}",
            f"  interface      inputs {wanted.dataset.inputs_signature}, outputs {wanted.dataset.outputs_signature}",
            f"  tag            {wanted.tag}",
        ]
        if wanted.input_hashes or wanted.ignored:
            lines.append("  inputs")
        for name in sorted(wanted.input_hashes):
            value = f"{self.now[name]}  " if name in self.now else ""
            lines.append(f"    {name} = {value}(hash {wanted.input_hashes[name][:_SHORT]})")
        for name in wanted.ignored:
            lines.append(f"    {name}: ignored (cache_ignore_input_vars)")
        lines.append(f"  searched       {self.datasets} dataset(s), {self.artifacts} artifact(s) of the task")
        comparison = self.comparison
        if comparison is not None:
            cached = comparison.cached
            lines.append(f"nearest cached artifact {cached.artifact_id}")
            lines.append(f"  from           {cached.describe_source()}")
            lines.append(
                f"  dataset        {cached.dataset.project}/{cached.dataset.domain} version {cached.dataset.version}"
            )
            if comparison.exact:
                lines.append("  differs in     nothing")
            else:
                lines.append("  differs in")
                lines.extend(f"    - {d.describe(self.now, self.then)}" for d in comparison.differences)
        lines.append(f"verdict: {self.verdict()}")
        return "\n".join(lines)


def _status_name(status: int) -> str:
    try:
        return catalog_pb2.CatalogCacheStatus.Name(status)
    except ValueError:
        return str(status)


def _exact_hint(status: int) -> str:
    if status == catalog_pb2.CACHE_HIT:
        return "the lookup hit it"
    if status == catalog_pb2.CACHE_SKIPPED:
        return "the execution asked to overwrite the cache (overwrite_cache), so it did not look up"
    return (
        "it was stored after this lookup (by another execution), or its output objects were missing "
        "from the store when looked up (such an entry is not served and is rewritten by the next run)"
    )
