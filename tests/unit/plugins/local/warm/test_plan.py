"""Which local attempts start warm, and what the fork server runs for them (`plugins.local.warm.plan.plan`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from plugins.config import IsolationConfig, LocalEnvironment, LocalPluginConfig
from plugins.local.command import Command, environment_variables
from plugins.local.warm.plan import ServerKey, WarmPlan, bundle_dir, plan

ENTRY_ARGS = [
    "--inputs", "/d/inputs.pb", "--output-prefix", "/d/0", "--raw-output-data-prefix", "/r",
    "--resolver", "flytekit.core.python_auto_container.default_task_resolver",
    "--", "task-module", "app.tasks", "task-name", "double",
]  # fmt: skip
BUNDLE = "s3://bucket/uploads/fastabc123.tar.gz"
ATTEMPT_VARIABLES = ("FLYTE_INTERNAL_EXECUTION_ID", "FLYTE_ATTEMPT_NUMBER")  # some of those naming one attempt


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """A stand-in virtualenv: executables where flytekit's console scripts and python would be."""
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("python", "pyflyte-execute", "pyflyte-map-execute", "pyflyte-fast-execute"):
        (bin_dir / name).write_text("#!/bin/sh\n")
        (bin_dir / name).chmod(0o755)
    return bin_dir.parent


@pytest.fixture
def config(tmp_path: Path, venv: Path) -> LocalPluginConfig:
    return LocalPluginConfig(
        work_dir=tmp_path / "work",
        default_environment=LocalEnvironment(venv=venv, python_path=(tmp_path / "code",)),
        system_path="/usr/bin:/bin",
    )


def command(config: LocalPluginConfig, argv: list[str], **task_env: str) -> Command:
    environment = config.default_environment
    base = environment_variables(environment, config, {})
    env = {**base, "FLYTE_INTERNAL_EXECUTION_ID": "exec", **task_env}
    return Command(
        argv=argv,
        env=env,
        cwd="/w/cwd",
        memory_limit_bytes=None,
        memory_limit_kind="off",
        environment=environment,
        base_env=base,
        import_env={k: v for k, v in env.items() if k not in ATTEMPT_VARIABLES},
    )


def warm(value: WarmPlan | str) -> WarmPlan:
    assert isinstance(value, WarmPlan), value
    return value


def test_pyflyte_execute_from_the_environment_starts_warm_with_the_same_arguments(
    config: LocalPluginConfig, venv: Path
) -> None:
    result = warm(plan(command(config, ["pyflyte-execute", *ENTRY_ARGS]), config))
    assert (result.entry, result.script, list(result.args)) == (
        "pyflyte-execute",
        str(venv / "bin" / "pyflyte-execute"),
        ENTRY_ARGS,
    )
    assert result.key.python == str(venv / "bin" / "python")
    assert result.env["FLYTE_INTERNAL_EXECUTION_ID"] == "exec"
    assert result.modules == ()  # code on python_path may change: the task process imports it


def test_map_execute_starts_warm(config: LocalPluginConfig) -> None:
    assert warm(plan(command(config, ["pyflyte-map-execute", *ENTRY_ARGS]), config)).entry == "pyflyte-map-execute"


def test_attempts_of_one_environment_share_a_server_whatever_their_own_variables(config: LocalPluginConfig) -> None:
    first = warm(plan(command(config, ["pyflyte-execute", *ENTRY_ARGS], FLYTE_ATTEMPT_NUMBER="0"), config))
    second = warm(plan(command(config, ["pyflyte-execute", *ENTRY_ARGS], FLYTE_ATTEMPT_NUMBER="1", X="y"), config))
    assert first.key == second.key
    assert "FLYTE_ATTEMPT_NUMBER" not in first.key.server_env


def test_fast_execute_runs_the_inner_command_as_pyflyte_fast_execute_would(
    config: LocalPluginConfig, tmp_path: Path
) -> None:
    argv = ["pyflyte-fast-execute", "--additional-distribution", BUNDLE, "--dest-dir", "/w/code", "--",
            "pyflyte-execute", *ENTRY_ARGS]  # fmt: skip
    result = warm(plan(command(config, argv), config))
    resolver = ENTRY_ARGS.index("--resolver")
    assert list(result.args) == [
        *ENTRY_ARGS[:resolver],
        "--dynamic-addl-distro", BUNDLE, "--dynamic-dest-dir", "/w/code",
        *ENTRY_ARGS[resolver:],
    ]  # fmt: skip
    extracted = str(bundle_dir(config, BUNDLE))
    assert result.key.bundle_uri == BUNDLE
    assert result.key.bundle_dir == extracted
    assert result.env["PYTHONPATH"] == f"{tmp_path / 'code'}:{extracted}"
    assert result.key.server_env["PYTHONPATH"] == result.env["PYTHONPATH"]
    assert result.modules == ("app.tasks",)  # a bundle never changes: its server imports the task modules


def test_bundles_get_servers_of_their_own(config: LocalPluginConfig) -> None:
    def key_for(bundle: str) -> object:
        argv = ["pyflyte-fast-execute", "--additional-distribution", bundle, "--dest-dir", "/c", "--",
                "pyflyte-execute", *ENTRY_ARGS]  # fmt: skip
        return warm(plan(command(config, argv), config)).key

    plain = warm(plan(command(config, ["pyflyte-execute", *ENTRY_ARGS]), config)).key
    assert len({plain, key_for(BUNDLE), key_for("s3://bucket/uploads/fastother.tar.gz")}) == 3


def test_a_server_that_imports_task_modules_starts_with_the_tasks_own_variables(config: LocalPluginConfig) -> None:
    # `pyflyte register --env` lands in the template's env: module-level code must read it, as on a cold start.
    def key_for(**task_env: str) -> ServerKey:
        argv = ["pyflyte-fast-execute", "--additional-distribution", BUNDLE, "--dest-dir", "/c", "--",
                "pyflyte-execute", *ENTRY_ARGS]  # fmt: skip
        return warm(plan(command(config, argv, **task_env), config)).key

    first = key_for(REGISTERED="a", FLYTE_ATTEMPT_NUMBER="0")
    assert first.server_env["REGISTERED"] == "a"
    assert first.server_env["FLYTE_INTERNAL_EXECUTION_ID"] == ""  # the attempt's own is set after the fork
    assert "FLYTE_ATTEMPT_NUMBER" not in first.server_env
    assert key_for(REGISTERED="a", FLYTE_ATTEMPT_NUMBER="1") == first  # attempts of one task share a server
    assert key_for(REGISTERED="b") != first


def test_a_server_that_imports_flytekit_alone_serves_every_task_of_its_environment(config: LocalPluginConfig) -> None:
    first = warm(plan(command(config, ["pyflyte-execute", *ENTRY_ARGS], REGISTERED="a"), config)).key
    assert warm(plan(command(config, ["pyflyte-execute", *ENTRY_ARGS], REGISTERED="b"), config)).key == first
    assert "REGISTERED" not in first.server_env


def test_a_pickled_task_starts_warm_from_its_environments_server_once_its_pickle_is_fetched(
    config: LocalPluginConfig,
) -> None:
    pickle = "s3://b/fast/abc/pkl.gz"
    argv = ["pyflyte-fast-execute", "--additional-distribution", pickle, "--dest-dir", "/w/cwd", "--",
            "pyflyte-execute", *ENTRY_ARGS]  # fmt: skip
    result = warm(plan(command(config, argv), config))
    assert (result.pickle_uri, result.dest_dir) == (pickle, "/w/cwd")
    assert result.key == warm(plan(command(config, ["pyflyte-execute", *ENTRY_ARGS]), config)).key  # no bundle
    assert result.modules == ()  # the pickle holds the task: nothing to import ahead
    assert "--dynamic-addl-distro" in result.args


def test_task_modules_are_preloaded_when_the_environment_allows(config: LocalPluginConfig) -> None:
    environment = config.default_environment.model_copy(update={"preload_task_modules": True})
    config = config.model_copy(update={"default_environment": environment})
    assert warm(plan(command(config, ["pyflyte-execute", *ENTRY_ARGS]), config)).modules == ("app.tasks",)


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["python", "-c", "print(1)"], "not a flytekit task entrypoint"),
        (["/elsewhere/bin/pyflyte-execute", *ENTRY_ARGS], "is not the environment's"),
        (["pyflyte-fast-execute", "--additional-distribution", "s3://b/code.zip", "--dest-dir", "/c", "--",
          "pyflyte-execute"], "is not a .tar.gz archive"),
        (["pyflyte-fast-execute", "--dest-dir", "/c", "--", "pyflyte-execute"], "without a code bundle"),
        (["pyflyte-fast-execute", "--additional-distribution", BUNDLE, "--dest-dir", "/c", "--", "my-entrypoint"],
         "not a flytekit task entrypoint"),
        (["pyflyte-fast-execute", "--verbose", "--", "pyflyte-execute"], "is not handled warm"),
    ],
)  # fmt: skip
def test_commands_a_fork_server_cannot_run_start_cold(config: LocalPluginConfig, argv: list[str], reason: str) -> None:
    result = plan(command(config, argv), config)
    assert isinstance(result, str)
    assert reason in result


@pytest.mark.parametrize("value", ["false", "0", "No", "off"])
def test_task_opts_out_with_its_environment(config: LocalPluginConfig, value: str) -> None:
    result = plan(command(config, ["pyflyte-execute", *ENTRY_ARGS], FLYTEPLANE_WARM=value), config)
    assert result == "the task sets FLYTEPLANE_WARM"


@pytest.mark.parametrize(
    ("backend", "environment", "task", "mode"),
    [
        ("fork", None, None, "fork"),
        ("reuse", None, None, "reuse"),
        ("fork", "reuse", None, "reuse"),
        ("reuse", "fork", None, "fork"),
        ("fork", None, "reuse", "reuse"),
        ("reuse", "reuse", "fork", "fork"),
        ("reuse", None, "true", "reuse"),
        ("fork", None, " Reuse ", "reuse"),
    ],
)
def test_warm_mode_comes_from_the_task_then_its_environment_then_the_backend(
    config: LocalPluginConfig, backend: str, environment: str | None, task: str | None, mode: str
) -> None:
    settings = config.model_copy(
        update={
            "warm_mode": backend,
            "default_environment": config.default_environment.model_copy(update={"warm_mode": environment}),
        }
    )
    task_env = {} if task is None else {"FLYTEPLANE_WARM": task}
    result = warm(plan(command(settings, ["pyflyte-execute", *ENTRY_ARGS], **task_env), settings))
    assert result.key.mode == mode


def test_reuse_workers_and_fork_servers_of_one_environment_are_different_processes(config: LocalPluginConfig) -> None:
    argv = ["pyflyte-execute", *ENTRY_ARGS]
    fork = warm(plan(command(config, argv), config)).key
    reuse = warm(plan(command(config, argv, FLYTEPLANE_WARM="reuse"), config)).key
    assert fork != reuse
    assert fork.digest != reuse.digest
    assert (fork.reuse, reuse.reuse) == (False, True)


def test_an_attempt_with_credentials_of_its_own_is_forked_rather_than_reusing_a_worker(
    config: LocalPluginConfig,
) -> None:
    # A reuse worker's cached fsspec filesystems would carry one attempt's credentials into the next.
    reusing = config.model_copy(update={"warm_mode": "reuse"})
    scoped = dataclasses.replace(command(reusing, ["pyflyte-execute", *ENTRY_ARGS]), scoped_credentials=True)
    assert warm(plan(scoped, reusing)).key.mode == "fork"


def test_a_dynamic_task_reuses_workers_when_they_can_find_it_and_is_forked_otherwise(config: LocalPluginConfig) -> None:
    # flytekit compiles a @dynamic's workflow once per process and keeps it on the task object; a reuse worker finds
    # the object through the default resolver's arguments and drops it before each attempt. flytekit marks dynamic
    # (and eager) tasks with the serialization settings variable.
    reusing = config.model_copy(update={"warm_mode": "reuse"})
    argv = ["pyflyte-execute", *ENTRY_ARGS]
    assert warm(plan(command(reusing, argv), reusing)).key.mode == "reuse"
    assert warm(plan(command(reusing, argv, _F_SS_C="H4sI..."), reusing)).key.mode == "reuse"
    fast = ["pyflyte-fast-execute", "--additional-distribution", BUNDLE, "--dest-dir", "/w/code", "--", *argv]
    assert warm(plan(command(reusing, fast, _F_SS_C="H4sI..."), reusing)).key.mode == "reuse"
    # Named through another resolver (here a pickled task's), the worker could not find it: forked.
    other = [a if a != "flytekit.core.python_auto_container.default_task_resolver" else "my.Resolver" for a in argv]
    assert warm(plan(command(reusing, other, _F_SS_C="H4sI..."), reusing)).key.mode == "fork"
    assert warm(plan(command(reusing, other), reusing)).key.mode == "reuse"  # a plain task: nothing compiled
    # An eager workflow runs in a process of its own.
    eager = dataclasses.replace(command(reusing, argv, _F_SS_C="H4sI..."), eager=True)
    assert warm(plan(eager, reusing)).key.mode == "fork"
    asked = dataclasses.replace(command(config, argv, _F_SS_C="H4sI...", FLYTEPLANE_WARM="reuse"), eager=True)
    assert warm(plan(asked, config)).key.mode == "fork"


def test_a_task_cannot_opt_into_warm_starts_its_environment_turned_off(config: LocalPluginConfig) -> None:
    off = config.model_copy(update={"warm": False})
    assert isinstance(plan(command(off, ["pyflyte-execute", *ENTRY_ARGS], FLYTEPLANE_WARM="reuse"), off), str)


def test_an_unknown_warm_setting_starts_cold_and_says_why(config: LocalPluginConfig) -> None:
    result = plan(command(config, ["pyflyte-execute", *ENTRY_ARGS], FLYTEPLANE_WARM="sometimes"), config)
    assert isinstance(result, str)
    assert "'sometimes'" in result


def test_environment_setting_wins_over_the_backend_setting(config: LocalPluginConfig) -> None:
    off = config.model_copy(update={"warm": False})
    assert isinstance(plan(command(off, ["pyflyte-execute", *ENTRY_ARGS]), off), str)
    environment = off.default_environment.model_copy(update={"warm": True})
    on_here = off.model_copy(update={"default_environment": environment})
    assert isinstance(plan(command(on_here, ["pyflyte-execute", *ENTRY_ARGS]), on_here), WarmPlan)


def test_environment_without_a_virtualenv_starts_cold(config: LocalPluginConfig) -> None:
    config = config.model_copy(update={"default_environment": LocalEnvironment()})
    assert plan(command(config, ["pyflyte-execute", *ENTRY_ARGS]), config) == (
        "the environment names no virtualenv with a python"
    )


@pytest.mark.parametrize("name", ["PYTHONPATH", "PYTHONHASHSEED", "LD_PRELOAD"])
def test_task_variables_that_shape_the_interpreter_start_it_cold(config: LocalPluginConfig, name: str) -> None:
    result = plan(command(config, ["pyflyte-execute", *ENTRY_ARGS], **{name: "/other"}), config)
    assert result == f"the task sets {name}, which a forked interpreter cannot take up"


def test_request_carries_what_the_task_process_needs(config: LocalPluginConfig, tmp_path: Path) -> None:
    cmd = command(config, ["pyflyte-execute", *ENTRY_ARGS])
    result = warm(plan(cmd, config))
    request = result.request(tmp_path / "attempt", cmd, tmp_path / "attempt" / "task.log", fsync_status=False)
    assert request["attempt"] == str(tmp_path / "attempt")
    assert request["env"] == cmd.env
    assert (request["cwd"], request["entry"], request["args"]) == ("/w/cwd", "pyflyte-execute", ENTRY_ARGS)
    assert request["fsync_status"] is False


def test_isolated_attempts_leave_reuse_mode_for_fork_and_import_no_task_module_in_the_root_server(
    config: LocalPluginConfig, venv: Path
) -> None:
    isolated = config.model_copy(update={"isolation": IsolationConfig(mode="users"), "warm_mode": "reuse"})
    fast = [str(venv / "bin" / "pyflyte-fast-execute"), "--additional-distribution", BUNDLE, "--dest-dir", "/w/cwd"]
    planned = warm(plan(command(isolated, [*fast, "--", str(venv / "bin" / "pyflyte-execute"), *ENTRY_ARGS]), isolated))
    assert planned.key.mode == "fork"
    assert planned.modules == ()  # the task's module-level code runs as its own user, never in the fork server
    assert planned.key.bundle_dir  # the bundle is still extracted once and on PYTHONPATH
    forced = command(isolated, [str(venv / "bin" / "pyflyte-execute"), *ENTRY_ARGS], FLYTEPLANE_WARM="reuse")
    assert warm(plan(forced, isolated)).key.mode == "fork"
