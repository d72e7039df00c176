"""The console with auth on, as a person meets it: opened in a real browser (Debian's chromium, headless), it sends
them to the identity provider (Dex, a real one) to log in and brings them back to the page they asked for.

`flyteplane start --auth` with `admin.auth.external` naming Dex; Dex knows admin's /callback. The login is the
same whether flytekit's people log in at the provider or at admin's built-in server (`admin.auth.people`), as
Flyte's console logs in at the identity provider in both; both are run. Screenshots in test-artifacts/console-login.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect

from tests.e2e.console.browser import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.test_sandbox import Sandbox, _env
from tests.support.dex import USER_EMAIL, USER_PASSWORD, ensure_dex, running_dex
from tests.support.paths import REPO_ROOT

ARTIFACTS = REPO_ROOT / "test-artifacts" / "console-login"


@pytest.fixture
async def plane(
    request: pytest.FixtureRequest, tmp_path: Path, flytekit_venv: Path
) -> AsyncIterator[tuple[Sandbox, str]]:
    env = _env(flytekit_venv)
    base = f"http://127.0.0.1:{env['FLYTEPLANE_ADMIN__HTTP_PORT']}"
    async with running_dex(ensure_dex(), tmp_path / "dex", [f"{base}/callback"]) as dex:
        env["FLYTEPLANE_ADMIN__AUTH__EXTERNAL"] = json.dumps({"issuer": dex.issuer})
        env["FLYTEPLANE_ADMIN__AUTH__PEOPLE"] = getattr(request, "param", "provider")
        sandbox = Sandbox(tmp_path / "plane", ["--auth", "--no-agent-server"], env)
        await sandbox.start()
        try:
            yield sandbox, base
        finally:
            await sandbox.interrupt()


@pytest.mark.parametrize("plane", ["provider", "built-in"], indirect=True)
async def test_the_console_sends_a_person_to_log_in_and_back_to_their_page(plane: tuple[Sandbox, str]) -> None:
    _, base = plane
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 1400, "height": 900})
        page = await context.new_page()
        # Without a session the API answers 401, and the console sends the person to log in.
        assert (await page.request.get(f"{base}/api/v1/projects")).status == 401
        await page.goto(f"{base}/console/projects/flytesnacks/domains/development/executions")
        try:
            await page.wait_for_selector("input[name=password]", timeout=60_000)
        except Exception:
            await page.screenshot(path=str(ARTIFACTS / "0-no-login.png"))
            raise AssertionError(f"no login page: at {page.url}: {await page.inner_text('body')}") from None
        assert "/dex/" in page.url
        await page.screenshot(path=str(ARTIFACTS / "1-provider-login.png"))
        await page.locator("input[name=login]").fill(USER_EMAIL)
        await page.locator("input[name=password]").fill(USER_PASSWORD)
        await page.locator("button[type=submit]").click()
        # Back on the page they asked for, now showing the plane's data.
        await page.wait_for_url(f"{base}/console/projects/flytesnacks/domains/development/executions", timeout=60_000)
        await expect(page.get_by_text("flytesnacks").first).to_be_visible(timeout=30_000)
        await page.screenshot(path=str(ARTIFACTS / "2-console-after-login.png"))
        cookies = {c["name"]: c for c in await context.cookies()}
        session = cookies["flyteplane_token"]
        assert session["httpOnly"] and session["sameSite"] == "Strict"  # not for scripts, not for other sites
        me = await page.request.get(f"{base}/me")
        assert (await me.json())["subject"] == USER_EMAIL
        # Logged out, the API refuses again.
        await page.goto(f"{base}/logout")
        assert (await page.request.get(f"{base}/api/v1/projects")).status == 401
        await browser.close()


async def test_a_login_redirect_stays_on_this_server(plane: tuple[Sandbox, str]) -> None:
    _, base = plane
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page()
        answer = await page.request.get(f"{base}/login?redirect=//evil.example/x", max_redirects=0)
        assert answer.status == 302
        # The provider's login, not the other site; and the redirect kept for afterwards is this console's.
        assert answer.headers["location"].startswith("http://127.0.0.1:")
        assert "evil.example" not in answer.headers["location"]
        await browser.close()
