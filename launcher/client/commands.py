"""`flyteplane executions list`, `watch`, `logs` and `open`: watching work on any admin, for people and scripts.

Where admin is: see `launcher.client.target`. `watch` redraws a tree of nodes in place on a
terminal and prints a line per change otherwise; it exits with the execution's outcome: 0 SUCCEEDED,
1 FAILED, 3 ABORTED, 4 TIMED_OUT (2 is bad input or an unreachable admin, as for every command here).
`logs` reads admin's HTTP log endpoint (`admin.logs`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import webbrowser
from collections.abc import Sequence
from pathlib import Path

import httpx
from rich.console import Console
from rich.live import Live
from rich.table import Table

from launcher.client.admin import AdminClient
from launcher.client.target import (
    ClientError,
    ExecutionRef,
    Target,
    console_url,
    parse_execution,
    resolve_target,
)
from launcher.client.views import (
    WORKFLOW_TERMINAL,
    ExecutionView,
    Snapshots,
    change_lines,
    duration_text,
    error_headline,
    execution_row,
    render_tree,
)

COMMANDS = ("executions", "watch", "logs", "open")  # launcher.entry names them too
EXIT_CODES = {"SUCCEEDED": 0, "FAILED": 1, "ABORTED": 3, "TIMED_OUT": 4}
BAD_INPUT = 2
PHASES = (
    "UNDEFINED",
    "QUEUED",
    "RUNNING",
    "SUCCEEDING",
    "SUCCEEDED",
    "FAILING",
    "FAILED",
    "ABORTED",
    "TIMED_OUT",
    "ABORTING",
)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, not {text!r}")
    return int(text)


def _non_negative(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, not {text!r}")
    return int(text)


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, not {text!r}") from None
    if not 0.05 <= value <= 60:
        raise argparse.ArgumentTypeError("expected between 0.05 and 60 seconds")
    return value


def _connection_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        help="flytekit/flytectl config file (default: $FLYTECTL_CONFIG, else ~/.flyte/config.yaml)",
    )
    parser.add_argument("--endpoint", help="admin's gRPC address host:port (instead of admin.endpoint of the config)")
    parser.add_argument(
        "--http-endpoint",
        help="admin's HTTP base URL for logs and console links (default: the console URL given, else "
        "console.endpoint of the config, else admin's host with the gRPC port + 1)",
    )


def _execution_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "execution", help="an execution name, or its console URL (.../console/projects/P/domains/D/executions/NAME)"
    )
    parser.add_argument("-p", "--project", help="the execution's project (default: flytesnacks)")
    parser.add_argument("-d", "--domain", help="the execution's domain (default: development)")


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    executions = commands.add_parser("executions", help="list executions on an admin")
    actions = executions.add_subparsers(dest="executions_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="the newest executions of a project and domain, as a table or JSON")
    _connection_flags(listing)
    listing.add_argument("-p", "--project", default="flytesnacks")
    listing.add_argument("-d", "--domain", default="development")
    listing.add_argument("--limit", type=_positive, default=50, help="at most this many (default 50)")
    listing.add_argument("--phase", action="append", choices=PHASES, default=[], help="only in this phase (repeatable)")
    listing.add_argument("--json", action="store_true", help="a JSON array instead of a table")

    watch = commands.add_parser(
        "watch", help="follow an execution live: its nodes, attempts and map tasks; exits with its outcome"
    )
    _connection_flags(watch)
    _execution_flags(watch)
    watch.add_argument("--interval", type=_interval, default=1.0, help="seconds between looks (default 1)")
    watch.add_argument("--json", action="store_true", help="print only the final state, as JSON")

    logs = commands.add_parser("logs", help="print (or follow) a task attempt's log")
    _connection_flags(logs)
    _execution_flags(logs)
    logs.add_argument("--node", required=True, help="the node id (nested ids too, e.g. n0-0-dn1)")
    logs.add_argument("--attempt", type=_non_negative, help="the retry attempt (default: the latest)")
    logs.add_argument("--index", type=_non_negative, help="a map task's element")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing as the task writes, until it ends")

    opened = commands.add_parser("open", help="print an execution's console URL (or open it in a browser)")
    _connection_flags(opened)
    _execution_flags(opened)
    opened.add_argument("--browser", action="store_true", help="also open it in the default web browser")


def _target(args: argparse.Namespace) -> tuple[Target, ExecutionRef | None]:
    ref, base = None, None
    if getattr(args, "execution", None) is not None:
        ref, base = parse_execution(args.execution, args.project, args.domain)
    target = resolve_target(args.config, args.endpoint, args.http_endpoint)
    if base is not None and args.http_endpoint is None:
        target = Target(target.grpc_address, target.insecure, base)
    return target, ref


def _list(args: argparse.Namespace, target: Target) -> int:
    with AdminClient(target) as admin:
        rows = [execution_row(e) for e in admin.executions(args.project, args.domain, args.limit, args.phase)]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    console = Console()
    narrow = console.width < 100  # the start without its year and seconds, the launch plan shortened
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("NAME", no_wrap=True, min_width=8)
    table.add_column("LAUNCH PLAN", no_wrap=True, overflow="ellipsis", min_width=12)
    table.add_column("PHASE", no_wrap=True)
    table.add_column("STARTED", no_wrap=True)
    table.add_column("DURATION", no_wrap=True, justify="right")
    for row in rows:
        started = str(row["started_at"] or "-")[:19].replace("T", " ")
        if narrow and started != "-":
            started = started[5:16]
        duration = row["duration_seconds"]
        table.add_row(
            str(row["name"]),
            str(row["launch_plan"]),
            str(row["phase"]),
            started,
            duration_text(duration if isinstance(duration, float | int) else None),
        )
    console.print(table)
    if not rows:
        console.print(f"no executions in {args.project}/{args.domain}", style="dim")
    return 0


def _outcome(view: ExecutionView) -> int:
    code = EXIT_CODES.get(view.phase, 1)
    if code:
        error = f": {error_headline(view.error)}" if view.error else ""
        print(f"flyteplane: execution {view.ref.name} ended {view.phase}{error} (exit status {code})", file=sys.stderr)
    return code


def _watch(args: argparse.Namespace, target: Target, ref: ExecutionRef) -> int:
    with AdminClient(target) as admin:
        snapshots = Snapshots(admin, ref)
        view = snapshots.read()
        if args.json:
            while not view.terminal:
                time.sleep(args.interval)
                view = snapshots.read()
            print(json.dumps(view.to_json(), indent=2))
            return _outcome(view)
        console = Console()
        if console.is_terminal:
            with Live(render_tree(view), console=console, auto_refresh=False, transient=False) as live:
                while not view.terminal:
                    time.sleep(args.interval)
                    view = snapshots.read()
                    live.update(render_tree(view), refresh=True)
            return _outcome(view)
        seen: dict[str, str] = {}
        while True:
            for line in change_lines(seen, view):
                print(line, flush=True)
            if view.terminal:
                return _outcome(view)
            time.sleep(args.interval)
            view = snapshots.read()


def _error_of(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    return str(body.get("message", body)) if isinstance(body, dict) else str(body)


def _logs(args: argparse.Namespace, target: Target, ref: ExecutionRef) -> int:
    url = f"{target.http_base}/api/v1/logs/{ref.project}/{ref.domain}/{ref.name}"
    params: dict[str, str | int] = {"node_id": args.node, "follow": "true" if args.follow else "false"}
    if args.attempt is not None:
        params["attempt"] = args.attempt
    if args.index is not None:
        params["index"] = args.index
    out = sys.stdout.buffer
    offset = 0
    with httpx.Client(timeout=httpx.Timeout(30.0, read=None)) as http:
        while True:
            try:
                with http.stream("GET", url, params={**params, "offset": offset}) as response:
                    if response.status_code != 200:
                        response.read()
                        error = _error_of(response)
                        # Following a node or an attempt that has not started yet: wait for it.
                        waiting = response.status_code == 404 and args.follow and "no local log" not in error
                        waiting = waiting and "is gone" not in error  # a pod deleted since: its log will not come
                        if waiting and _may_appear(target, ref):
                            time.sleep(1.0)
                            continue
                        raise ClientError(f"{url} answered {response.status_code}: {error}")
                    received = 0
                    for chunk in response.iter_bytes():
                        out.write(chunk)
                        out.flush()
                        received += len(chunk)
                    offset += received
                # An answer without `follow` may hold only part of a pod's log (admin.logs.pod_window_bytes): its
                # offset header says where the rest starts.
                if args.follow or not received or "X-Flyteplane-Log-Offset" not in response.headers:
                    return 0
            except httpx.TransportError as error:
                raise ClientError(f"cannot read {url}: {error} (is --http-endpoint right?)") from None


def _may_appear(target: Target, ref: ExecutionRef) -> bool:
    """Whether a log not there yet may still come: the execution is not over."""
    with AdminClient(target) as admin:
        return execution_row(admin.execution(ref))["phase"] not in WORKFLOW_TERMINAL


def run(argv: Sequence[str]) -> int:
    """A client command from its command line alone (see launcher.entry); `launcher.main` offers them too."""
    parser = argparse.ArgumentParser(prog="flyteplane", description="The Flyte v1 control plane, in Python.")
    add_parsers(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    return main(parser.parse_args(argv))


def main(args: argparse.Namespace) -> int:
    """Runs one client command; bad input and admin's refusals are a message and exit status 2."""
    try:
        target, ref = _target(args)
        if args.command == "executions":
            return _list(args, target)
        assert ref is not None
        if args.command == "watch":
            return _watch(args, target, ref)
        if args.command == "logs":
            return _logs(args, target, ref)
        url = console_url(target, ref)
        print(url)
        if args.browser and not webbrowser.open(url):
            raise ClientError("no web browser could be opened; the URL is above")
        return 0
    except ClientError as error:
        print(f"flyteplane: {error}", file=sys.stderr)
        return BAD_INPUT
    except KeyboardInterrupt:
        return 130
