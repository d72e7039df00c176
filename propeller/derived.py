"""What the engine derives from a loaded execution and keeps while it stays loaded; never persisted.

Everything here is rebuilt from the closure and the node records after a load, so dropping it (a
failed round drops the whole working copy) loses nothing but time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flyteidl_py.core import literals_pb2
from propeller.frontier import Frontier
from propeller.scope import Scope


@dataclass
class Derived:
    # The workflow's own graph, with its dependency order.
    top: Scope | None = None
    # The scope of the workflow's failure node, once the workflow has failed and runs it.
    failure: Scope | None = None
    # Graphs nodes run (sub-workflows, branch children, dynamic workflows) by "<node key>/<attempt>/<tag>":
    # the same object round after round keeps its frontier.
    scopes: dict[str, Scope] = field(default_factory=dict)
    # Each scope's frontier, by the scope's key prefix.
    frontiers: dict[str, Frontier] = field(default_factory=dict)
    # Keys of the nodes holding a slot of max parallelism (None until first counted).
    occupied: set[str] | None = None
    # Objects queued by Services.write_literals_later and not written yet.
    unsettled_writes: list[tuple[str, literals_pb2.LiteralMap]] = field(default_factory=list)
