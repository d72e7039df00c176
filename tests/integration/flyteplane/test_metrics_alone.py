"""Each component run alone (`flyteplane serve <component>`, a real process) serves its own `/metrics`.

Admin on its HTTP port (by default), propeller, DataCatalog and the scheduler on their `metrics_port`;
each lists its own families, the database's labelled with its name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from launcher.migrate import migrate
from tests.support.plane import plane_config
from tests.support.postgres import free_port
from tests.support.processes import ServedComponent, flyteplane_env

DATABASE = {"flyteplane_database_statement_seconds", "flyteplane_database_transaction_seconds"}
GRPC = {"grpc_server_started", "grpc_server_handled", "grpc_server_handling_seconds"}
STORAGE = {"flyteplane_storage_operation_seconds"}
FAMILIES = {
    "admin": DATABASE | GRPC | STORAGE | {"flyteplane_admin_outbox_delivered"},
    "propeller": DATABASE
    | GRPC
    | STORAGE
    | {
        "flyteplane_propeller_round_seconds",
        "flyteplane_propeller_executions",
        "flyteplane_propeller_node_queue_seconds",
        "flyteplane_propeller_cache_lookups",
        "flyteplane_propeller_event_delivery_lag_seconds",
    },
    "datacatalog": DATABASE | GRPC | STORAGE,
    "scheduler": DATABASE | {"flyteplane_scheduler_firings", "flyteplane_scheduler_firing_lag_seconds"},
}


def _alone(tmp_path: Path, component: str) -> tuple[Any, int]:
    """The configuration that serves `component`'s metrics on a port of its own, and that port."""
    config = plane_config(tmp_path, f"sqlite:///{tmp_path}/admin.db", f"sqlite:///{tmp_path}/propeller.db")
    port = free_port()
    section = getattr(config, component)
    key = "http_port" if component == "admin" else "metrics_port"
    updates = {component: section.model_copy(update={key: port})}
    if component == "scheduler":
        updates["scheduler"] = updates["scheduler"].model_copy(
            update={"database_url": f"sqlite:///{tmp_path}/scheduler.db", "admin_endpoint": f"127.0.0.1:{free_port()}"}
        )
    return config.model_copy(update=updates), port


@pytest.mark.parametrize("component", sorted(FAMILIES))
async def test_a_component_run_alone_serves_its_own_metrics(tmp_path: Path, component: str) -> None:
    config, port = _alone(tmp_path, component)
    await migrate(config, quiet=True)
    served = ServedComponent(component, flyteplane_env(config), tmp_path / f"{component}.log")
    await served.start()
    try:
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{port}/metrics")
    finally:
        await served.stop()
    assert response.status_code == 200, response.text
    families = {family.name: family for family in text_string_to_metric_families(response.text)}
    assert FAMILIES[component] <= set(families), sorted(FAMILIES[component] - set(families))
    components = {s.labels["component"] for s in families["flyteplane_database_statement_seconds"].samples}
    assert components == {component}
