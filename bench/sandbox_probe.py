"""Runs under the task environment's python (flytekit): time submit -> outputs readable for one workflow.

Usage: python sandbox_probe.py CONFIG LAUNCH_PLAN VERSION REPEATS
Prints one JSON line: the seconds of each run from CreateExecution to outputs read back.
"""

import json
import sys
import time

from flytekit.configuration import Config
from flytekit.models.core.execution import WorkflowExecutionPhase
from flytekit.remote import FlyteRemote

TERMINAL = {WorkflowExecutionPhase.SUCCEEDED, WorkflowExecutionPhase.FAILED, WorkflowExecutionPhase.ABORTED}


def main() -> None:
    config, name, version, repeats = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    remote = FlyteRemote(Config.auto(config_file=config), default_project="flytesnacks", default_domain="development")
    launch_plan = remote.fetch_launch_plan(name=name, version=version)
    seconds = []
    for i in range(repeats):
        start = time.perf_counter()
        execution = remote.execute(launch_plan, inputs={"x": i})
        while True:
            current = remote.client.get_execution(execution.id)
            if current.closure.phase in TERMINAL:
                break
            time.sleep(0.005)
        data = remote.client.get_execution_data(execution.id)
        assert current.closure.phase == WorkflowExecutionPhase.SUCCEEDED, current.closure.error
        assert data.full_outputs.literals["o0"].scalar.primitive.integer == i + 1
        seconds.append(time.perf_counter() - start)
    print(json.dumps(seconds))


if __name__ == "__main__":
    main()
