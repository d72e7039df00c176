"""Structured logging: one setup for every process, context fields (execution, node, attempt) on each line."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flyteplane.config import LoggingConfig

# No shared default dict: readers pass a fresh {} when nothing is set.
_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("flyteplane_log_context")


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
        record.context = _context.get({})
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
