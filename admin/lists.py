"""Flyte's list grammar: filter expressions, sort keys and offset tokens, turned into SQLAlchemy queries.

    filters := expr ("+" expr)*        expr := func "(" [entity "."] column "," value (";" value)* ")"

A field names a database column of the list's entity, or of an entity that list may join (an
execution list may filter on `launch_plan.name`, a task-execution list on `execution.phase`, ...).
Tokens are decimal offsets; a page shorter than the limit ends the listing (token "").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence, Sized
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import BigInteger, ColumnElement, DateTime, Integer, Select, String, and_, cast
from sqlalchemy.sql.schema import Column

from admin.models import (
    Execution,
    ExecutionTag,
    LaunchPlan,
    NamedEntityMetadata,
    NodeExecution,
    Project,
    Signal,
    Task,
    TaskExecution,
    Workflow,
)
from admin.models.base import AdminBase
from flyteidl_py.admin import common_pb2
from flyteplane.errors import InvalidArgument
from flyteplane.paging import offset_of

# A list's whole `filters` string may be at most this long: no client writes more, and every filter
# becomes a SQL clause.
MAX_FILTERS_LENGTH = 8192
_FUNCTIONS = {"eq", "ne", "gt", "gte", "lt", "lte", "contains", "not_like", "value_in", "value_not_in"}

ENTITY_MODELS: dict[str, type[AdminBase]] = {
    "task": Task,
    "workflow": Workflow,
    "launch_plan": LaunchPlan,
    "execution": Execution,
    "node_execution": NodeExecution,
    "task_execution": TaskExecution,
    "project": Project,
    "signal": Signal,
    "named_entity_metadata": NamedEntityMetadata,
    "execution_tag": ExecutionTag,
    "admin_tag": ExecutionTag,
    "execution_admin_tag": ExecutionTag,
}

# Which other entities each list may filter on, and how each one is joined to the list's entity.
_JOINS: dict[str, dict[str, Callable[[], ColumnElement[bool]]]] = {
    "execution": {
        "launch_plan": lambda: Execution.launch_plan_id == LaunchPlan.id,
        "workflow": lambda: Execution.workflow_id == Workflow.id,
        "task": lambda: Execution.task_id == Task.id,
        "execution_tag": lambda: ExecutionTag.execution_id == Execution.id,
    },
    "launch_plan": {"workflow": lambda: LaunchPlan.workflow_id == Workflow.id},
    "node_execution": {"execution": lambda: NodeExecution.execution_id == Execution.id},
    "task_execution": {
        "node_execution": lambda: TaskExecution.node_execution_id == NodeExecution.id,
        "execution": lambda: and_(
            TaskExecution.node_execution_id == NodeExecution.id, NodeExecution.execution_id == Execution.id
        ),
        "task": lambda: and_(
            TaskExecution.project == Task.project,
            TaskExecution.domain == Task.domain,
            TaskExecution.name == Task.name,
            TaskExecution.version == Task.version,
        ),
    },
}
_EXECUTION_SCOPED = {"execution", "node_execution", "task_execution", "signal"}
_ID_FIELDS = {"project", "domain", "name"}


@dataclass(frozen=True)
class Filter:
    function: str
    entity: str
    field: str
    values: tuple[str, ...]


def _entity_name(prefix: str) -> str:
    return "execution_tag" if prefix in ("admin_tag", "execution_admin_tag") else prefix


def filter_expressions(text: str) -> list[tuple[str, str, str]]:
    """`fn(field,value)+fn(field,value)...` as (function, field, value) triples; InvalidArgument if malformed.

    In one pass over the text (Flyte matches each expression with `(.+)\\((.+),(.+)\\)`; a backtracking
    regex engine takes time cubic in the length for that, so the same split is computed directly):
    the value follows the last comma that leaves it non-empty, the field runs back to the last `(`
    that leaves both the function name and the field non-empty. A line break is refused anywhere.
    """
    if len(text) > MAX_FILTERS_LENGTH:
        raise InvalidArgument(f"filters is longer than {MAX_FILTERS_LENGTH} characters", field="filters")
    if "\x00" in text:
        raise InvalidArgument("filters must not contain NUL characters", field="filters")
    triples = []
    for raw in text.split("+"):
        expression = raw.strip()
        comma = expression.rfind(",", 0, len(expression) - 2)
        opening = expression.rfind("(", 1, comma - 1) if comma > 0 else -1
        if not expression.endswith(")") or "\n" in expression or opening < 1:
            raise InvalidArgument(f"invalid value for filters: {raw[:100]!r}", field="filters")
        function, field, value = expression[:opening], expression[opening + 1 : comma], expression[comma + 1 : -1]
        triples.append((function.strip(), field.strip(), value.strip()))
    return triples


def parse_filters(text: str, primary: str) -> list[Filter]:
    """Parse a filter string for a list of `primary` entities; InvalidArgument on any problem."""
    if not text:
        return []
    parsed = []
    for function, field, value in filter_expressions(text):
        if function not in _FUNCTIONS:
            raise InvalidArgument(f"unrecognized filter function: {function}", field="filters")
        entity, _, column = field.rpartition(".")
        prefix = entity or primary
        entity = _entity_name(prefix)
        if prefix == "admin_tag" and column == "name":
            column = "key"
        if entity != primary and entity not in _JOINS.get(primary, {}):
            raise InvalidArgument(f"'{prefix}' entity is not allowed in filters", field="filters")
        if entity in _EXECUTION_SCOPED and column in _ID_FIELDS and entity != "task_execution":
            column = f"execution_{column}"
        model = ENTITY_MODELS.get(entity)
        if model is None or column not in model.__table__.c:
            raise InvalidArgument(f"'{prefix}.{column}' is invalid filter", field="filters")
        values = tuple(v for v in value.split(";")) if function in ("value_in", "value_not_in") else (value,)
        parsed.append(Filter(function, entity, column, values))
    return parsed


def _parse_duration_ns(value: str) -> int:
    try:
        return int(float(value) * 1e9)
    except ValueError:
        pass
    units = {"h": 3600e9, "m": 60e9, "s": 1e9, "ms": 1e6, "us": 1e3, "µs": 1e3, "ns": 1.0}
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)", value)
    if not parts or "".join(n + u for n, u in parts) != value:
        raise InvalidArgument(f"invalid duration filter value {value!r}", field="filters")
    return int(sum(float(n) * units[u] for n, u in parts))


def _typed(column: Column[Any], value: str) -> Any:
    """Filter values arrive as strings; PostgreSQL compares only like with like, so convert them."""
    if column.name == "duration":
        return _parse_duration_ns(value)
    if isinstance(column.type, (Integer, BigInteger)):
        try:
            return int(value)
        except ValueError as exc:
            raise InvalidArgument(f"{column.name} filter needs an integer, got {value!r}", field="filters") from exc
    if isinstance(column.type, DateTime) or column.name.endswith("_at"):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise InvalidArgument(
                f"{column.name} filter needs an RFC 3339 time, got {value!r}", field="filters"
            ) from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return value


def _clause(f: Filter) -> Any:
    column: Any = ENTITY_MODELS[f.entity].__table__.c[f.field]
    values = [_typed(column, v) for v in f.values]
    match f.function:
        case "eq":
            return column == values[0]
        case "ne":
            return column != values[0]
        case "gt":
            return column > values[0]
        case "gte":
            return column >= values[0]
        case "lt":
            return column < values[0]
        case "lte":
            return column <= values[0]
        case "contains":
            return cast(column, String).contains(f.values[0], autoescape=True)
        case "not_like":
            return column.not_like(f.values[0])
        case "value_in":
            return column.in_(values)
        case _:
            return column.not_in(values)


def apply_filters(query: Select[Any], filters: Sequence[Filter], primary: str) -> Select[Any]:
    """Join every referenced entity once, then AND all the filter clauses."""
    joined: set[str] = set()
    for f in filters:
        if f.entity != primary and f.entity not in joined:
            joined.add(f.entity)
            if f.entity == "execution" and primary == "task_execution":
                query = query.join(NodeExecution, TaskExecution.node_execution_id == NodeExecution.id)
                query = query.join(Execution, NodeExecution.execution_id == Execution.id)
            elif f.entity == "node_execution" and primary == "task_execution" and "execution" in joined:
                continue  # already joined on the way to execution
            else:
                query = query.join(ENTITY_MODELS[f.entity], _JOINS[primary][f.entity]())
    return query.where(*[_clause(f) for f in filters]) if filters else query


def apply_sort(query: Select[Any], sort: common_pb2.Sort | None, model: type[AdminBase]) -> Select[Any]:
    if sort is None or not sort.key:
        return query
    if sort.key not in model.__table__.c:
        raise InvalidArgument(f"invalid sort key '{sort.key}'", field="sort_by.key")
    column = model.__table__.c[sort.key]
    if sort.direction == common_pb2.Sort.ASCENDING:
        return query.order_by(column.asc(), model.__table__.c["id"].asc())
    if sort.direction == common_pb2.Sort.DESCENDING:
        return query.order_by(column.desc(), model.__table__.c["id"].desc())
    raise InvalidArgument(f"invalid sort order {sort.direction}", field="sort_by.direction")


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int  # 0 = no limit (only ListProjects allows it)

    def token_after(self, returned: int) -> str:
        return str(self.offset + returned) if self.limit and returned == self.limit else ""

    def apply(self, query: Select[Any]) -> Select[Any]:
        query = query.offset(self.offset)
        return query.limit(self.limit) if self.limit else query


def page(limit: int, token: str, *, allow_unlimited: bool = False) -> Page:
    if limit <= 0 and not (allow_unlimited and limit == 0):
        raise InvalidArgument("invalid value for limit", field="limit")
    return Page(offset_of(token, "token"), limit)


class ListMessage(Protocol):
    """The fields every Flyte list request carries (ResourceListRequest, NodeExecutionListRequest, ...)."""

    filters: str
    limit: int
    token: str
    sort_by: common_pb2.Sort

    def HasField(self, field_name: str) -> bool: ...


@dataclass(frozen=True)
class ListRequest:
    """A list request's parsed filters, its sort (None when unset) and its page window."""

    filters: list[Filter]
    sort: common_pb2.Sort | None
    window: Page

    @property
    def sorted(self) -> bool:
        """Whether the caller asked for an order (else each list keeps its own default order)."""
        return self.sort is not None and bool(self.sort.key)

    def narrow(self, query: Select[Any], primary: str, model: type[AdminBase]) -> Select[Any]:
        """The query with this request's filters and sort applied (the page window comes last, in `apply`)."""
        return apply_sort(apply_filters(query, self.filters, primary), self.sort, model)

    def token_after(self, rows: Sized) -> str:
        return self.window.token_after(len(rows))


def list_request(request: ListMessage, primary: str, *, allow_unlimited: bool = False) -> ListRequest:
    """Parse a list request's filters (for a list of `primary` entities), then its limit and token."""
    filters = parse_filters(request.filters, primary)
    window = page(request.limit, request.token, allow_unlimited=allow_unlimited)
    return ListRequest(filters, request.sort_by if request.HasField("sort_by") else None, window)
