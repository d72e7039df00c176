"""Alembic environment for DataCatalog's schema: runs on the connection flyteplane.database hands over."""

from __future__ import annotations

from alembic import context

from datacatalog.models import CatalogBase

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=CatalogBase.metadata,
    version_table=config.attributes["version_table"],
    render_as_batch=True,  # SQLite needs table rebuilds for most ALTERs
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
