"""Two builds of the plane side by side on W3, run by run, so the machine's load falls on both alike.

`bench/peer_workloads.py` measures one tree at a time; on a shared 2-core machine its W3 median moves by
more between rounds than a small change costs. Here each variant (`--variant NAME=TREE[:VAR=VALUE,...]`:
a source tree put first on PYTHONPATH, and `FLYTEPLANE_*` settings) gets its own `flyteplane start`
(warm fork path, the embedded defaults otherwise), the bench workflows registered, and one warm-up run;
then W3 (one `x + 1` task, submit -> outputs read, polled every `--poll-ms`) runs on the variants in
turn, `--pairs` times, the order alternating each round. Printed: each variant's median and p90, and
for every variant after the first the median of its paired differences from the first with a 95%
interval (bootstrap over the pairs) and how many pairs it was slower in -- "no measurable slowdown"
means an interval that contains zero.

Example: the tree as it is against a copy with some code path removed,
  .venv/bin/python bench/paired_trees.py --variant main=. --variant stripped=/tmp/stripped-tree
and one tree with a setting switched,
  .venv/bin/python bench/paired_trees.py --variant default=. --variant no-metrics=.:ADMIN__HTTP_METRICS=false
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.peer_workloads import WORKLOADS, Client, Plane, expected, register  # noqa: E402
from tests.support.flytekit import flytekit_bin  # noqa: E402

W3 = WORKLOADS["W3"]


@dataclass(frozen=True)
class Variant:
    name: str
    tree: Path
    settings: dict[str, str]


def parse_variant(text: str) -> Variant:
    name, sep, rest = text.partition("=")
    if not sep or not name or not rest:
        raise argparse.ArgumentTypeError(f"expected NAME=TREE[:VAR=VALUE,...], got {text!r}")
    tree_text, _, settings_text = rest.partition(":")
    tree = Path(tree_text).resolve()
    if not (tree / "launcher").is_dir():
        raise argparse.ArgumentTypeError(f"{tree} is not a flyteplane source tree (no launcher/)")
    settings = {}
    for item in filter(None, settings_text.split(",")):
        key, eq, value = item.partition("=")
        if not eq:
            raise argparse.ArgumentTypeError(f"expected VAR=VALUE in {text!r}, got {item!r}")
        settings[key] = value
    return Variant(name, tree, settings)


def bootstrap_interval(values: list[float], rounds: int = 2000) -> tuple[float, float]:
    """A 95% interval of the median of `values`, resampled with replacement."""
    rng = random.Random(7)
    medians = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(rounds))
    return medians[int(0.025 * rounds)], medians[int(0.975 * rounds) - 1]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--variant", type=parse_variant, action="append", required=True, help="NAME=TREE[:VAR=VALUE,...]"
    )
    parser.add_argument("--pairs", type=int, default=100, help="W3 runs per variant")
    parser.add_argument("--poll-ms", type=float, default=5.0, help="GetExecution polling interval")
    args = parser.parse_args()
    variants: list[Variant] = args.variant
    if len(variants) < 2:
        parser.error("give at least two --variant")
    bin_dir = flytekit_bin()
    scratch = Path(tempfile.mkdtemp(prefix="paired-trees-"))
    planes: list[Plane] = []
    clients: list[Client] = []
    try:
        project = scratch / "project"
        shutil.copytree(ROOT / "bench" / "workflows", project / "workflows")
        for variant in variants:
            home = scratch / variant.name
            home.mkdir()
            plane = Plane(home, "warm", bin_dir.parent)
            plane.env["PYTHONPATH"] = str(variant.tree)
            plane.env.update({f"FLYTEPLANE_{k}": v for k, v in variant.settings.items()})
            planes.append(plane)
            healthy = plane.start()
            register(bin_dir, plane.config, project)
            client = Client(plane.grpc_port, args.poll_ms / 1000)
            clients.append(client)
            await client.run(W3.launch_plan, 0)  # warm-up: the bundle's fork servers start here
            print(f"[{variant.name}] {variant.tree} {variant.settings or ''}: healthy {healthy:.1f}s", file=sys.stderr)
        times: list[list[float]] = [[] for _ in variants]
        order = list(range(len(variants)))
        for pair in range(args.pairs):
            for index in order if pair % 2 == 0 else reversed(order):
                began = time.perf_counter()
                outputs, _ = await clients[index].run(W3.launch_plan, pair)
                times[index].append(time.perf_counter() - began)
                got = outputs.literals["o0"].scalar.primitive.integer
                if got != expected(W3, pair):
                    raise RuntimeError(f"{variants[index].name} computed {got} for x={pair}")
        print(f"\nW3 (one task, submit -> outputs read), {args.pairs} runs per variant, alternating, "
              f"polling every {args.poll_ms:g} ms")  # fmt: skip
        for variant, values in zip(variants, times, strict=True):
            ordered = sorted(values)
            p90 = ordered[round(0.9 * (len(ordered) - 1))]
            print(f"  {variant.name:<16} median {statistics.median(values) * 1000:7.1f} ms   p90 {p90 * 1000:7.1f} ms")
        for variant, values in zip(variants[1:], times[1:], strict=True):
            differences = [(b - a) * 1000 for a, b in zip(times[0], values, strict=True)]
            low, high = bootstrap_interval(differences)
            slower = sum(d > 0 for d in differences)
            print(
                f"  {variant.name} - {variants[0].name}: median of paired differences "
                f"{statistics.median(differences):+.1f} ms (95% interval {low:+.1f} .. {high:+.1f} ms), "
                f"slower in {slower} of {len(differences)} pairs"
            )
    finally:
        for client in clients:
            await client.close()
        for plane in planes:
            plane.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
