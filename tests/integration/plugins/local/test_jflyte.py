"""What the local backend runs for a flytekit-java task: jflyte's entrypoint with a local Java, the environment a jflyte
image carries, and the stores and installations it refuses (tests/e2e/test_java_tasks.py runs real ones)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import SecretStr

from flyteidl_py.core import execution_pb2, tasks_pb2
from flyteplane.storage import S3Config, Storage, StorageConfig
from plugins.config import JflyteConfig, LocalPluginConfig, PluginsConfig
from plugins.core import BadTaskDefinition, Phase
from plugins.local.backend import LocalPlugin
from plugins.local.command import TMP_DIRECTORY, build_command
from plugins.local.jflyte import JflyteUnavailable, runs_jflyte
from tests.integration.plugins.helpers import container_task, task_context

IMAGE = "ghcr.io/flyteorg/flytekit-java:0.4.35"
ARGS = (
    "jflyte", "execute", "--task", "org.example.SumTask",
    "--inputs", "{{.input}}", "--outputPrefix", "{{.outputPrefix}}",
)  # fmt: skip
ENVIRON = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/home/u"}


def _java_task() -> tasks_pb2.TaskTemplate:
    """A task as `jflyte register workflows` writes it: no command (the image's entrypoint), jflyte's args."""
    template = container_task(name="org.example.SumTask", task_type="java-task")
    template.container.image = IMAGE
    template.container.args.extend(ARGS)
    return template


def _config(tmp_path: Path, **jflyte: object) -> LocalPluginConfig:
    # An installation's layout (what scripts/install-jflyte.sh makes): only its file names matter before Java runs.
    home = tmp_path / "jflyte"
    (home / "lib").mkdir(parents=True, exist_ok=True)
    (home / "lib" / "jflyte-0.3.20.jar").write_bytes(b"")
    settings = {"home": home, **jflyte}
    return LocalPluginConfig(work_dir=tmp_path / "work", jflyte=JflyteConfig.model_validate(settings))


def _s3() -> Storage:
    s3 = S3Config(endpoint_url="http://127.0.0.1:9000", access_key_id="k", secret_access_key=SecretStr("s"))
    return Storage(StorageConfig(default_scheme="s3", default_bucket="bucket", s3=s3))


async def test_a_java_task_runs_jflytes_main_class_with_a_local_java(tmp_path: Path) -> None:
    ctx = task_context(_s3(), _java_task(), execution="e1")
    config = _config(tmp_path)
    command = await build_command(ctx, config, tmp_path / "a", ENVIRON)
    home = config.jflyte.home
    assert command.argv == [
        shutil.which("java"), "-Dorg.slf4j.simpleLogger.defaultLogLevel=INFO",
        f"-Djava.io.tmpdir={tmp_path / 'a' / TMP_DIRECTORY}", f"-XX:MaxRAM={command.memory_limit_bytes}",
        "-cp", f"{home}/lib/*", "org.flyte.jflyte.Main",
        "jflyte", "execute", "--task", "org.example.SumTask",
        "--inputs", ctx.paths.inputs, "--outputPrefix", ctx.paths.output_prefix,
    ]  # fmt: skip
    assert command.memory_limit_bytes == 2 << 30  # the platform's default limit, which the heap is sized under


async def test_a_java_task_gets_the_environment_a_jflyte_image_carries(tmp_path: Path) -> None:
    ctx = task_context(_s3(), _java_task(), execution="e1")
    config = _config(tmp_path)
    env = (await build_command(ctx, config, tmp_path / "a", ENVIRON)).env
    assert env["FLYTE_INTERNAL_MODULE_DIR"] == str(config.jflyte.home / "modules")
    assert env["FLYTE_INTERNAL_IMAGE"] == IMAGE
    # jflyte-aws reads the same variables as flytekit: the plane's S3-compatible endpoint and its credentials.
    assert (env["FLYTE_AWS_ENDPOINT"], env["FLYTE_AWS_ACCESS_KEY_ID"], env["FLYTE_AWS_SECRET_ACCESS_KEY"]) == (
        "http://127.0.0.1:9000", "k", "s",
    )  # fmt: skip


async def test_the_tasks_own_variables_win_over_the_images(tmp_path: Path) -> None:
    template = _java_task()
    template.container.env.add(key="FLYTE_INTERNAL_IMAGE", value="mine")
    env = (await build_command(task_context(_s3(), template, execution="e1"), _config(tmp_path), tmp_path, ENVIRON)).env
    assert env["FLYTE_INTERNAL_IMAGE"] == "mine"


async def test_a_java_task_on_the_local_store_is_refused_naming_the_stores_jflyte_reads(
    storage: Storage, tmp_path: Path
) -> None:
    ctx = task_context(storage, _java_task(), execution="e1")
    with pytest.raises(BadTaskDefinition, match=r"reads and writes only s3:// and gs://.*--storage s3://") as raised:
        await build_command(ctx, _config(tmp_path), tmp_path / "a", ENVIRON)
    assert ctx.paths.inputs in str(raised.value)


async def test_the_local_backend_fails_such_a_task_for_good_before_starting_anything(
    storage: Storage, tmp_path: Path
) -> None:
    plugin = LocalPlugin(_config(tmp_path))
    transition = await plugin.handle(task_context(storage, _java_task(), execution="e1"))
    assert transition.phase == Phase.PERMANENT_FAILURE
    assert transition.error is not None and transition.error.kind == execution_pb2.ExecutionError.USER
    assert "s3:// and gs://" in transition.error.message
    assert not (tmp_path / "work").exists() or not any((tmp_path / "work").iterdir())


async def test_without_jflyte_installed_a_java_task_fails_as_the_platforms_problem(tmp_path: Path) -> None:
    config = LocalPluginConfig(work_dir=tmp_path / "work", jflyte=JflyteConfig(home=tmp_path / "nowhere"))
    with pytest.raises(
        JflyteUnavailable, match=r"jflyte is not installed in .*nowhere.*scripts/install-jflyte.sh"
    ) as e:
        await build_command(task_context(_s3(), _java_task(), execution="e1"), config, tmp_path / "a", ENVIRON)
    error = e.value.transition().error
    assert error is not None and error.kind == execution_pb2.ExecutionError.SYSTEM


async def test_without_java_a_java_task_fails_naming_the_executable(tmp_path: Path) -> None:
    config = _config(tmp_path, java="no-such-java")
    with pytest.raises(JflyteUnavailable, match="no Java executable 'no-such-java'"):
        await build_command(task_context(_s3(), _java_task(), execution="e1"), config, tmp_path / "a", ENVIRON)


def test_java_tasks_are_served_by_the_local_backend_by_default() -> None:
    assert PluginsConfig().plugin_id_for("java-task", "flytesnacks", "development") == "local"
    assert "java-task" in LocalPlugin.task_types


def test_only_a_container_that_leaves_the_entrypoint_to_the_image_runs_jflyte() -> None:
    assert runs_jflyte(_java_task().container)
    assert not runs_jflyte(tasks_pb2.Container(command=["jflyte"], args=["execute"]))
    assert not runs_jflyte(tasks_pb2.Container(args=["pyflyte-execute"]))
