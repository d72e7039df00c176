"""Task execution contexts for the Kubernetes backends' tests, with real flytekit-serialized templates."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from flyteidl_py.core import identifier_pb2, security_pb2, tasks_pb2
from flyteplane.storage import Storage
from plugins.core import DataPaths, TaskExecutionContext
from tests.support.packages import load_package
from tests.support.paths import fixtures_dir

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PROJECT, DOMAIN = "flytesnacks", "development"


def template(name: str, package: str = "") -> tasks_pb2.TaskTemplate:
    """A TaskTemplate serialized by real flytekit: from the spark/ray packages here, else the reference package."""
    path = FIXTURES / package if package else fixtures_dir() / "examples-package.tgz"
    templates = {spec.template.id.name: spec.template for spec in load_package(path).tasks}
    (match,) = [t for full, t in templates.items() if full == name or full.endswith(f".{name}")]
    return match


def spark_template(name: str = "count_evens") -> tasks_pb2.TaskTemplate:
    return template(name, "spark.tgz")


def ray_template(name: str = "sum_of_squares") -> tasks_pb2.TaskTemplate:
    return template(name, "ray.tgz")


def context(
    storage: Storage,
    task: tasks_pb2.TaskTemplate,
    *,
    execution: str = "exec1",
    node: str = "n0",
    attempt: int = 0,
    **overrides: Any,
) -> TaskExecutionContext:
    """The context of one attempt, laid out as propeller lays it out."""
    base = storage.default_prefix
    data = f"{base}/metadata/propeller/{PROJECT}-{DOMAIN}-{execution}/{node}/data"
    raw = f"{base}/raw/{execution}-{node}-{attempt}"
    ident = identifier_pb2.TaskExecutionIdentifier(
        task_id=task.id,
        node_execution_id=identifier_pb2.NodeExecutionIdentifier(
            node_id=node,
            execution_id=identifier_pb2.WorkflowExecutionIdentifier(project=PROJECT, domain=DOMAIN, name=execution),
        ),
        retry_attempt=attempt,
    )
    ctx = TaskExecutionContext(
        task_execution_id=ident,
        template=task,
        paths=DataPaths(
            inputs=f"{data}/inputs.pb",
            output_prefix=f"{data}/{attempt}",
            raw_output_prefix=raw,
            checkpoint_prefix=f"{raw}/_flytecheckpoints",
            previous_checkpoint_prefix=f"{base}/raw/{execution}-{node}-{attempt - 1}/_flytecheckpoints"
            if attempt
            else "",
        ),
        storage=storage,
        environment={"FLYTE_INTERNAL_EXECUTION_WORKFLOW": "k8s_examples.wf", "EXECUTION_ENV": "from-execution"},
        workflow_id=identifier_pb2.Identifier(
            resource_type=identifier_pb2.WORKFLOW, project=PROJECT, domain=DOMAIN, name="k8s_examples.wf", version="v1"
        ),
    )
    return dataclasses.replace(ctx, **overrides)


def with_secrets(task: tasks_pb2.TaskTemplate, *secrets: security_pb2.Secret) -> tasks_pb2.TaskTemplate:
    out = tasks_pb2.TaskTemplate()
    out.CopyFrom(task)
    out.security_context.secrets.extend(secrets)
    return out
