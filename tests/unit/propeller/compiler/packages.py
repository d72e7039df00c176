"""Loads the real-flytekit example packages and hydrates their identifiers, as `pyflyte register` does."""

from __future__ import annotations

import tarfile
from dataclasses import dataclass
from functools import cache

from google.protobuf.message import Message

from flyteidl_py.admin import launch_plan_pb2, task_pb2, workflow_pb2
from flyteidl_py.core import identifier_pb2
from tests.support.paths import fixtures_dir

PROJECT, DOMAIN, VERSION = "flytesnacks", "development", "v1"
PACKAGES = ("examples-package.tgz", "examples-package-fast.tgz")


@dataclass(frozen=True)
class Package:
    tasks: dict[str, task_pb2.TaskSpec]
    workflows: dict[str, workflow_pb2.WorkflowSpec]
    launch_plans: dict[str, launch_plan_pb2.LaunchPlan]


def hydrate(message: Message) -> None:
    """Fill empty project/domain/version into every Identifier inside `message`, in place."""
    if isinstance(message, identifier_pb2.Identifier):
        message.project = message.project or PROJECT
        message.domain = message.domain or DOMAIN
        message.version = message.version or VERSION
        return
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None:
            continue
        if descriptor.message_type.GetOptions().map_entry:
            if descriptor.message_type.fields_by_name["value"].message_type is not None:
                for item in value.values():
                    hydrate(item)
        elif descriptor.is_repeated:
            for item in value:
                hydrate(item)
        else:
            hydrate(value)


@cache
def load(package: str) -> Package:
    tasks: dict[str, task_pb2.TaskSpec] = {}
    workflows: dict[str, workflow_pb2.WorkflowSpec] = {}
    launch_plans: dict[str, launch_plan_pb2.LaunchPlan] = {}
    with tarfile.open(fixtures_dir() / package) as archive:
        for member in archive.getmembers():
            if not member.name.endswith(".pb"):
                continue
            extracted = archive.extractfile(member)
            assert extracted is not None
            data = extracted.read()
            stem = member.name.removesuffix(".pb")
            name, kind = stem.split("_", 1)[1].rsplit("_", 1)
            if kind == "1":
                task = task_pb2.TaskSpec.FromString(data)
                hydrate(task)
                tasks[name] = task
            elif kind == "2":
                workflow = workflow_pb2.WorkflowSpec.FromString(data)
                hydrate(workflow)
                workflows[name] = workflow
            elif kind == "3":
                launch_plan = launch_plan_pb2.LaunchPlan.FromString(data)
                hydrate(launch_plan)
                launch_plans[name] = launch_plan
    return Package(tasks, workflows, launch_plans)
