"""The engine alone (no admin): echo workflows run in-process with events committed to the outbox and
acknowledged without delivery — what propeller itself costs, separated from admin's event ingestion.

Run: .venv/bin/python bench/engine_only.py [--chain 1000] [--fan-out 10000] [--map 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.engine import int_list
from flyteidl_py.core import identifier_pb2, literals_pb2
from flyteidl_py.flyteplane.engine.v1 import engine_pb2
from flyteplane.database import Database
from flyteplane.storage import Storage, StorageConfig, join
from plugins.config import PluginsConfig
from plugins.registry import PluginRegistry
from propeller.compiler import compile_task, compile_workflow
from propeller.config import EngineConfig
from propeller.db import MIGRATIONS
from propeller.engine import Engine
from propeller.services import EngineSettings
from tests.integration.propeller.helpers import ints
from tests.support.echo import chain, echo_list_task, echo_task, fan_out, mapped


async def run(
    label: str, nodes: int, task: object, requests: list[object], inputs: literals_pb2.LiteralMap, scratch: str | None
) -> None:
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        url = f"sqlite:///{tmp}/propeller.db"
        db = Database.connect(url)
        await MIGRATIONS.upgrade(db, url)
        storage = Storage(StorageConfig(local_root=Path(tmp) / "store"))
        engine = Engine(
            db,
            storage,
            await PluginRegistry.load(PluginsConfig()),
            None,
            EngineSettings(
                metadata_prefix=join(storage.default_prefix, "metadata"),
                raw_output_prefix=join(storage.default_prefix, "raw"),
                tuning=EngineConfig(workers=4),
            ),
        )
        await engine.start()
        template = requests[0].spec.template  # type: ignore[attr-defined]
        closure = compile_workflow(template, [], [compile_task(task.spec.template)], [])  # type: ignore[attr-defined]
        inputs_uri = join(storage.default_prefix, "inputs.pb")
        await storage.write_proto(inputs_uri, inputs)
        ident = identifier_pb2.WorkflowExecutionIdentifier(project="bench", domain="development", name="e1")
        start = time.perf_counter()
        await engine.launch(engine_pb2.LaunchRequest(execution_id=ident, closure=closure, inputs_uri=inputs_uri))
        while not (await engine.store.find(ident)).terminal:  # noqa: ASYNC110 - polling the database
            await asyncio.sleep(0.02)
        seconds = time.perf_counter() - start
        record = await engine.store.find(ident)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{label:28} {nodes:8d} nodes {seconds:8.2f} s {nodes / seconds:9.1f} node completions/s "
            f"{engine.rounds:5d} rounds of {engine.round_seconds / max(1, engine.rounds) * 1e3:6.1f} ms  "
            f"phase={record.phase}  process peak RSS {peak:7.1f} MiB",
            flush=True,
        )
        await engine.stop()
        await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chain", type=int, default=1000)
    parser.add_argument("--fan-out", type=int, default=10000)
    parser.add_argument("--map", type=int, default=100000)
    parser.add_argument(
        "--round-sizes",
        default="100,1000,10000",
        help="chain lengths for the round-time curve (comma-separated; empty to skip)",
    )
    parser.add_argument("--scratch", default=None, help="directory for the database and store (default: $TMPDIR)")
    args = parser.parse_args()
    print(
        "machine: 2 cores; engine in-process, SQLite, local file store, events not delivered; "
        f"scratch {args.scratch or tempfile.gettempdir()}; peak RSS is the process's so far"
    )
    if args.chain:
        await run("chain (echo)", args.chain, echo_task(), chain("c", args.chain), ints(x=1), args.scratch)
    if args.fan_out:
        await run("fan-out (echo)", args.fan_out, echo_task(), fan_out("f", args.fan_out), ints(x=1), args.scratch)
    if args.map:
        await run("map task (echo elements)", args.map, echo_list_task(), mapped("m"), int_list(args.map), args.scratch)
    sizes = [int(size) for size in args.round_sizes.split(",") if size]
    if sizes:
        print("round time as the graph grows (chains: each round advances up to 50 nodes, whatever the length):")
    for size in sizes:
        await run(f"chain of {size}", size, echo_task(), chain(f"r{size}", size), ints(x=1), args.scratch)


if __name__ == "__main__":
    asyncio.run(main())
