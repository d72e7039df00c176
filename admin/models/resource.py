"""Matchable attributes: per project / project-domain / workflow / launch-plan overrides, by resource type."""

from __future__ import annotations

from sqlalchemy import LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from admin.models.base import Record


class Resource(Record):
    __tablename__ = "resources"
    __table_args__ = (
        UniqueConstraint("project", "domain", "workflow", "launch_plan", "resource_type", name="uq_resources_key"),
    )

    project: Mapped[str] = mapped_column(String(63), default="")
    domain: Mapped[str] = mapped_column(String(63), default="")
    workflow: Mapped[str] = mapped_column(String(255), default="")
    launch_plan: Mapped[str] = mapped_column(String(255), default="")
    org: Mapped[str] = mapped_column(String(63), default="")
    resource_type: Mapped[str] = mapped_column(String(64))  # admin.MatchableResource name
    priority: Mapped[int] = mapped_column(default=0)  # project 5, project-domain 10, workflow 100, LP 1000
    attributes: Mapped[bytes] = mapped_column(LargeBinary)  # admin.MatchingAttributes
