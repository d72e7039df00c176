"""Log setup: per-component levels, and the fields of the work in hand on text and JSON lines."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from flyteplane.config import LoggingConfig, load_config
from flyteplane.logs import configure_logging, reset_log_source, set_log_source
from launcher.config import FlyteplaneConfig


class _Node:
    def log_fields(self) -> dict[str, str | int]:
        return {"execution": "run-1", "node": "n0", "attempt": 2}


@pytest.fixture
def restored_root() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        yield
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


def _capture(config: LoggingConfig) -> io.StringIO:
    configure_logging(config)
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    return stream


def test_a_component_may_log_at_its_own_level(restored_root: None) -> None:
    configure_logging(
        LoggingConfig(level="INFO", levels={"flyteplane.propeller": "DEBUG", "flyteplane.admin": "ERROR"})
    )

    assert logging.getLogger("flyteplane.propeller.events").isEnabledFor(logging.DEBUG)
    assert not logging.getLogger("flyteplane.admin").isEnabledFor(logging.WARNING)
    assert logging.getLogger("flyteplane.datacatalog").getEffectiveLevel() == logging.INFO


def test_json_lines_carry_the_fields_of_the_work_in_hand(restored_root: None) -> None:
    stream = _capture(LoggingConfig(format="json"))
    token = set_log_source(_Node())
    try:
        logging.getLogger("flyteplane.propeller").info("attempt failed")
    finally:
        reset_log_source(token)
    logging.getLogger("flyteplane.propeller").info("between rounds")

    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (inside["execution"], inside["node"], inside["attempt"]) == ("run-1", "n0", 2)
    assert "execution" not in outside


def test_text_lines_carry_the_same_fields(restored_root: None) -> None:
    stream = _capture(LoggingConfig(format="text"))
    token = set_log_source(_Node())
    try:
        logging.getLogger("flyteplane.propeller").info("attempt failed")
    finally:
        reset_log_source(token)

    assert stream.getvalue().rstrip().endswith("attempt failed execution=run-1 node=n0 attempt=2")


def test_a_component_is_named_by_its_short_name_in_either_case(restored_root: None) -> None:
    config = load_config(
        FlyteplaneConfig, env={"FLYTEPLANE_LOGGING__LEVELS": "{admin: debug, propeller: warning, plugins.local: ERROR}"}
    )
    configure_logging(config.logging)
    try:
        assert logging.getLogger("flyteplane.admin.delivery").isEnabledFor(logging.DEBUG)
        assert not logging.getLogger("flyteplane.propeller").isEnabledFor(logging.INFO)
        assert not logging.getLogger("plugins.local.backend").isEnabledFor(logging.WARNING)
        assert logging.getLogger("flyteplane.scheduler").getEffectiveLevel() == logging.INFO
    finally:
        for name in ("flyteplane.admin", "flyteplane.propeller", "plugins.local"):
            logging.getLogger(name).setLevel(logging.NOTSET)


def test_a_debug_line_of_one_component_is_written_and_anothers_is_not(restored_root: None) -> None:
    stream = _capture(LoggingConfig(level="INFO", levels={"admin": "DEBUG"}))
    try:
        logging.getLogger("flyteplane.admin.rest").debug("admin detail")
        logging.getLogger("flyteplane.propeller").debug("engine detail")
    finally:
        logging.getLogger("flyteplane.admin").setLevel(logging.NOTSET)
    assert "admin detail" in stream.getvalue()
    assert "engine detail" not in stream.getvalue()
