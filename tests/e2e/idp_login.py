"""A person logging in at the identity provider in a real browser (Debian's chromium, headless, via Playwright).

`python idp_login.py URL SCREENSHOT_DIR` opens URL — a device-flow verification link or a PKCE authorization
URL — enters the user code if the page asks for it, logs in with the test person's password and follows the
provider's redirects to the end (for PKCE: flytekit's callback on localhost). Screenshots of each page are kept.

`--detach` first: start the login in the background and return at once. That is how it serves as flytekit's
browser (BROWSER=...): Python's webbrowser waits for the command, while flytekit only answers its callback
after the browser command has returned.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from playwright.async_api import async_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.dex import USER_EMAIL, USER_PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


async def login(url: str, shots: Path) -> bool:
    """Whether the login went through (the provider showed no error)."""
    await asyncio.to_thread(shots.mkdir, parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = await browser.new_page()
        await page.goto(url)
        code = parse_qs(urlparse(url).query).get("user_code", [""])[0]
        for step in range(1, 7):
            await page.wait_for_load_state("networkidle")
            where = urlparse(page.url).path.strip("/").replace("/", "-")
            await page.screenshot(path=str(shots / f"{step}-{where}.png"))
            if await page.locator("input[name=user_code]").count():
                field = page.locator("input[name=user_code]")
                if not await field.input_value():
                    await field.fill(code)
                async with page.expect_navigation():
                    await page.locator("button[type=submit]").click()
            elif await page.locator("input[name=password]").count():
                await page.locator("input[name=login]").fill(USER_EMAIL)
                await page.locator("input[name=password]").fill(USER_PASSWORD)
                async with page.expect_navigation():
                    await page.locator("button[type=submit]").click()
            else:
                break  # the provider's last page (device flow), or flytekit's callback page (PKCE)
        await page.screenshot(path=str(shots / "done.png"))
        text = await page.inner_text("body")
        print("login finished at", page.url, "\n", text, flush=True)
        await browser.close()
    return "Bad Request" not in text and "error" not in text.lower()


def main() -> None:
    args = sys.argv[1:]
    if args and args[0] == "--detach":
        url = args[1]
        shots = Path(args[2]) if len(args) > 2 else Path("idp-login")
        with open(shots.with_suffix(".log"), "ab") as log:
            subprocess.Popen(
                [sys.executable, __file__, url, str(shots)], stdout=log, stderr=log, start_new_session=True
            )
        return
    sys.exit(0 if asyncio.run(login(args[0], Path(args[1]))) else 1)


if __name__ == "__main__":
    main()
