"""The cyclic garbage collector of a long-running server, set once the server has started.

A started plane holds a few hundred thousand objects it built to start (modules, SQLAlchemy mappers,
protobuf descriptors, the gRPC servers) that live until it stops. With CPython's defaults every
collection of the oldest generation walks all of them again, and a young collection runs every 700
allocations: measured on two cores, the collector was about a tenth of the plane's CPU per task
(perf, W1 of bench/peer_workloads.py). `settle()` collects once, moves what survives into the
permanent generation (`gc.freeze`: never walked again, never freed) and lets the young generation grow
larger before it is collected. Reference counting still frees everything that is not in a cycle at
once; cycles made after the start are found as before, only in fewer, larger passes.
"""

from __future__ import annotations

import gc

# Allocations (minus deallocations) of container objects between two young collections: CPython's 700 is
# tuned for short scripts; a server handling thousands of protobuf messages a second goes through it in
# well under a millisecond.
YOUNG_THRESHOLD = 20_000


def settle() -> None:
    """Called once a server has started: what exists now is kept out of every later collection, and young
    collections run every `YOUNG_THRESHOLD` allocations."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
