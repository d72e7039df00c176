"""FlyteRemote as a user's script drives it, for tests/e2e/test_user_code.py; runs under flytekit's interpreter.

Usage: python user_code_probe.py CONFIG PROJECT DOMAIN PARAMS_JSON (as flyteremote_probe.py). The
`interactive` action registers tasks defined right here, pickled (`interactive_mode_enabled`), as a
notebook user's tasks are; `eager_children` lists the executions an eager execution launched.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from flytekit import task, workflow
from flytekit.configuration import Config
from flytekit.remote import FlyteRemote
from flyteremote_probe import _wait  # next to this script, so on its sys.path: answers are shaped alike


@task
def scale(x: int, factor: int) -> int:
    return x * factor


@task
def describe(x: int) -> str:
    return f"value={x}"


@workflow
def scale_and_describe(x: int) -> str:
    return describe(x=scale(x=x, factor=3))


def interactive(config_file: str, project: str, domain: str, params: dict[str, Any]) -> dict[str, Any]:
    remote = FlyteRemote(
        Config.auto(config_file=config_file),
        default_project=project,
        default_domain=domain,
        interactive_mode_enabled=True,
    )
    entity = {"task": scale, "workflow": scale_and_describe}[params["entity"]]
    execution = remote.execute(entity, inputs=params["inputs"], version=params["version"])
    return _wait(remote, execution, params)


def eager_children(config_file: str, project: str, domain: str, params: dict[str, Any]) -> dict[str, Any]:
    """The executions launched by eager execution `name` (flytekit labels them `eager-exec: <name>`)."""
    remote = FlyteRemote(Config.auto(config_file=config_file), default_project=project, default_domain=domain)
    executions, _ = remote.client.list_executions_paginated(project, domain, limit=100)
    children = [e for e in executions if (e.spec.labels.values or {}).get("eager-exec") == params["name"]]
    return {
        "children": [
            {
                "name": e.id.name,
                "phase": e.closure.phase,
                "entity": e.spec.launch_plan.name,
                "principal": e.spec.metadata.principal,
            }
            for e in children
        ]
    }


def main() -> None:
    config_file, project, domain, raw = sys.argv[1:5]
    params = json.loads(raw)
    action = {"interactive": interactive, "eager_children": eager_children}[params.pop("action")]
    print(json.dumps(action(config_file, project, domain, params)))


if __name__ == "__main__":
    main()
