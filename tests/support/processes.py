"""Components as real OS processes (`flyteplane serve ...`), for tests that kill and restart them."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def flyteplane_env(config: Any) -> dict[str, str]:
    """The environment that makes `flyteplane serve` use `config` (our FLYTEPLANE_* overrides)."""
    env = dict(os.environ)
    data = config.model_dump(mode="json")
    env["FLYTEPLANE_DATA_DIR"] = str(config.data_dir)
    for section in ("admin", "propeller", "datacatalog", "scheduler"):
        for key, value in data[section].items():
            if value is not None:
                env[f"FLYTEPLANE_{section.upper()}__{key.upper()}"] = (
                    json.dumps(value) if isinstance(value, dict | list) else str(value)
                )
    env["FLYTEPLANE_STORAGE__LOCAL_ROOT"] = str(config.storage.local_root)
    return env


@dataclass
class ServedComponent:
    component: str
    env: dict[str, str]
    log: Path
    process: asyncio.subprocess.Process | None = None
    starts: int = field(default=0)

    async def start(self) -> None:
        exe = Path(sys.executable).with_name("flyteplane")
        handle = open(self.log, "ab")  # noqa: SIM115, ASYNC230 - handed to the child; opening is instant
        self.process = await asyncio.create_subprocess_exec(
            str(exe),
            "serve",
            self.component,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=handle,
            start_new_session=True,
        )
        handle.close()
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 60)
        if not line:
            raise RuntimeError(f"{self.component} did not start; see {self.log}:\n{self.log.read_text()[-3000:]}")
        self.starts += 1

    async def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbye — a crash."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()  # the engine only; the task processes it started live on
            await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
