"""Secrets for a local task process, put where flytekit's SecretsManager looks for them.

An environment secret (mount_requirement ENV_VAR or ANY) becomes `_FSEC_<GROUP>[_<VERSION>]_<KEY>`
(and the task's own `env_var`, when it names one), as Flyte's secret injection does; a FILE secret
becomes `<attempt>/secrets/<group>[/<version>]/<key>` (lower case, owner-readable only), with the
`env_var` it names holding that file's path. The values travel only in the attempt's owner-only
spec file and the process environment, and the directory goes with the attempt's cleanup.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from flyteidl_py.core import security_pb2
from plugins.core import BadTaskDefinition, SecretValue

ENV_PREFIX = "_FSEC_"
DIRECTORY = "secrets"


def _parts(request: security_pb2.Secret) -> list[str]:
    return [part for part in (request.group, request.group_version, request.key) if part]


def _write(path: Path, value: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(value)


def secret_environment(values: Sequence[SecretValue], attempt_dir: Path) -> dict[str, str]:
    """Writes the file secrets under `attempt_dir/secrets` and returns the variables that deliver the rest.

    Blocking (it writes files): call it off the event loop.
    """
    directory = attempt_dir / DIRECTORY
    attempt_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    env = {
        "FLYTE_SECRETS_ENV_PREFIX": ENV_PREFIX,
        "FLYTE_SECRETS_DEFAULT_DIR": str(directory),
        "FLYTE_SECRETS_FILE_PREFIX": "",
    }
    for secret in values:
        request, parts = secret.request, _parts(secret.request)
        if any(part in (".", "..") or "/" in part or "\0" in part for part in parts):
            raise BadTaskDefinition(f"secret request {'/'.join(parts)!r} names no secret (a part is a path)")
        if request.mount_requirement == security_pb2.Secret.FILE:
            path = directory.joinpath(*(part.lower() for part in parts))
            _write(path, secret.value)
            if request.env_var:
                env[request.env_var] = str(path)
            continue
        if b"\0" in secret.value:
            raise BadTaskDefinition(
                f"secret {'/'.join(parts)!r} holds a NUL byte and cannot be an environment variable: "
                "request it with mount_requirement=Secret.MountType.FILE"
            )
        # surrogateescape: bytes that are not UTF-8 reach the process unchanged.
        text = secret.value.decode("utf-8", "surrogateescape")
        env[ENV_PREFIX + "_".join(part.upper() for part in parts)] = text
        if request.env_var:
            env[request.env_var] = text
    return env


TOKEN_FILE = "admin-token"


def token_environment(token: str, attempt_dir: Path) -> dict[str, str]:
    """Writes the attempt's admin token (owner-readable only, gone with the attempt) and returns the variables
    with which flytekit sends it: `authType: ExternalCommand`, the command printing the file. Blocking."""
    path = attempt_dir / DIRECTORY / TOKEN_FILE
    _write(path, token.encode())
    # flytekit splits FLYTE_CREDENTIALS_COMMAND at commas; an attempt directory holds none.
    return {"FLYTE_CREDENTIALS_AUTH_MODE": "ExternalCommand", "FLYTE_CREDENTIALS_COMMAND": f"cat,{path}"}
