"""FlyteRemote calls for the end-to-end tests; runs under flytekit's own interpreter, never inside pytest.

Usage: python flyteremote_probe.py CONFIG PROJECT DOMAIN PARAMS_JSON, where PARAMS_JSON names an
`action` and its arguments. The last stdout line is the JSON answer. Protobuf messages travel as
base64 of their wire bytes, so the tests read them back with flyteidl_py and compare field by field.
"""

from __future__ import annotations

import base64
import json
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flytekit.configuration import Config
from flytekit.models.core.identifier import Identifier, ResourceType
from flytekit.models.literals import LiteralMap
from flytekit.remote import FlyteRemote


def wire(model: Any) -> str:
    """A flytekit model as base64 of the protobuf it stands for."""
    return base64.b64encode(model.to_flyte_idl().SerializeToString()).decode()


def fetch_entities(remote: FlyteRemote, params: dict[str, Any]) -> dict[str, Any]:
    """Fetch every named entity the way FlyteRemote users do; return what admin sent for each, or the error."""
    version = params["version"]
    kinds: dict[str, tuple[Callable[..., Any], int, Callable[[Identifier], Any]]] = {
        "tasks": (remote.fetch_task, ResourceType.TASK, remote.client.get_task),
        "workflows": (remote.fetch_workflow, ResourceType.WORKFLOW, remote.client.get_workflow),
        "launch_plans": (remote.fetch_launch_plan, ResourceType.LAUNCH_PLAN, remote.client.get_launch_plan),
    }
    answer: dict[str, Any] = {}
    for kind, (fetch, resource_type, get) in kinds.items():
        fetched: dict[str, Any] = {}
        for name in params[kind]:
            try:
                fetch(name=name, version=version)
                ident = Identifier(resource_type, remote.default_project, remote.default_domain, name, version)
                fetched[name] = {"admin": wire(get(ident))}
            except Exception as exc:
                fetched[name] = {"error": f"{type(exc).__name__}: {exc}"}
        answer[kind] = fetched
    return answer


def fetch_latest(remote: FlyteRemote, params: dict[str, Any]) -> dict[str, Any]:
    """Fetch entities by name alone (FlyteRemote then lists versions, newest first); return each version."""
    fetchers = {
        "tasks": remote.fetch_task,
        "workflows": remote.fetch_workflow,
        "launch_plans": remote.fetch_launch_plan,
    }
    return {kind: {name: fetch(name=name).id.version for name in params[kind]} for kind, fetch in fetchers.items()}


def fetch_execution(remote: FlyteRemote, params: dict[str, Any]) -> dict[str, Any]:
    """FlyteRemote.fetch_execution: the execution as flytekit holds it and the inputs it read back."""
    execution = remote.fetch_execution(name=params["name"])
    inputs = execution.inputs
    return {
        "execution": wire(execution),
        "inputs": wire(LiteralMap(literals=dict(inputs.literals))) if inputs is not None else None,
    }


def execute_launch_plan(remote: FlyteRemote, params: dict[str, Any]) -> dict[str, Any]:
    """FlyteRemote.execute of a fetched launch plan with only the inputs given."""
    launch_plan = remote.fetch_launch_plan(name=params["name"], version=params["version"])
    execution = remote.execute(launch_plan, inputs=params["inputs"], execution_name=params.get("execution_name"))
    return {"execution": wire(execution)}


def _start(remote: FlyteRemote, params: dict[str, Any]) -> Any:
    launch_plan = remote.fetch_launch_plan(name=params["name"], version=params.get("version"))
    return remote.execute(
        launch_plan,
        inputs=params.get("inputs", {}),
        execution_name=params.get("execution_name"),
        overwrite_cache=params.get("overwrite_cache"),
    )


def _wait(remote: FlyteRemote, execution: Any, params: dict[str, Any]) -> dict[str, Any]:
    execution = remote.wait(
        execution, timeout=timedelta(seconds=params.get("timeout", 120)), poll_interval=timedelta(seconds=0.2)
    )
    answer: dict[str, Any] = {
        "name": execution.id.name,
        "phase": execution.closure.phase,
        "principal": execution.spec.metadata.principal,
        "nodes": {},
    }
    if execution.error is not None:
        answer["error"] = execution.error.message
    else:
        answer["outputs"] = wire(LiteralMap(literals=dict(execution.outputs.literals)))
    for node_id, node in execution.node_executions.items():
        metadata = getattr(node.closure, "task_node_metadata", None)
        answer["nodes"][node_id] = {
            "phase": node.closure.phase,
            "attempts": len(node.task_executions or []),
            "cache": metadata.cache_status if metadata is not None else 0,
        }
    return answer


def execute_and_wait(remote: FlyteRemote, params: dict[str, Any]) -> dict[str, Any]:
    """FlyteRemote.execute of a launch plan, then FlyteRemote.wait (which walks node and task executions)."""
    return _wait(remote, _start(remote, params), params)


def _elements(remote: FlyteRemote, name: str) -> dict[str, list[dict[str, Any]]]:
    """Each map-task element's index, attempt, phase, cache status and id (the array node's task execution's
    external resources), by node id."""
    synced = remote.sync_execution(remote.fetch_execution(name=name), sync_nodes=True)
    elements: dict[str, list[dict[str, Any]]] = {}
    for node_id, node in synced.node_executions.items():
        for task_execution in node.task_executions or []:
            metadata = task_execution.closure.metadata
            for resource in metadata.external_resources if metadata is not None else []:
                elements.setdefault(node_id, []).append(
                    {
                        "index": resource.index,
                        "attempt": resource.retry_attempt,
                        "phase": resource.phase,
                        "cache": resource.cache_status,
                        "id": resource.external_id,
                    }
                )
    return elements


def execute_and_wait_with_elements(remote: FlyteRemote, params: dict[str, Any]) -> dict[str, Any]:
    """execute_and_wait, plus each map-task element as `_elements` gives it, by node id."""
    answer = _wait(remote, _start(remote, params), params)
    answer["elements"] = _elements(remote, answer["name"])
    return answer


def execute_many_and_wait(remote: FlyteRemote, params: dict[str, Any]) -> dict[str, Any]:
    """Start `count` executions of one launch plan at once, then wait for all of them."""
    started = [_start(remote, params) for _ in range(params["count"])]
    return {"runs": [_wait(remote, execution, params) for execution in started]}


def execute_all_and_wait(remote: FlyteRemote, params: dict[str, Any]) -> dict[str, Any]:
    """Start one execution per entry of `runs` (each a launch plan `name`, `version`, `inputs`) at once, then wait
    for all of them: several cases for the price of one client start."""
    started = [_start(remote, run) for run in params["runs"]]
    runs = [_wait(remote, execution, params) for execution in started]
    if params.get("elements"):  # and each map-task element, as `_elements` gives it
        for run in runs:
            run["elements"] = _elements(remote, run["name"])
    return {"runs": runs}


def wait_for(remote: FlyteRemote, params: dict[str, Any]) -> dict[str, Any]:
    """FlyteRemote.wait on an execution started elsewhere (e.g. by `pyflyte run --remote`)."""
    return _wait(remote, remote.fetch_execution(name=params["execution_name"]), params)


def execute_then_terminate(remote: FlyteRemote, params: dict[str, Any]) -> dict[str, Any]:
    """Start an execution, terminate it once a task is running, and wait for the end."""
    execution = _start(remote, params)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        synced = remote.sync_execution(execution, sync_nodes=True)
        if any(n.closure.phase == 2 for n in synced.node_executions.values()):  # a node RUNNING
            break
        time.sleep(0.2)
    remote.terminate(execution, cause="stopped by the test")
    return _wait(remote, execution, params)


def execute_with_signals(remote: FlyteRemote, params: dict[str, Any]) -> dict[str, Any]:
    """Start an execution, set each named signal as soon as the gate asks for it, and wait for the end."""
    execution = _start(remote, params)
    pending = dict(params["signals"])
    deadline = time.monotonic() + 90
    while pending and time.monotonic() < deadline:
        for signal in remote.list_signals(execution.id.name):
            name = signal.id.signal_id
            if name in pending:
                remote.set_signal(name, execution.id.name, pending.pop(name))
        time.sleep(0.2)
    return _wait(remote, execution, params)


def list_projects_twice(remote: FlyteRemote, params: dict[str, Any]) -> dict[str, Any]:
    """List projects, wait `pause` seconds (past the access token's lifetime), list again: flytekit logs in for
    the first call only, and renews the expired token with its refresh token for the second."""
    first = remote.client.list_projects_paginated()[0]
    time.sleep(params["pause"])
    second = remote.client.list_projects_paginated()[0]
    return {"projects": [len(first), len(second)]}


ACTIONS = {
    f.__name__: f
    for f in (
        fetch_entities,
        fetch_latest,
        fetch_execution,
        execute_launch_plan,
        execute_and_wait,
        execute_and_wait_with_elements,
        execute_then_terminate,
        execute_with_signals,
        execute_many_and_wait,
        execute_all_and_wait,
        wait_for,
        list_projects_twice,
    )
}


def main() -> None:
    config_file, project, domain, raw = sys.argv[1:5]
    params = json.loads(raw)
    remote = FlyteRemote(Config.auto(config_file=config_file), default_project=project, default_domain=domain)
    answer = ACTIONS[params.pop("action")](remote, params)
    print(json.dumps(answer))


if __name__ == "__main__":
    main()
