"""The web console in a real browser (Debian's chromium, driven headless by Playwright) on a real plane running
real flytekit workflows: an execution with a sub-workflow, a @dynamic, a map task, a task that fails and is
retried and a gate is found from the executions list; its graph, timeline and nodes render; the log of a
running task streams into the page, and one map element's log too; the gate is approved from the page and
the execution finishes; a launch from the generated form runs with the typed inputs; a failed execution shows
its dataframe as a preview table and is recovered from the page; a cache miss is explained; stored text that
looks like markup stays text.

Screenshots of every step are kept in test-artifacts/console/ (gitignored).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, Route, expect

from flyteidl_py.admin import execution_pb2
from flyteidl_py.core import identifier_pb2
from tests.e2e.console.browser import browser, shot
from tests.support.flytekit import Flytekit
from tests.support.plane import RunningPlane, local_plane_config, running_plane

FLOWS = Path(__file__).with_name("console_flows")
PROBE = Path(__file__).parents[1] / "flyteremote_probe.py"
__all__ = ["browser"]  # a fixture, used by name
VERSION = "console-v1"
PROJECT, DOMAIN = "flytesnacks", "development"
EVERYTHING = "console_flows.everything.everything"
TYPED = "console_flows.everything.typed"
LARGE = "console_flows.everything.large_map"
CACHED_MAP = "console_flows.everything.cached_map"
FRAMES = "console_flows.frames.frames"
HOSTILE = "<img src=x onerror=\"window.__xss='label'\">"
HOSTILE_FRAME = "<img src=x onerror=\"window.__xss='frame'\">"  # as console_flows.frames writes it
# Elements of the map task: each is a real flytekit task run on the local backend. The execution that runs to its
# end maps MAP_ELEMENTS (in reuse workers: about 2.5 minutes on a quiet 2-core machine); a second one maps
# LARGE_MAP, given as its input, and is watched while they run, then terminated from the page.
MAP_ELEMENTS = 10_000
LARGE_MAP = 10_000


@pytest.fixture(scope="module")
async def plane(tmp_path_factory: pytest.TempPathFactory, flytekit_venv: Path) -> AsyncIterator[RunningPlane]:
    config = local_plane_config(tmp_path_factory.mktemp("console-plane"), flytekit_venv)
    async with running_plane(config) as running:
        yield running


@pytest.fixture(scope="module")
async def client(plane: RunningPlane, flytekit_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Flytekit:
    flytekit = Flytekit.for_admin(
        flytekit_venv, plane.admin.grpc_port, plane.admin.http_port, tmp_path_factory.mktemp("console-project")
    )
    flytekit.add_package(FLOWS, "console_flows")
    await flytekit.register("console_flows", version=VERSION)
    return flytekit


@pytest.fixture
async def page(browser: Browser, plane: RunningPlane) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=_base(plane), viewport={"width": 1600, "height": 1000})
    opened = await context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on(
        "console", lambda m: errors.append(m.text) if m.type == "error" and "Content Security" in m.text else None
    )
    yield opened
    await context.close()
    assert not errors, errors  # no uncaught exception in the app, no CSP violation


def _base(plane: RunningPlane) -> str:
    return f"http://127.0.0.1:{plane.admin.http_port}"


async def _no_script_ran(page: Page) -> None:
    assert await page.evaluate("window.__xss") is None
    assert await page.locator("img[src='x']").count() == 0


async def _launch(client: Flytekit, name: str, inputs: dict[str, Any]) -> None:
    params = {"name": EVERYTHING, "version": VERSION, "inputs": inputs, "execution_name": name}
    await client.remote(PROBE, {"action": "execute_launch_plan", **params})


async def test_an_execution_is_found_watched_approved_and_finishes(
    page: Page, client: Flytekit, plane: RunningPlane, tmp_path: Path
) -> None:
    name = "consoleeverything"
    marker = tmp_path / "flaky-marker"
    await _launch(client, name, {"lines": 16, "n": 3, "elements": MAP_ELEMENTS, "marker": str(marker)})

    # Found from the executions list.
    await page.goto(f"/console/projects/{PROJECT}/domains/{DOMAIN}/executions")
    row = page.locator(f"[data-execution='{name}']")
    await expect(row).to_be_visible(timeout=20_000)
    await shot(page, "01-executions-list")
    await row.get_by_role("link", name=name).click()
    await expect(page).to_have_url(re.compile(f"/console/projects/{PROJECT}/domains/{DOMAIN}/executions/{name}$"))
    await expect(page.locator(".execution-name")).to_have_text(name)

    # The graph: nodes from the compiled closure, coloured by phase; the sub-workflow expands in place.
    graph = page.locator(".graph svg")
    await expect(graph).to_be_visible(timeout=20_000)
    for spec in ("n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7"):
        await expect(graph.locator(f"g.node[data-node='{spec}']").first).to_be_visible()
    await expect(graph.locator("g.node[data-phase='RUNNING']").first).to_be_visible(timeout=30_000)

    # The log of the running chatty task streams into the page while the task writes it.
    await graph.locator("g.node[data-node='n0']").click()
    log = page.locator("pre.log")
    await expect(log).to_contain_text("console-log-line 1", timeout=30_000)
    early = (await log.text_content()) or ""
    await expect(log).to_contain_text("console-log-line 8", timeout=30_000)
    assert "console-log-line 8" not in early  # it arrived after the panel opened: streamed, not loaded once
    await shot(page, "02-graph-and-streaming-log")

    # The sub-workflow expands (its nodes take the parent's edges).
    await graph.locator("[data-expand='n1']").click()
    await expect(graph.locator("g.node[data-node='n1/n0']")).to_be_visible(timeout=20_000)

    # The gate asks for approval; approving it from the page lets the execution finish.
    approve = page.locator("[data-approve='review']")
    await expect(approve).to_be_visible(timeout=240_000)
    await shot(page, "03-waiting-gate")
    await approve.click()
    await expect(page.locator(".summary .phase")).to_have_text("SUCCEEDED", timeout=1_800_000)
    await shot(page, "04-succeeded-graph")

    # The map task is one node with its elements counted by phase.
    await expect(graph.locator("g.node[data-node='n4'] .node-extra")).to_have_text(
        f"{MAP_ELEMENTS} succeeded", timeout=30_000
    )
    assert await graph.locator("g.node").count() < 40  # never one box per element
    # One element's log, chosen by its index in the map node's details.
    await graph.locator("g.node[data-node='n4']").click()
    element = page.locator(".node-details form.element-log")
    await element.locator("input[name='element']").fill("7")
    await element.get_by_role("button", name="Show log").click()
    await expect(page.locator("pre.log[data-log='n4[7]']")).to_contain_text("square of 7", timeout=30_000)
    assert "square of 8" not in ((await page.locator("pre.log[data-log='n4[7]']").text_content()) or "")
    await shot(page, "13-map-element-log")
    # The @dynamic's children expand once it has run.
    await graph.locator("[data-expand='n2']").click()
    await expect(graph.locator("g.node[data-node^='n2/']").first).to_be_visible(timeout=20_000)

    # The retried task: two attempts, the first one's error shown as text.
    await graph.locator("g.node[data-node='n5']").click()
    details = page.locator(".node-details")
    await expect(details.locator("[data-attempts]")).to_have_text("2", timeout=20_000)
    await expect(details.locator(".attempt-error").first).to_contain_text("first attempt fails on purpose <img")
    await shot(page, "05-retried-task")
    await _no_script_ran(page)

    # The timeline: a bar per node, and per attempt of the retried task.
    await page.get_by_role("tab", name="Timeline").click()
    await expect(page.locator("[data-timeline='n0'] .timeline-bar")).to_be_visible()
    await expect(page.locator("[data-timeline='n5#1'] .timeline-bar")).to_be_visible(timeout=20_000)
    await shot(page, "06-timeline")

    # The node list, with the sub-workflow opened.
    await page.get_by_role("tab", name="Nodes").click()
    await expect(page.locator("[data-node-row='n4']")).to_be_visible()
    await shot(page, "07-nodes")


async def test_a_large_map_task_is_one_node_counted_by_phase_and_terminated_from_the_page(
    page: Page, client: Flytekit
) -> None:
    name = "consolelargemap"
    params = {"name": LARGE, "version": VERSION, "inputs": {"xs": list(range(LARGE_MAP))}, "execution_name": name}
    await client.remote(PROBE, {"action": "execute_launch_plan", **params})
    await page.goto(f"/console/projects/{PROJECT}/domains/{DOMAIN}/executions/{name}")
    graph = page.locator(".graph svg")
    counts = graph.locator("g.node[data-node='n0'] .node-extra")
    # Elements counted by phase while they run: "<n> running, <m> succeeded, ..." (never a box per element).
    await expect(counts).to_have_text(re.compile(r"^\d+ (queued|running|succeeded|initializing)"), timeout=120_000)
    text = (await counts.text_content()) or ""
    assert sum(int(n) for n in re.findall(r"(\d+) ", text)) <= LARGE_MAP
    assert await graph.locator("g.node").count() < 40
    await graph.locator("g.node[data-node='n0']").click()
    await expect(page.locator(".node-details")).to_be_visible()
    await shot(page, "11-large-map-running")

    await page.get_by_role("button", name="Terminate").click()
    await expect(page.locator(".summary .phase")).to_have_text("ABORTED", timeout=120_000)
    await expect(page.get_by_role("button", name="Terminate")).to_have_count(0)
    await shot(page, "12-large-map-terminated")


async def test_a_failed_execution_shows_its_dataframe_and_cache_miss_and_is_recovered_from_the_page(
    page: Page, client: Flytekit, plane: RunningPlane, tmp_path: Path
) -> None:
    marker = tmp_path / "fails-once-marker"
    name = "consoleframes"
    params = {"name": FRAMES, "version": VERSION, "inputs": {"n": 3, "marker": str(marker)}, "execution_name": name}
    await client.remote(PROBE, {"action": "execute_launch_plan", **params})
    await page.goto(f"/console/projects/{PROJECT}/domains/{DOMAIN}/executions/{name}")
    await expect(page.locator(".summary .phase")).to_have_text("FAILED", timeout=240_000)
    # Its cached table missed (nothing was cached); the same table with 4 rows misses again, and the
    # console says why: the input n differs from the cached artifact's. (It succeeds: the marker exists now.)
    params = {**params, "inputs": {"n": 4, "marker": str(marker)}, "execution_name": "consoleframesmiss"}
    await client.remote(PROBE, {"action": "execute_launch_plan", **params})

    # The dataframe the first task wrote: a preview table beside its download link, its cells as text.
    graph = page.locator(".graph svg")
    await graph.locator("g.node[data-node='n0']").click()
    details = page.locator(".node-details")
    preview = details.locator(".dataframe").first
    await expect(preview.locator("tbody tr")).to_have_count(3, timeout=30_000)
    # Column types as pandas wrote them (its dtype: str, or object before pandas 3, for text).
    for column, dtype in (("name", "str|object"), ("value", "int64"), ("ratio", "float64")):
        await expect(preview.locator(f"th[data-column='{column}']")).to_contain_text(re.compile(dtype))
    await expect(preview.locator("tbody tr").nth(2)).to_contain_text("row 2 <img src=x")
    await expect(preview.locator("tbody tr").nth(1).locator("td")).to_have_text([f"row 1 {HOSTILE_FRAME}", "1", "0.5"])
    await expect(details.locator(".blob").first).to_contain_text("dataframe (parquet)")
    parquet = await preview.locator("a.parquet-file").get_attribute("href")
    assert parquet is not None
    assert (await (await page.request.get(parquet)).body()).startswith(b"PAR1")  # the file the preview read
    await shot(page, "14-dataframe-preview")
    await _no_script_ran(page)

    # Recover: a new execution reusing the table; only the failed task runs again, and succeeds now.
    await page.get_by_role("button", name="Recover").click()
    await expect(page).not_to_have_url(re.compile(f"/executions/{name}$"), timeout=20_000)
    recovered = page.url.rsplit("/", 1)[1]
    await expect(page.locator(".summary .phase")).to_have_text("SUCCEEDED", timeout=240_000)
    await expect(page.locator(".summary")).to_contain_text(f"Recovery of{name}")
    await expect(graph.locator("g.node[data-node='n0']")).to_have_attribute("data-phase", "RECOVERED", timeout=30_000)
    await expect(graph.locator("g.node[data-node='n1']")).to_have_attribute("data-phase", "SUCCEEDED")
    await shot(page, "15-recovered")
    ident = identifier_pb2.WorkflowExecutionIdentifier(project=PROJECT, domain=DOMAIN, name=recovered)
    got = await plane.stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=ident))
    assert got.spec.metadata.mode == execution_pb2.ExecutionMetadata.RECOVERED
    assert got.spec.metadata.reference_execution.name == name

    # Why the second table's lookup missed, asked from its node's details. The node is clicked while the list of
    # node executions is held back, before the graph knows its phase: the details still open once the list loads.
    listing = re.compile(r"/api/v1/node_executions/[^/]+/[^/]+/consoleframesmiss(\?|$)")

    clicked = asyncio.Event()

    async def held_back(route: Route) -> None:
        await clicked.wait()
        await route.continue_()

    await page.route(listing, held_back)
    await page.goto(f"/console/projects/{PROJECT}/domains/{DOMAIN}/executions/consoleframesmiss")
    await expect(page.locator(".summary .phase")).to_have_text("SUCCEEDED", timeout=240_000)
    await expect(graph.locator("g.node[data-node='n0']")).to_have_attribute("data-phase", "UNDEFINED", timeout=20_000)
    await graph.locator("g.node[data-node='n0']").click()
    clicked.set()
    await expect(graph.locator("g.node[data-node='n0']")).to_have_attribute("data-phase", "SUCCEEDED", timeout=30_000)
    await expect(details.locator("[data-cache]")).to_contain_text("CACHE_POPULATED", timeout=20_000)
    await details.get_by_role("button", name="Why a miss?").click()
    report = details.locator("pre.cache-explain")
    await expect(report).to_contain_text("verdict", timeout=60_000)
    await expect(report).to_contain_text("input 'n' differs: now 4, cached 3")
    await shot(page, "16-cache-miss-explained")


async def test_a_map_elements_cache_miss_is_explained_from_the_page(page: Page, client: Flytekit) -> None:
    # Three elements cached by a first run; a second run changes the last element's input only: it misses, the
    # other two hit, and the console says why the one missed.
    for name, xs in (("consolecachedmap", [1, 2, 3]), ("consolecachedmapmiss", [1, 2, 5])):
        params = {"name": CACHED_MAP, "version": VERSION, "inputs": {"xs": xs}, "execution_name": name}
        await client.remote(PROBE, {"action": "execute_launch_plan", **params})
        await page.goto(f"/console/projects/{PROJECT}/domains/{DOMAIN}/executions/{name}")
        await expect(page.locator(".summary .phase")).to_have_text("SUCCEEDED", timeout=240_000)
    await page.locator(".graph svg g.node[data-node='n0']").click()
    details = page.locator(".node-details")
    form = details.locator("form.element-log")
    await form.locator("input[name='element']").fill("0")
    await form.get_by_role("button", name="Show log").click()
    await expect(details.locator("[data-element-cache]")).to_have_attribute("data-element-cache", "CACHE_HIT")
    await expect(details.get_by_role("button", name="Why a miss?")).to_have_count(0)
    await form.locator("input[name='element']").fill("2")
    await form.get_by_role("button", name="Show log").click()
    await expect(details.locator("[data-element-cache]")).to_have_attribute("data-element-cache", "CACHE_POPULATED")
    await details.get_by_role("button", name="Why a miss?").click()
    report = details.locator("pre.cache-explain")
    await expect(report).to_contain_text("element 2 of", timeout=60_000)
    await expect(report).to_contain_text("input 'x' differs: now 5, cached 3")
    await shot(page, "17-map-element-cache-miss-explained")


async def test_a_launch_from_the_form_runs_with_typed_inputs(page: Page, client: Flytekit, plane: RunningPlane) -> None:
    await page.goto(f"/console/projects/{PROJECT}/domains/{DOMAIN}/launch_plans/{TYPED}")
    form = page.locator("form.launch-form")
    await expect(form).to_be_visible(timeout=20_000)
    await expect(form.locator("input[name='label']")).to_have_value("plain")  # defaults filled in
    await expect(form.locator("textarea[name='items']")).to_have_value("[1,2]")
    # Checked before submit: a missing required input and a value of the wrong type.
    await form.locator("input[name='ratio']").fill("lots")
    await form.get_by_role("button", name="Launch").click()
    await expect(form.locator("[data-problem='count']")).to_contain_text("required")
    await expect(form.locator("[data-problem='ratio']")).to_contain_text("number")
    await shot(page, "08-launch-form-refused")

    await form.locator("input[name='count']").fill("7")
    await form.locator("input[name='ratio']").fill("2.5")
    await form.locator("input[name='label']").fill(HOSTILE)
    await form.locator("select[name='flag']").select_option("true")
    await form.locator("textarea[name='items']").fill("[1, 2, 3]")
    await form.locator("textarea[name='scores']").fill('{"b": 0.25}')
    await form.get_by_role("button", name="Launch").click()
    await expect(page).to_have_url(re.compile(r"/executions/[a-z0-9-]+$"), timeout=20_000)
    await expect(page.locator(".summary .phase")).to_have_text("SUCCEEDED", timeout=180_000)
    await shot(page, "09-launched-from-form")
    name = page.url.rsplit("/", 1)[1]

    ident = identifier_pb2.WorkflowExecutionIdentifier(project=PROJECT, domain=DOMAIN, name=name)
    data = await plane.stub.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=ident))
    inputs = data.full_inputs.literals
    assert inputs["count"].scalar.primitive.integer == 7
    assert inputs["ratio"].scalar.primitive.float_value == 2.5
    assert inputs["flag"].scalar.primitive.boolean is True
    assert [v.scalar.primitive.integer for v in inputs["items"].collection.literals] == [1, 2, 3]
    assert inputs["scores"].map.literals["b"].scalar.primitive.float_value == 0.25
    expected = f"7|2.5|{HOSTILE}|True|6|[('b', 0.25)]"
    assert data.full_outputs.literals["o0"].scalar.primitive.string_value == expected
    # The output, the hostile text included, is shown as text.
    await expect(page.locator(".details")).to_contain_text("<img src=x")
    await _no_script_ran(page)


async def test_stored_markup_in_labels_and_bad_pages_render_as_text(page: Page, plane: RunningPlane) -> None:
    body = {
        "project": PROJECT,
        "domain": DOMAIN,
        "name": "hostilelabel",
        "spec": {
            "launchPlan": {"resourceType": "LAUNCH_PLAN", "project": PROJECT, "domain": DOMAIN, "name": TYPED,
                           "version": VERSION},
            "labels": {"values": {"note": HOSTILE}},
        },
        "inputs": {"literals": {"count": {"scalar": {"primitive": {"integer": "1"}}}}},
    }  # fmt: skip
    async with httpx.AsyncClient(base_url=_base(plane)) as http:
        created = await http.post("/api/v1/executions", json=body)
    assert created.status_code == 200, created.text
    await page.goto(f"/console/projects/{PROJECT}/domains/{DOMAIN}/executions/hostilelabel")
    await expect(page.locator(".labels")).to_contain_text(HOSTILE)
    await _no_script_ran(page)

    # An execution that does not exist: the API's error, not a blank page.
    await page.goto(f"/console/projects/{PROJECT}/domains/{DOMAIN}/executions/nosuchexecution")
    await expect(page.locator(".error")).to_contain_text("404")
    await page.goto("/console/projects/flytesnacks/somewhere/else")
    await expect(page.locator(".error")).to_contain_text("no page")
    await shot(page, "10-errors-as-text")
    await asyncio.sleep(0)
