"""Initial propeller schema: the tables of propeller.models as of revision 0001 (created 2026-11-24)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from flyteplane.migration_tables import Reference, Table, create_tables, drop_tables, id_column, timestamp_columns

revision = "0001"
down_revision: str | None = None


def _column(name: str, type_: sa.types.TypeEngine[Any], *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, type_, nullable=nullable)


def _workflow_row() -> Reference:
    """Rows that belong to one workflow execution go with it."""
    return Reference("workflow_id", "workflow_executions", ondelete="CASCADE")


def _tables() -> list[Table]:
    # Propeller's rows are not `Record`s: the id comes first and only workflows carry timestamps.
    return [
        Table(
            "workflow_executions",
            [
                id_column(),
                _column("project", sa.String(length=63)),
                _column("domain", sa.String(length=63)),
                _column("name", sa.String(length=63)),
                _column("phase", sa.Integer()),
                _column("terminal", sa.Boolean()),
                _column("closure", sa.LargeBinary()),
                _column("spec", sa.LargeBinary()),
                _column("inputs_uri", sa.String(length=1024)),
                _column("launch_plan", sa.LargeBinary()),
                _column("error", sa.LargeBinary()),
                _column("abort_cause", sa.String(length=1024), nullable=True),
                _column("started_at", sa.Double()),
                _column("failed_rounds", sa.Integer()),
                _column("owner", sa.String(length=255)),
                _column("lease_until", sa.Double()),
                _column("version", sa.BigInteger()),
                *timestamp_columns(),
            ],
            record=False,
            key=("project", "domain", "name"),
            indexes=[("ix_workflow_executions_active", ["terminal", "lease_until"])],
        ),
        Table(
            "event_outbox",
            [
                id_column(),
                _column("workflow_id", sa.Integer()),
                _column("kind", sa.String(length=8)),
                _column("payload", sa.LargeBinary()),
            ],
            record=False,
            references=[_workflow_row()],
            indexes=[("ix_event_outbox_workflow_id", ["workflow_id"])],
        ),
        Table(
            "node_states",
            [
                id_column(),
                _column("workflow_id", sa.Integer()),
                _column("key", sa.String(length=1024)),
                _column("data", sa.LargeBinary()),
            ],
            record=False,
            references=[_workflow_row()],
            key=("workflow_id", "key"),
        ),
    ]


def upgrade() -> None:
    create_tables(_tables)


def downgrade() -> None:
    drop_tables(_tables)
