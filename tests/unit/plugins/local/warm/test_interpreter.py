"""What a reuse worker undoes of flytekit's per-process state between attempts, and an attempt's copy of its code
bundle (`plugins.local.warm.interpreter`)."""

from __future__ import annotations

import base64
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from plugins.local.protocol import BUNDLE_COMPLETE, ELEMENT_INPUTS, AttemptRequest
from plugins.local.warm.interpreter import (
    DEFAULT_RESOLVER,
    forget_compiled_workflow,
    resolved_task,
    unpack_bundle,
    write_inputs,
)

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


def _bundle(root: Path) -> Path:
    """An extracted bundle as the pool leaves it: its archive, a package with its bytecode, a data file."""
    bundle = root / "bundle"
    (bundle / "app" / "__pycache__").mkdir(parents=True)
    (bundle / "fastabc.tar.gz").write_bytes(b"the archive")
    (bundle / "app" / "tasks.py").write_text("x = 1\n")
    (bundle / "app" / "__pycache__" / "tasks.cpython-311.pyc").write_bytes(b"bytecode")
    (bundle / "app" / "greeting.txt").write_text("hello")
    (bundle / BUNDLE_COMPLETE).touch()
    return bundle


def _unpacked(bundle: Path, destination: Path) -> Path:
    destination.mkdir()
    request: AttemptRequest = {"bundle": [str(bundle), str(destination), "fastabc.tar.gz"]}  # type: ignore[typeddict-item]
    unpack_bundle(request)
    return destination


def test_each_attempt_has_its_own_sources_and_data_and_shares_the_archive_and_bytecode(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path)
    first, second = _unpacked(bundle, tmp_path / "first"), _unpacked(bundle, tmp_path / "second")
    files = ["fastabc.tar.gz", "app/tasks.py", "app/__pycache__/tasks.cpython-311.pyc", "app/greeting.txt"]
    for attempt in (first, second):
        assert sorted(str(p.relative_to(attempt)) for p in attempt.rglob("*") if p.is_file()) == sorted(files)
        assert not (attempt / BUNDLE_COMPLETE).exists()
        for name in files:
            assert (attempt / name).read_bytes() == (bundle / name).read_bytes()
    # Never rewritten in place: one file for every attempt.
    for name in ("fastabc.tar.gz", "app/__pycache__/tasks.cpython-311.pyc"):
        assert (first / name).stat().st_ino == (second / name).stat().st_ino == (bundle / name).stat().st_ino
    # A task that writes over a file it was shipped changes its own copy only.
    (first / "app" / "greeting.txt").write_text("overwritten")
    (first / "app" / "tasks.py").write_text("x = 2\n")
    assert (second / "app" / "greeting.txt").read_text() == (bundle / "app" / "greeting.txt").read_text() == "hello"
    assert (second / "app" / "tasks.py").read_text() == "x = 1\n"


def test_a_copy_made_earlier_in_the_destination_is_replaced(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path)
    destination = tmp_path / "attempt"
    (destination / "app" / "__pycache__").mkdir(parents=True)
    (destination / "fastabc.tar.gz").write_bytes(b"an older copy")
    (destination / "app" / "__pycache__" / "tasks.cpython-311.pyc").write_bytes(b"older bytecode")
    unpack_bundle({"bundle": [str(bundle), str(destination), "fastabc.tar.gz"]})  # type: ignore[typeddict-item]
    assert (destination / "fastabc.tar.gz").read_bytes() == b"the archive"
    assert (destination / "app" / "__pycache__" / "tasks.cpython-311.pyc").read_bytes() == b"bytecode"


def test_an_elements_inputs_handed_over_in_the_request_are_written_where_its_command_reads_them(
    tmp_path: Path,
) -> None:
    inputs = b"\x0a\x05\x0a\x01x\x12\x00 not text"
    write_inputs({"attempt": str(tmp_path), "inputs": base64.b64encode(inputs).decode()})  # type: ignore[typeddict-item]
    assert (tmp_path / ELEMENT_INPUTS).read_bytes() == inputs
    other = tmp_path / "other"
    other.mkdir()
    write_inputs({"attempt": str(other)})  # type: ignore[typeddict-item]
    assert list(other.iterdir()) == []  # none handed over: none made
