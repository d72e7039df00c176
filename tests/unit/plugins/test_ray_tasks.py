"""The ray-tasks backend's pure parts: an attempt's Ray resource request and spec, the driver's command parsing,
and its selection per project/domain (the cluster itself: tests/integration/plugins/test_ray_tasks.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flyteidl_py.core import security_pb2, tasks_pb2
from flyteplane.storage import Storage, StorageConfig
from plugins.config import PluginsConfig
from plugins.core import Phase
from plugins.ray_tasks.backend import RayTasksConfig, RayTasksPlugin, ray_options
from plugins.ray_tasks.driver import parse_fast_execute, with_dynamic_distribution
from plugins.registry import PluginRegistry
from tests.unit.plugins.k8s.contexts import context, template

Resource = tasks_pb2.Resources.ResourceEntry
R = tasks_pb2.Resources


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    return Storage(StorageConfig(local_root=tmp_path / "store"))


def test_requests_win_over_limits_in_the_ray_request(storage: Storage) -> None:
    task = template("examples.basics.scalars")
    resources = R(
        requests=[Resource(name=R.CPU, value="500m"), Resource(name=R.MEMORY, value="1Gi")],
        limits=[Resource(name=R.CPU, value="2"), Resource(name=R.GPU, value="1"), Resource(name=R.MEMORY, value="2Gi")],
    )
    ctx = context(storage, task, resources=resources)
    options = ray_options(ctx, task.container, RayTasksConfig(resources={"fast-disk": 1}))
    assert options == {"num_cpus": 0.5, "memory": 1 << 30, "num_gpus": 1.0, "resources": {"fast-disk": 1}}


def test_a_task_without_resources_asks_for_the_default_cpus(storage: Storage) -> None:
    task = template("examples.basics.scalars")
    ctx = context(storage, task, resources=R())
    assert ray_options(ctx, task.container, RayTasksConfig(default_num_cpus=0.25)) == {"num_cpus": 0.25}


async def test_the_attempt_spec_is_the_tasks_command_and_environment(storage: Storage) -> None:
    task = template("examples.basics.scalars")
    ctx = context(storage, task, environment={"FROM_EXECUTION": "yes"})
    spec, _ = await RayTasksPlugin(RayTasksConfig(work_dir="/w")).submission(ctx)
    assert spec["name"] == ctx.generated_name
    assert spec["argv"][0].endswith("pyflyte-execute") or "pyflyte-fast-execute" in spec["argv"][0]
    assert "{{" not in " ".join(spec["argv"])  # template variables rendered for the attempt
    assert spec["env"]["FROM_EXECUTION"] == "yes"
    assert spec["env"]["FLYTE_INTERNAL_EXECUTION_ID"] == "exec1"
    assert spec["log_uri"].endswith("/0/task.log") and spec["own_process"] is False


async def test_a_dynamic_task_runs_in_a_process_of_its_own(storage: Storage) -> None:
    task = template("examples.advanced.dyn_sum_squares")  # flytekit marks it with _F_SS_C
    spec, _ = await RayTasksPlugin(RayTasksConfig(work_dir="/w")).submission(context(storage, task))
    assert "_F_SS_C" in spec["env"] and spec["own_process"] is True


async def test_a_task_that_requests_secrets_is_refused(storage: Storage) -> None:
    task = tasks_pb2.TaskTemplate()
    task.CopyFrom(template("examples.basics.scalars"))
    task.security_context.secrets.append(security_pb2.Secret(group="g", key="k"))
    transition = await RayTasksPlugin().handle(context(storage, task))
    assert transition.phase is Phase.PERMANENT_FAILURE and "secrets" in transition.reason


def test_fast_execute_is_unwrapped_into_the_inner_entrypoint() -> None:
    args = ["--additional-distribution", "s3://b/code.tar.gz", "--dest-dir", "/d", "--", "pyflyte-execute",
            "--inputs", "i", "--resolver", "r", "--", "task-module", "m"]  # fmt: skip
    parsed = parse_fast_execute(args)
    assert parsed == ("s3://b/code.tar.gz", ["pyflyte-execute", "--inputs", "i", "--resolver", "r", "--",
                                             "task-module", "m"])  # fmt: skip
    inner = with_dynamic_distribution(parsed[1], "s3://b/code.tar.gz", "/x")
    assert inner[3:8] == ["--dynamic-addl-distro", "s3://b/code.tar.gz", "--dynamic-dest-dir", "/x", "--resolver"]
    assert isinstance(parse_fast_execute(["--additional-distribution", "s3://b/pkl.gz", "--", "x"]), str)


async def test_ray_tasks_serves_python_tasks_where_an_override_names_it() -> None:
    config = PluginsConfig.model_validate({
        "task_types": {"python-task": "local"},
        "overrides": {"flytesnacks/production": {"python-task": "ray-tasks"}},
    })  # fmt: skip
    registry = await PluginRegistry.load(config, entry_points=[])
    try:
        assert registry.plugin_id_for("python-task", "flytesnacks", "production") == "ray-tasks"
        assert registry.plugin_id_for("python-task", "flytesnacks", "development") == "local"
    finally:
        await registry.aclose()
