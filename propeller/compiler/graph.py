"""The workflow DAG: edges between node ids, the ConnectionSet, and reachability / cycle search."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from flyteidl_py.core import compiler_pb2


@dataclass
class Edges:
    """Upstream and downstream adjacency, built up while a workflow compiles."""

    upstream: dict[str, set[str]] = field(default_factory=dict)
    downstream: dict[str, set[str]] = field(default_factory=dict)

    def add(self, node_id: str, sources: Iterable[str], *, downstream: bool) -> None:
        """Record `sources → node_id`; only in the upstream map unless `downstream` is set."""
        for source in sources:
            self.upstream.setdefault(node_id, set()).add(source)
            if downstream:
                self.downstream.setdefault(source, set()).add(node_id)

    def connections(self) -> compiler_pb2.ConnectionSet:
        result = compiler_pb2.ConnectionSet()
        for node_id, ids in self.upstream.items():
            if ids:
                result.upstream[node_id].ids.extend(sorted(ids))
        for node_id, ids in self.downstream.items():
            if ids:
                result.downstream[node_id].ids.extend(sorted(ids))
        return result


def walk_from(start: str, downstream: Mapping[str, Iterable[str]]) -> tuple[list[str] | None, set[str]]:
    """Depth-first walk from `start`: the first cycle found (a closed path) or None, and the nodes reached."""
    visited = {start}
    path = [start]
    on_path = {start}
    stack = [iter(sorted(downstream.get(start, ())))]
    while stack:
        following = next(stack[-1], None)
        if following is None:
            stack.pop()
            on_path.discard(path.pop())
            continue
        if following in on_path:
            return [*path[path.index(following) :], following], visited
        if following in visited:
            continue
        visited.add(following)
        path.append(following)
        on_path.add(following)
        stack.append(iter(sorted(downstream.get(following, ()))))
    return None, visited
