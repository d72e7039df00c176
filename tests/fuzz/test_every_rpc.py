"""Property-based attack on every RPC of every service the plane serves.

A whole plane (admin, propeller, datacatalog; PostgreSQL for admin and DataCatalog, so strings with
NUL bytes reach a database that refuses them) runs on loopback in a thread of its own. For every RPC
of every service, hypothesis sends plausible requests with hostile values planted in them
(tests/fuzz/messages.py) and checks, for each answer:

- the status is deliberate: never UNKNOWN (flytekit takes it for an authentication failure and
  waits for a browser login) and never INTERNAL (an unhandled exception on client input);
- a refused request changed nothing: the rows of admin's and DataCatalog's databases and the
  object store's files are the same before and after it;
- afterwards the plane is healthy: Health/Check answers SERVING and a new execution succeeds.

The engine's credential is sent with some requests and not others, so the internal services are
attacked both by an outsider and by a confused insider.

`FLYTEPLANE_FUZZ_EXAMPLES` (default 12 per RPC) and `FLYTEPLANE_FUZZ_SEED` (default: a fixed seed,
so CI is repeatable) widen a run by hand.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import grpc
import pytest
from google.protobuf import symbol_database
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from admin.service import SERVICES as ADMIN_SERVICES
from datacatalog.service import SERVICE as CATALOG_SERVICE
from flyteidl_py.admin import common_pb2
from flyteidl_py.core import execution_pb2 as core_execution
from flyteidl_py.flyteplane.engine.v1 import engine_pb2
from tests.fuzz.messages import World, hostile_request
from tests.integration.propeller.helpers import ints, launch, register, wait
from tests.support.echo import DOMAIN, PROJECT, chain, echo_task
from tests.support.plane import RunningPlane, plane_config, running_plane
from tests.support.postgres import create_database

EXAMPLES = int(os.environ.get("FLYTEPLANE_FUZZ_EXAMPLES", "12"))
SEED = int(os.environ.get("FLYTEPLANE_FUZZ_SEED", "20261206"))
FORBIDDEN = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL}
ENGINE_SERVICE = engine_pb2.DESCRIPTOR.services_by_name["EngineService"]
HEALTH_SERVICE = health_pb2.DESCRIPTOR.services_by_name["Health"]

T = TypeVar("T")


class PlaneThread:
    """A plane running on an event loop of its own thread; the test drives it with blocking calls."""

    def __init__(self, config: Any, admin_db: str, catalog_db: str) -> None:
        self.config = config
        self.admin_db = admin_db
        self.catalog_db = catalog_db
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.plane: RunningPlane | None = None
        self._stop: asyncio.Event | None = None
        self._done: Future[None] = Future()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 120.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> RunningPlane:
        self.thread.start()
        ready: Future[RunningPlane] = Future()

        async def serve() -> None:
            self._stop = asyncio.Event()
            try:
                async with running_plane(self.config) as plane:
                    ready.set_result(plane)
                    await self._stop.wait()
            except BaseException as exc:
                if not ready.done():
                    ready.set_exception(exc)
                raise
            finally:
                self._done.set_result(None)

        asyncio.run_coroutine_threadsafe(serve(), self.loop)
        self.plane = ready.result(120)
        return self.plane

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
            self._done.result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


class Digests:
    """A digest of every row of every table of one PostgreSQL database, over one open connection."""

    def __init__(self, url: str) -> None:
        self.url = url.replace("postgresql+asyncpg://", "postgresql://")
        self.connection: Any = None
        self.query = ""

    async def __call__(self) -> dict[str, str]:
        import asyncpg

        if self.connection is None:
            self.connection = await asyncpg.connect(self.url)
            tables = await self.connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
            self.query = " UNION ALL ".join(
                f"SELECT '{table}', count(*)::text || ':' || "
                f"md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{table}\" t"
                for (table,) in tables
            )
        return {table: digest for table, digest in await self.connection.fetch(self.query)}

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()


def _store_listing(root: Path) -> dict[str, tuple[int, int]]:
    listing = {}
    for path in root.rglob("*"):
        if path.is_file():
            stat = path.stat()
            listing[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns)
    return listing


class State:
    """What a refused request must not change: database rows and stored objects."""

    def __init__(self, plane: PlaneThread, store: Path) -> None:
        self.plane = plane
        self.store = store
        self.admin = Digests(plane.admin_db)
        self.catalog = Digests(plane.catalog_db)

    def close(self) -> None:
        self.plane.run(self.admin.close())
        self.plane.run(self.catalog.close())

    def snapshot(self) -> dict[str, object]:
        admin = self.plane.run(self.admin())
        catalog = self.plane.run(self.catalog())
        return {
            **{f"admin.{k}": v for k, v in admin.items()},
            **{f"catalog.{k}": v for k, v in catalog.items()},
            **{f"store:{k}": v for k, v in _store_listing(self.store).items()},
        }


@pytest.fixture(scope="module")
def world(postgres_base_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PlaneThread, World]]:
    directory = tmp_path_factory.mktemp("fuzz")
    admin_db = create_database(postgres_base_url, "fuzz_admin")
    catalog_db = create_database(postgres_base_url, "fuzz_catalog")
    config = plane_config(directory, admin_db, f"sqlite:///{directory}/propeller.db")
    config = config.model_copy(
        update={"datacatalog": config.datacatalog.model_copy(update={"database_url": catalog_db})}
    )
    thread = PlaneThread(config, admin_db, catalog_db)
    plane = thread.start()

    async def seed_plane() -> str:
        await register(plane.stub, [echo_task(), *chain("fuzz.chain", 2)])
        execution = await launch(plane.stub, "fuzz.chain", ints(x=7), name="fuzzexec1")
        finished = await wait(plane.stub, execution)
        assert finished.closure.phase == core_execution.WorkflowExecution.SUCCEEDED
        return execution.name

    try:
        name = thread.run(seed_plane())
        yield (
            thread,
            World(
                project=PROJECT,
                domain=DOMAIN,
                names=("fuzz.chain", "echo.int"),
                executions=(name,),
                nodes=("n0", "n1", "start-node", "end-node"),
            ),
        )
    finally:
        thread.stop()


def _endpoints(plane: RunningPlane) -> list[tuple[ServiceDescriptor, int]]:
    config = plane.config
    return [
        *[(descriptor, config.admin.grpc_port) for descriptor, _ in ADMIN_SERVICES],
        (CATALOG_SERVICE, config.datacatalog.grpc_port),
        (ENGINE_SERVICE, config.propeller.grpc_port),
        (HEALTH_SERVICE, config.admin.grpc_port),
    ]


_ALL_SERVICES: list[ServiceDescriptor] = [
    *[d for d, _ in ADMIN_SERVICES],
    CATALOG_SERVICE,
    ENGINE_SERVICE,
    HEALTH_SERVICE,
]
# Unary RPCs only: Health/Watch, the one server stream, has its own case below.
_RPCS = [
    (service, method)
    for service in _ALL_SERVICES
    for method in service.methods
    if not method.server_streaming and not method.client_streaming
]


def _class_of(full_name: str) -> type[Message]:
    cls: type[Message] = symbol_database.Default().GetSymbol(full_name)
    return cls


@pytest.mark.parametrize(
    ("service", "method"),
    _RPCS,
    ids=[f"{service.name}.{method.name}" for service, method in _RPCS],
)
def test_hostile_requests_get_deliberate_answers_and_refusals_change_nothing(
    world: tuple[PlaneThread, World], service: ServiceDescriptor, method: MethodDescriptor
) -> None:
    thread, names = world
    plane = thread.plane
    assert plane is not None
    port = dict((d.full_name, p) for d, p in _endpoints(plane))[service.full_name]
    request_class = _class_of(method.input_type.full_name)
    response_class = _class_of(method.output_type.full_name)
    state = State(thread, plane.config.storage.local_root)
    credential = plane.config.plane_credential()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = channel.unary_unary(
            f"/{service.full_name}/{method.name}",
            request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString,
        )

        @seed(SEED)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=hostile_request(request_class, names), as_engine=st.booleans())
        def attack(case: tuple[Message, list[str]], as_engine: bool) -> None:
            request, planted = case
            metadata = (("flyteplane-credential", credential),) if as_engine and credential else ()
            before = state.snapshot()
            try:
                call(request, timeout=30, metadata=metadata)
                code, details = grpc.StatusCode.OK, ""
            except grpc.RpcError as error:
                code, details = error.code(), error.details()
            assert code not in FORBIDDEN, f"{method.name} answered {code.name}: {details} (planted: {planted})"
            if code != grpc.StatusCode.OK:
                after = state.snapshot()
                changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
                assert not changed, f"{method.name} refused ({code.name}: {details}) but changed {changed}"
            else:
                _settle(thread)

        try:
            attack()
        finally:
            state.close()
    _assert_healthy(thread)


def _settle(thread: PlaneThread) -> None:
    """After an accepted request, waits until every execution it may have started has ended."""
    plane = thread.plane
    assert plane is not None

    async def settle() -> None:
        deadline = time.monotonic() + 60
        stub = plane.stub
        while time.monotonic() < deadline:
            listing = await stub.ListExecutions(
                common_pb2.ResourceListRequest(
                    id=common_pb2.NamedEntityIdentifier(project=PROJECT, domain=DOMAIN),
                    limit=1000,
                    filters="value_in(phase,QUEUED;RUNNING;UNDEFINED;ABORTING)",
                )
            )
            if not listing.executions:
                return
            await asyncio.sleep(0.05)

    thread.run(settle())


def _assert_healthy(thread: PlaneThread) -> None:
    plane = thread.plane
    assert plane is not None

    async def check() -> None:
        health = health_pb2_grpc.HealthStub(plane.channel)
        answer = await health.Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
        execution = await launch(plane.stub, "fuzz.chain", ints(x=3))
        finished = await wait(plane.stub, execution)
        assert finished.closure.phase == core_execution.WorkflowExecution.SUCCEEDED

    thread.run(check())
