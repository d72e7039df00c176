"""FlyteRemote over an eager execution's nodes, for tests/e2e/test_eager_nodes.py; runs under flytekit's interpreter.

Usage: python eager_probe.py CONFIG PROJECT DOMAIN PARAMS_JSON (as flyteremote_probe.py). `eager_nodes`
syncs an execution with its nodes as a user would and reports the eager node's children: their ids,
phases, inputs and outputs, the executions they stand for, and what admin lists for them. `forge`
starts an eager execution and, while its eager node runs, launches a task in another project labelled
as if the eager task had launched it.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from flytekit.configuration import Config
from flytekit.core.options import Options
from flytekit.models.common import Labels
from flytekit.models.core.identifier import NodeExecutionIdentifier
from flytekit.models.literals import LiteralMap
from flytekit.remote import FlyteRemote
from flyteremote_probe import _wait, wire  # next to this script, so on its sys.path: answers are shaped alike

RUNNING = 2  # core.NodeExecution.Phase.RUNNING


def _remote(config_file: str, project: str, domain: str) -> FlyteRemote:
    return FlyteRemote(Config.auto(config_file=config_file), default_project=project, default_domain=domain)


def _literals(resolver: Any) -> str | None:
    return wire(LiteralMap(literals=dict(resolver.literals))) if resolver is not None else None


def eager_nodes(remote: FlyteRemote, params: dict[str, Any]) -> dict[str, Any]:
    execution = remote.sync_execution(remote.fetch_execution(name=params["name"]), sync_nodes=True)
    nodes: dict[str, Any] = {}
    for node_id, node in execution.node_executions.items():
        children = []
        for child in node.subworkflow_node_executions.values():
            launched = remote.client.get_execution(child.closure.workflow_node_metadata.execution_id)
            children.append(
                {
                    "node_id": child.id.node_id,
                    "spec_node_id": child.metadata.spec_node_id,
                    "phase": child.closure.phase,
                    "execution": launched.id.name,
                    "execution_phase": launched.closure.phase,
                    "entity": launched.spec.launch_plan.name,
                    "inputs": _literals(child.inputs),
                    "outputs": _literals(child.outputs),
                }
            )
        nodes[node_id] = {"phase": node.closure.phase, "is_parent": node.metadata.is_parent_node, "children": children}
    return {"nodes": nodes, "listed": _listed(remote, params["name"], params["eager_node"])}


def _listed(remote: FlyteRemote, name: str, eager_node: str) -> list[dict[str, Any]]:
    """What ListNodeExecutions answers under the eager node, next to the child executions' own data."""
    parent = remote.fetch_execution(name=name).id
    listed, _ = remote.client.list_node_executions(parent, limit=100, unique_parent_id=eager_node)
    answer = []
    for node in listed:
        child_id = node.closure.workflow_node_metadata.execution_id
        child = remote.client.get_execution(child_id)
        child_data = remote.client.get_execution_data(child_id)
        node_data = remote.client.get_node_execution_data(NodeExecutionIdentifier(node.id.node_id, parent))
        answer.append(
            {
                "node_id": node.id.node_id,
                "phase": node.closure.phase,
                "execution": child_id.name,
                "input_uri": node.input_uri,
                "child_inputs_uri": child_data.inputs.url,
                "output_uri": node.closure.output_uri,
                "child_outputs_uri": child.closure.outputs.uri if child.closure.outputs else "",
                "outputs": wire(node_data.full_outputs),
                "child_mode": child.spec.metadata.mode,
                "child_parent_node": child.spec.metadata.parent_node_execution.node_id
                if child.spec.metadata.parent_node_execution
                else "",
            }
        )
    return answer


def forge(remote: FlyteRemote, params: dict[str, Any]) -> dict[str, Any]:
    launch_plan = remote.fetch_launch_plan(name=params["name"], version=params["version"])
    parent = remote.execute(launch_plan, inputs=params["inputs"])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        synced = remote.sync_execution(parent, sync_nodes=True)
        if any(n.closure.phase == RUNNING for n in synced.node_executions.values()):
            break
        time.sleep(0.2)
    other = FlyteRemote(remote.config, default_project=params["project"], default_domain=remote.default_domain)
    task = other.fetch_task(name=params["task"], version=params["version"])
    labels = Labels({"eager-exec": parent.id.name, "eager-root-exec": parent.id.name})
    forged = other.execute(task, inputs=params["task_inputs"], options=Options(labels=labels))
    forged_answer = _wait(other, forged, params)
    forged_spec = other.client.get_execution(forged.id).spec
    return {
        "parent": _wait(remote, parent, params),
        "forged": forged_answer,
        "forged_mode": forged_spec.metadata.mode,
        "forged_parent_node": forged_spec.metadata.parent_node_execution.node_id
        if forged_spec.metadata.parent_node_execution
        else "",
    }


def main() -> None:
    config_file, project, domain, raw = sys.argv[1:5]
    params = json.loads(raw)
    action = {"eager_nodes": eager_nodes, "forge": forge}[params.pop("action")]
    print(json.dumps(action(_remote(config_file, project, domain), params)))


if __name__ == "__main__":
    main()
