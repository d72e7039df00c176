"""A `k8s-pod` attempt's log through admin's log endpoint (read from the pod log API), with real flytekit on the
real node: followed while the pod prints, whole once it has finished, a 404 naming the pod once it is deleted,
through `flyteplane logs`, and in the console's log panel in headless chromium (screenshot in
test-artifacts/console/).

The plane keeps finished pods here (`delete_resource_on_finalize: false`, as Flyte does by default): a pod
deleted on finalize takes its log with it.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from flyteidl_py.admin import execution_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2
from tests.e2e.console.browser import browser, shot
from tests.e2e.k8s_plane import (
    DOMAIN,
    NAMESPACE,
    PROBE,
    PROJECT,
    VERSION,
    client,
    moto_endpoint,
    node,
    plane,
    pod_backend_for,
    storage_secret,
    store,
)
from tests.support.flytekit import Flytekit
from tests.support.kube_node import Node
from tests.support.plane import RunningPlane

# The plane's and the browser's fixtures, used by name.
__all__ = ["browser", "client", "moto_endpoint", "node", "plane", "storage_secret", "store"]

COUNTER = "k8s_workflows.pods.counter"


@pytest.fixture(scope="module")
def pod_backend(node: Node, storage_secret: str) -> dict[str, Any]:
    backend = pod_backend_for(node, storage_secret)
    return {**backend, "kube": {**backend["kube"], "delete_resource_on_finalize": False}}


def _ticks(text: str) -> list[int]:
    """The counter's lines in `text` (flytekit writes lines of its own around them)."""
    return [int(n) for n in re.findall(r"^pod tick (\d+)$", text, re.MULTILINE)]


async def _launch(client: Flytekit, lines: int, pause: float) -> identifier_pb2.WorkflowExecutionIdentifier:
    name = f"podlog-{uuid.uuid4().hex[:8]}"
    params = {"action": "execute_launch_plan", "name": COUNTER, "version": VERSION,
              "inputs": {"lines": lines, "pause": pause}, "execution_name": name}  # fmt: skip
    await client.remote(PROBE, params)
    return identifier_pb2.WorkflowExecutionIdentifier(project=PROJECT, domain=DOMAIN, name=name)


def _url(plane: RunningPlane, ident: identifier_pb2.WorkflowExecutionIdentifier) -> str:
    return f"http://127.0.0.1:{plane.admin.http_port}/api/v1/logs/{ident.project}/{ident.domain}/{ident.name}"


async def _finished(plane: RunningPlane, ident: identifier_pb2.WorkflowExecutionIdentifier) -> int:
    for _ in range(480):
        got = await plane.stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=ident))
        if got.closure.phase in (core.WorkflowExecution.SUCCEEDED, core.WorkflowExecution.FAILED):
            return int(got.closure.phase)
        await asyncio.sleep(0.5)
    raise AssertionError(f"{ident.name} did not finish")


@pytest.fixture(scope="module")
async def followed(client: Flytekit, plane: RunningPlane) -> AsyncIterator[dict[str, Any]]:
    """One execution of the counter, its log followed through admin from before its pod exists to its end: the
    execution, the chunks with their arrival times, and the answer's headers."""
    ident = await _launch(client, lines=8, pause=1.0)
    chunks: list[tuple[float, str]] = []
    headers: dict[str, str] = {}
    async with httpx.AsyncClient(timeout=httpx.Timeout(30.0, read=None)) as http:
        for _ in range(480):  # the node's attempt appears once the engine has reported it
            async with http.stream("GET", _url(plane, ident), params={"node_id": "n0", "follow": "true"}) as answer:
                if answer.status_code == 404:
                    await answer.aread()
                    await asyncio.sleep(0.5)
                    continue
                assert answer.status_code == 200, await answer.aread()
                headers = dict(answer.headers)
                async for text in answer.aiter_text():
                    chunks.append((time.monotonic(), text))
                break
    yield {"id": ident, "chunks": chunks, "headers": headers, "ended": time.monotonic()}


async def test_a_running_pods_log_is_followed_through_admin_as_the_pod_prints_it(
    followed: dict[str, Any], plane: RunningPlane
) -> None:
    chunks: list[tuple[float, str]] = followed["chunks"]
    assert _ticks("".join(text for _, text in chunks)) == list(range(8))
    first = next(when for when, text in chunks if "pod tick 0" in text)
    last = next(when for when, text in chunks if "pod tick 7" in text)
    assert last - first >= 3, chunks  # 7 pauses of 1 s: line by line, not all at the end
    # The stream ended by itself, with the container; the execution then succeeded.
    assert await _finished(plane, followed["id"]) == core.WorkflowExecution.SUCCEEDED
    assert followed["headers"]["x-flyteplane-log-attempt"] == "0"


async def test_a_finished_pods_whole_log_is_there_and_read_from_an_offset(
    followed: dict[str, Any], plane: RunningPlane
) -> None:
    ident = followed["id"]
    await _finished(plane, ident)
    async with httpx.AsyncClient() as http:
        whole = await http.get(_url(plane, ident), params={"node_id": "n0"})
        assert whole.status_code == 200, whole.text
        assert whole.text == "".join(text for _, text in followed["chunks"])  # what was followed, all of it
        assert _ticks(whole.text) == list(range(8))
        assert whole.headers["x-flyteplane-attempt-phase"] == "SUCCEEDED"
        assert whole.headers["x-flyteplane-log-offset"] == str(len(whole.content))
        skip = whole.content.index(b"pod tick 3")
        rest = await http.get(_url(plane, ident), params={"node_id": "n0", "offset": skip})
        assert rest.content == whole.content[skip:]
        assert rest.headers["x-flyteplane-log-offset"] == str(len(whole.content))
        followed_again = await http.get(_url(plane, ident), params={"node_id": "n0", "follow": "true"})
        assert followed_again.content == whole.content  # a finished container's log: all of it, then the end


async def test_flyteplane_logs_prints_a_pods_log(
    followed: dict[str, Any], plane: RunningPlane, client: Flytekit
) -> None:
    ident = followed["id"]
    await _finished(plane, ident)
    command = [str(Path(sys.executable).with_name("flyteplane")), "logs", ident.name, "--node", "n0",
               "--project", PROJECT, "--domain", DOMAIN, "--config", str(client.config)]  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    assert _ticks(out.decode()) == list(range(8))


async def test_a_deleted_pods_log_is_a_404_naming_the_pod(client: Flytekit, plane: RunningPlane, node: Node) -> None:
    ident = await _launch(client, lines=1, pause=0.0)
    assert await _finished(plane, ident) == core.WorkflowExecution.SUCCEEDED
    pods = await asyncio.to_thread(
        node.kubectl, "get", "pods", "-n", NAMESPACE, "-l", f"execution-id={ident.name}", "-o", "name"
    )
    (pod,) = pods.split()
    await asyncio.to_thread(node.kubectl, "delete", "-n", NAMESPACE, pod, "--wait=true")
    async with httpx.AsyncClient() as http:
        for follow in ("false", "true"):
            answer = await http.get(_url(plane, ident), params={"node_id": "n0", "follow": follow})
            assert answer.status_code == 404, answer.text
            assert f"pod {NAMESPACE}/{pod.removeprefix('pod/')}" in answer.json()["message"]
            assert "is gone" in answer.json()["message"]


@pytest.fixture
async def page(browser: Browser, plane: RunningPlane) -> AsyncIterator[Page]:
    context = await browser.new_context(
        base_url=f"http://127.0.0.1:{plane.admin.http_port}", viewport={"width": 1400, "height": 900}
    )
    opened = await context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    await context.close()
    assert not errors, errors


async def test_the_consoles_log_panel_streams_a_pods_log(page: Page, client: Flytekit, plane: RunningPlane) -> None:
    ident = await _launch(client, lines=12, pause=1.0)
    await page.goto(f"/console/projects/{PROJECT}/domains/{DOMAIN}/executions/{ident.name}")
    graph = page.locator(".graph svg")
    await expect(graph.locator("g.node[data-node='n0'][data-phase='RUNNING']")).to_be_visible(timeout=180_000)
    await graph.locator("g.node[data-node='n0']").click()
    log = page.locator("pre.log")
    await expect(log).to_contain_text("pod tick 1", timeout=60_000)
    early = (await log.text_content()) or ""
    await expect(log).to_contain_text("pod tick 11", timeout=60_000)
    assert "pod tick 11" not in early  # arrived after the panel opened: streamed from the pod, not loaded once
    await shot(page, "k8s-pod-log")
    assert _ticks((await log.text_content()) or "") == list(range(12))
    assert await _finished(plane, ident) == core.WorkflowExecution.SUCCEEDED
