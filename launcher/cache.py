"""`flyteplane cache explain`: the command for `propeller.catalog.node_report` (why a node's cache lookup missed)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from launcher.config import FlyteplaneConfig
from propeller.catalog.node_report import NodeRef, explain_node


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cache = commands.add_parser("cache", help="inspect task caching")
    actions = cache.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    explain = actions.add_parser("explain", help="why a node's cache lookup missed: the key part that differs")
    explain.add_argument("--config", type=Path, help="YAML configuration file (for default addresses)")
    explain.add_argument("--admin", help="admin gRPC HOST:PORT (default: from the configuration)")
    explain.add_argument("--datacatalog", help="DataCatalog gRPC HOST:PORT (default: from the configuration)")
    explain.add_argument("--index", type=int, help="for a map task: explain only this element")
    explain.add_argument("project")
    explain.add_argument("domain")
    explain.add_argument("execution", help="execution name")
    explain.add_argument("node_id", help="node id, as in the node execution (e.g. n1)")


def main(args: argparse.Namespace, config: FlyteplaneConfig) -> int:
    admin = args.admin or f"{_local(config.admin.host)}:{config.admin.grpc_port}"
    catalog = (
        args.datacatalog
        or config.propeller.datacatalog_endpoint
        or f"{_local(config.datacatalog.host)}:{config.datacatalog.grpc_port}"
    )
    node = NodeRef(args.project, args.domain, args.execution, args.node_id)
    print(asyncio.run(explain_node(admin, catalog, node, index=args.index)))
    return 0


def _local(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else host
