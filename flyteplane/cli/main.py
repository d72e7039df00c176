"""The `flyteplane` command line: version, configuration, migrations and the component servers."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from flyteplane import __version__
from flyteplane.config import FlyteplaneConfig, load_config
from flyteplane.database import Database
from flyteplane.errors import FlyteplaneError
from flyteplane.logs import configure_logging


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flyteplane", description="The Flyte v1 control plane, in Python.")
    parser.add_argument("--version", action="version", version=f"flyteplane {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    config = commands.add_parser("config", help="print the effective configuration as YAML")
    config.add_argument("--config", type=Path, help="YAML configuration file")
    migrate = commands.add_parser("migrate", help="create or upgrade the database schemas")
    migrate.add_argument("--config", type=Path, help="YAML configuration file")
    serve = commands.add_parser("serve", help="run one component in the foreground")
    serve.add_argument("component", choices=["admin"])
    serve.add_argument("--config", type=Path, help="YAML configuration file")
    return parser


async def _migrate(config: FlyteplaneConfig) -> None:
    from admin.db import MIGRATIONS as ADMIN

    url = config.database_url("admin", config.admin.database_url)
    db = Database.connect(url)
    try:
        await ADMIN.upgrade(db, url)
        print(f"admin schema at {await ADMIN.current(db)} ({url.split('@')[-1]})")
    finally:
        await db.dispose()


async def _serve_admin(config: FlyteplaneConfig) -> None:
    from admin.server import start_admin

    server = await start_admin(config)
    print(
        f"admin: gRPC on {config.admin.host}:{server.grpc_port}, HTTP on {config.admin.host}:{server.http_port}",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            parser.print_help()
            return 0
        config = load_config(args.config)
        configure_logging(config.logging)
        if args.command == "config":
            yaml.safe_dump(config.model_dump(mode="json"), sys.stdout, sort_keys=False)
        elif args.command == "migrate":
            asyncio.run(_migrate(config))
        elif args.command == "serve":
            asyncio.run(_serve_admin(config))
    except FlyteplaneError as exc:
        print(f"flyteplane: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
