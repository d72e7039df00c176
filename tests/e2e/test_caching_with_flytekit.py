"""Task caching as flytekit users see it: hits skip the task process, and every key part matters."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from flyteidl_py.core import catalog_pb2
from flyteidl_py.core import execution_pb2 as core
from tests.e2e.test_runs_with_flytekit import ENGINE_CASES, PROBE, _outputs
from tests.support.flytekit import Flytekit
from tests.support.plane import RunningPlane, local_plane_config, running_plane

VERSION = "cache-v1"


@pytest.fixture(scope="module")
async def cache_plane(tmp_path_factory: pytest.TempPathFactory, flytekit_venv: Path) -> AsyncIterator[RunningPlane]:
    directory = tmp_path_factory.mktemp("cache-plane")
    config = local_plane_config(directory, flytekit_venv)
    async with running_plane(config) as plane:
        yield plane


@pytest.fixture(scope="module")
async def client(cache_plane: RunningPlane, flytekit_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Flytekit:
    flytekit = Flytekit.for_admin(
        flytekit_venv,
        cache_plane.admin.grpc_port,
        cache_plane.admin.http_port,
        tmp_path_factory.mktemp("cache-project"),
    )
    flytekit.add_package(ENGINE_CASES, "engine_cases")
    await flytekit.register("engine_cases", version=VERSION)
    return flytekit


async def _run(client: Flytekit, lp: str, version: str = VERSION, **params: Any) -> dict[str, Any]:
    answer: dict[str, Any] = await client.remote(
        PROBE, {"action": "execute_and_wait", "name": lp, "version": version, **params}, time_limit=240
    )
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    return answer


async def _run_with_elements(client: Flytekit, lp: str, **params: Any) -> dict[str, Any]:
    answer: dict[str, Any] = await client.remote(
        PROBE, {"action": "execute_and_wait_with_elements", "name": lp, "version": VERSION, **params}, time_limit=240
    )
    assert answer["phase"] == core.WorkflowExecution.SUCCEEDED, answer.get("error")
    return answer


def _runs(markers: Path, prefix: str) -> int:
    return sum(1 for p in markers.iterdir() if p.name.startswith(prefix + "-"))


def _element_caches(answer: dict[str, Any], node_id: str = "n0") -> list[int]:
    """Each element's cache status, by index (the array node's external resources)."""
    return [e["cache"] for e in sorted(answer["elements"][node_id], key=lambda e: (e["index"], e["attempt"]))]


async def _explain(plane: RunningPlane, client: Flytekit, execution: str, node_id: str, *extra: str) -> str:
    """`flyteplane cache explain` as a user runs it, against this plane (a process of its own)."""
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("flyteplane")),
        "cache",
        "explain",
        "--admin",
        f"127.0.0.1:{plane.admin.grpc_port}",
        "--datacatalog",
        f"127.0.0.1:{plane.config.datacatalog.grpc_port}",
        *extra,
        client.project,
        client.domain,
        execution,
        node_id,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_the_second_run_is_all_cache_hits_and_starts_no_task(client: Flytekit, tmp_path: Path) -> None:
    inputs = {"marker_dir": str(tmp_path), "a": 2, "b": 3}
    first = await _run(client, "engine_cases.caching.cached_wf", inputs=inputs)
    assert (_runs(tmp_path, "square2"), _runs(tmp_path, "square3"), _runs(tmp_path, "add")) == (1, 1, 1)
    assert {n["cache"] for k, n in first["nodes"].items() if k.startswith("n")} == {catalog_pb2.CACHE_POPULATED}
    second = await _run(client, "engine_cases.caching.cached_wf", inputs=inputs)
    assert (_runs(tmp_path, "square2"), _runs(tmp_path, "square3"), _runs(tmp_path, "add")) == (1, 1, 1)
    assert {n["cache"] for k, n in second["nodes"].items() if k.startswith("n")} == {catalog_pb2.CACHE_HIT}
    assert all(n["attempts"] == 0 for k, n in second["nodes"].items() if k.startswith("n"))
    assert _outputs(second, "o0") == {"o0": 13}


async def test_changing_one_input_misses_only_the_nodes_it_reaches(client: Flytekit, tmp_path: Path) -> None:
    await _run(client, "engine_cases.caching.cached_wf", inputs={"marker_dir": str(tmp_path), "a": 2, "b": 3})
    answer = await _run(client, "engine_cases.caching.cached_wf", inputs={"marker_dir": str(tmp_path), "a": 2, "b": 4})
    assert (_runs(tmp_path, "square2"), _runs(tmp_path, "square4"), _runs(tmp_path, "add")) == (1, 1, 2)
    assert _outputs(answer, "o0") == {"o0": 20}


async def test_overwrite_cache_runs_the_tasks_again(client: Flytekit, tmp_path: Path) -> None:
    inputs = {"marker_dir": str(tmp_path), "a": 5, "b": 6}
    await _run(client, "engine_cases.caching.cached_wf", inputs=inputs)
    await _run(client, "engine_cases.caching.cached_wf", inputs=inputs, overwrite_cache=True)
    assert (_runs(tmp_path, "square5"), _runs(tmp_path, "add")) == (2, 2)
    await _run(client, "engine_cases.caching.cached_wf", inputs=inputs)
    assert (_runs(tmp_path, "square5"), _runs(tmp_path, "add")) == (2, 2)


async def test_a_new_cache_version_misses(client: Flytekit, tmp_path: Path) -> None:
    inputs = {"marker_dir": str(tmp_path), "a": 7, "b": 8}
    await _run(client, "engine_cases.caching.cached_wf", inputs=inputs)
    source = client.project_dir / "engine_cases" / "caching.py"
    text = source.read_text()
    source.write_text(text.replace('cache_version="1")\ndef cached_square', 'cache_version="2")\ndef cached_square'))
    try:
        await client.register("engine_cases", version="cache-v2")
    finally:
        source.write_text(text)
    await _run(client, "engine_cases.caching.cached_wf", version="cache-v2", inputs=inputs)
    assert (_runs(tmp_path, "square7"), _runs(tmp_path, "add")) == (2, 1)  # add's key did not change


async def test_concurrent_runs_of_a_serializable_task_run_it_once(client: Flytekit, tmp_path: Path) -> None:
    answer: dict[str, Any] = await client.remote(
        PROBE,
        {
            "action": "execute_many_and_wait",
            "name": "engine_cases.caching.serialized_wf",
            "version": VERSION,
            "inputs": {"marker_dir": str(tmp_path), "x": 1},
            "count": 5,
        },
        time_limit=240,
    )
    assert [run["phase"] for run in answer["runs"]] == [core.WorkflowExecution.SUCCEEDED] * 5
    assert _runs(tmp_path, "serialized") == 1
    assert all(_outputs(run, "o0") == {"o0": 101} for run in answer["runs"])


async def test_an_entry_whose_outputs_were_deleted_is_not_served(
    client: Flytekit, cache_plane: RunningPlane, tmp_path: Path
) -> None:
    inputs = {"marker_dir": str(tmp_path), "text": "precious"}
    await _run(client, "engine_cases.caching.cached_file_wf", inputs=inputs)
    raw = Path(cache_plane.config.storage.local_root) / "flyteplane" / "raw"
    for found in raw.rglob("out.txt"):
        found.unlink()
    answer = await _run(client, "engine_cases.caching.cached_file_wf", inputs=inputs)
    assert _runs(tmp_path, "file") == 2
    assert _outputs(answer, "o0") == {"o0": "precious"}


async def test_map_task_elements_are_cached_one_by_one(client: Flytekit, tmp_path: Path) -> None:
    inputs = {"marker_dir": str(tmp_path), "xs": [1, 2, 3]}
    first = await _run_with_elements(client, "engine_cases.caching.cached_map_wf", inputs=inputs)
    assert [_runs(tmp_path, f"inc{x}") for x in (1, 2, 3)] == [1, 1, 1]
    assert _element_caches(first) == [catalog_pb2.CACHE_POPULATED] * 3
    second = await _run_with_elements(client, "engine_cases.caching.cached_map_wf", inputs=inputs)
    assert [_runs(tmp_path, f"inc{x}") for x in (1, 2, 3)] == [1, 1, 1]
    assert _element_caches(second) == [catalog_pb2.CACHE_HIT] * 3
    assert _outputs(second, "o0") == {"o0": [2, 3, 4]}


async def test_changing_one_element_re_runs_only_that_element(client: Flytekit, tmp_path: Path) -> None:
    await _run_with_elements(
        client, "engine_cases.caching.cached_map_wf", inputs={"marker_dir": str(tmp_path), "xs": [1, 2, 3]}
    )
    answer = await _run_with_elements(
        client, "engine_cases.caching.cached_map_wf", inputs={"marker_dir": str(tmp_path), "xs": [1, 2, 4]}
    )
    assert [_runs(tmp_path, f"inc{x}") for x in (1, 2, 3, 4)] == [1, 1, 1, 1]
    assert _element_caches(answer) == [catalog_pb2.CACHE_HIT, catalog_pb2.CACHE_HIT, catalog_pb2.CACHE_POPULATED]
    assert _outputs(answer, "o0") == {"o0": [2, 3, 5]}


async def test_a_cached_dynamic_task_skips_itself_and_its_sub_workflow(client: Flytekit, tmp_path: Path) -> None:
    inputs = {"marker_dir": str(tmp_path), "n": 3}
    first = await _run(client, "engine_cases.caching.cached_dynamic_wf", inputs=inputs)
    counts = [_runs(tmp_path, name) for name in ("dynamic", "double0", "double1", "double2", "sum")]
    assert counts == [1, 1, 1, 1, 1]
    assert first["nodes"]["n0"]["cache"] == catalog_pb2.CACHE_POPULATED
    second = await _run(client, "engine_cases.caching.cached_dynamic_wf", inputs=inputs)
    assert [_runs(tmp_path, name) for name in ("dynamic", "double0", "double1", "double2", "sum")] == counts
    assert second["nodes"]["n0"]["cache"] == catalog_pb2.CACHE_HIT
    assert second["nodes"]["n0"]["attempts"] == 0
    assert _outputs(second, "o0") == {"o0": 6}


async def test_explain_names_the_input_that_made_a_node_miss(
    client: Flytekit, cache_plane: RunningPlane, tmp_path: Path
) -> None:
    await _run(client, "engine_cases.caching.cached_wf", inputs={"marker_dir": str(tmp_path), "a": 2, "b": 3})
    second = await _run(client, "engine_cases.caching.cached_wf", inputs={"marker_dir": str(tmp_path), "a": 2, "b": 5})
    report = await _explain(cache_plane, client, second["name"], "n1")  # cached_square(x=b)
    assert "cache status   CACHE_POPULATED" in report
    assert "verdict: missed because input 'x' differs: now 5, cached 3" in report  # n1 of the first run
    assert "'marker_dir' differs" not in report


async def test_explain_names_the_input_that_made_a_map_element_miss(
    client: Flytekit, cache_plane: RunningPlane, tmp_path: Path
) -> None:
    await _run_with_elements(
        client, "engine_cases.caching.cached_map_wf", inputs={"marker_dir": str(tmp_path), "xs": [7, 8]}
    )
    second = await _run_with_elements(
        client, "engine_cases.caching.cached_map_wf", inputs={"marker_dir": str(tmp_path), "xs": [7, 9]}
    )
    report = await _explain(cache_plane, client, second["name"], "n0", "--index", "1")
    assert report.startswith(f"element 1 of node n0 of execution {client.project}/{client.domain}/{second['name']}")
    assert "verdict: missed because input 'x' differs: now 9, cached 8" in report  # element 1 of the first run
    whole = await _explain(cache_plane, client, second["name"], "n0")
    assert "element 0 of node n0" in whole and "the lookup hit it" in whole
