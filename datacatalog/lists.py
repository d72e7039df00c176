"""DataCatalog's list grammar: filter expressions and pagination options, checked and turned into values.

Filters are ANDed and only EQUALS exists. Artifacts may be filtered by tag, partition and artifact
id, datasets by their id's fields; any other combination is INVALID_ARGUMENT ("artifact cannot
be filtered by dataset properties"). Tokens are decimal offsets; as in Flyte, the next token is
always `offset + len(page)`, even on the last page, so clients stop on an empty page.
"""

from __future__ import annotations

from dataclasses import dataclass

from datacatalog.validation import SHORT_TEXT_BYTES, TEXT_BYTES, invalid, missing, text
from flyteidl_py.datacatalog import datacatalog_pb2 as dc
from flyteplane.errors import InvalidArgument
from flyteplane.paging import offset_of

DEFAULT_LIMIT = 50
_MAX_OFFSET = 2**31 - 1

# The entity each kind of filter is about, in the words of Flyte's error messages.
_FILTER_ENTITY = {
    "tag_filter": "tag",
    "partition_filter": "partition",
    "artifact_filter": "artifact",
    "dataset_filter": "dataset",
}
_DATASET_FIELDS = ("project", "name", "domain", "version", "org")


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int
    ascending: bool

    def next_token(self, returned: int) -> str:
        return str(self.offset + returned)


def page(options: dc.PaginationOptions, present: bool) -> Page:
    """No options: the first 50, newest first. A limit of 0 means the default limit."""
    if not present:
        return Page(0, DEFAULT_LIMIT, ascending=False)
    token = options.token.strip(" ")
    message = f"Invalid token value: {options.token[:40]}"
    offset = offset_of(token, "pagination.token", message=message, maximum=_MAX_OFFSET)
    if options.sortKey != dc.PaginationOptions.CREATION_TIME:
        raise InvalidArgument(f"Invalid sort key {options.sortKey}", field="pagination.sortKey")
    if options.sortOrder not in (dc.PaginationOptions.DESCENDING, dc.PaginationOptions.ASCENDING):
        raise InvalidArgument(f"Invalid sort order {options.sortOrder}", field="pagination.sortOrder")
    return Page(offset, options.limit or DEFAULT_LIMIT, ascending=options.sortOrder == dc.PaginationOptions.ASCENDING)


@dataclass(frozen=True)
class ArtifactFilters:
    """What every listed artifact must have: all these tags, partition values and one of no other ids."""

    tag_names: tuple[str, ...] = ()
    partitions: tuple[tuple[str, str], ...] = ()
    artifact_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class DatasetFilters:
    """Required values of dataset id fields, as (field, value) pairs."""

    equals: tuple[tuple[str, str], ...] = ()


def _checked(
    expression: dc.FilterExpression, entity: str, allowed: set[str]
) -> list[tuple[str, dc.SinglePropertyFilter]]:
    kinds: list[tuple[str, dc.SinglePropertyFilter]] = []
    for index, single in enumerate(expression.filters):
        field = f"filter.filters[{index}]"
        kind = single.WhichOneof("property_filter")
        if kind is None:
            raise missing(f"{field}.property_filter", "property filter")
        if kind not in allowed:
            raise InvalidArgument(f"{entity} cannot be filtered by {_FILTER_ENTITY[kind]} properties", field=field)
        if single.operator != dc.SinglePropertyFilter.EQUALS:
            raise invalid(f"{field}.operator", str(single.operator), "only EQUALS is supported")
        kinds.append((kind, single))
    return kinds


def artifact_filters(expression: dc.FilterExpression) -> ArtifactFilters:
    tags: list[str] = []
    partitions: list[tuple[str, str]] = []
    ids: list[str] = []
    for index, (kind, single) in enumerate(
        _checked(expression, "artifact", {"tag_filter", "partition_filter", "artifact_filter"})
    ):
        field = f"filter.filters[{index}]"
        if kind == "tag_filter":
            tags.append(text(single.tag_filter.tag_name, f"{field}.tag_filter.tag_name", label="tagName"))
        elif kind == "partition_filter":
            pair = single.partition_filter.key_val
            partitions.append(
                (
                    text(pair.key, f"{field}.partition_filter.key_val.key", label="partitionKey"),
                    text(pair.value, f"{field}.partition_filter.key_val.value", label="partitionValue"),
                )
            )
        else:
            ids.append(
                text(single.artifact_filter.artifact_id, f"{field}.artifact_filter.artifact_id", label="artifactID")
            )
    return ArtifactFilters(tuple(tags), tuple(partitions), tuple(ids))


def dataset_filters(expression: dc.FilterExpression) -> DatasetFilters:
    equals: list[tuple[str, str]] = []
    for index, (_, single) in enumerate(_checked(expression, "dataset", {"dataset_filter"})):
        field = f"filter.filters[{index}].dataset_filter"
        which = single.dataset_filter.WhichOneof("property")
        if which is None:
            raise missing(f"{field}.property", "dataset property")
        assert which in _DATASET_FIELDS
        value = getattr(single.dataset_filter, which)
        short = which in ("project", "domain", "org")
        equals.append((which, text(value, f"{field}.{which}", limit=SHORT_TEXT_BYTES if short else TEXT_BYTES)))
    return DatasetFilters(tuple(equals))
