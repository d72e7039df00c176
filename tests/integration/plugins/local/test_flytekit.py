"""Real flytekit 1.16.31 task processes under the local backend, with tasks from flytekit's own serialized packages.

Every case runs on the three start paths -- a process forked from a warm fork server, an attempt in a
long-lived reuse worker, and a fresh interpreter -- and expects the same outputs: those flytekit wrote
in the reference runs.
"""

from __future__ import annotations

import dataclasses
import tarfile
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from pydantic import SecretStr

from flyteidl_py.core import dynamic_job_pb2, execution_pb2, literals_pb2
from flyteplane.storage import S3Config, Storage, StorageConfig
from plugins.config import LocalEnvironment, LocalPluginConfig
from plugins.core import Phase, Transition
from plugins.local.backend import LocalPlugin
from tests.integration.flyteplane.storage.conftest import moto_endpoint
from tests.integration.plugins.helpers import (
    drive,
    fixture_task,
    int_inputs,
    local_path,
    runtime_fixture,
    started_reused,
    started_warm,
    task_context,
    write_inputs,
)
from tests.support.paths import fixtures_dir

__all__ = ["moto_endpoint"]  # a fixture, shared with the storage tests

FAST_PACKAGE = "examples-package-fast.tgz"


def outputs_of(data: bytes) -> literals_pb2.LiteralMap:
    return literals_pb2.LiteralMap.FromString(data)


@pytest.fixture(params=["warm", "reuse", "cold"])
def start_path(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def local_config(local_config: LocalPluginConfig, start_path: str) -> LocalPluginConfig:
    pool = local_config.warm_pool.model_copy(update={"reuse_workers_per_environment": 1})
    return local_config.model_copy(
        update={
            "warm": start_path != "cold",
            "warm_mode": "reuse" if start_path == "reuse" else "fork",
            "warm_pool": pool,
        }
    )


def on_path(transition: Transition, start_path: str) -> Transition:
    """`transition`, once checked to come from an attempt started on `start_path`."""
    assert started_warm(transition) is (start_path != "cold"), f"not started {start_path}: {transition.reason}"
    assert started_reused(transition) is (start_path == "reuse"), f"not started {start_path}: {transition.reason}"
    return transition


async def test_python_task_writes_the_outputs_flytekit_wrote_for_the_reference_run(
    local_plugin: LocalPlugin, storage: Storage, start_path: str
) -> None:
    ctx = task_context(storage, fixture_task("examples.basics.scalars"), execution="scalars")
    await write_inputs(ctx, runtime_fixture("scalars.inputs.pb"))
    transition = on_path(await drive(local_plugin, ctx), start_path)
    assert transition.phase is Phase.SUCCESS, transition.reason
    expected = outputs_of(runtime_fixture("scalars.outputs.pb"))
    assert await storage.read_proto(ctx.paths.outputs, literals_pb2.LiteralMap) == expected


async def test_user_exception_is_permanent_user_failure_with_its_message(
    local_plugin: LocalPlugin, storage: Storage, start_path: str
) -> None:
    ctx = task_context(storage, fixture_task("examples.configured.fail_if_negative"), execution="negative")
    await write_inputs(ctx, int_inputs(x=-3))
    transition = on_path(await drive(local_plugin, ctx), start_path)
    assert transition.phase is Phase.PERMANENT_FAILURE
    assert transition.error is not None
    assert transition.error.kind == execution_pb2.ExecutionError.USER
    assert transition.error.code == "USER:RuntimeError"  # flytekit wraps user exceptions
    assert "negative input -3" in transition.error.message
    assert not await storage.exists(ctx.paths.outputs)


async def test_map_task_element_is_picked_by_the_array_index(
    local_plugin: LocalPlugin, storage: Storage, start_path: str
) -> None:
    ctx = task_context(storage, fixture_task("examples.advanced.map_square"), execution="mapped", array_index=1)
    await write_inputs(ctx, runtime_fixture("map_square.inputs.pb"))
    transition = on_path(await drive(local_plugin, ctx), start_path)
    assert transition.phase is Phase.SUCCESS, transition.reason
    expected = outputs_of(runtime_fixture("map_square_index1.outputs.pb"))
    assert await storage.read_proto(ctx.paths.outputs, literals_pb2.LiteralMap) == expected


async def test_map_task_element_given_its_narrowed_inputs_computes_the_same_element(
    local_plugin: LocalPlugin, storage: Storage, start_path: str
) -> None:
    # The array's inputs are never read by the task: it gets the element's own (x = [2] for index 1).
    ctx = task_context(storage, fixture_task("examples.advanced.map_square"), execution="narrowed", array_index=1)
    whole = outputs_of(runtime_fixture("map_square.inputs.pb"))  # x = [1, 2, 3]
    narrowed = literals_pb2.LiteralMap()
    narrowed.literals["x"].collection.literals.append(whole.literals["x"].collection.literals[1])

    async def narrowed_reader() -> literals_pb2.LiteralMap | None:
        return narrowed

    ctx = dataclasses.replace(ctx, narrowed_inputs_reader=narrowed_reader)
    transition = on_path(await drive(local_plugin, ctx), start_path)
    assert transition.phase is Phase.SUCCESS, transition.reason
    expected = outputs_of(runtime_fixture("map_square_index1.outputs.pb"))
    assert await storage.read_proto(ctx.paths.outputs, literals_pb2.LiteralMap) == expected
    assert not await storage.exists(ctx.paths.inputs)
    # The element's inputs are scratch: the runner removed them once the task ended, whichever path ran it.
    assert not (local_plugin.config.work_dir / ctx.generated_name / "inputs.pb").exists()
    await local_plugin.finalize(ctx)
    assert not (local_plugin.config.work_dir / ctx.generated_name / "inputs.pb").exists()


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """The code bundle `pyflyte package --copy all` put in the fast package."""
    with tarfile.open(fixtures_dir() / FAST_PACKAGE) as package:
        (member,) = [m for m in package.getmembers() if Path(m.name).name.startswith("fast")]
        package.extract(member, tmp_path, filter="data")
    return tmp_path / member.name


async def test_fast_registered_task_runs_from_its_code_bundle_in_the_store(
    local_config: LocalPluginConfig, storage: Storage, bundle: Path, flytekit_venv: Path, start_path: str
) -> None:
    # No python_path: the example code can only come from the bundle.
    plugin = LocalPlugin(local_config.model_copy(update={"default_environment": LocalEnvironment(venv=flytekit_venv)}))
    bundle_uri = f"{storage.default_prefix}/uploads/flytesnacks/development/{bundle.name}"
    await storage.write_file(bundle_uri, bundle)
    template = fixture_task("examples.basics.scalars", FAST_PACKAGE)
    ctx = task_context(storage, template, execution="fast", remote_package_path=bundle_uri)
    await write_inputs(ctx, runtime_fixture("scalars.inputs.pb"))
    try:
        transition = on_path(await drive(plugin, ctx), start_path)
    finally:
        await plugin.aclose()
    assert transition.phase is Phase.SUCCESS, transition.reason
    expected = outputs_of(runtime_fixture("scalars.outputs.pb"))
    assert await storage.read_proto(ctx.paths.outputs, literals_pb2.LiteralMap) == expected
    # The bundle's files went to the working directory (as pyflyte-fast-execute puts them) and went with the task:
    # the runner (cold runner, fork server or reuse worker) removed it before it recorded the status.
    work = local_config.work_dir / ctx.generated_name
    assert (work / "task.log").exists()
    assert [(work / name).exists() for name in ("cwd", "tmp", "code")] == [False, False, False]


async def test_dynamic_task_names_sub_tasks_after_the_execution_environment(
    local_plugin: LocalPlugin, storage: Storage, start_path: str
) -> None:
    ctx = task_context(storage, fixture_task("examples.advanced.dyn_sum_squares"), execution="dynamic")
    await write_inputs(ctx, int_inputs(n=2))
    # A @dynamic runs in a reuse worker too: the worker drops the workflow flytekit compiled in an earlier call.
    transition = on_path(await drive(local_plugin, ctx), start_path)
    assert transition.phase is Phase.SUCCESS, transition.reason
    futures = await storage.read_proto(ctx.paths.futures, dynamic_job_pb2.DynamicJobSpec)
    ids = {(n.task_node.reference_id.project, n.task_node.reference_id.version) for n in futures.nodes}
    assert ids == {("flytesnacks", "v1")}


async def test_retry_resumes_from_the_previous_attempts_checkpoint(
    local_plugin: LocalPlugin, storage: Storage, start_path: str
) -> None:
    template = fixture_task("examples.configured.checkpointed")
    first = task_context(storage, template, execution="checkpoint", attempt=0)
    await write_inputs(first, int_inputs(n=5))
    assert on_path(await drive(local_plugin, first), start_path).phase is Phase.SUCCESS
    second = task_context(storage, template, execution="checkpoint", attempt=1)
    assert on_path(await drive(local_plugin, second), start_path).phase is Phase.SUCCESS
    assert await storage.read_proto(second.paths.outputs, literals_pb2.LiteralMap) == int_inputs(o0=10)


@pytest.fixture
def s3_storage(moto_endpoint: str) -> Iterator[Storage]:
    client = boto3.client(
        "s3", endpoint_url=moto_endpoint, aws_access_key_id="k", aws_secret_access_key="s", region_name="us-east-1"
    )
    if not any(b["Name"] == "plugin-tasks" for b in client.list_buckets().get("Buckets", [])):
        client.create_bucket(Bucket="plugin-tasks")
    s3 = S3Config(endpoint_url=moto_endpoint, access_key_id="k", secret_access_key=SecretStr("s"))
    yield Storage(StorageConfig(default_scheme="s3", default_bucket="plugin-tasks", s3=s3))


async def test_task_reads_and_writes_an_s3_store_with_the_stores_credentials(
    local_plugin: LocalPlugin, s3_storage: Storage, start_path: str
) -> None:
    ctx = task_context(s3_storage, fixture_task("examples.basics.scalars"), execution=f"s3-{start_path}")
    await write_inputs(ctx, runtime_fixture("scalars.inputs.pb"))
    transition = on_path(await drive(local_plugin, ctx), start_path)
    assert transition.phase is Phase.SUCCESS, transition.reason
    expected = outputs_of(runtime_fixture("scalars.outputs.pb"))
    assert await s3_storage.read_proto(ctx.paths.outputs, literals_pb2.LiteralMap) == expected
    assert transition.logs[0].uri.startswith("s3://plugin-tasks/")


async def test_flyte_file_written_by_one_task_is_read_by_the_next(
    local_plugin: LocalPlugin, storage: Storage, start_path: str
) -> None:
    writer = task_context(storage, fixture_task("examples.basics.write_file"), execution="files", node="n0")
    inputs = int_inputs(n=3)
    inputs.literals["text"].scalar.primitive.string_value = "hi"
    await write_inputs(writer, inputs)
    assert on_path(await drive(local_plugin, writer), start_path).phase is Phase.SUCCESS
    written = await storage.read_proto(writer.paths.outputs, literals_pb2.LiteralMap)
    blob = written.literals["o0"].scalar.blob
    assert blob.uri.startswith(str(local_path(writer.paths.raw_output_prefix)))  # a plain path: see local_path

    reader = task_context(storage, fixture_task("examples.basics.count_lines"), execution="files", node="n1")
    await write_inputs(reader, literals_pb2.LiteralMap(literals={"f": written.literals["o0"]}))
    transition = on_path(await drive(local_plugin, reader), start_path)
    assert transition.phase is Phase.SUCCESS, transition.reason
    assert await storage.read_proto(reader.paths.outputs, literals_pb2.LiteralMap) == int_inputs(o0=3)
