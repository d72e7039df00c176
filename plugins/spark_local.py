"""The `spark-local` backend: `spark` tasks on a real Spark without Kubernetes (local mode or a standalone master).

The task runs as a supervised local process exactly like the `local` backend runs container tasks
(it is a `LocalPlugin` underneath: restart-safe, logs uploaded, abort by process group); this
backend only adds the Spark side. flytekitplugins-spark creates its SparkSession with
`SparkSession.builder.getOrCreate()` when it executes a task, and pyspark launches its JVM with
`PYSPARK_SUBMIT_ARGS`: so the process gets `--master <configured master>` and one `--conf` per
entry of the task's Spark conf (assembled as for the spark-operator, `plugins.common.spark.spark_conf`;
Hadoop conf as `spark.hadoop.*`). The image's `executorPath` does not exist here: Python workers
use the interpreter of the environment standing in for the task's image (`PYSPARK_PYTHON`).
The task's environment needs pyspark (flytekitplugins-spark brings it) and a Java runtime.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from flyteplane.config import default_data_dir
from plugins.common.command import container_of
from plugins.common.spark import spark_conf, spark_job
from plugins.config import LocalPluginConfig
from plugins.core import BadTaskDefinition, TaskExecutionContext, Transition
from plugins.local.backend import LocalPlugin
from plugins.local.command import environment_for

TASK_TYPES = ("spark",)
# Settings of the operator's Python processes inside the image: meaningless for a local driver.
_IMAGE_ONLY = ("spark.pyspark.python", "spark.pyspark.driver.python")


class SparkLocalConfig(BaseModel):
    """`plugins.backends.spark-local`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    master: str = Field(
        default="local[*]", description="Spark master URL: local[N] (in the task's process) or spark://host:7077."
    )
    spark_conf: dict[str, str] = Field(default_factory=dict, description="Platform Spark conf under the task's.")
    features: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="`spark.flyte.<feature>.enabled: true` in a task's conf expands to this."
    )
    local: LocalPluginConfig = Field(
        default_factory=lambda: LocalPluginConfig(
            work_dir=default_data_dir() / "spark-tasks", default_memory_limit=None
        ),
        description="How the driver process runs: work directory, images -> environments, limits (as `local`; "
        "without `default_memory_limit` unless given: the driver's JVM sizes its heap from the Spark conf).",
    )

    @field_validator("local")
    @classmethod
    def _no_default_memory_limit(cls, value: LocalPluginConfig) -> LocalPluginConfig:
        if "default_memory_limit" not in value.model_fields_set:
            return value.model_copy(update={"default_memory_limit": None})
        return value


def submit_environment(ctx: TaskExecutionContext, config: SparkLocalConfig) -> dict[str, str]:
    """`PYSPARK_SUBMIT_ARGS` (master and conf) and `PYSPARK_PYTHON` for the task's driver process."""
    job = spark_job(ctx)
    conf = {k: v for k, v in spark_conf(job, config.spark_conf, config.features).items() if k not in _IMAGE_ONLY}
    conf.update({f"spark.hadoop.{k}": v for k, v in job.hadoopConf.items()})
    if config.master.startswith("local"):
        conf.setdefault("spark.driver.bindAddress", "127.0.0.1")
        conf.setdefault("spark.driver.host", "127.0.0.1")
        conf.setdefault("spark.ui.enabled", "false")
    args = ["--master", config.master]
    for key, value in sorted(conf.items()):
        args += ["--conf", f"{key}={value}"]
    env = {"PYSPARK_SUBMIT_ARGS": shlex.join([*args, "pyspark-shell"])}
    container = container_of(ctx.template)
    environment = environment_for(container.image if container else "", config.local)
    if environment.venv is not None:
        python = str(environment.venv / "bin" / "python")
        env.update(PYSPARK_PYTHON=python, PYSPARK_DRIVER_PYTHON=python)
    return env


class SparkLocalPlugin:
    """Serves `spark` tasks as local Spark driver processes; see the module docstring."""

    id = "spark-local"
    task_types: tuple[str, ...] = TASK_TYPES

    def __init__(self, config: SparkLocalConfig | None = None) -> None:
        self.config = config or SparkLocalConfig()
        self._processes = LocalPlugin(self.config.local)

    async def handle(self, ctx: TaskExecutionContext) -> Transition:
        try:
            env = submit_environment(ctx, self.config)
        except BadTaskDefinition as exc:
            return exc.transition()
        return await self._processes.handle(replace(ctx, environment={**ctx.environment, **env}))

    async def abort(self, ctx: TaskExecutionContext) -> None:
        await self._processes.abort(ctx)

    async def finalize(self, ctx: TaskExecutionContext) -> None:
        await self._processes.finalize(ctx)

    async def aclose(self) -> None:
        await self._processes.aclose()


def create(config: Mapping[str, Any]) -> SparkLocalPlugin:
    """The factory the registry calls with `plugins.backends.spark-local` (a `SparkLocalConfig`)."""
    return SparkLocalPlugin(SparkLocalConfig.model_validate(dict(config)))
