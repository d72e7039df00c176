"""Initial admin schema: the tables of admin.models as of revision 0001 (created 2026-11-24)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from flyteplane.migration_tables import Reference, Table, create_tables, drop_tables

revision = "0001"
down_revision: str | None = None

# The columns several tables share, each with the one type it has everywhere.
_SHARED: dict[str, sa.types.TypeEngine[Any]] = {
    "project": sa.String(length=63),
    "domain": sa.String(length=63),
    "name": sa.String(length=255),
    "version": sa.String(length=255),
    "org": sa.String(length=63),
    "digest": sa.LargeBinary(),
    "closure": sa.LargeBinary(),
    "short_description": sa.String(length=255),
    "resource_type": sa.Integer(),
    "execution_project": sa.String(length=63),
    "execution_domain": sa.String(length=63),
    "execution_name": sa.String(length=63),
    "node_id": sa.String(length=255),
    "phase": sa.String(length=32),
    "input_uri": sa.String(length=1024),
    "error_kind": sa.String(length=32),
    "error_code": sa.String(length=255),
}
_ENTITY = ("project", "domain", "name", "version", "org")
_EXECUTION = ("execution_project", "execution_domain", "execution_name")


def _shared(*names: str) -> list[sa.Column[Any]]:
    return [sa.Column(name, _SHARED[name], nullable=False) for name in names]


def _column(name: str, type_: sa.types.TypeEngine[Any], *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, type_, nullable=nullable)


def _timeline(prefix: str) -> list[sa.Column[Any]]:
    """When an execution (or node, or task attempt) started, was created and updated, and how long it ran."""
    return [
        _column("started_at", sa.DateTime(timezone=True), nullable=True),
        _column(f"{prefix}_created_at", sa.DateTime(timezone=True)),
        _column(f"{prefix}_updated_at", sa.DateTime(timezone=True)),
        _column("duration", sa.BigInteger()),
    ]


def _indexes(table: str, *columns: str) -> list[tuple[str, list[str]]]:
    """Every admin table indexes created_at (list sorting); some also their foreign keys."""
    return [(f"ix_{table}_{column}", [column]) for column in ("created_at", *columns)]


def _tables() -> list[Table]:
    return [
        Table(
            "description_entities",
            [
                *_shared("resource_type", *_ENTITY, "short_description"),
                _column("body", sa.LargeBinary()),
            ],
            key=("resource_type", "project", "domain", "name", "version"),
            indexes=_indexes("description_entities"),
        ),
        Table(
            "named_entity_metadata",
            [
                *_shared("resource_type", "project", "domain", "name", "org"),
                _column("description", sa.String(length=300)),
                _column("state", sa.Integer()),
            ],
            key=("resource_type", "project", "domain", "name"),
            indexes=_indexes("named_entity_metadata"),
        ),
        Table(
            "projects",
            [
                _column("identifier", sa.String(length=63)),
                _column("name", sa.String(length=64)),
                _column("description", sa.String(length=300)),
                _column("labels", sa.LargeBinary()),
                _column("state", sa.Integer()),
                *_shared("org"),
            ],
            unique=[("uq_projects_identifier", ["identifier"])],
            indexes=_indexes("projects"),
        ),
        Table(
            "resources",
            [
                *_shared("project", "domain"),
                _column("workflow", sa.String(length=255)),
                _column("launch_plan", sa.String(length=255)),
                *_shared("org"),
                _column("resource_type", sa.String(length=64)),
                _column("priority", sa.Integer()),
                _column("attributes", sa.LargeBinary()),
            ],
            key=("project", "domain", "workflow", "launch_plan", "resource_type"),
            indexes=_indexes("resources"),
        ),
        Table(
            "signals",
            [
                *_shared(*_EXECUTION),
                _column("signal_id", sa.String(length=255)),
                _column("type", sa.LargeBinary()),
                _column("value", sa.LargeBinary()),
            ],
            key=(*_EXECUTION, "signal_id"),
            indexes=_indexes("signals"),
        ),
        Table(
            "tasks",
            [
                _column("type", sa.String(length=255)),
                *_shared("closure", "short_description", *_ENTITY, "digest"),
            ],
            key=_ENTITY[:4],
            indexes=_indexes("tasks"),
        ),
        Table(
            "workflows",
            [
                _column("typed_interface", sa.LargeBinary()),
                *_shared("closure", "short_description", *_ENTITY, "digest"),
            ],
            key=_ENTITY[:4],
            indexes=_indexes("workflows"),
        ),
        Table(
            "launch_plans",
            [
                _column("workflow_id", sa.Integer()),
                _column("spec", sa.LargeBinary()),
                *_shared("closure"),
                _column("state", sa.Integer()),
                _column("schedule_type", sa.String(length=32)),
                _column("launch_condition_type", sa.String(length=32)),
                *_shared(*_ENTITY, "digest"),
            ],
            references=[Reference("workflow_id", "workflows")],
            key=_ENTITY[:4],
            indexes=_indexes("launch_plans", "workflow_id"),
        ),
        Table(
            "executions",
            [
                *_shared(*_EXECUTION, "org"),
                _column("launch_plan_id", sa.Integer(), nullable=True),
                _column("workflow_id", sa.Integer(), nullable=True),
                _column("task_id", sa.Integer(), nullable=True),
                *_shared("phase"),
                _column("spec", sa.LargeBinary()),
                *_shared("closure"),
                *_timeline("execution"),
                _column("abort_cause", sa.String(length=255)),
                _column("mode", sa.Integer()),
                _column("source_execution_id", sa.Integer(), nullable=True),
                _column("parent_node_execution_id", sa.Integer(), nullable=True),
                _column("cluster", sa.String(length=255)),
                _column("inputs_uri", sa.String(length=1024)),
                _column("user_inputs_uri", sa.String(length=1024)),
                *_shared("error_kind", "error_code"),
                _column("user", sa.String(length=255)),
                _column("state", sa.Integer()),
                _column("launch_entity", sa.String(length=32)),
            ],
            references=[
                Reference("launch_plan_id", "launch_plans"),
                Reference("task_id", "tasks"),
                Reference("workflow_id", "workflows"),
            ],
            key=_EXECUTION,
            indexes=_indexes("executions", "launch_plan_id", "phase", "task_id", "workflow_id"),
        ),
        Table(
            "execution_tags",
            [
                _column("execution_id", sa.Integer()),
                _column("key", sa.String(length=255)),
                _column("value", sa.String(length=255)),
            ],
            references=[Reference("execution_id", "executions", ondelete="CASCADE")],
            key=("execution_id", "key", "value"),
            indexes=_indexes("execution_tags"),
        ),
        Table(
            "node_executions",
            [
                _column("execution_id", sa.Integer()),
                *_shared(*_EXECUTION, "node_id", "phase", "input_uri", "closure"),
                _column("node_execution_metadata", sa.LargeBinary()),
                *_timeline("node_execution"),
                _column("parent_id", sa.Integer(), nullable=True),
                _column("parent_task_execution_id", sa.Integer(), nullable=True),
                *_shared("error_kind", "error_code"),
                _column("cache_status", sa.String(length=32)),
                _column("dynamic_workflow_remote_closure_reference", sa.String(length=1024)),
                _column("dynamic_workflow", sa.LargeBinary()),
                _column("internal_data", sa.LargeBinary()),
            ],
            references=[
                Reference("execution_id", "executions", ondelete="CASCADE"),
                Reference("parent_id", "node_executions"),
            ],
            key=("execution_id", "node_id"),
            indexes=_indexes("node_executions", "parent_id", "parent_task_execution_id"),
        ),
        Table(
            "task_executions",
            [
                *_shared(*_ENTITY[:4]),
                _column("node_execution_id", sa.Integer()),
                *_shared(*_EXECUTION, "node_id"),
                _column("retry_attempt", sa.Integer()),
                *_shared("phase"),
                _column("phase_version", sa.Integer()),
                *_shared("input_uri", "closure"),
                *_timeline("task_execution"),
            ],
            references=[Reference("node_execution_id", "node_executions", ondelete="CASCADE")],
            key=(*_ENTITY[:4], "node_execution_id", "retry_attempt"),
            indexes=_indexes("task_executions", "node_execution_id"),
        ),
    ]


def upgrade() -> None:
    create_tables(_tables)


def downgrade() -> None:
    drop_tables(_tables)
