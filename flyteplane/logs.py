"""Structured logging: one setup for every process, context fields (execution, node, attempt) on each line.

The engine names the execution (and node and attempt) it works on with `set_log_source`, so every
line logged meanwhile, by any module, says whose it is: project, domain, execution, node, attempt
and, with tracing on, the trace id. `log_context` adds fields by hand.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

from flyteplane.config import LoggingConfig
from flyteplane.tracing import current_trace_id, tracing_on

# No shared default dict: readers pass a fresh {} when nothing is set.
_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("flyteplane_log_context")


class LogSource(Protocol):
    """Work that knows whose it is (an execution in a round, a node in a pass): asked only when a line is logged."""

    def log_fields(self) -> dict[str, Any]: ...


# The engine names what it is working on by reference: nothing is built unless a line is actually logged.
_source: contextvars.ContextVar[LogSource | None] = contextvars.ContextVar("flyteplane_log_source", default=None)


def set_log_source(source: LogSource) -> contextvars.Token[LogSource | None]:
    """Lines logged from here on (in this context) carry `source.log_fields()`; undo with `reset_log_source`."""
    return _source.set(source)


def reset_log_source(token: contextvars.Token[LogSource | None]) -> None:
    _source.reset(token)


def context_fields() -> dict[str, Any]:
    """The fields a line logged here carries: the current source's, then any `log_context` ones."""
    source = _source.get()
    fields = _context.get({})
    return {**source.log_fields(), **fields} if source is not None else fields


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Attach fields (e.g. execution="p/d/name", node="n0", attempt=1) to every record logged inside."""
    token = _context.set({**_context.get({}), **fields})
    try:
        yield
    finally:
        _context.reset(token)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        fields = context_fields()
        if "trace_id" not in fields and tracing_on():
            trace_id = current_trace_id()  # e.g. the RPC a server is handling
            if trace_id:
                fields = {**fields, "trace_id": trace_id}
        record.context = fields
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, context fields and any exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "context", {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = getattr(record, "context", {})
        return line + "".join(f" {k}={v}" for k, v in context.items())


def configure_logging(config: LoggingConfig) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ContextFilter())
    if config.format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(config.level)
    # Libraries that narrate routine work (every migration step, every HTTP request) speak up on problems only.
    for noisy in ("alembic", "uvicorn.access", "httpx"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # Per component (a logger name and everything under it), after the defaults so a setting wins.
    for name, level in config.logger_levels().items():
        logging.getLogger(name).setLevel(level)
