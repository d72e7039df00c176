"""Log lines say whose they are: every line of an execution carries its ids, so its id alone finds its story.

Two executions of a task that always fails (a `flaky` double, tests/support/plugin_doubles.py, with
one retry) run at once; the JSON log lines of one are found by its execution id alone and tell its
start, its failed attempts, the retry and its end with phase and duration.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flyteidl_py.core import execution_pb2 as core
from flyteplane.config import LoggingConfig
from tests.integration.propeller.helpers import ints, launch, register, wait
from tests.support.echo import chain, echo_task
from tests.support.logs import captured_lines
from tests.support.plane import plane_config, running_plane


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """The process's log lines as configured for `format: json`, captured (root logger restored after)."""
    with captured_lines(LoggingConfig(format="json")) as stream:
        yield stream


def _config(tmp_path: Path) -> Any:
    plugins = {
        "factories": {"flaky": "tests.support.plugin_doubles:flaky"},
        "backends": {"flaky": {"record": str(tmp_path / "attempts.jsonl"), "failures": 100}},
    }
    return plane_config(
        tmp_path, f"sqlite:///{tmp_path}/admin.db", f"sqlite:///{tmp_path}/propeller.db", plugins=plugins
    )


def _failing_workflow() -> list[object]:
    task = echo_task("flaky.int")
    task.spec.template.type = "flaky"
    task.spec.template.metadata.retries.retries = 1
    return [task, *chain("always_fails", 1, task="flaky.int")]


async def test_the_log_lines_of_a_failing_execution_are_found_by_its_execution_id(
    tmp_path: Path, json_lines: io.StringIO
) -> None:
    async with running_plane(_config(tmp_path)) as plane:
        await register(plane.stub, _failing_workflow())
        first, second = await asyncio.gather(
            launch(plane.stub, "always_fails", ints(x=1), name="logged-one"),
            launch(plane.stub, "always_fails", ints(x=2), name="logged-two"),
        )
        for ident in (first, second):
            assert (await wait(plane.stub, ident)).closure.phase == core.WorkflowExecution.FAILED
    entries = [json.loads(line) for line in json_lines.getvalue().splitlines() if line.startswith("{")]

    mine = [e for e in entries if e.get("execution") == "logged-one"]
    messages = [e["message"] for e in mine]

    assert all(e["project"] == first.project and e["domain"] == first.domain for e in mine)
    assert len({e["trace_id"] for e in mine}) == 1
    assert messages[0].startswith("execution started")
    assert any(m.startswith("attempt 0 failed, retrying") for m in messages)
    assert any(m.startswith("attempt 1 failed, no retry left") for m in messages)
    assert messages[-1].startswith("execution ended: phase FAILED after ")
    retried = next(e for e in mine if e["message"].startswith("attempt 0 failed"))
    assert (retried["node"], retried["attempt"]) == ("n0", 0)
    assert not any("logged-two" in json.dumps(e) for e in mine)
