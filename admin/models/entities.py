"""Registered entities: tasks, workflows, launch plans, named-entity metadata and description entities."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from admin.models.base import Record


class _Versioned(Record):
    """An entity keyed by (project, domain, name, version), the Identifier minus resource type."""

    __abstract__ = True

    project: Mapped[str] = mapped_column(String(63))
    domain: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(255))
    version: Mapped[str] = mapped_column(String(255))
    org: Mapped[str] = mapped_column(String(63), default="")
    digest: Mapped[bytes] = mapped_column(LargeBinary)


class Task(_Versioned):
    __tablename__ = "tasks"
    __table_args__ = (UniqueConstraint("project", "domain", "name", "version", name="uq_tasks_key"),)

    type: Mapped[str] = mapped_column(String(255))
    closure: Mapped[bytes] = mapped_column(LargeBinary)  # admin.TaskClosure
    short_description: Mapped[str] = mapped_column(String(255), default="")


class Workflow(_Versioned):
    __tablename__ = "workflows"
    __table_args__ = (UniqueConstraint("project", "domain", "name", "version", name="uq_workflows_key"),)

    typed_interface: Mapped[bytes] = mapped_column(LargeBinary)  # core.TypedInterface
    closure: Mapped[bytes] = mapped_column(LargeBinary)  # admin.WorkflowClosure (compiled)
    short_description: Mapped[str] = mapped_column(String(255), default="")


class LaunchPlan(_Versioned):
    __tablename__ = "launch_plans"
    __table_args__ = (UniqueConstraint("project", "domain", "name", "version", name="uq_launch_plans_key"),)

    workflow_id: Mapped[int] = mapped_column(Integer, ForeignKey("workflows.id"), index=True)
    spec: Mapped[bytes] = mapped_column(LargeBinary)  # admin.LaunchPlanSpec
    closure: Mapped[bytes] = mapped_column(LargeBinary)  # admin.LaunchPlanClosure
    state: Mapped[int] = mapped_column(default=0)  # admin.LaunchPlanState: INACTIVE 0, ACTIVE 1
    schedule_type: Mapped[str] = mapped_column(String(32), default="NONE")
    launch_condition_type: Mapped[str] = mapped_column(String(32), default="")


class NamedEntityMetadata(Record):
    __tablename__ = "named_entity_metadata"
    __table_args__ = (
        UniqueConstraint("resource_type", "project", "domain", "name", name="uq_named_entity_metadata_key"),
    )

    resource_type: Mapped[int] = mapped_column()
    project: Mapped[str] = mapped_column(String(63))
    domain: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(255))
    org: Mapped[str] = mapped_column(String(63), default="")
    description: Mapped[str] = mapped_column(String(300), default="")
    state: Mapped[int] = mapped_column(default=0)  # admin.NamedEntityState


class DescriptionEntity(Record):
    __tablename__ = "description_entities"
    __table_args__ = (
        UniqueConstraint("resource_type", "project", "domain", "name", "version", name="uq_description_entities_key"),
    )

    resource_type: Mapped[int] = mapped_column()
    project: Mapped[str] = mapped_column(String(63))
    domain: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(255))
    version: Mapped[str] = mapped_column(String(255))
    org: Mapped[str] = mapped_column(String(63), default="")
    short_description: Mapped[str] = mapped_column(String(255), default="")
    body: Mapped[bytes] = mapped_column(LargeBinary)  # admin.DescriptionEntity without id
