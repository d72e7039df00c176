"""Admin serves the web console: the built app at every /console URL, its hashed files with their types, strict CSP.

These check the serving, not the app (tests/e2e/console drives it in a browser): a fake build in a
temporary directory, the real build scripts/setup.sh made, and a missing build.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from admin.config import ConsoleConfig
from admin.console import DEFAULT_DIST, Console, trace_id_of
from flyteplane.tracing import derived_id

APP_URLS = [
    "/console",
    "/console/",
    "/console/projects/flytesnacks/domains/development/executions/abc123",
    "/console/projects/flytesnacks/domains/development/executions",
    "/console/projects/flytesnacks/executions?domain=development",
    "/console/projects/flytesnacks/domains/development/launch_plan/wf.lp/version/v1",
    "/console/projects/flytesnacks/domains/development/workflow/wf/version/v1",
    "/console/projects/flytesnacks/domains/development/task/t/version/v1",
    "/console/some/page/the/app/will/explain",
]


def _client(config: ConsoleConfig) -> httpx.AsyncClient:
    app = Starlette(routes=Console(config).routes())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console.test")


@pytest.fixture
def fake_dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(
        '<!doctype html><script type="module" src="/console/assets/app-1a2b.js"></script>'
    )
    (tmp_path / "assets" / "app-1a2b.js").write_text("console.log(1)")
    (tmp_path / "assets" / "app-1a2b.css").write_text("body{}")
    (tmp_path / "secret.txt").write_text("not under assets")
    return tmp_path


async def test_every_app_url_answers_the_page_with_a_policy_forbidding_inline_script(fake_dist: Path) -> None:
    async with _client(ConsoleConfig(dist_dir=fake_dist)) as client:
        for url in APP_URLS:
            answer = await client.get(url)
            assert answer.status_code == 200, url
            assert answer.headers["content-type"].startswith("text/html")
            assert "app-1a2b.js" in answer.text
            policy = answer.headers["content-security-policy"]
            assert "default-src 'self'" in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy
            assert answer.headers["cache-control"] == "no-cache"


async def test_hashed_files_are_served_with_their_types_and_cached_for_good(fake_dist: Path) -> None:
    async with _client(ConsoleConfig(dist_dir=fake_dist)) as client:
        script = await client.get("/console/assets/app-1a2b.js")
        style = await client.get("/console/assets/app-1a2b.css")
        missing = await client.get("/console/assets/nope-0000.js")
        escaping = await client.get("/console/assets/..%2Fsecret.txt")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")
    assert "immutable" in script.headers["cache-control"]
    assert script.headers["x-content-type-options"] == "nosniff"
    assert missing.status_code == 404 and escaping.status_code == 404


async def test_a_missing_build_is_explained_not_a_blank_page(tmp_path: Path) -> None:
    async with _client(ConsoleConfig(dist_dir=tmp_path / "never-built")) as client:
        answer = await client.get("/console/projects/p/domains/d/executions/x")
    assert answer.status_code == 503
    assert "not built" in answer.text and "scripts/setup.sh" in answer.text


async def test_the_build_setup_made_is_served_whole() -> None:
    # scripts/setup.sh builds console/ (npm ci, types generated from the OpenAPI document, vite build).
    async with _client(ConsoleConfig()) as client:
        page = await client.get("/console/projects/flytesnacks/domains/development/executions/x")
        assert page.status_code == 200, f"{DEFAULT_DIST} is not built: run scripts/setup.sh"
        files = re.findall(r'(?:src|href)="(/console/assets/[^"]+)"', page.text)
        assert any(f.endswith(".js") for f in files) and any(f.endswith(".css") for f in files)
        assert "<script>" not in page.text  # no inline script: the policy would refuse it
        for name in files:
            answer = await client.get(name)
            assert answer.status_code == 200
            assert answer.headers["content-type"].split(";")[0] in ("text/javascript", "text/css")
            if name.endswith(".js"):
                assert answer.headers["content-encoding"] == "gzip"  # most of a first load's bytes


async def test_the_trace_link_uses_the_id_derived_from_the_execution() -> None:
    template = "http://jaeger.test/trace/{trace_id}"
    async with _client(ConsoleConfig(trace_url_template=template)) as client:
        linked = (await client.get("/api/v1/console/trace/p/d/exec1")).json()
    async with _client(ConsoleConfig()) as client:
        unlinked = (await client.get("/api/v1/console/trace/p/d/exec1")).json()
    expected = f"{derived_id(128, 'p', 'd', 'exec1'):032x}"
    assert linked == {"traceId": expected, "traceUrl": f"http://jaeger.test/trace/{expected}"}
    assert unlinked == {"traceId": expected} and trace_id_of("p", "d", "exec1") == expected


def test_a_trace_template_must_name_the_trace() -> None:
    with pytest.raises(ValueError, match="trace_id"):
        ConsoleConfig(trace_url_template="http://jaeger.test/trace/")
