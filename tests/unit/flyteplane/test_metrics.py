"""Database timing labels statements by kind, and the shared families exist once per registry."""

from __future__ import annotations

import pytest

from flyteplane.metrics import MetricsRegistry, statement_kind


@pytest.mark.parametrize(
    ("statement", "kind"),
    [
        ("SELECT 1", "select"),
        ("  select * from executions", "select"),
        ("WITH due AS (SELECT 1) SELECT * FROM due", "select"),
        ("INSERT INTO node_records VALUES (?)", "insert"),
        ("UPDATE executions SET phase = ?", "update"),
        ("DELETE FROM outbox WHERE id = ?", "delete"),
        ("PRAGMA journal_mode=WAL", "other"),
        ("", "other"),
    ],
)
def test_a_statement_is_labelled_by_its_kind(statement: str, kind: str) -> None:
    assert statement_kind(statement) == kind


def test_components_sharing_a_registry_share_its_families() -> None:
    registry = MetricsRegistry()
    assert registry.database is registry.database
    assert registry.storage is registry.storage
    assert registry.grpc is registry.grpc
    registry.storage.seconds.labels("file", "read").observe(0.01)
    assert (
        registry.get_sample_value(
            "flyteplane_storage_operation_seconds_count", {"backend": "file", "operation": "read"}
        )
        == 1
    )
