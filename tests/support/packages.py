"""flytekit's serialized packages, hydrated as `pyflyte register` does before it calls CreateTask & co."""

from __future__ import annotations

import tarfile
from dataclasses import dataclass
from pathlib import Path

from google.protobuf.message import Message

from flyteidl_py.admin import launch_plan_pb2, task_pb2, workflow_pb2
from flyteidl_py.core import identifier_pb2


def hydrate(message: Message, project: str, domain: str, version: str) -> None:
    """Fill empty project/domain/version of every Identifier inside `message`."""
    if isinstance(message, identifier_pb2.Identifier):
        message.project = message.project or project
        message.domain = message.domain or domain
        message.version = message.version or version
        return
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            if field.message_type.fields_by_name["value"].message_type is not None:
                for item in value.values():
                    hydrate(item, project, domain, version)
        elif field.is_repeated:
            for item in value:
                hydrate(item, project, domain, version)
        else:
            hydrate(value, project, domain, version)


@dataclass(frozen=True)
class Package:
    tasks: list[task_pb2.TaskSpec]
    workflows: list[workflow_pb2.WorkflowSpec]
    launch_plans: list[launch_plan_pb2.LaunchPlan]
    ordered: list[Message]  # in the package's own order, which puts dependencies first

    def requests(self) -> list[Message]:
        """Create* requests in registration order, as `pyflyte register` sends them."""
        out: list[Message] = []
        for entity in self.ordered:
            if isinstance(entity, task_pb2.TaskSpec):
                out.append(task_pb2.TaskCreateRequest(id=entity.template.id, spec=entity))
            elif isinstance(entity, workflow_pb2.WorkflowSpec):
                out.append(workflow_pb2.WorkflowCreateRequest(id=entity.template.id, spec=entity))
            else:
                assert isinstance(entity, launch_plan_pb2.LaunchPlan)
                out.append(launch_plan_pb2.LaunchPlanCreateRequest(id=entity.id, spec=entity.spec))
        return out

    def task_requests(self) -> list[task_pb2.TaskCreateRequest]:
        return [task_pb2.TaskCreateRequest(id=t.template.id, spec=t) for t in self.tasks]

    def workflow_requests(self) -> list[workflow_pb2.WorkflowCreateRequest]:
        return [workflow_pb2.WorkflowCreateRequest(id=w.template.id, spec=w) for w in self.workflows]

    def launch_plan_requests(self) -> list[launch_plan_pb2.LaunchPlanCreateRequest]:
        return [launch_plan_pb2.LaunchPlanCreateRequest(id=lp.id, spec=lp.spec) for lp in self.launch_plans]


def load_package(path: Path, project: str = "flytesnacks", domain: str = "development", version: str = "v1") -> Package:
    tasks, workflows, launch_plans, ordered = [], [], [], []
    with tarfile.open(path) as tar:
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            handle = tar.extractfile(member) if member.name.endswith(".pb") else None
            if handle is None:
                continue
            data = handle.read()
            message: Message
            if member.name.endswith("_1.pb"):
                message = task_pb2.TaskSpec.FromString(data)
                tasks.append(message)
            elif member.name.endswith("_2.pb"):
                message = workflow_pb2.WorkflowSpec.FromString(data)
                workflows.append(message)
            else:
                message = launch_plan_pb2.LaunchPlan.FromString(data)
                launch_plans.append(message)
            hydrate(message, project, domain, version)
            ordered.append(message)
    for spec in tasks:
        spec.template.id.resource_type = identifier_pb2.TASK
    for lp in launch_plans:
        lp.id.resource_type = identifier_pb2.LAUNCH_PLAN
    return Package(tasks, workflows, launch_plans, ordered)
