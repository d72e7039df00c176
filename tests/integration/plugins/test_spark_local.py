"""`spark` tasks on a real Spark without Kubernetes: pyspark local mode in a supervised process (spark-local).

Needs the Spark task environment (flytekit + flytekitplugins-spark + pyspark, a cached virtualenv
that takes ~3.5 minutes to build the first time) and a Java runtime.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from flyteidl_py.core import execution_pb2, literals_pb2, tasks_pb2
from flyteplane.storage import Storage
from plugins.config import LocalEnvironment, LocalPluginConfig
from plugins.core import Phase
from plugins.spark_local import SparkLocalConfig, SparkLocalPlugin, submit_environment
from tests.integration.plugins.helpers import Wakeups, drive, int_inputs, write_inputs
from tests.unit.plugins.k8s.contexts import context

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="pyspark needs a Java runtime")


@pytest.fixture
async def spark_plugin(
    tmp_path: Path, spark_env: tuple[Path, Path, dict[str, tasks_pb2.TaskTemplate]]
) -> AsyncIterator[SparkLocalPlugin]:
    venv, root, _ = spark_env
    config = SparkLocalConfig(
        master="local[2]",
        spark_conf={"spark.sql.shuffle.partitions": "2"},
        local=LocalPluginConfig(
            work_dir=tmp_path / "work",
            default_environment=LocalEnvironment(venv=venv, python_path=(root,)),
            log_upload_interval_seconds=0.0,
        ),
    )
    plugin = SparkLocalPlugin(config)
    yield plugin
    await plugin.aclose()


async def test_spark_task_counts_on_a_dataframe_in_local_mode(
    spark_plugin: SparkLocalPlugin, spark_env: tuple[Path, Path, dict[str, tasks_pb2.TaskTemplate]], storage: Storage
) -> None:
    ctx = context(storage, spark_env[2]["count_evens"], execution="sparklocal", wake=Wakeups())
    await write_inputs(ctx, int_inputs(n=11))
    transition = await drive(spark_plugin, ctx, time_limit=240)
    assert transition.phase is Phase.SUCCESS, transition.reason
    outputs = await storage.read_proto(ctx.paths.outputs, literals_pb2.LiteralMap)
    assert outputs.literals["o0"].scalar.primitive.integer == 6
    log = (await storage.read(storage.join(ctx.paths.output_prefix, "task.log"))).decode()
    assert "[Stage " in log  # Spark's own progress reached the task log


async def test_spark_user_error_comes_back_as_the_tasks_error(
    spark_plugin: SparkLocalPlugin, spark_env: tuple[Path, Path, dict[str, tasks_pb2.TaskTemplate]], storage: Storage
) -> None:
    ctx = context(storage, spark_env[2]["spark_fails"], execution="sparkfail", wake=Wakeups())
    await write_inputs(ctx, int_inputs(n=3))
    transition = await drive(spark_plugin, ctx, time_limit=240)
    assert transition.phase is Phase.PERMANENT_FAILURE
    assert transition.error is not None and transition.error.kind == execution_pb2.ExecutionError.USER
    assert "spark task refuses 3" in transition.error.message


def test_the_driver_gets_the_master_and_the_tasks_conf(
    spark_env: tuple[Path, Path, dict[str, tasks_pb2.TaskTemplate]], storage: Storage, tmp_path: Path
) -> None:
    config = SparkLocalConfig(master="spark://127.0.0.1:7077", local=LocalPluginConfig(work_dir=tmp_path))
    env = submit_environment(context(storage, spark_env[2]["count_evens"]), config)
    args = env["PYSPARK_SUBMIT_ARGS"]
    assert args.startswith("--master spark://127.0.0.1:7077 ")
    assert "--conf spark.executor.instances=2" in args
    assert "--conf spark.hadoop.fs.s3a.connection.maximum=64" in args
    assert "spark.pyspark.python" not in args  # the image's interpreter does not exist here
    assert args.endswith(" pyspark-shell")
