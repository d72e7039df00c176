"""Wait for an execution and print its outputs with FlyteRemote (run with the task environment's python)."""

import sys
from datetime import timedelta

from flytekit.configuration import Config
from flytekit.models.core.execution import WorkflowExecutionPhase
from flytekit.remote import FlyteRemote


def main() -> None:
    config, name = sys.argv[1], sys.argv[2]
    remote = FlyteRemote(Config.auto(config_file=config), default_project="flytesnacks", default_domain="development")
    execution = remote.wait(remote.fetch_execution(name=name), timeout=timedelta(minutes=5))
    print(f"execution {name}: {WorkflowExecutionPhase.enum_to_string(execution.closure.phase)}")
    if execution.error is not None:
        print(f"  error: {execution.error.message}")
        sys.exit(1)
    for key in execution.outputs.literals:
        print(f"  {key} = {execution.outputs.get(key)}")


if __name__ == "__main__":
    main()
