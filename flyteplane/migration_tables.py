"""Table specs the components' Alembic migrations share: one spec creates a table with its indexes and drops both.

A migration freezes a schema, so a spec holds only literal names and types (never the models);
what every table repeats (the surrogate key and bookkeeping timestamps of `Record`, the `pk_`,
`fk_` and `uq_..._key` names the naming convention gives) is written once here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic import op


def id_column() -> sa.Column[Any]:
    """The surrogate primary key every table has."""
    return sa.Column("id", sa.Integer(), autoincrement=True, nullable=False)


def timestamp_columns() -> list[sa.Column[Any]]:
    """The bookkeeping timestamps a record carries."""
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


@dataclass(frozen=True)
class Reference:
    """A foreign key from `column` to `table.id`, named as the naming convention names it."""

    column: str
    table: str
    ondelete: str | None = None


@dataclass(frozen=True)
class Table:
    """One table of a migration: its own columns, then (for a record) id/created_at/updated_at, then constraints."""

    name: str
    columns: Sequence[sa.Column[Any]]
    record: bool = True  # a `Record` table ends with id, created_at, updated_at
    references: Sequence[Reference] = ()
    key: Sequence[str] = ()  # the columns of the `uq_<table>_key` unique constraint
    unique: Sequence[tuple[str, Sequence[str]]] = ()  # other unique constraints: (name, columns)
    indexes: Sequence[tuple[str, Sequence[str]]] = ()  # (name, columns), in creation order

    def create(self) -> None:
        record = [id_column(), *timestamp_columns()] if self.record else []
        foreign_keys = [
            sa.ForeignKeyConstraint(
                [ref.column],
                [f"{ref.table}.id"],
                name=op.f(f"fk_{self.name}_{ref.column}_{ref.table}"),
                ondelete=ref.ondelete,
            )
            for ref in self.references
        ]
        # Constraints are built here, not by the caller, because their creation order is their DDL order.
        key = [sa.UniqueConstraint(*self.key, name=f"uq_{self.name}_key")] if self.key else []
        unique = [sa.UniqueConstraint(*columns, name=op.f(name)) for name, columns in self.unique]
        op.create_table(
            self.name,
            *self.columns,
            *record,
            *foreign_keys,
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{self.name}")),
            *key,
            *unique,
        )
        if self.indexes:
            with op.batch_alter_table(self.name, schema=None) as batch_op:
                for name, columns in self.indexes:
                    batch_op.create_index(batch_op.f(name), list(columns), unique=False)

    def drop(self) -> None:
        if self.indexes:
            with op.batch_alter_table(self.name, schema=None) as batch_op:
                for name, _ in reversed(self.indexes):
                    batch_op.drop_index(batch_op.f(name))
        op.drop_table(self.name)


def create_tables(tables: Callable[[], Sequence[Table]]) -> None:
    """Create `tables()` in order (a table after those it references)."""
    for table in tables():
        table.create()


def drop_tables(tables: Callable[[], Sequence[Table]]) -> None:
    """Drop `tables()` in reverse order, each with its indexes."""
    for table in reversed(tables()):
        table.drop()
