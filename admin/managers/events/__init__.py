"""Event ingestion: propeller's workflow, node and task events become the records clients read.

`ingest` answers the RPCs (one event, or a batch in one transaction); one applier per kind of
execution (`workflow`, `node`, `task`) validates an event, offloads its data (`offload`), checks
the transition against its policy in `admin.managers.transitions` and applies it with the pure
functions of `merge`. The rows come from `admin.repositories.lookups`.
"""
