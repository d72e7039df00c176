"""What the local plugin runs for an attempt: the rendered command line, the environment, the limits."""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from google.protobuf import struct_pb2
from pydantic import SecretStr

from flyteidl_py.core import execution_pb2, tasks_pb2
from flyteplane.storage import S3Config, Storage, StorageConfig
from flyteplane.storage.task_credentials import CredentialsUnavailable, TaskCredentials
from plugins.common.command import container_of
from plugins.common.quantity import whole_units
from plugins.config import LocalEnvironment, LocalPluginConfig
from plugins.core import BadTaskDefinition, Phase
from plugins.local.backend import LocalPlugin
from plugins.local.command import build_command, environment_for, unmapped_code_hint
from plugins.local.protocol import RECORD
from tests.integration.plugins.helpers import (
    container_task,
    fixture_task,
    int_inputs,
    local_path,
    task_context,
    write_inputs,
)

ENVIRON = {"PATH": "/usr/bin:/bin", "HOME": "/home/u", "LANG": "C.UTF-8", "SECRET_TOKEN": "x", "LC_ALL": "C"}


def _config(tmp_path: Path, **kw: object) -> LocalPluginConfig:
    return LocalPluginConfig(work_dir=tmp_path / "work", **kw)  # type: ignore[arg-type]


async def test_flytekit_command_gets_every_data_path(storage: Storage, tmp_path: Path) -> None:
    ctx = task_context(storage, fixture_task("examples.basics.scalars"), execution="e1", attempt=1)
    command = await build_command(ctx, _config(tmp_path), tmp_path / "a", ENVIRON)
    paths = {k: str(local_path(v)) for k, v in dataclasses.asdict(ctx.paths).items()}
    assert command.argv == [
        "pyflyte-execute", "--inputs", paths["inputs"], "--output-prefix", paths["output_prefix"],
        "--raw-output-data-prefix", paths["raw_output_prefix"], "--checkpoint-path", paths["checkpoint_prefix"],
        "--prev-checkpoint", paths["previous_checkpoint_prefix"],
        "--resolver", "flytekit.core.python_auto_container.default_task_resolver", "--",
        "task-module", "examples.basics", "task-name", "scalars",
    ]  # fmt: skip


async def test_environment_names_execution_task_and_attempt(storage: Storage, tmp_path: Path) -> None:
    ctx = task_context(storage, fixture_task("examples.basics.scalars"), execution="e1", attempt=2)
    env = (await build_command(ctx, _config(tmp_path), tmp_path / "a", ENVIRON)).env
    assert {k: v for k, v in env.items() if k.startswith("FLYTE_")} == {
        "FLYTE_INTERNAL_EXECUTION_ID": "e1",
        "FLYTE_INTERNAL_EXECUTION_PROJECT": "flytesnacks",
        "FLYTE_INTERNAL_EXECUTION_DOMAIN": "development",
        "FLYTE_INTERNAL_EXECUTION_WORKFLOW": "flytesnacks:development:tests.wf",
        "FLYTE_INTERNAL_EXECUTION_LAUNCHPLAN": "flytesnacks:development:tests.wf",
        "FLYTE_ATTEMPT_NUMBER": "2",
        "FLYTE_INTERNAL_TASK_PROJECT": "flytesnacks",
        "FLYTE_INTERNAL_TASK_DOMAIN": "development",
        "FLYTE_INTERNAL_TASK_NAME": "examples.basics.scalars",
        "FLYTE_INTERNAL_TASK_VERSION": "v1",
        "FLYTE_INTERNAL_PROJECT": "flytesnacks",
        "FLYTE_INTERNAL_DOMAIN": "development",
        "FLYTE_INTERNAL_NAME": "examples.basics.scalars",
        "FLYTE_INTERNAL_VERSION": "v1",
    }


async def test_array_sub_task_gets_its_index(storage: Storage, tmp_path: Path) -> None:
    ctx = task_context(storage, fixture_task("examples.advanced.map_square"), execution="e1", array_index=4)
    env = (await build_command(ctx, _config(tmp_path), tmp_path / "a", ENVIRON)).env
    assert env["BATCH_JOB_ARRAY_INDEX_VAR_NAME"] == "FLYTE_K8S_ARRAY_INDEX"
    assert env["FLYTE_K8S_ARRAY_INDEX"] == "4"


async def test_execution_envs_override_container_env(storage: Storage, tmp_path: Path) -> None:
    template = fixture_task("examples.configured.resourced")
    ctx = task_context(storage, template, execution="e1")
    plain = (await build_command(ctx, _config(tmp_path), tmp_path / "a", ENVIRON)).env
    assert plain["EXAMPLE_ENV"] == "yes"
    overridden = dataclasses.replace(ctx, environment={"EXAMPLE_ENV": "no"})
    assert (await build_command(overridden, _config(tmp_path), tmp_path / "a", ENVIRON)).env["EXAMPLE_ENV"] == "no"


async def test_what_task_modules_see_at_import_is_the_environment_but_for_the_attempts_names(
    storage: Storage, tmp_path: Path
) -> None:
    template = fixture_task("examples.configured.resourced")
    ctx = dataclasses.replace(task_context(storage, template, execution="e1"), environment={"RUN_ENV": "on"})
    command = await build_command(ctx, _config(tmp_path), tmp_path / "a", ENVIRON)
    assert command.import_env["EXAMPLE_ENV"] == "yes"  # registered with the task (`pyflyte register --env`)
    assert command.import_env["RUN_ENV"] == "on"  # the execution's
    assert {k: v for k, v in command.env.items() if k not in command.import_env} == {
        k: v
        for k, v in command.env.items()
        if k.startswith("FLYTE_INTERNAL_") or k in ("FLYTE_ATTEMPT_NUMBER", "TMPDIR")  # TMPDIR: the attempt's own
    }
    assert command.env["TMPDIR"] == str(tmp_path / "a" / "tmp")


async def test_the_attempts_trace_context_reaches_the_task_but_does_not_choose_its_fork_server(
    storage: Storage, tmp_path: Path
) -> None:
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    template = fixture_task("examples.configured.resourced")
    ctx = dataclasses.replace(task_context(storage, template, execution="e1"), trace_parent=traceparent)
    command = await build_command(ctx, _config(tmp_path), tmp_path / "a", ENVIRON)
    assert command.env["TRACEPARENT"] == traceparent
    assert "TRACEPARENT" not in command.import_env  # one fork server serves every attempt's trace


async def test_only_allowed_variables_of_propeller_reach_the_task(storage: Storage, tmp_path: Path) -> None:
    ctx = task_context(storage, container_task("true"), execution="e1")
    env = (await build_command(ctx, _config(tmp_path), tmp_path / "a", ENVIRON)).env
    assert env["HOME"] == "/home/u"
    assert env["LC_ALL"] == "C"
    assert "SECRET_TOKEN" not in env


async def test_image_environment_goes_first_on_path(storage: Storage, tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        default_environment=LocalEnvironment(venv=Path("/venvs/default")),
        images={"local": LocalEnvironment(venv=Path("/venvs/task"), python_path=(Path("/code"),), env={"A": "1"})},
    )
    ctx = task_context(storage, container_task("true"), execution="e1")
    env = (await build_command(ctx, config, tmp_path / "a", ENVIRON)).env
    assert env["PATH"] == "/venvs/task/bin:/usr/bin:/bin"
    assert env["VIRTUAL_ENV"] == "/venvs/task"
    assert env["PYTHONPATH"] == "/code"
    assert env["A"] == "1"


@pytest.mark.parametrize(
    ("image", "venv"),
    [
        ("ghcr.io/org/app:1", "/exact"),
        ("ghcr.io/org/other:2", "/pattern"),
        ("docker.io/x:1", "/default"),
    ],
)
def test_image_selects_exact_entry_then_pattern_then_default(image: str, venv: str) -> None:
    config = LocalPluginConfig.model_validate(
        {
            "default_environment": "/default",
            "images": {"ghcr.io/org/*": "/pattern", "ghcr.io/org/app:1": "/exact"},
        }
    )
    assert environment_for(image, config).venv == Path(venv)


async def test_s3_store_gives_the_task_its_credentials(tmp_path: Path) -> None:
    s3 = S3Config(endpoint_url="http://127.0.0.1:9000", access_key_id="k", secret_access_key=SecretStr("s"))
    storage = Storage(StorageConfig(default_scheme="s3", default_bucket="bucket", s3=s3))
    ctx = task_context(storage, container_task("true"), execution="e1")
    env = (await build_command(ctx, _config(tmp_path), tmp_path / "a", ENVIRON)).env
    assert env["FLYTE_AWS_ENDPOINT"] == "http://127.0.0.1:9000"
    assert env["FLYTE_AWS_ACCESS_KEY_ID"] == "k"
    assert env["FLYTE_AWS_SECRET_ACCESS_KEY"] == "s"


async def test_scoped_credentials_replace_the_stores_keys(tmp_path: Path) -> None:
    s3 = S3Config(endpoint_url="http://127.0.0.1:9000", access_key_id="k", secret_access_key=SecretStr("s"))
    storage = Storage(StorageConfig(default_scheme="s3", default_bucket="bucket", s3=s3))
    expires = datetime(2030, 1, 1, tzinfo=UTC)

    async def attempts_own() -> TaskCredentials:
        return TaskCredentials("ASIATASK", "task-secret", "task-token", expires)

    ctx = task_context(storage, container_task("true"), execution="e1")
    ctx = dataclasses.replace(ctx, storage_credentials_reader=attempts_own)
    command = await build_command(ctx, _config(tmp_path), tmp_path / "a", {**ENVIRON, "AWS_ACCESS_KEY_ID": "plane"})
    env = command.env
    assert command.scoped_credentials  # so it never runs in a reuse worker (see plugins.local.warm.plan)
    assert env["FLYTE_AWS_ENDPOINT"] == "http://127.0.0.1:9000"
    assert "FLYTE_AWS_ACCESS_KEY_ID" not in env and "FLYTE_AWS_SECRET_ACCESS_KEY" not in env
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env["AWS_SESSION_TOKEN"]) == (
        "ASIATASK", "task-secret", "task-token",
    )  # fmt: skip
    assert env["AWS_CREDENTIAL_EXPIRATION"] == "2030-01-01T00:00:00+00:00"
    # Per attempt: never in what a warm server starts with.
    assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} & set(command.import_env)


async def test_local_store_passes_no_storage_credentials(storage: Storage, tmp_path: Path) -> None:
    ctx = task_context(storage, container_task("true"), execution="e1")
    env = (await build_command(ctx, _config(tmp_path), tmp_path / "a", ENVIRON)).env
    assert not any(k.startswith(("FLYTE_AWS", "AWS_", "GOOGLE")) for k in env)


async def test_fast_registered_task_unpacks_into_the_attempts_working_directory(
    storage: Storage, tmp_path: Path
) -> None:
    # As Flyte's `--dest-dir .`: flytekit opens a pickled task's `pkl.gz` relative to the working directory.
    template = fixture_task("examples.basics.scalars", "examples-package-fast.tgz")
    ctx = task_context(storage, template, execution="e1", remote_package_path="file:///store/fast1.tar.gz")
    command = await build_command(ctx, _config(tmp_path), tmp_path / "a", ENVIRON)
    assert command.cwd == str(tmp_path / "a" / "cwd")
    assert command.argv[:6] == [
        "pyflyte-fast-execute", "--additional-distribution", "file:///store/fast1.tar.gz",
        "--dest-dir", command.cwd, "--",
    ]  # fmt: skip


async def test_a_shared_working_directory_gets_no_code_bundle(storage: Storage, tmp_path: Path) -> None:
    template = fixture_task("examples.basics.scalars", "examples-package-fast.tgz")
    ctx = task_context(storage, template, execution="e1", remote_package_path="file:///store/fast1.tar.gz")
    config = _config(tmp_path, default_environment=LocalEnvironment(working_dir=tmp_path / "shared"))
    command = await build_command(ctx, config, tmp_path / "a", ENVIRON)
    assert command.cwd == str(tmp_path / "shared")
    assert command.argv[4] == str(tmp_path / "a" / "code")


async def test_unresolved_code_bundle_is_a_bad_task_definition(storage: Storage, tmp_path: Path) -> None:
    template = fixture_task("examples.basics.scalars", "examples-package-fast.tgz")
    ctx = task_context(storage, template, execution="e1")
    with pytest.raises(BadTaskDefinition, match="remote_package_path"):
        await build_command(ctx, _config(tmp_path), tmp_path / "a", ENVIRON)


async def test_task_template_path_is_written_next_to_the_inputs(storage: Storage, tmp_path: Path) -> None:
    template = container_task("cat", "{{.taskTemplatePath}}")
    ctx = task_context(storage, template, execution="e1")
    argv = (await build_command(ctx, _config(tmp_path), tmp_path / "a", ENVIRON)).argv
    task_pb = ctx.paths.inputs.replace("inputs.pb", "task.pb")
    assert argv[1] == str(local_path(task_pb))
    assert await storage.read_proto(task_pb, tasks_pb2.TaskTemplate) == template


async def test_input_values_render_into_the_command(storage: Storage, tmp_path: Path) -> None:
    ctx = task_context(storage, container_task("echo", "{{.inputs.x}}"), execution="e1")
    await write_inputs(ctx, int_inputs(x=7))
    assert (await build_command(ctx, _config(tmp_path), tmp_path / "a", ENVIRON)).argv == ["echo", "7"]


async def test_task_without_container_is_a_bad_task_definition(storage: Storage, tmp_path: Path) -> None:
    template = tasks_pb2.TaskTemplate(type="python-task")
    ctx = task_context(storage, template, execution="e1")
    with pytest.raises(BadTaskDefinition, match="no container"):
        await build_command(ctx, _config(tmp_path), tmp_path / "a", ENVIRON)


@pytest.mark.parametrize(("limits", "expected"), [("512Mi", 512 * 2**20), ("1G", 10**9), (None, 2 * 2**30)])
async def test_memory_limit_comes_from_the_task_limits(
    storage: Storage, tmp_path: Path, limits: str | None, expected: int | None
) -> None:
    template = container_task("true")
    if limits:
        template.container.resources.limits.add(name=tasks_pb2.Resources.MEMORY, value=limits)
    ctx = task_context(storage, template, execution="e1")
    assert (await build_command(ctx, _config(tmp_path), tmp_path / "a", ENVIRON)).memory_limit_bytes == expected


@pytest.mark.parametrize(
    ("requests", "limits", "default", "expected"),
    [
        (None, None, "256Mi", 256 * 2**20),  # the platform's default
        (None, "64Mi", "256Mi", 64 * 2**20),  # the task's own limit wins, smaller or not
        ("128Mi", None, "256Mi", 256 * 2**20),  # a request without a limit: the default ...
        ("1Gi", None, "256Mi", 2**30),  # ... or the request, where that is larger
        ("128Mi", None, None, None),  # no default: unlimited, as before
    ],
)
async def test_a_task_without_a_memory_limit_gets_the_platform_default(
    storage: Storage,
    tmp_path: Path,
    requests: str | None,
    limits: str | None,
    default: str | None,
    expected: int | None,
) -> None:
    template = container_task("true")
    if requests:
        template.container.resources.requests.add(name=tasks_pb2.Resources.MEMORY, value=requests)
    if limits:
        template.container.resources.limits.add(name=tasks_pb2.Resources.MEMORY, value=limits)
    ctx = task_context(storage, template, execution="e1")
    config = _config(tmp_path, default_memory_limit=default)
    assert (await build_command(ctx, config, tmp_path / "a", ENVIRON)).memory_limit_bytes == expected


async def test_effective_resources_win_over_the_template(storage: Storage, tmp_path: Path) -> None:
    template = fixture_task("examples.configured.resourced")  # limits memory to 512Mi
    effective = tasks_pb2.Resources(
        limits=[tasks_pb2.Resources.ResourceEntry(name=tasks_pb2.Resources.MEMORY, value="1Gi")]
    )
    ctx = task_context(storage, template, execution="e1", resources=effective)
    assert (await build_command(ctx, _config(tmp_path), tmp_path / "a", ENVIRON)).memory_limit_bytes == 2**30


@pytest.mark.parametrize(
    ("text", "value"),
    [("128974848", 128974848), ("129e6", 129_000_000), ("123Mi", 123 * 2**20), ("1.5Gi", 3 * 2**29), ("100m", 1),
     ("2k", 2000), ("1Ki", 1024)],
)  # fmt: skip
def test_kubernetes_quantities_parse(text: str, value: int) -> None:
    assert whole_units(text) == value


def test_invalid_quantity_is_a_bad_task_definition() -> None:
    with pytest.raises(BadTaskDefinition):
        whole_units("12 MB")


def test_pod_task_runs_its_primary_container() -> None:
    pod = struct_pb2.Struct()
    pod.update(
        {
            "containers": [
                {"name": "sidecar", "image": "busybox", "args": ["sleep", "1"]},
                {
                    "name": "primary",
                    "image": "app:1",
                    "args": ["pyflyte-execute", "--inputs", "{{.input}}"],
                    "env": [{"name": "A", "value": "1"}],
                    "resources": {"limits": {"memory": "1Gi"}},
                },
            ]
        }
    )
    template = tasks_pb2.TaskTemplate(
        type="sidecar", k8s_pod=tasks_pb2.K8sPod(pod_spec=pod), config={"primary_container_name": "primary"}
    )
    container = container_of(template)
    assert container is not None
    assert (container.image, list(container.args)) == ("app:1", ["pyflyte-execute", "--inputs", "{{.input}}"])
    assert [(e.key, e.value) for e in container.env] == [("A", "1")]
    assert container.resources.limits[0].value == "1Gi"


async def test_inherited_path_comes_from_propeller_unless_configured(storage: Storage, tmp_path: Path) -> None:
    ctx = task_context(storage, container_task("true"), execution="e1")
    env = (await build_command(ctx, _config(tmp_path, system_path="/opt/bin"), tmp_path / "a", ENVIRON)).env
    assert env["PATH"] == "/opt/bin"
    env = (await build_command(ctx, _config(tmp_path), tmp_path / "a", {"PATH": os.defpath})).env
    assert env["PATH"] == os.defpath


async def test_local_store_paths_reach_the_task_as_plain_paths(storage: Storage, tmp_path: Path) -> None:
    ctx = task_context(storage, container_task("echo", "{{.input}}", "{{.rawOutputDataPrefix}}"), execution="e1")
    argv = (await build_command(ctx, _config(tmp_path), tmp_path / "a", ENVIRON)).argv
    assert argv[1:] == [str(local_path(ctx.paths.inputs)), str(local_path(ctx.paths.raw_output_prefix))]
    assert not any(arg.startswith("file:") for arg in argv)


async def test_object_store_paths_reach_the_task_as_uris(tmp_path: Path) -> None:
    storage = Storage(StorageConfig(default_scheme="s3", default_bucket="bucket"))
    ctx = task_context(storage, container_task("echo", "{{.input}}"), execution="e1")
    argv = (await build_command(ctx, _config(tmp_path), tmp_path / "a", ENVIRON)).argv
    assert argv[1] == ctx.paths.inputs
    assert argv[1].startswith("s3://bucket/")


def test_a_task_without_a_bundle_on_an_unmapped_image_gets_a_hint_naming_the_image(tmp_path: Path) -> None:
    template = container_task("pyflyte-execute", "--inputs", "x")
    template.container.image = "registry.example/app:1"
    hint = unmapped_code_hint(template, _config(tmp_path))
    assert "'registry.example/app:1' is not mapped" in hint
    assert '"registry.example/app:1": {"venv"' in hint and "python_path" in hint


def test_a_mapped_image_or_a_code_bundle_gets_no_hint(tmp_path: Path) -> None:
    mapped = container_task("pyflyte-execute", "--inputs", "x")
    mapped.container.image = "registry.example/app:1"
    bundled = container_task("pyflyte-fast-execute", "--additional-distribution", "s3://b/x.tar.gz", "--")
    config = _config(tmp_path, images={"registry.example/*": LocalEnvironment()})
    assert unmapped_code_hint(mapped, config) == ""
    assert unmapped_code_hint(bundled, _config(tmp_path)) == ""


async def test_credentials_sts_refuses_fail_the_attempt_retryably_and_start_nothing(
    local_plugin: LocalPlugin, tmp_path: Path
) -> None:
    s3 = S3Config(endpoint_url="http://127.0.0.1:9000", access_key_id="k", secret_access_key=SecretStr("s"))
    storage = Storage(StorageConfig(default_scheme="s3", default_bucket="bucket", s3=s3))

    async def refused() -> TaskCredentials:
        raise CredentialsUnavailable("STS refused to assume arn:aws:iam::123456789012:role/r: AccessDenied")

    ctx = task_context(storage, fixture_task("examples.basics.scalars"), execution="refused")
    transition = await local_plugin.handle(dataclasses.replace(ctx, storage_credentials_reader=refused))
    assert transition.phase is Phase.RETRYABLE_FAILURE
    assert transition.error is not None
    assert (transition.error.code, transition.error.kind) == (
        "StorageCredentialsUnavailable", execution_pb2.ExecutionError.SYSTEM,
    )  # fmt: skip
    assert "role/r: AccessDenied" in transition.error.message
    assert not (local_plugin.config.work_dir / ctx.generated_name / RECORD).exists()
