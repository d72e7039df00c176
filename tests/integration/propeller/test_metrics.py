"""Admin and propeller expose Prometheus metrics on their `metrics_port`: RPC time, rounds, nodes, plugins, events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from flyteidl_py.admin import execution_pb2
from flyteidl_py.core import execution_pb2 as core
from flyteidl_py.core import identifier_pb2
from tests.integration.propeller.helpers import ints, launch, register, wait
from tests.support.echo import DOMAIN, PROJECT, chain, echo_task
from tests.support.plane import RunningPlane, plane_config, running_plane
from tests.support.postgres import free_port

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
async def measured_plane(tmp_path: Path) -> AsyncIterator[RunningPlane]:
    config = plane_config(tmp_path, f"sqlite:///{tmp_path}/admin.db", f"sqlite:///{tmp_path}/propeller.db")
    config = config.model_copy(
        update={
            "admin": config.admin.model_copy(update={"metrics_port": free_port()}),
            "propeller": config.propeller.model_copy(update={"metrics_port": free_port()}),
        }
    )
    async with running_plane(config) as running:
        yield running


async def scrape(port: int) -> Samples:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{port}/metrics")
    response.raise_for_status()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


async def test_metrics_count_the_work_of_an_echo_workflow(measured_plane: RunningPlane) -> None:
    plane = measured_plane
    await register(plane.stub, [echo_task(), *chain("measured3", 3)])
    execution = await launch(plane.stub, "measured3", ints(x=1))
    assert (await wait(plane.stub, execution)).closure.phase == core.WorkflowExecution.SUCCEEDED
    assert plane.propeller.metrics is not None and plane.admin.metrics is not None

    engine = await scrape(plane.propeller.metrics.port)
    assert value(engine, "flyteplane_propeller_round_seconds_count") > 0
    assert value(engine, "flyteplane_propeller_node_handle_seconds_count", kind="task") >= 3
    assert value(engine, "flyteplane_propeller_node_handle_seconds_count", kind="end") >= 1
    assert value(engine, "flyteplane_propeller_plugin_call_seconds_count", plugin="echo", call="handle") >= 3
    assert value(engine, "flyteplane_propeller_events_delivered_total", kind="node") > 0
    assert value(engine, "flyteplane_propeller_events_delivered_total", kind="task") >= 3
    assert value(engine, "flyteplane_propeller_events_delivered_total", kind="workflow") >= 3
    assert ("flyteplane_propeller_queue_depth", frozenset()) in engine
    assert ("flyteplane_propeller_events_failed_total", frozenset({("kind", "node")})) not in engine
    assert value(engine, "grpc_server_handled_total", grpc_method="Launch", grpc_code="OK") == 1

    admin = await scrape(plane.admin.metrics.port)
    assert value(admin, "grpc_server_handled_total", grpc_method="CreateExecution", grpc_code="OK") == 1
    # propeller sends its events in batches
    assert value(admin, "grpc_server_handling_seconds_count", grpc_method="RecordEvents") > 0
    assert value(admin, "grpc_server_handling_seconds_sum", grpc_method="GetExecution") > 0


async def test_a_refused_rpc_is_counted_with_its_status_code(measured_plane: RunningPlane) -> None:
    plane = measured_plane
    missing = identifier_pb2.WorkflowExecutionIdentifier(project=PROJECT, domain=DOMAIN, name="missing")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await plane.stub.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=missing))
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    assert plane.admin.metrics is not None
    admin = await scrape(plane.admin.metrics.port)
    assert value(admin, "grpc_server_handled_total", grpc_method="GetExecution", grpc_code="NOT_FOUND") == 1


async def test_metrics_are_off_unless_a_port_is_configured(plane: RunningPlane) -> None:
    assert plane.admin.metrics is None
    assert plane.propeller.metrics is None


async def test_admins_http_port_serves_the_whole_planes_metrics_by_default(tmp_path: Path) -> None:
    """As `flyteplane start` runs them: one registry, admin's RPCs and the engine's executions on admin's HTTP port."""
    from admin.server import start_admin
    from datacatalog.server import start_datacatalog
    from flyteplane.metrics import MetricsRegistry
    from launcher.migrate import migrate
    from propeller.server import start_propeller

    config = plane_config(tmp_path, f"sqlite:///{tmp_path}/admin.db", f"sqlite:///{tmp_path}/propeller.db")
    await migrate(config, quiet=True)
    registry = MetricsRegistry()
    catalog = await start_datacatalog(config, registry=registry)
    propeller = await start_propeller(config, registry)
    admin = await start_admin(config, registry=registry)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{admin.grpc_port}")
    try:
        plane = RunningPlane(admin, propeller, channel, config)
        await register(plane.stub, [echo_task(), *chain("scraped2", 2)])
        execution = await launch(plane.stub, "scraped2", ints(x=1))
        assert (await wait(plane.stub, execution)).closure.phase == core.WorkflowExecution.SUCCEEDED
        samples = await scrape(admin.http_port)
    finally:
        await channel.close()
        await admin.stop(0)
        await propeller.stop(0)
        await catalog.stop(0)

    assert value(samples, "grpc_server_handled_total", grpc_method="CreateExecution", grpc_code="OK") == 1
    assert value(samples, "flyteplane_propeller_executions_total", phase="SUCCEEDED") == 1
    assert value(samples, "flyteplane_propeller_node_duration_seconds_count", phase="SUCCEEDED") >= 2
    assert value(samples, "flyteplane_propeller_task_attempt_seconds_count", outcome="succeeded") == 2
    # Echo tasks succeed in their first pass, never RUNNING: queue latency is exposed, with nothing observed.
    assert ("flyteplane_propeller_node_queue_seconds_count", frozenset()) in samples
    assert value(samples, "flyteplane_propeller_event_delivery_lag_seconds_count") > 0
    # The database and the object store are timed per component and per backend and operation.
    for component in ("admin", "propeller"):
        assert value(samples, "flyteplane_database_statement_seconds_count", component=component) > 0
        assert value(samples, "flyteplane_database_transaction_seconds_count", component=component) > 0
        assert value(samples, "flyteplane_database_statement_seconds_sum", component=component) > 0
    assert value(samples, "flyteplane_database_statement_seconds_count", component="admin", operation="insert") > 0
    assert value(samples, "flyteplane_database_statement_seconds_count", component="propeller", operation="select") > 0
    assert value(samples, "flyteplane_database_transaction_seconds_count", operation="commit") > 0
    assert value(samples, "flyteplane_storage_operation_seconds_count", backend="file", operation="write") > 0
    assert value(samples, "flyteplane_storage_operation_seconds_count", backend="file", operation="read") > 0
    assert value(samples, "grpc_server_handled_total", grpc_method="Launch", grpc_code="OK") == 1
