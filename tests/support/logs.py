"""The process's log lines as `flyteplane.logs.configure_logging` formats them, captured for a test."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flyteplane.config import LoggingConfig
from flyteplane.logs import configure_logging


@contextmanager
def captured_lines(config: LoggingConfig) -> Iterator[io.StringIO]:
    """Lines logged inside the block, formatted per `config` (the root logger and levels restored after)."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    levels = {name: logging.getLogger(name).level for name in config.logger_levels()}
    configure_logging(config)
    stream = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    try:
        yield stream
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        for name, previous in levels.items():
            logging.getLogger(name).setLevel(previous)


def json_entries(stream: io.StringIO) -> list[dict[str, Any]]:
    """The JSON lines written so far, parsed."""
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
