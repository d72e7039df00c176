"""What a reuse worker undoes of flytekit's per-process state between attempts (`plugins.local.warm.interpreter`)."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator

import pytest

from plugins.local.warm.interpreter import DEFAULT_RESOLVER, forget_compiled_workflow, resolved_task

ARGS = ["--inputs", "/d/inputs.pb", "--resolver", DEFAULT_RESOLVER, "--", "task-module", "app.dyn", "task-name", "fan"]


class Task:
    """Stands in for a flytekit task object: `_wf` is where a @dynamic keeps the workflow it compiled."""

    def __init__(self, compiled: object = None) -> None:
        self._wf = compiled


@pytest.fixture
def module() -> Iterator[types.ModuleType]:
    module = types.ModuleType("app.dyn")
    sys.modules["app.dyn"] = module
    yield module
    del sys.modules["app.dyn"]


def test_the_default_resolver_names_the_task_module_and_name() -> None:
    assert resolved_task(ARGS) == ("app.dyn", "fan")
    assert resolved_task([*ARGS[:3], "my.Resolver", *ARGS[4:]]) is None  # another resolver: its own arguments
    assert resolved_task(ARGS[:4]) is None  # no loader arguments
    assert resolved_task([*ARGS, "extra"]) is None


def test_the_workflow_a_dynamic_compiled_in_an_earlier_attempt_is_forgotten(module: types.ModuleType) -> None:
    module.fan = Task(compiled="the first call's graph")  # type: ignore[attr-defined]
    forget_compiled_workflow(ARGS)
    assert module.fan._wf is None  # type: ignore[attr-defined]


def test_nothing_changes_for_other_tasks_and_modules_not_imported(module: types.ModuleType) -> None:
    module.fan = Task(compiled="kept")  # type: ignore[attr-defined]
    module.other = object()  # type: ignore[attr-defined]
    forget_compiled_workflow([*ARGS[:-1], "other"])
    forget_compiled_workflow([*ARGS[:-3], "not.imported", "task-name", "fan"])
    forget_compiled_workflow([*ARGS[:3], "my.Resolver", *ARGS[4:]])
    assert module.fan._wf == "kept"  # type: ignore[attr-defined]
