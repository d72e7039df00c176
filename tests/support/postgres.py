"""A throwaway PostgreSQL server for tests: initdb into a temp dir, run on a free loopback port.

PostgreSQL refuses to run as root, so under root the cluster belongs to the `postgres` system user
(created by the Debian package) and commands run through `runuser`.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    if not candidates:
        raise FileNotFoundError(f"{name} not found: scripts/setup.sh installs PostgreSQL")
    return str(candidates[0])


_GIVEN: set[int] = set()
_RANDOM = random.Random()


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def _port_slice() -> tuple[int, int]:
    """The ports this test process may hand out: below the ephemeral range and below 30000
    (`flyteplane start`'s defaults), split evenly between pytest-xdist workers so two workers never
    hand out the same port between one's probe and its server's bind."""
    low, _ = _ephemeral_range()
    first, end = max(1024, low - 12000), low - 2800
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if worker.startswith("gw") and worker[2:].isdigit() and count > 1:
        size = (end - first) // count
        first += int(worker[2:]) * size
        end = first + size
    return first, end


def free_port() -> int:
    """A loopback port free now, never handed out before in this process, and outside the kernel's
    ephemeral range.

    Tests take several ports before anything binds them (a plane's admin, engine, catalog and metrics
    ports). A port from the ephemeral range could meanwhile become the local end of an outgoing
    connection or of another server's bind(0), and the server it was meant for would then fail with
    "Address already in use"; ports below that range are never handed out by the kernel.
    """
    first, end = _port_slice()
    while True:
        port = _RANDOM.randrange(first, end)
        if port in _GIVEN:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _GIVEN.add(port)
        return port


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextmanager
def postgres_server(port: int | None = None) -> Iterator[str]:
    """Yields a base URL `postgresql://postgres@127.0.0.1:PORT` (on `port`, or a free one); the server is gone
    afterwards."""
    root = Path(tempfile.mkdtemp(prefix="flyteplane-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    subprocess.run(
        _as_owner([_bin("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"]),
        check=True,
        capture_output=True,
    )
    port = port or free_port()
    log = root / "server.log"
    subprocess.run(
        _as_owner(
            [
                _bin("pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-w",
                "-t",
                "60",
                "start",
                "-o",
                f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
                "-c full_page_writes=off -c max_connections=200",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_owner([_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]), capture_output=True, check=False
        )
        shutil.rmtree(root, ignore_errors=True)


def create_database(base_url: str, name: str) -> str:
    port = base_url.rsplit(":", 1)[1]
    subprocess.run(
        [_bin("createdb"), "-h", "127.0.0.1", "-p", port, "-U", "postgres", name],
        check=True,
        capture_output=True,
    )
    return f"{base_url}/{name}"
