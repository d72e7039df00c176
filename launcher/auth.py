"""`flyteplane auth clients create|list|delete`, and the exposure check: auth off is for loopback only.

Service clients (CI, bots, other services) get tokens from admin's authorization server with their id and
secret (client credentials; flytekit `authType: ClientSecret`). The command works on admin's database, so it
takes the same `--config`, `--data-dir` and `--database` as `flyteplane start`; a new client's secret is
printed once and never stored (only its scrypt is).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import os
import sys
from pathlib import Path

import httpx

from admin.auth.clients import ServiceClients
from admin.config import RoleBinding
from admin.db import MIGRATIONS
from flyteplane.database import Database
from flyteplane.errors import FlyteplaneError
from launcher.config import FlyteplaneConfig
from launcher.migrate import migrate

DEFAULT_CLIENT = "flyteplane-default"  # the client `flyteplane start --auth` makes for the config it writes
DEFAULT_CLIENT_SECRET_FILE = "client-secret"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    auth = commands.add_parser("auth", help="service clients of admin's authorization server")
    kinds = auth.add_subparsers(dest="auth_kind", metavar="KIND", required=True)
    clients = kinds.add_parser("clients", help="create, list and delete service clients (client credentials)")
    actions = clients.add_subparsers(dest="auth_command", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a client; its secret is printed once")
    listing = actions.add_parser("list", help="the clients (never their secrets)")
    remove = actions.add_parser("delete", help="delete a client (tokens it has keep working until they expire)")
    for action in (create, listing, remove):
        action.add_argument("--config", type=Path, help="YAML configuration file")
        action.add_argument("--data-dir", help="the plane's data directory (~/.flyteplane)")
        action.add_argument("--database", help="the PostgreSQL URL given to `flyteplane start --database`")
    for action in (create, remove):
        action.add_argument("client_id", help="the client id (letters, digits, '.', '_', '-')")
    create.add_argument("--description", default="", help="what the client is for")
    token = kinds.add_parser(
        "token", help="print an access token from admin's token endpoint (for flytekit's authType: ExternalCommand)"
    )
    token.add_argument("--token-url", required=True, help="admin's token endpoint, http://HOST:PORT/oauth2/token")
    token.add_argument("--client-id", required=True)
    token.add_argument("--secret-file", type=Path, required=True, help="the file holding the client's secret")


def _config(args: argparse.Namespace, config: FlyteplaneConfig) -> FlyteplaneConfig:
    data_dir = Path(args.data_dir).expanduser().absolute() if args.data_dir else config.data_dir
    admin = config.admin.model_copy(update={"database_url": args.database or config.admin.database_url})
    return config.model_copy(update={"data_dir": data_dir, "admin": admin})


async def _run(args: argparse.Namespace, config: FlyteplaneConfig) -> tuple[int, str]:
    """The exit status and what to print (on stdout when 0, else on stderr)."""
    await migrate(config, ["admin"], quiet=True)
    db = await MIGRATIONS.connect(config.database_url("admin", config.admin.database_url), "admin")
    clients = ServiceClients(db)
    try:
        if args.auth_command == "create":
            secret = await clients.create(args.client_id, args.description)
            return 0, secret
        if args.auth_command == "delete":
            await clients.delete(args.client_id)
            return 0, f"deleted client {args.client_id}"
        rows = await clients.list()
        return 0, "\n".join(["CLIENT\tDESCRIPTION", *(f"{c.client_id}\t{c.description}" for c in rows)])
    except FlyteplaneError as error:
        return 1, f"flyteplane: {error}"
    finally:
        await db.dispose()


def print_token(args: argparse.Namespace) -> int:
    """A client-credentials token on stdout: what flytekit runs when its config says `authType: ExternalCommand`
    (with an external identity provider, flytekit's own ClientSecret flow goes to the provider, not to admin)."""
    secret = args.secret_file.read_text().strip()
    try:
        answer = httpx.post(
            args.token_url, data={"grant_type": "client_credentials"}, auth=(args.client_id, secret), timeout=30
        )
    except httpx.HTTPError as error:
        print(f"flyteplane: {args.token_url}: {error}", file=sys.stderr)
        return 1
    if answer.status_code != 200:
        print(f"flyteplane: {args.token_url} answered {answer.status_code}: {answer.text}", file=sys.stderr)
        return 1
    print(answer.json()["access_token"])
    return 0


def main(args: argparse.Namespace, config: FlyteplaneConfig) -> int:
    status, message = asyncio.run(_run(args, _config(args, config)))
    print(message, file=sys.stdout if status == 0 else sys.stderr)
    if status == 0 and args.auth_command == "create":
        print(
            f"(the secret of client {args.client_id}: shown only now; flytekit reads it with authType: ClientSecret, "
            "clientId and clientSecretLocation)",
            file=sys.stderr,
        )
    return status


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(config: FlyteplaneConfig, insecure: bool) -> str:
    """What to print about auth; refuses (FlyteplaneError) to serve admin beyond loopback with auth off unless
    `insecure` says so."""
    host = config.admin.host
    if config.admin.auth.enabled:
        return "auth is on: every call needs a token (flyteplane auth clients create NAME)"
    if is_loopback(host):
        return "auth is off: anyone on this machine can use the plane (fine for one person on a laptop)"
    if not insecure:
        raise FlyteplaneError(
            f"admin would listen on {host} with auth off: anyone who reaches that address could list, launch and "
            "terminate any execution and read its data. Turn auth on (--auth, or admin.auth.enabled: true) or, "
            "if the network is yours alone, say so with --insecure"
        )
    return f"auth is OFF on {host} (--insecure): anyone who reaches it can do anything"


async def default_client_secret(db: Database, data_dir: Path) -> tuple[str, Path]:
    """The default client of `flyteplane start --auth` and the file holding its secret (owner-readable only),
    made the first time; a secret file that no longer matches (the client was deleted) is replaced."""
    path = data_dir / DEFAULT_CLIENT_SECRET_FILE
    clients = ServiceClients(db)
    if path.exists():
        secret = (await asyncio.to_thread(path.read_text)).strip()
        if await clients.authenticate(DEFAULT_CLIENT, secret):
            return DEFAULT_CLIENT, path
        await asyncio.to_thread(path.unlink)
    with contextlib.suppress(FlyteplaneError):  # a client whose secret was lost: replaced
        await clients.delete(DEFAULT_CLIENT)
    secret = await clients.create(DEFAULT_CLIENT, "made by flyteplane start --auth for its client config")
    await asyncio.to_thread(_write_private, path, secret)
    return DEFAULT_CLIENT, path


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


def with_default_client_bound(config: FlyteplaneConfig) -> FlyteplaneConfig:
    """With roles on, the client `start --auth` writes into its flytekit config is an admin of every project (the
    person who started the plane); other principals get only what the bindings give them."""
    auth = config.admin.auth
    if not (auth.enabled and auth.authorization.enabled):
        return config
    bound = RoleBinding(role="admin", subjects=[DEFAULT_CLIENT])
    authorization = auth.authorization.model_copy(update={"bindings": [*auth.authorization.bindings, bound]})
    admin = config.admin.model_copy(update={"auth": auth.model_copy(update={"authorization": authorization})})
    return config.model_copy(update={"admin": admin})
