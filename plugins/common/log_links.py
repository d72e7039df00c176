"""Links to admin's live view of an attempt's log (`GET /api/v1/logs/...`), which backends report as `Task log`."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from plugins.core import TaskExecutionContext


def live_log_url(base: str, ctx: TaskExecutionContext) -> str:
    """Admin's log endpoint for this attempt (admin.logs): execution, node, retry attempt and map element."""
    node = ctx.task_execution_id.node_execution_id
    e = node.execution_id
    params: dict[str, str | int] = {"node_id": node.node_id, "attempt": ctx.task_execution_id.retry_attempt}
    if ctx.array_index is not None:
        params["index"] = ctx.array_index
    path = "/".join(quote(part, safe="") for part in (e.project, e.domain, e.name))
    return f"{base}/api/v1/logs/{path}?{urlencode(params)}"


def check_log_link_base(value: str | None) -> str | None:
    """A `log_link_base` setting: an http(s) URL, without its trailing slash."""
    if value is not None and not value.startswith(("http://", "https://")):
        raise ValueError(f"log_link_base must be an http(s) URL, not {value!r}")
    return value.rstrip("/") if value is not None else None
