"""Throwaway virtualenvs for real third-party clients (published flyteidl, flytekit), cached by requirements.

Those packages register `flyteidl.*` in protobuf's descriptor pool, so they never share a process
with flyteidl_py: tests drive them as subprocesses of their own interpreter.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path


def cache_root() -> Path:
    base = os.environ.get("FLYTEPLANE_TEST_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "flyteplane-tests"
    )
    return Path(base)


def ensure_venv(name: str, requirements: list[str]) -> Path:
    """Return the python executable of a virtualenv holding exactly `requirements`, creating it once."""
    key = hashlib.sha256("\n".join([sys.version, *requirements]).encode()).hexdigest()[:12]
    root = cache_root() / f"{name}-{key}"
    python = root / "bin" / "python"
    ready = root / ".ready"
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f".{name}-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not ready.exists():
            venv.EnvBuilder(with_pip=True, clear=True).create(root)
            subprocess.run(
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    *requirements,
                ],
                check=True,
            )
            ready.write_text("\n".join(requirements))
    return python
