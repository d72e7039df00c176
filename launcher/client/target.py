"""Where the client commands find admin: flytekit's config file or flags, and which execution a reference names.

The gRPC endpoint comes from `--endpoint`, else `admin.endpoint` (`dns:///host:port`) and
`admin.insecure` of the config file flytekit and flytectl use: `--config`, else `$FLYTECTL_CONFIG`,
else `~/.flyte/config.yaml`. Admin's HTTP base (logs, console links) comes from `--http-endpoint`,
else from a console URL given as the execution, else `console.endpoint` of the config file (what
`flyteplane start` writes), else admin's host with the gRPC port plus one (flyteplane's default
layout: 30080 and 30081).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

import yaml

DEFAULT_CONFIG = Path("~/.flyte/config.yaml")
DEFAULT_PROJECT, DEFAULT_DOMAIN = "flytesnacks", "development"
# flytekit's and flytectl's execution links: <base>/console/projects/<p>/domains/<d>/executions/<name>.
_CONSOLE_PATH = re.compile(
    r"^(?P<prefix>.*?)/console/projects/(?P<p>[^/]+)/domains/(?P<d>[^/]+)/executions/(?P<n>[^/?#]+)"
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")


class ClientError(Exception):
    """Bad input or an unreachable admin: the message is printed as it is, without a traceback."""


@dataclass(frozen=True)
class Target:
    """An admin: its gRPC address, whether to skip TLS, and its HTTP base URL."""

    grpc_address: str
    insecure: bool
    http_base: str


@dataclass(frozen=True)
class ExecutionRef:
    project: str
    domain: str
    name: str


def _config_path(flag: Path | None) -> Path | None:
    if flag is not None:
        if not flag.expanduser().is_file():
            raise ClientError(f"no config file at {flag}")
        return flag.expanduser()
    env = os.environ.get("FLYTECTL_CONFIG")
    if env:
        if not Path(env).expanduser().is_file():
            raise ClientError(f"FLYTECTL_CONFIG names {env}, which is not a file")
        return Path(env).expanduser()
    default = DEFAULT_CONFIG.expanduser()
    return default if default.is_file() else None


def _section(document: object, key: str) -> dict[str, object]:
    value = document.get(key) if isinstance(document, dict) else None
    return value if isinstance(value, dict) else {}


def _host_port(endpoint: str, what: str) -> tuple[str, int]:
    address = endpoint.removeprefix("dns:///").removeprefix("dns://").removeprefix("passthrough:///")
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ClientError(f"{what} must look like host:port or dns:///host:port, not {endpoint!r}")
    return host.strip("[]"), int(port)


def _http_base(url: str, what: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ClientError(f"{what} must be an http(s) URL, not {url!r}")
    return url.rstrip("/")


def resolve_target(
    config: Path | None, endpoint: str | None, http_endpoint: str | None, insecure: bool | None = None
) -> Target:
    """The admin the flags and the config file name; ClientError when neither names one that parses."""
    path = _config_path(config)
    document: object = {}
    if path is not None:
        try:
            document = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ClientError(f"cannot read the config file {path}: {exc}") from None
    admin, console = _section(document, "admin"), _section(document, "console")
    configured = admin.get("endpoint")
    if endpoint is None and not isinstance(configured, str):
        where = (
            f"{path} has no admin.endpoint"
            if path
            else f"no config file (--config, $FLYTECTL_CONFIG, {DEFAULT_CONFIG})"
        )
        raise ClientError(f"which admin? {where}; give --endpoint host:port")
    address = endpoint if endpoint is not None else str(configured)
    host, port = _host_port(address, "--endpoint" if endpoint is not None else f"admin.endpoint in {path}")
    if insecure is None:
        insecure = bool(admin.get("insecure", False)) if endpoint is None else True
    console_endpoint = console.get("endpoint")
    if http_endpoint is not None:
        base = _http_base(http_endpoint, "--http-endpoint")
    elif isinstance(console_endpoint, str) and console_endpoint:
        base = _http_base(console_endpoint, f"console.endpoint in {path}")
    else:
        base = f"{'http' if insecure else 'https'}://{host}:{port + 1}"
    return Target(f"{host}:{port}", insecure, base)


def parse_execution(reference: str, project: str | None, domain: str | None) -> tuple[ExecutionRef, str | None]:
    """An execution name (with -p/-d, defaulting to flytesnacks/development) or a console URL; and the URL's base."""
    match = _CONSOLE_PATH.match(urlsplit(reference).path) if "://" in reference else None
    if match is not None:
        parts = urlsplit(reference)
        base = f"{parts.scheme}://{parts.netloc}{match['prefix']}"
        ref = ExecutionRef(match["p"], match["d"], match["n"])
        if (project and project != ref.project) or (domain and domain != ref.domain):
            raise ClientError(
                f"the URL names {ref.project}/{ref.domain}, not {project or ref.project}/{domain or ref.domain}"
            )
        _check_name(ref.name, reference)
        return ref, _http_base(base, "the console URL")
    if "://" in reference or "/" in reference:
        raise ClientError(
            f"{reference!r} is neither an execution name nor a console URL "
            "(.../console/projects/P/domains/D/executions/NAME)"
        )
    _check_name(reference, reference)
    return ExecutionRef(project or DEFAULT_PROJECT, domain or DEFAULT_DOMAIN, reference), None


def _check_name(name: str, given: str) -> None:
    if not _NAME.match(name):
        raise ClientError(f"{given!r} is not an execution name (letters, digits, '-' and '_', at most 63 characters)")


def with_base(target: Target, base: str | None) -> Target:
    """`target`, its HTTP base taken from a console URL the user gave (unless --http-endpoint said otherwise)."""
    return target if base is None else replace(target, http_base=base)


def console_url(target: Target, ref: ExecutionRef) -> str:
    return f"{target.http_base}/console/projects/{ref.project}/domains/{ref.domain}/executions/{ref.name}"
