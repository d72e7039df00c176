"""Headless chromium (Debian's) driven by Playwright for the console's browser tests, and their screenshots."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.support.paths import REPO_ROOT

ARTIFACTS = REPO_ROOT / "test-artifacts" / "console"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


async def shot(page: Page, name: str) -> None:
    """A full-page screenshot kept as test-artifacts/console/<name>.png."""
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
