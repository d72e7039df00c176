"""`flyteplane secrets create|list|delete`: the command for the plane's secrets store (`propeller.secrets`).

It works on the database and key the engine uses, so it takes the same `--config`, `--data-dir` and
`--database` as `flyteplane start`; values are read from stdin or `--from-file`, never from the command
line (which other users of the machine can see), and are never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from launcher.config import FlyteplaneConfig
from launcher.migrate import migrate
from propeller.db import MIGRATIONS
from propeller.secrets import SecretsStore, check_name


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    secrets = commands.add_parser("secrets", help="create, list and delete the secrets tasks request")
    actions = secrets.add_subparsers(dest="secrets_command", metavar="ACTION", required=True)
    create = actions.add_parser(
        "create", help="store a secret (replacing one of the same name); the value comes from stdin or --from-file"
    )
    listing = actions.add_parser("list", help="the names of a project's secrets (never their values)")
    remove = actions.add_parser("delete", help="delete a secret")
    for action in (create, listing, remove):
        action.add_argument("--config", type=Path, help="YAML configuration file")
        action.add_argument("--data-dir", help="the plane's data directory (~/.flyteplane), where its key is kept")
        action.add_argument("--database", help="the PostgreSQL URL given to `flyteplane start --database`")
        action.add_argument("--project", required=True)
        action.add_argument(
            "--domain",
            default="",
            help="only for this domain (default: every domain of the project; a domain's own secret wins)",
        )
    for action in (create, remove):
        action.add_argument(
            "name", help="what @task(secret_requests=[Secret(group=G, key=K)]) asks for: G/K (or G/VERSION/K)"
        )
    create.add_argument("--from-file", type=Path, help="read the value from this file (bytes as they are)")


def _config(args: argparse.Namespace, config: FlyteplaneConfig) -> FlyteplaneConfig:
    data_dir = Path(args.data_dir).expanduser().absolute() if args.data_dir else config.data_dir
    propeller = config.propeller.model_copy(update={"database_url": args.database or config.propeller.database_url})
    return config.model_copy(update={"data_dir": data_dir, "propeller": propeller})


def _value(args: argparse.Namespace) -> bytes:
    if args.from_file is not None:
        return bytes(args.from_file.read_bytes())
    data = sys.stdin.buffer.read()
    # `echo value | flyteplane secrets create` ends the value with a newline the user did not mean.
    return data[:-1] if data.endswith(b"\n") else data


async def _run(args: argparse.Namespace, config: FlyteplaneConfig) -> tuple[int, str]:
    """The exit status and what to print (on stdout when 0, else on stderr)."""
    await migrate(config, ["propeller"], quiet=True)  # the store may be written before the plane first starts
    db = await MIGRATIONS.connect(config.database_url("propeller", config.propeller.database_url), "propeller")
    try:
        store = SecretsStore(db, await asyncio.to_thread(config.secrets_key))
        scope = f"{args.project}/{args.domain or '*'}"
        if args.secrets_command == "create":
            check_name(args.name)
            value = await asyncio.to_thread(_value, args)
            new = await store.put(args.project, args.domain, args.name, value)
            return 0, f"{'created' if new else 'replaced'} secret {args.name} for {scope}"
        if args.secrets_command == "delete":
            if not await store.delete(args.project, args.domain, args.name):
                return 1, f"flyteplane: no secret {args.name} for {scope}"
            return 0, f"deleted secret {args.name} for {scope}"
        rows = await store.stored(args.project, args.domain or None)
        lines = [f"{row.name}\t{row.project}/{row.domain or '*'}\t{row.updated_at.isoformat()}" for row in rows]
        return 0, "\n".join(["NAME\tSCOPE\tUPDATED", *lines])
    finally:
        await db.dispose()


def main(args: argparse.Namespace, config: FlyteplaneConfig) -> int:
    status, message = asyncio.run(_run(args, _config(args, config)))
    print(message, file=sys.stdout if status == 0 else sys.stderr)
    return status
