"""How often a map task's elements are looked at: a started element when its plugin says it changed (it wakes
the execution), and every one at least every few seconds for a plugin that never says so.

The elements run the `sleep` double (tests/support/plugin_doubles.py), which appends each look at an element
to a record. Looking at every running element in every round made a wide map's rounds cost more with every
element in flight, and its elements' ends (each one a round) multiplied that.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from flyteidl_py.admin import execution_pb2, workflow_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import literals_pb2, types_pb2
from tests.integration.propeller.helpers import int_list, launch, outputs, register, wait
from tests.support.echo import echo_list_task, mapped
from tests.support.plane import RunningPlane, plane_config, running_plane
from tests.support.plugin_doubles import read_records

ELEMENTS = 60
SWEEP_SECONDS = 5.0  # propeller/nodes/array.py's


def _plane_config(
    directory: Path, *, wakes: bool, stagger: float = 0.05, seconds: float = 1.0, says_so: bool = False
) -> Any:
    record = str(directory / "looks.jsonl")
    backend = {"seconds": seconds, "stagger": stagger, "wakes": wakes, "says_so": says_so, "record": record}
    plugins = {"factories": {"sleep": "tests.support.plugin_doubles:sleep"}, "backends": {"sleep": backend}}
    return plane_config(
        directory, f"sqlite:///{directory}/admin.db", f"sqlite:///{directory}/propeller.db", plugins=plugins
    )


@pytest.fixture(params=[True, False], ids=["waking", "silent"])
async def plane(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RunningPlane]:
    async with running_plane(_plane_config(tmp_path, wakes=request.param)) as running:
        yield running


async def test_each_element_is_looked_at_when_it_changes_not_in_every_round(
    plane: RunningPlane, tmp_path: Path
) -> None:
    task = echo_list_task("sleep.map")
    task.spec.template.type = "sleep"
    await register(plane.stub, [task, *mapped("sleepy", task="sleep.map")])
    execution_id = await launch(plane.stub, "sleepy", int_list("xs", ELEMENTS))
    execution = await wait(plane.stub, execution_id)

    # Every element ran and the outputs are the inputs, whether the plugin wakes the execution or only answers
    # when asked (then it is asked again within a few seconds, not never).
    assert execution.closure.phase == core.WorkflowExecution.SUCCEEDED, execution.closure.error.message
    result = await outputs(plane.stub, execution_id)
    assert [x.scalar.primitive.integer for x in result.literals["xs"].collection.literals] == list(range(ELEMENTS))
    looks = Counter(int(entry["index"]) for entry in read_records(tmp_path / "looks.jsonl"))
    assert sorted(looks) == list(range(ELEMENTS))
    # The elements end one after another over three seconds, a round every 0.1 s. An element is started, then looked
    # at again when it woke, and by each sweep of all of them (every 5 s: as many as the run's duration allows):
    # a handful of looks, however many rounds the other elements' ends caused -- not one per round while it runs.
    sweeps = math.ceil(execution.closure.duration.ToTimedelta().total_seconds() / SWEEP_SECONDS)
    assert max(looks.values()) <= 3 + sweeps, (sweeps, looks.most_common(3))


def _twin_maps(name: str) -> list[object]:
    """`mapped`'s workflow over sleep elements with a second array node beside the first: xs -> (xs, ys)."""
    requests = mapped(name, task="sleep.map")
    workflow = next(r for r in requests if isinstance(r, workflow_pb2.WorkflowCreateRequest))
    template = workflow.spec.template
    twin = template.nodes.add()
    twin.CopyFrom(template.nodes[0])
    twin.id = "n1"
    template.interface.outputs.variables["ys"].CopyFrom(template.interface.outputs.variables["xs"])
    promise = literals_pb2.BindingData(promise=types_pb2.OutputReference(node_id="n1", var="x"))
    template.outputs.add(var="ys", binding=promise)
    return requests


async def _run_sleepy(
    config: Any, elements: int, *, parallelism: int = 0, twins: bool = False
) -> tuple[execution_pb2.Execution, int]:
    """Runs a map of `elements` sleep-double elements (two side by side with `twins`) on a plane of `config`, checks
    it returned its inputs; the execution and the engine's rounds during it."""
    async with running_plane(config) as plane:
        task = echo_list_task("sleep.map")
        task.spec.template.type = "sleep"
        workflow = _twin_maps("sleepy") if twins else mapped("sleepy", task="sleep.map", parallelism=parallelism)
        await register(plane.stub, [task, *workflow])
        rounds_before = plane.propeller.engine.rounds
        execution_id = await launch(plane.stub, "sleepy", int_list("xs", elements))
        execution = await wait(plane.stub, execution_id)
        rounds = plane.propeller.engine.rounds - rounds_before
        assert execution.closure.phase == core.WorkflowExecution.SUCCEEDED, execution.closure.error.message
        result = await outputs(plane.stub, execution_id)
        for name in ("xs", "ys") if twins else ("xs",):
            got = [x.scalar.primitive.integer for x in result.literals[name].collection.literals]
            assert got == list(range(elements)), name
    return execution, rounds


def _with_engine(config: Any, **engine: float) -> Any:
    return config.model_copy(update={"propeller": config.propeller.model_copy(update=engine)})


async def test_elements_ending_while_others_run_share_a_round_and_the_last_ones_end_finishes_the_map_at_once(
    tmp_path: Path,
) -> None:
    # The elements end one after another over 0.3 s, each waking the execution. With a batch window far longer
    # than that and than the sweep, they are looked at together: once the last running one woke, at once.
    # Nor does the engine's resync of every execution come before the sweep.
    config = _with_engine(
        _plane_config(tmp_path, wakes=True, stagger=0.005), array_batch_seconds=60.0, resync_seconds=60.0
    )
    execution, rounds = await _run_sleepy(config, ELEMENTS)
    # Not a round per element's end (60): the start, the ends together, the nodes after the map.
    assert rounds <= 12, rounds
    # Every element was started and then looked at once more when they had all ended: no element waited for
    # the batch window (a minute) or for a sweep of all of them (5 s) to be seen.
    looks = Counter(int(entry["index"]) for entry in read_records(tmp_path / "looks.jsonl"))
    assert set(looks.values()) == {2}, looks
    assert execution.closure.duration.ToTimedelta().total_seconds() < SWEEP_SECONDS


async def test_a_map_wider_than_a_rounds_steps_does_not_ask_for_rounds_while_its_elements_only_run(
    tmp_path: Path,
) -> None:
    # 2,500 elements, more than a round looks at (2,000): while they all sleep, nothing is due, so no round is
    # asked for -- but for the sweeps, and the rounds their ends and starts make.
    wide = 2500
    config = _with_engine(_plane_config(tmp_path, wakes=True, stagger=0.0), array_batch_seconds=0.5)
    execution, rounds = await _run_sleepy(config, wide)
    looks = Counter(int(entry["index"]) for entry in read_records(tmp_path / "looks.jsonl"))
    assert sorted(looks) == list(range(wide))
    # Starting them takes about ten rounds (256 a round); their ends about as many again (2,000 a round, or
    # one per half second); a sweep every 5 s. A round asked for at once after every round while they sleep
    # would be hundreds.
    sweeps = math.ceil(execution.closure.duration.ToTimedelta().total_seconds() / SWEEP_SECONDS)
    assert rounds <= 30 + 2 * sweeps, (rounds, sweeps)


async def test_an_element_ending_in_a_map_with_parallelism_lets_the_next_one_start_at_once(tmp_path: Path) -> None:
    # Two at a time of six 0.2 s elements: each end frees a slot, so it is looked at at once -- not after the batch
    # window (a minute here), nor at the next sweep (every 5 s).
    config = _with_engine(
        _plane_config(tmp_path, wakes=True, stagger=0.0, seconds=0.2), array_batch_seconds=60.0, resync_seconds=60.0
    )
    execution, _ = await _run_sleepy(config, 6, parallelism=2)
    assert execution.closure.duration.ToTimedelta().total_seconds() < SWEEP_SECONDS


async def test_rounds_asked_for_by_element_ends_do_not_pile_up_when_other_rounds_come_between(tmp_path: Path) -> None:
    # Two maps side by side, each with 120 elements ending every 50 ms over six seconds. Each map asks for a round
    # half a second after an end it has not yet looked at -- one at a time: a round that came for the other map in
    # between does not make it ask for another (it did: the rounds asked for grew by one with every such round,
    # up to one per element end).
    config = _with_engine(
        _plane_config(tmp_path, wakes=True, stagger=0.05, seconds=0.2), array_batch_seconds=0.5, resync_seconds=60.0
    )
    execution, rounds = await _run_sleepy(config, 120, twins=True)
    seconds = execution.closure.duration.ToTimedelta().total_seconds()
    # At most one round per map per half second, one for each map's last end, the starts and the nodes after
    # (27 here; 76 when every round that came between made each map ask anew).
    assert rounds <= 2 * math.ceil(seconds / 0.5) + 10, (rounds, seconds)
    looks = Counter(int(entry["index"]) for entry in read_records(tmp_path / "looks.jsonl"))
    assert sorted(looks) == list(range(120))


async def test_a_sweep_skips_the_elements_whose_plugin_said_it_wakes_for_them(tmp_path: Path) -> None:
    # Elements that sleep past a sweep (5 s). The plugin wakes for each and says so in its answer (as the local
    # plugin does for one queued for a reuse worker): each is looked at when started and when it woke, and not by
    # the sweep in between -- which looks at the ones whose plugin did not say so (the `waking` case above).
    config = _with_engine(
        _plane_config(tmp_path, wakes=True, stagger=0.0, seconds=SWEEP_SECONDS + 1.0, says_so=True),
        resync_seconds=60.0,
    )
    execution, _ = await _run_sleepy(config, 20)
    assert execution.closure.duration.ToTimedelta().total_seconds() > SWEEP_SECONDS
    looks = Counter(int(entry["index"]) for entry in read_records(tmp_path / "looks.jsonl"))
    assert sorted(looks) == list(range(20))
    assert set(looks.values()) == {2}, looks
