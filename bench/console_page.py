"""The console's execution page for an execution of many nodes: page-load time and bytes transferred.

A plane (admin + propeller in this process, SQLite, echo tasks: no task processes) runs a fan-out
workflow of N echo nodes to the end; then Debian's chromium (headless, driven by Playwright, a fresh
profile each time) opens the execution page, and the clock stops when the graph has laid out all N
nodes and the node listing is in. Bytes are what the browser received over the wire (Chromium's
encodedDataLength: headers and bodies, compressed when the server compressed), for the app's files
and the API calls separately. A second load in the same profile shows the cached case.
Run: .venv/bin/python bench/console_page.py [--nodes 5000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from playwright.async_api import Page, async_playwright

from flyteidl_py.core import execution_pb2 as core
from tests.integration.propeller.helpers import ints, launch, register, wait
from tests.support.echo import echo_task, fan_out
from tests.support.plane import plane_config, running_plane

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


async def load(page: Page, url: str, nodes: int) -> dict[str, Any]:
    """One load of `url`: seconds until the graph holds `nodes` nodes and the node list is in, and bytes."""
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("Network.enable")
    urls: dict[str, str] = {}
    received: dict[str, int] = {}
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: received.__setitem__(e["requestId"], int(e["encodedDataLength"])))
    start = time.perf_counter()
    await page.goto(url)
    # start and end nodes too: the closure's own
    await page.wait_for_function(
        "n => Number(document.querySelector('[data-graph-nodes]')?.dataset.graphNodes) >= n", arg=nodes, timeout=120_000
    )
    await page.wait_for_function("() => !document.querySelector('.spinner')", timeout=120_000)
    seconds = time.perf_counter() - start
    await asyncio.sleep(1.0)  # anything the page asks for after it is up (a finished execution polls nothing)
    api = sum(size for rid, size in received.items() if "/api/" in urls.get(rid, ""))
    total = sum(received.values())
    drawn = await page.locator(".graph svg g.node").count()
    await cdp.detach()
    return {"seconds": seconds, "bytes": total, "api_bytes": api, "requests": len(received), "drawn": drawn}


async def list_nodes(base: str, name: str) -> float:
    """Seconds the REST listing of the execution's nodes takes, paged as the page asks for it."""
    start = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        token = ""
        while True:
            answer = await http.get(
                f"/api/v1/node_executions/flytesnacks/development/{name}", params={"limit": 2000, "token": token}
            )
            token = answer.json().get("token", "")
            if not token:
                return time.perf_counter() - start


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="console-bench-") as scratch:
        directory = Path(scratch)
        config = plane_config(directory, f"sqlite:///{directory}/admin.db", f"sqlite:///{directory}/propeller.db")
        async with running_plane(config) as plane:
            await register(plane.stub, [echo_task(), *fan_out("bench.fan", args.nodes)])
            started = time.perf_counter()
            execution = await launch(plane.stub, "bench.fan", ints(x=1), name="benchfan")
            done = await wait(plane.stub, execution, limit=3600)
            assert done.closure.phase == core.WorkflowExecution.SUCCEEDED, done.closure.error
            print(f"execution of {args.nodes} nodes ran in {time.perf_counter() - started:.1f} s", flush=True)
            api_seconds = await list_nodes(f"http://127.0.0.1:{plane.admin.http_port}", execution.name)
            print(f"the node listing alone (REST, pages of 2,000, gzip): {api_seconds:.2f} s", flush=True)
            url = f"http://127.0.0.1:{plane.admin.http_port}/console/projects/{execution.project}/domains/{execution.domain}/executions/{execution.name}"
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
                cold: list[dict[str, Any]] = []
                warm: list[dict[str, Any]] = []
                for _ in range(args.runs):
                    context = await browser.new_context(viewport={"width": 1600, "height": 1000})
                    page = await context.new_page()
                    cold.append(await load(page, url, args.nodes))
                    warm.append(await load(page, url, args.nodes))
                    await context.close()
                await browser.close()
    for label, runs in (("first load (empty cache)", cold), ("second load (cached app)", warm)):
        seconds = statistics.median(r["seconds"] for r in runs)
        each = ", ".join(f"{r['seconds']:.2f}" for r in runs)
        last = runs[-1]
        print(
            f"{label:26} median {seconds:6.2f} s over {len(runs)} runs "
            f"({each}); transferred {last['bytes'] / 1024:8.1f} KiB "
            f"in {last['requests']} requests (API {last['api_bytes'] / 1024:.1f} KiB); "
            f"{last['drawn']} node boxes in the DOM",
            flush=True,
        )


if __name__ == "__main__":
    asyncio.run(main())
