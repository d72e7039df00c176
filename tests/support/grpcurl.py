"""grpcurl, the generic gRPC command-line client, installed once with `go install` into the test cache.

It knows nothing of Flyte: everything it shows comes from the server's reflection service, so it
checks that admin describes itself completely enough for any generic client.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.support.venvs import cache_root

GRPCURL_MODULE = "github.com/fullstorydev/grpcurl/cmd/grpcurl@latest"
TIMEOUT = 60.0


def ensure_grpcurl() -> Path:
    """The grpcurl executable, built with the Go toolchain into <test cache>/go-bin on first use."""
    gobin = cache_root() / "go-bin"
    binary = gobin / "grpcurl"
    gobin.mkdir(parents=True, exist_ok=True)
    with open(gobin / ".grpcurl.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not binary.exists():
            go = shutil.which("go") or shutil.which("go", path="/usr/local/go/bin")
            if go is None:
                raise FileNotFoundError("grpcurl is built with the Go toolchain: put `go` on PATH (https://go.dev/dl)")
            built = subprocess.run(
                [go, "install", GRPCURL_MODULE],
                check=False,
                env={**os.environ, "GOBIN": str(gobin)},
                capture_output=True,
                text=True,
                timeout=600,
            )
            if built.returncode != 0:
                raise RuntimeError(f"go install {GRPCURL_MODULE} failed:\n{built.stderr}")
    return binary


async def grpcurl(binary: Path, port: int, *command: str, options: tuple[str, ...] = ()) -> str:
    """Run `grpcurl -plaintext OPTIONS 127.0.0.1:PORT COMMAND` and return its stdout; fails on a non-zero exit.

    `binary` comes from ensure_grpcurl(), called before the server's event loop is busy serving.
    """
    args = (*options, f"127.0.0.1:{port}", *command)
    process = await asyncio.create_subprocess_exec(
        binary, "-plaintext", "-max-time", str(int(TIMEOUT)), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), TIMEOUT + 10)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise AssertionError(f"grpcurl {' '.join(args)} did not finish in {TIMEOUT + 10:.0f}s") from None
    assert process.returncode == 0, f"grpcurl {' '.join(args)} exited {process.returncode}:\n{stderr.decode()}"
    return stdout.decode()


async def grpcurl_call(binary: Path, port: int, method: str, request: dict[str, Any]) -> Any:
    """Call `service/method` with a JSON request, as grpcurl does, and parse the JSON answer."""
    return json.loads(await grpcurl(binary, port, method, options=("-d", json.dumps(request))))
