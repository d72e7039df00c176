"""Admin's persistent records (SQLAlchemy 2 typed ORM): one module per aggregate, one metadata for all."""

from admin.models.auth import AuthClient, PendingLogin, RefreshToken, RevokedToken
from admin.models.base import AdminBase
from admin.models.entities import DescriptionEntity, LaunchPlan, NamedEntityMetadata, Task, Workflow
from admin.models.execution import Execution, ExecutionTag
from admin.models.node_execution import NodeExecution
from admin.models.outbox import OutboxMessage
from admin.models.project import Project
from admin.models.resource import Resource
from admin.models.signal import Signal
from admin.models.task_execution import TaskExecution

__all__ = [
    "AdminBase",
    "AuthClient",
    "DescriptionEntity",
    "Execution",
    "ExecutionTag",
    "LaunchPlan",
    "NamedEntityMetadata",
    "NodeExecution",
    "OutboxMessage",
    "PendingLogin",
    "Project",
    "RefreshToken",
    "Resource",
    "RevokedToken",
    "Signal",
    "Task",
    "TaskExecution",
    "Workflow",
]
