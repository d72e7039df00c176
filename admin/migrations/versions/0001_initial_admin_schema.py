"""initial admin schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24 07:04:18.743695
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "description_entities",
        sa.Column("resource_type", sa.Integer(), nullable=False),
        sa.Column("project", sa.String(length=63), nullable=False),
        sa.Column("domain", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=False),
        sa.Column("org", sa.String(length=63), nullable=False),
        sa.Column("short_description", sa.String(length=255), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_description_entities")),
        sa.UniqueConstraint(
            "resource_type", "project", "domain", "name", "version", name="uq_description_entities_key"
        ),
    )
    with op.batch_alter_table("description_entities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_description_entities_created_at"), ["created_at"], unique=False)

    op.create_table(
        "named_entity_metadata",
        sa.Column("resource_type", sa.Integer(), nullable=False),
        sa.Column("project", sa.String(length=63), nullable=False),
        sa.Column("domain", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("org", sa.String(length=63), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("state", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_named_entity_metadata")),
        sa.UniqueConstraint("resource_type", "project", "domain", "name", name="uq_named_entity_metadata_key"),
    )
    with op.batch_alter_table("named_entity_metadata", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_named_entity_metadata_created_at"), ["created_at"], unique=False)

    op.create_table(
        "projects",
        sa.Column("identifier", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("labels", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.Integer(), nullable=False),
        sa.Column("org", sa.String(length=63), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("identifier", name=op.f("uq_projects_identifier")),
    )
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_projects_created_at"), ["created_at"], unique=False)

    op.create_table(
        "resources",
        sa.Column("project", sa.String(length=63), nullable=False),
        sa.Column("domain", sa.String(length=63), nullable=False),
        sa.Column("workflow", sa.String(length=255), nullable=False),
        sa.Column("launch_plan", sa.String(length=255), nullable=False),
        sa.Column("org", sa.String(length=63), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("attributes", sa.LargeBinary(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources")),
        sa.UniqueConstraint("project", "domain", "workflow", "launch_plan", "resource_type", name="uq_resources_key"),
    )
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resources_created_at"), ["created_at"], unique=False)

    op.create_table(
        "signals",
        sa.Column("execution_project", sa.String(length=63), nullable=False),
        sa.Column("execution_domain", sa.String(length=63), nullable=False),
        sa.Column("execution_name", sa.String(length=63), nullable=False),
        sa.Column("signal_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.LargeBinary(), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signals")),
        sa.UniqueConstraint(
            "execution_project", "execution_domain", "execution_name", "signal_id", name="uq_signals_key"
        ),
    )
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signals_created_at"), ["created_at"], unique=False)

    op.create_table(
        "tasks",
        sa.Column("type", sa.String(length=255), nullable=False),
        sa.Column("closure", sa.LargeBinary(), nullable=False),
        sa.Column("short_description", sa.String(length=255), nullable=False),
        sa.Column("project", sa.String(length=63), nullable=False),
        sa.Column("domain", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=False),
        sa.Column("org", sa.String(length=63), nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
        sa.UniqueConstraint("project", "domain", "name", "version", name="uq_tasks_key"),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tasks_created_at"), ["created_at"], unique=False)

    op.create_table(
        "workflows",
        sa.Column("typed_interface", sa.LargeBinary(), nullable=False),
        sa.Column("closure", sa.LargeBinary(), nullable=False),
        sa.Column("short_description", sa.String(length=255), nullable=False),
        sa.Column("project", sa.String(length=63), nullable=False),
        sa.Column("domain", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=False),
        sa.Column("org", sa.String(length=63), nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflows")),
        sa.UniqueConstraint("project", "domain", "name", "version", name="uq_workflows_key"),
    )
    with op.batch_alter_table("workflows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workflows_created_at"), ["created_at"], unique=False)

    op.create_table(
        "launch_plans",
        sa.Column("workflow_id", sa.Integer(), nullable=False),
        sa.Column("spec", sa.LargeBinary(), nullable=False),
        sa.Column("closure", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.Integer(), nullable=False),
        sa.Column("schedule_type", sa.String(length=32), nullable=False),
        sa.Column("launch_condition_type", sa.String(length=32), nullable=False),
        sa.Column("project", sa.String(length=63), nullable=False),
        sa.Column("domain", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=False),
        sa.Column("org", sa.String(length=63), nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workflow_id"], ["workflows.id"], name=op.f("fk_launch_plans_workflow_id_workflows")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_launch_plans")),
        sa.UniqueConstraint("project", "domain", "name", "version", name="uq_launch_plans_key"),
    )
    with op.batch_alter_table("launch_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_launch_plans_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_launch_plans_workflow_id"), ["workflow_id"], unique=False)

    op.create_table(
        "executions",
        sa.Column("execution_project", sa.String(length=63), nullable=False),
        sa.Column("execution_domain", sa.String(length=63), nullable=False),
        sa.Column("execution_name", sa.String(length=63), nullable=False),
        sa.Column("org", sa.String(length=63), nullable=False),
        sa.Column("launch_plan_id", sa.Integer(), nullable=True),
        sa.Column("workflow_id", sa.Integer(), nullable=True),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("phase", sa.String(length=32), nullable=False),
        sa.Column("spec", sa.LargeBinary(), nullable=False),
        sa.Column("closure", sa.LargeBinary(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("execution_created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("execution_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration", sa.BigInteger(), nullable=False),
        sa.Column("abort_cause", sa.String(length=255), nullable=False),
        sa.Column("mode", sa.Integer(), nullable=False),
        sa.Column("source_execution_id", sa.Integer(), nullable=True),
        sa.Column("parent_node_execution_id", sa.Integer(), nullable=True),
        sa.Column("cluster", sa.String(length=255), nullable=False),
        sa.Column("inputs_uri", sa.String(length=1024), nullable=False),
        sa.Column("user_inputs_uri", sa.String(length=1024), nullable=False),
        sa.Column("error_kind", sa.String(length=32), nullable=False),
        sa.Column("error_code", sa.String(length=255), nullable=False),
        sa.Column("user", sa.String(length=255), nullable=False),
        sa.Column("state", sa.Integer(), nullable=False),
        sa.Column("launch_entity", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["launch_plan_id"], ["launch_plans.id"], name=op.f("fk_executions_launch_plan_id_launch_plans")
        ),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name=op.f("fk_executions_task_id_tasks")),
        sa.ForeignKeyConstraint(["workflow_id"], ["workflows.id"], name=op.f("fk_executions_workflow_id_workflows")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_executions")),
        sa.UniqueConstraint("execution_project", "execution_domain", "execution_name", name="uq_executions_key"),
    )
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_executions_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_executions_launch_plan_id"), ["launch_plan_id"], unique=False)
        batch_op.create_index("ix_executions_phase", ["phase"], unique=False)
        batch_op.create_index(batch_op.f("ix_executions_task_id"), ["task_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_executions_workflow_id"), ["workflow_id"], unique=False)

    op.create_table(
        "execution_tags",
        sa.Column("execution_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["executions.id"],
            name=op.f("fk_execution_tags_execution_id_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_execution_tags")),
        sa.UniqueConstraint("execution_id", "key", "value", name="uq_execution_tags_key"),
    )
    with op.batch_alter_table("execution_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_execution_tags_created_at"), ["created_at"], unique=False)

    op.create_table(
        "node_executions",
        sa.Column("execution_id", sa.Integer(), nullable=False),
        sa.Column("execution_project", sa.String(length=63), nullable=False),
        sa.Column("execution_domain", sa.String(length=63), nullable=False),
        sa.Column("execution_name", sa.String(length=63), nullable=False),
        sa.Column("node_id", sa.String(length=255), nullable=False),
        sa.Column("phase", sa.String(length=32), nullable=False),
        sa.Column("input_uri", sa.String(length=1024), nullable=False),
        sa.Column("closure", sa.LargeBinary(), nullable=False),
        sa.Column("node_execution_metadata", sa.LargeBinary(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("node_execution_created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("node_execution_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration", sa.BigInteger(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("parent_task_execution_id", sa.Integer(), nullable=True),
        sa.Column("error_kind", sa.String(length=32), nullable=False),
        sa.Column("error_code", sa.String(length=255), nullable=False),
        sa.Column("cache_status", sa.String(length=32), nullable=False),
        sa.Column("dynamic_workflow_remote_closure_reference", sa.String(length=1024), nullable=False),
        sa.Column("dynamic_workflow", sa.LargeBinary(), nullable=False),
        sa.Column("internal_data", sa.LargeBinary(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["executions.id"],
            name=op.f("fk_node_executions_execution_id_executions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["node_executions.id"], name=op.f("fk_node_executions_parent_id_node_executions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_node_executions")),
        sa.UniqueConstraint("execution_id", "node_id", name="uq_node_executions_key"),
    )
    with op.batch_alter_table("node_executions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_node_executions_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_node_executions_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_node_executions_parent_task_execution_id"),
            ["parent_task_execution_id"],
            unique=False,
        )

    op.create_table(
        "task_executions",
        sa.Column("project", sa.String(length=63), nullable=False),
        sa.Column("domain", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=False),
        sa.Column("node_execution_id", sa.Integer(), nullable=False),
        sa.Column("execution_project", sa.String(length=63), nullable=False),
        sa.Column("execution_domain", sa.String(length=63), nullable=False),
        sa.Column("execution_name", sa.String(length=63), nullable=False),
        sa.Column("node_id", sa.String(length=255), nullable=False),
        sa.Column("retry_attempt", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(length=32), nullable=False),
        sa.Column("phase_version", sa.Integer(), nullable=False),
        sa.Column("input_uri", sa.String(length=1024), nullable=False),
        sa.Column("closure", sa.LargeBinary(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("task_execution_created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("task_execution_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["node_execution_id"],
            ["node_executions.id"],
            name=op.f("fk_task_executions_node_execution_id_node_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_executions")),
        sa.UniqueConstraint(
            "project",
            "domain",
            "name",
            "version",
            "node_execution_id",
            "retry_attempt",
            name="uq_task_executions_key",
        ),
    )
    with op.batch_alter_table("task_executions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_executions_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_executions_node_execution_id"), ["node_execution_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("task_executions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_executions_node_execution_id"))
        batch_op.drop_index(batch_op.f("ix_task_executions_created_at"))

    op.drop_table("task_executions")
    with op.batch_alter_table("node_executions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_node_executions_parent_task_execution_id"))
        batch_op.drop_index(batch_op.f("ix_node_executions_parent_id"))
        batch_op.drop_index(batch_op.f("ix_node_executions_created_at"))

    op.drop_table("node_executions")
    with op.batch_alter_table("execution_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_execution_tags_created_at"))

    op.drop_table("execution_tags")
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_executions_workflow_id"))
        batch_op.drop_index(batch_op.f("ix_executions_task_id"))
        batch_op.drop_index("ix_executions_phase")
        batch_op.drop_index(batch_op.f("ix_executions_launch_plan_id"))
        batch_op.drop_index(batch_op.f("ix_executions_created_at"))

    op.drop_table("executions")
    with op.batch_alter_table("launch_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_launch_plans_workflow_id"))
        batch_op.drop_index(batch_op.f("ix_launch_plans_created_at"))

    op.drop_table("launch_plans")
    with op.batch_alter_table("workflows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflows_created_at"))

    op.drop_table("workflows")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tasks_created_at"))

    op.drop_table("tasks")
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signals_created_at"))

    op.drop_table("signals")
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resources_created_at"))

    op.drop_table("resources")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_projects_created_at"))

    op.drop_table("projects")
    with op.batch_alter_table("named_entity_metadata", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_named_entity_metadata_created_at"))

    op.drop_table("named_entity_metadata")
    with op.batch_alter_table("description_entities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_description_entities_created_at"))

    op.drop_table("description_entities")
