"""The `flyteplane` command line: configuration, migrations, the servers, `start`, `secrets` and the client commands."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from flyteplane import __version__, collector
from flyteplane.errors import FlyteplaneError
from flyteplane.logs import configure_logging
from flyteplane.tracing import configure_tracing, shutdown_tracing
from launcher import auth, cache, secrets, start
from launcher.auth import check_exposure
from launcher.client import commands as client
from launcher.config import FlyteplaneConfig, load_config
from launcher.migrate import COMPONENTS, migrate
from plugins.local.isolation import check_privileges


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flyteplane", description="The Flyte v1 control plane, in Python.")
    parser.add_argument("--version", action="version", version=f"flyteplane {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    config = commands.add_parser("config", help="print the effective configuration as YAML")
    config.add_argument("--config", type=Path, help="YAML configuration file")
    migrate = commands.add_parser("migrate", help="create or upgrade the database schemas")
    migrate.add_argument("--config", type=Path, help="YAML configuration file")
    migrate.add_argument(
        "components", nargs="*", metavar="COMPONENT", help=f"any of {', '.join(COMPONENTS)}; default: all"
    )
    start = commands.add_parser(
        "start", help="run the whole plane on this machine (admin, propeller, datacatalog, scheduler)"
    )
    start.add_argument("--config", type=Path, help="YAML configuration file")
    start.add_argument("--data-dir", help="where databases, data and the task environment live (~/.flyteplane)")
    start.add_argument("--database", help="a PostgreSQL URL for all components instead of SQLite files")
    start.add_argument("--storage", help="s3://bucket or gs://bucket instead of the local store")
    start.add_argument("--s3-endpoint", help="S3-compatible endpoint URL for --storage s3://...")
    start.add_argument("--no-task-env", action="store_true", help="do not create the flytekit task environment")
    start.add_argument("--auth", action="store_true", help="require a token on every call (admin.auth.enabled)")
    start.add_argument(
        "--insecure",
        action="store_true",
        help="serve beyond loopback with auth off (refused without this flag: anyone reaching it could do anything)",
    )
    start.add_argument(
        "--no-agent-server",
        action="store_true",
        help="do not run flytekit's agent server (sensors, flytekit's agents) from the task environment",
    )
    serve = commands.add_parser("serve", help="run one component in the foreground")
    serve.add_argument("component", choices=COMPONENTS)
    serve.add_argument("--config", type=Path, help="YAML configuration file")
    serve.add_argument("--insecure", action="store_true", help="admin: serve beyond loopback with auth off")
    cache.add_parser(commands)
    secrets.add_parser(commands)
    auth.add_parser(commands)
    client.add_parsers(commands)
    return parser


async def _until_signalled(start: Callable[[], Awaitable[Any]], describe: Callable[[Any], str]) -> None:
    server = await start()
    collector.settle()
    print(describe(server), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop()


def _metrics(server: Any) -> str:
    """Where a component run alone is scraped (its `metrics_port`), if it has an endpoint."""
    endpoint = getattr(server, "metrics", None)
    return f"; metrics on port {endpoint.port} (/metrics)" if endpoint is not None else ""


async def _serve(component: str, config: FlyteplaneConfig, note: str = "") -> None:
    if component == "admin":
        from admin.server import start_admin
        from launcher.cache import catalog_endpoint, explainer

        credential = await asyncio.to_thread(config.plane_credential)
        await _until_signalled(
            lambda: start_admin(config, cache_explainer=explainer(catalog_endpoint(config), credential)),
            lambda s: (
                f"admin: gRPC on {config.admin.host}:{s.grpc_port}, HTTP on {config.admin.host}:{s.http_port}"
                + _metrics(s)
                + (f"; {note}" if note else "")
            ),
        )
    elif component == "propeller":
        from propeller.server import start_propeller

        await _until_signalled(
            lambda: start_propeller(config),
            lambda s: f"propeller: engine API on {config.propeller.host}:{s.port}" + _metrics(s),
        )
    elif component == "scheduler":
        from scheduler.server import start_scheduler

        await _until_signalled(
            lambda: start_scheduler(config),
            lambda s: (
                f"scheduler: {s.scheduler.store.owner}, firing schedules through admin at "
                f"{config.scheduler.admin_endpoint}" + _metrics(s)
            ),
        )
    else:
        from datacatalog.server import start_datacatalog

        await _until_signalled(
            lambda: start_datacatalog(config),
            lambda s: f"datacatalog: gRPC on {config.datacatalog.host}:{s.port}" + _metrics(s),
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            parser.print_help()
            return 0
        if args.command == "auth" and args.auth_kind == "token":  # a client of admin: no plane configuration
            return auth.print_token(args)
        if args.command in client.COMMANDS:  # clients of an admin: their --config is flytekit's, not the plane's
            return client.main(args)
        config = load_config(args.config)
        configure_logging(config.logging)
        if args.command in ("start", "serve"):
            configure_tracing(config.tracing)
        if args.command == "config":
            yaml.safe_dump(config.model_dump(mode="json"), sys.stdout, sort_keys=False)
        elif args.command == "migrate":
            unknown = set(args.components) - set(COMPONENTS)
            if unknown:
                parser.error(f"unknown components: {', '.join(sorted(unknown))}")
            asyncio.run(migrate(config, args.components or COMPONENTS))
        elif args.command == "start":
            return start.main(args, config)
        elif args.command == "serve":
            # Refused here, before anything starts; said on admin's first line (its readiness line).
            note = check_exposure(config, args.insecure) if args.component == "admin" else ""
            if args.component == "propeller":
                check_privileges(config.propeller.plugins.local.isolation)
            asyncio.run(_serve(args.component, config, note))
        elif args.command == "cache":
            return cache.main(args, config)
        elif args.command == "secrets":
            return secrets.main(args, config)
        elif args.command == "auth":
            return auth.main(args, config)
    except FlyteplaneError as exc:
        print(f"flyteplane: {exc}", file=sys.stderr)
        return 2
    finally:
        shutdown_tracing()  # exports the spans still batched
    return 0


if __name__ == "__main__":
    sys.exit(main())
