"""`flyteplane cache explain`: the command for `propeller.catalog.node_report` (why a node's cache lookup missed).

The same report answers the console's "why a miss?" through admin: `explainer` is what the launcher hands
admin for it (admin does not import propeller).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from admin.console_api import CacheExplainer
from flyteidl_py.core import identifier_pb2
from flyteplane.credentials import presenting
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
    catalog = args.datacatalog or catalog_endpoint(config)
    node = NodeRef(args.project, args.domain, args.execution, args.node_id)
    # The plane credential of this data directory: admin answers it when auth is on (an operator's command).
    present = presenting(config.plane_credential())
    print(asyncio.run(explain_node(admin, catalog, node, index=args.index, interceptors=present)))
    return 0


def catalog_endpoint(config: FlyteplaneConfig, port: int | None = None) -> str:
    """DataCatalog's address as the engine reaches it; `port`: the one a DataCatalog of this process bound."""
    if config.propeller.datacatalog_endpoint:
        return config.propeller.datacatalog_endpoint
    return f"{_local(config.datacatalog.host)}:{port or config.datacatalog.grpc_port}"


def explainer(catalog: str, credential: str) -> CacheExplainer:
    """The console's cache explanations (admin's route, behind its guard), reading DataCatalog at `catalog` and
    admin with the plane credential."""

    async def explain(admin: str, node: identifier_pb2.NodeExecutionIdentifier, index: int | None) -> str:
        ref = NodeRef(node.execution_id.project, node.execution_id.domain, node.execution_id.name, node.node_id)
        return await explain_node(admin, catalog, ref, index=index, interceptors=presenting(credential))

    return explain


def _local(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else host
