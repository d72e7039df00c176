"""Projects: the namespaces every entity and execution lives in."""

from __future__ import annotations

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from admin.models.base import Record


class Project(Record):
    __tablename__ = "projects"

    identifier: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(300), default="")
    labels: Mapped[bytes] = mapped_column(LargeBinary, default=b"")  # serialized admin.Labels
    state: Mapped[int] = mapped_column(default=0)  # admin.Project.ProjectState
    org: Mapped[str] = mapped_column(String(63), default="")
