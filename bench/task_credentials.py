"""What scoped task credentials add to an attempt's start: one STS AssumeRole with its session policy, per attempt.

Against moto with IAM enforced (tests/support/iam_s3.py) on loopback, so the figure is the plane's side -- building
the policy, boto3's signing and parsing, the thread hop -- plus moto's answer; AWS's STS adds its network round
trip (tens of milliseconds within a region). Each attempt is a new scope (a new cache key), as every attempt of a
running plane is; a second ask for the same attempt (an attempt that waited and started again) is the cache's.
Printed: milliseconds per first ask (median, p90, max) sequentially and with `--concurrency` attempts asking at
once, and per cached ask.

Run: .venv/bin/python bench/task_credentials.py [--attempts 200] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flyteplane.storage import S3Config  # noqa: E402
from flyteplane.storage.config import TaskCredentialsConfig  # noqa: E402
from flyteplane.storage.task_credentials import TaskCredentialsIssuer, TaskScope, session_policy  # noqa: E402
from tests.support.iam_s3 import enforcing_s3  # noqa: E402

BUCKET = "bench"


def _scope(index: int) -> TaskScope:
    execution = f"s3://{BUCKET}/metadata/propeller/flytesnacks-development-e{index}/"
    raw = f"s3://{BUCKET}/raw/flytesnacks/development/e{index}/"
    return TaskScope(
        project="flytesnacks",
        domain="development",
        execution=f"e{index}",
        attempt_key=f"flytesnacks/development/e{index}/n0/0",
        reads=(execution, f"s3://{BUCKET}/metadata/flytesnacks/development/e{index}/", raw,
               f"s3://{BUCKET}/uploads/flytesnacks/development/"),
        writes=(f"{execution}n0/data/0", f"{raw}ab/e{index}-n0-0"),
    )  # fmt: skip


def _figures(label: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p90 = ms[int(len(ms) * 0.9) - 1]
    return f"{label:<34} median {statistics.median(ms):7.2f} ms  p90 {p90:7.2f} ms  max {ms[-1]:7.2f} ms  (n={len(ms)})"


async def _timed(issuer: TaskCredentialsIssuer, scope: TaskScope) -> float:
    start = time.perf_counter()
    await issuer.credentials(scope)
    return time.perf_counter() - start


async def main(attempts: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, enforcing_s3(Path(tmp) / "moto.log") as server:
        role = server.create_role("flyteplane-flytesnacks", session_policy(_scope(0)))
        config = S3Config(
            endpoint_url=server.endpoint,
            access_key_id=server.plane_key,
            secret_access_key=SecretStr(server.plane_secret),
            task_credentials=TaskCredentialsConfig(mode="sts", role_arn=role),
        )
        issuer = TaskCredentialsIssuer(config)
        await issuer.credentials(_scope(-1))  # the client's creation and the first connection: once per process
        sequential = [await _timed(issuer, _scope(i)) for i in range(attempts)]
        cached = [await _timed(issuer, _scope(i)) for i in range(attempts)]
        parallel: list[float] = []
        for batch in range(attempts, 2 * attempts, concurrency):
            parallel += await asyncio.gather(*(_timed(issuer, _scope(i)) for i in range(batch, batch + concurrency)))
        print(_figures("AssumeRole per attempt, one by one", sequential))
        print(_figures(f"AssumeRole per attempt, {concurrency} at once", parallel))
        print(_figures("same attempt again (cached)", cached))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.attempts, args.concurrency))
