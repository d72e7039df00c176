"""Dex, a real OpenID Connect provider, built once from the Go module proxy and run on loopback for auth tests.

Dex's module cannot be `go install`ed (its go.mod replaces its own API module), so it is built as a
dependency of a one-file module in the test cache; a pinned commit (a pseudo-version the proxy serves) keeps
builds repeatable. Each run gets an in-memory store, one person with a static password, and the clients the
tests log in as: `flytectl` (public: PKCE and the device flow, flytekit's default client id) and `other-app`
(a confidential client whose tokens are for someone else). `log_in` plays the person's browser at Dex's login
page over plain HTTP, for tests that need a login but not a browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import html
import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import httpx
import yaml

from tests.support.postgres import free_port
from tests.support.venvs import cache_root

DEX_MODULE = "github.com/dexidp/dex"
# v2.45.1 (2026-03-03): the release commit, as a pseudo-version (Dex's v2 tags predate its go.mod's path).
DEX_VERSION = "v0.0.0-20260303133905-11d2eeb52b42"
USER_EMAIL, USER_NAME, USER_PASSWORD = "alice@example.com", "alice", "correct horse battery staple"
OTHER_CLIENT, OTHER_SECRET = "other-app", "other-app-secret"


def ensure_dex() -> Path:
    """The dex executable, built into <test cache>/go-bin on first use (a few minutes; seconds with Go's caches)."""
    gobin = cache_root() / "go-bin"
    binary = gobin / f"dex-{DEX_VERSION}"
    gobin.mkdir(parents=True, exist_ok=True)
    with open(gobin / ".dex.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if binary.exists():
            return binary
        go = shutil.which("go") or shutil.which("go", path="/usr/local/go/bin")
        if go is None:
            raise FileNotFoundError("Dex is built with the Go toolchain: put `go` on PATH (https://go.dev/dl)")
        module = cache_root() / "go-build" / "dex"
        module.mkdir(parents=True, exist_ok=True)
        (module / "go.mod").write_text("module flyteplane.test/dexbuild\n\ngo 1.25\n")
        (module / "tools.go").write_text(f'//go:build tools\n\npackage tools\n\nimport _ "{DEX_MODULE}/cmd/dex"\n')
        env = {**os.environ, "GOFLAGS": "-mod=mod"}
        for step in (
            [go, "get", f"{DEX_MODULE}/cmd/dex@{DEX_VERSION}"],
            [go, "build", "-o", str(binary.with_suffix(".partial")), f"{DEX_MODULE}/cmd/dex"],
        ):
            built = subprocess.run(step, cwd=module, env=env, capture_output=True, text=True, timeout=1500, check=False)
            if built.returncode != 0:
                raise RuntimeError(f"{' '.join(step)} failed:\n{built.stderr[-4000:]}")
        binary.with_suffix(".partial").rename(binary)
    return binary


@dataclass(frozen=True)
class RunningDex:
    issuer: str
    port: int
    log: Path

    async def password_token(self, client_id: str, secret: str | None = None, scope: str = "openid email") -> str:
        """An access token for the test person through the resource-owner password grant (no browser)."""
        form = {"grant_type": "password", "username": USER_EMAIL, "password": USER_PASSWORD, "scope": scope}
        auth = (client_id, secret) if secret is not None else None
        if secret is None:
            form["client_id"] = client_id
        async with httpx.AsyncClient(timeout=30) as http:
            answer = await http.post(f"{self.issuer}/token", data=form, auth=auth)
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["access_token"]
        return token


def _prepare(port: int, directory: Path, redirect_uris: Sequence[str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return _config(port, directory, redirect_uris)


def _config(port: int, directory: Path, redirect_uris: Sequence[str] = ()) -> Path:
    issuer = f"http://127.0.0.1:{port}/dex"
    hashed = bcrypt.hashpw(USER_PASSWORD.encode(), bcrypt.gensalt(rounds=10)).decode()
    config = {
        "issuer": issuer,
        "storage": {"type": "memory"},
        "web": {"http": f"127.0.0.1:{port}"},
        "oauth2": {
            "skipApprovalScreen": True,
            "passwordConnector": "local",
            "grantTypes": [
                "authorization_code",
                "refresh_token",
                "password",
                "urn:ietf:params:oauth:grant-type:device_code",
            ],
            "responseTypes": ["code"],
        },
        "enablePasswordDB": True,
        "staticPasswords": [
            {
                "email": USER_EMAIL,
                "hash": hashed,
                "username": USER_NAME,
                "userID": "5f0c8a8e-4c55-4d1e-9a55-6f1f4a1d2b3c",
            }
        ],
        "staticClients": [
            {
                "id": "flytectl",
                "name": "flytectl",
                "public": True,
                # Dex sends the device flow's login back to its own /device/callback, which must be registered.
                "redirectURIs": ["http://localhost:53593/callback", "/device/callback", *redirect_uris],
            },
            {"id": OTHER_CLIENT, "name": OTHER_CLIENT, "secret": OTHER_SECRET, "redirectURIs": []},
        ],
    }
    path = directory / "dex.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@contextlib.asynccontextmanager
async def running_dex(binary: Path, directory: Path, redirect_uris: Sequence[str] = ()) -> AsyncIterator[RunningDex]:
    """Dex on a free loopback port, ready (its discovery document answers); stopped at the end. `redirect_uris`:
    more places the public client `flytectl` may be sent back to (admin's /callback, for the console)."""
    port = free_port()
    config = await asyncio.to_thread(_prepare, port, directory, redirect_uris)
    log = directory / "dex.log"
    out = await asyncio.to_thread(log.open, "wb")
    with out:
        process = await asyncio.create_subprocess_exec(
            str(binary), "serve", str(config), stdout=out, stderr=subprocess.STDOUT
        )
    dex = RunningDex(f"http://127.0.0.1:{port}/dex", port, log)
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            for _ in range(300):
                if process.returncode is not None:
                    raise RuntimeError(f"dex exited {process.returncode}:\n{log.read_text()[-3000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{dex.issuer}/.well-known/openid-configuration")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError(f"dex did not answer within 30 s:\n{log.read_text()[-3000:]}")
        yield dex
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        await process.wait()


_LOGIN_FORM = re.compile(r'<form method="post" action="([^"]*/auth/local/login[^"]*)"')


async def log_in(http: httpx.AsyncClient, url: str, stop_at: str = "") -> httpx.Response:
    """What a person's browser does from `url` (with the cookies `http` keeps): follow redirects, and at Dex's
    login page log in as the test person. Ends at a redirect to a URL starting with `stop_at` (returned, not
    followed: a client's localhost callback) or at the first page that is not Dex's login."""
    answer = await http.get(url)
    for _ in range(12):
        if answer.is_redirect:
            target = str(answer.url.join(answer.headers["location"]))
            if stop_at and target.startswith(stop_at):
                return answer
            answer = await http.get(target)
            continue
        form = _LOGIN_FORM.search(answer.text)
        if form is None:
            return answer
        action = str(answer.url.join(html.unescape(form.group(1))))
        answer = await http.post(action, data={"login": USER_EMAIL, "password": USER_PASSWORD})
    raise AssertionError(f"the login did not end: at {answer.url}")
