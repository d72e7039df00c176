"""The `plugins` section of flyteplane's configuration: which backend serves each task type, and backend settings.

Resolution of a task type, most specific first: `overrides["<project>/<domain>"]`, then
`overrides["<project>"]`, then `task_types`, then the types that `enabled` plugins (and those named
in `factories`) declare themselves, then `default_plugin`, then the plugin that serves `container` there:
Flyte's container (pod) plugin is its default plugin, so a task type nothing names (a user's own
`PythonTask(task_type="my-sensor")`) runs as a container task. Plugin ids name factories (built-ins,
the `flyteplane.plugins` entry-point group, or `factories` import paths; see `plugins.registry`).
`backends["<plugin id>"]` is the mapping handed to that plugin's factory; the built-in `local`
backend's mapping is validated here, at load time, as `LocalPluginConfig`.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from flyteplane.config import default_data_dir
from plugins.common.quantity import whole_units
from plugins.core import BadTaskDefinition

# Task types whose template carries a container (or a pod whose primary container we can run).
CONTAINER_TASK_TYPES = ("python-task", "container", "raw-container", "sidecar")
# The task type whose plugin also serves the types nothing else maps (Flyte's default plugin).
CONTAINER = "container"
# The task types flytekitplugins-awssagemaker's agents serve: they call AWS (aioboto3); the two `*-task` ones
# carry a container for SageMaker to run, never for a local process.
SAGEMAKER_TASK_TYPES = (
    "boto",
    "sagemaker-endpoint",
    "sagemaker-training-job",
    "sagemaker-training-task",
    "sagemaker-processing-job",
    "sagemaker-processing-task",
    "sagemaker-transform-job",
    "sagemaker-hyperparameter-tuning-job",
    "sagemaker-inference-recommender-job",
)
# Task types only an agent serves, mapped to `agent` by default (not waiting for the agents to list them: a
# task that arrives before they answer would otherwise run as a container task): flytekit's sensors
# (FileSensor and the like) and the SageMaker plugin's.
AGENT_TASK_TYPES = ("sensor", *SAGEMAKER_TASK_TYPES)
# flytekit-java's tasks: a container whose args are jflyte's (`jflyte execute ...`), run by the local backend with a
# local Java and jflyte (see `plugins.local.jflyte`).
JAVA_TASK_TYPES = ("java-task",)

WarmMode = Literal["fork", "reuse"]

_PLUGIN_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LocalEnvironment(_Frozen):
    """A local stand-in for a container image: the Python environment and code a task process runs with.

    In a mapping of images, a bare string is accepted as shorthand for `{venv: <string>}`.
    """

    venv: Path | None = Field(
        default=None,
        description="Virtualenv directory; its bin/ goes first on PATH (so `pyflyte-execute` resolves). "
        "None: the inherited PATH only.",
    )
    python_path: tuple[Path, ...] = Field(
        default=(),
        description="Prepended to PYTHONPATH, e.g. the directory holding the user's package for tasks "
        "registered without fast registration.",
    )
    working_dir: Path | None = Field(
        default=None, description="Working directory of the process; None: a fresh directory per attempt."
    )
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables.")
    warm: bool | None = Field(
        default=None,
        description="Start flytekit tasks from warm fork servers (see `plugins.local.warm.pool`); "
        "None: the backend's `warm` setting.",
    )
    warm_mode: WarmMode | None = Field(
        default=None,
        description="How warm attempts run: `fork` (a fresh process forked per attempt) or `reuse` (successive "
        "attempts in one long-lived warm worker; see `plugins.local.warm.worker`); None: the backend's `warm_mode`.",
    )
    preload: tuple[str, ...] = Field(
        default=(),
        description="Modules this environment's fork servers import before forking (heavy libraries the "
        "tasks use), beside flytekit.",
    )
    preload_task_modules: bool = Field(
        default=False,
        description="Also import the modules of the tasks that run here into the fork server, as is always done "
        "for fast-registered code bundles. Only safe when the code on `python_path` does not change while "
        "the server lives.",
    )

    @model_validator(mode="before")
    @classmethod
    def _venv_shorthand(cls, value: Any) -> Any:
        if isinstance(value, str | Path):
            return {"venv": value}
        return value

    @field_validator("venv", "working_dir")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return None if value is None else value.expanduser().absolute()

    @field_validator("python_path")
    @classmethod
    def _expand_all(cls, value: tuple[Path, ...]) -> tuple[Path, ...]:
        return tuple(p.expanduser().absolute() for p in value)


class WarmPoolConfig(_Frozen):
    """The `local` backend's fork servers and reuse workers: how many, how long they live (see
    `plugins.local.warm.pool`)."""

    servers_per_environment: int = Field(
        default=1, ge=1, description="Fork servers per task environment and code bundle; more fork in parallel."
    )
    max_servers: int = Field(
        default=8, ge=1, description="Fork servers in all; the least recently used idle one makes room for a new one."
    )
    prewarm: bool = Field(default=True, description="Start the default environment's fork servers with the plugin.")
    recycle_after_forks: int = Field(
        default=1000, ge=1, description="A fork server is replaced after starting this many attempts."
    )
    recycle_rss_bytes: int | None = Field(
        default=1 << 30, ge=1,
        description="A fork server (or reuse worker) is replaced once its resident memory exceeds this.",
    )  # fmt: skip
    reuse_workers_per_environment: int | None = Field(
        default=None, ge=1,
        description="Reuse workers per task environment and code bundle (`warm_mode: reuse`): attempts run one at "
        "a time in each, the others queue; None: as many as the machine has CPUs (at least 2).",
    )  # fmt: skip
    reuse_max_attempts: int = Field(
        default=500, ge=1, description="A reuse worker is replaced after running this many attempts."
    )
    restart_dead: bool = Field(default=True, description="Replace a fork server (or reuse worker) that died at once.")
    start_timeout_seconds: float = Field(
        default=120.0, gt=0, description="How long a fork server may take to import flytekit and its preloads."
    )
    retry_after_seconds: float = Field(
        default=60.0, ge=0,
        description="After a fork server failed to start (or died right after starting), its environment runs "
        "tasks on the cold path for this long before trying again.",
    )  # fmt: skip
    idle_seconds: float | None = Field(
        default=900.0, gt=0,
        description="A fork server (or reuse worker) unused this long is stopped (the default environment's "
        "pre-warmed ones stay).",
    )  # fmt: skip
    fsync_status: bool = Field(
        default=False,
        description="Flush an attempt's status.json to disk before its runner exits. Without it (a disk "
        "flush per task saved), a machine crash right after a task finished reports it as a lost process.",
    )


class ImageSpecConfig(_Frozen):
    """Virtualenvs built from flytekit ImageSpecs (see `plugins.local.imagespec`): where, and with what."""

    env_dir: Path = Field(
        default_factory=lambda: default_data_dir() / "imagespec-envs",
        description="One virtualenv per ImageSpec build plan (named by its hash), built once and kept.",
    )
    uv_cache_dir: Path | None = Field(
        default=None, description="uv's download and wheel cache; None: `<env_dir>/uv-cache`."
    )
    retry_failed_after_seconds: float = Field(
        default=30.0, ge=0,
        description="A failed build fails the attempts waiting for it; a task that asks for the spec after this "
        "long builds it again (a network failure may pass).",
    )  # fmt: skip

    @field_validator("env_dir", "uv_cache_dir")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        return value.expanduser().absolute() if value is not None else None

    @property
    def uv_cache(self) -> Path:
        return self.uv_cache_dir if self.uv_cache_dir is not None else self.env_dir / "uv-cache"


def default_jflyte_home() -> Path:
    """Where scripts/install-jflyte.sh puts jflyte by default: a cache shared by every data directory."""
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "flyteplane" / "jflyte"


class JflyteConfig(_Frozen):
    """How the `local` backend runs flytekit-java's tasks: jflyte, as its image would (`plugins.local.jflyte`)."""

    home: Path = Field(
        default_factory=default_jflyte_home,
        description="jflyte as scripts/install-jflyte.sh lays it out, the image's /jflyte: its jars in lib/, its "
        "file systems (jflyte-aws, jflyte-google-cloud) in modules/.",
    )
    java: str = Field(default="java", description="The Java 11+ executable (a name looked up on PATH, or a path).")
    jvm_options: tuple[str, ...] = Field(
        default=("-Dorg.slf4j.simpleLogger.defaultLogLevel=INFO",),
        description="Options before the main class, as the image's entrypoint has.",
    )

    @field_validator("home")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser().absolute()


IsolationMode = Literal["off", "users"]


class IsolationConfig(_Frozen):
    """Task isolation on the `local` backend (`plugins.local.isolation`): each project's tasks run as an unprivileged
    user of their own, in a mount namespace that shows them only their attempt's files and data."""

    mode: IsolationMode = Field(
        default="off",
        description="`off`: tasks run as the plane's own user (the single-user laptop). `users`: each project's tasks "
        "run as a uid/gid of their own from `uid_base`, in a private mount namespace where the plane's data "
        "directory (databases, keys, credential, other attempts, other executions' data) is an empty tmpfs with "
        "only the attempt's own directories, inputs and outputs mounted back. Needs root (CAP_SYS_ADMIN, "
        "CAP_SETUID, CAP_SETGID, CAP_CHOWN): the plane refuses to start without them.",
    )
    uid_base: int = Field(
        default=600_000, ge=1000, description="The first uid (and gid) given to a project; each project gets the next "
        "free one, recorded in `<work_dir>/.isolation/uids.json` so a project keeps its uid across restarts.",
    )  # fmt: skip
    uid_count: int = Field(default=100_000, ge=1, description="How many uids from `uid_base` projects may get.")
    hide: tuple[Path, ...] = Field(
        default=(),
        description="Directories a task must not see, beside the backend's `work_dir` and the local store's root, "
        "which are always hidden: `flyteplane start` adds its data directory (databases, signing key, secrets key, "
        "plane credential).",
    )

    @field_validator("hide")
    @classmethod
    def _absolute_all(cls, value: tuple[Path, ...]) -> tuple[Path, ...]:
        return tuple(p.expanduser().absolute() for p in value)


class LocalPluginConfig(_Frozen):
    """The `local` backend: container tasks as processes on this machine (see `plugins.local.backend`)."""

    work_dir: Path = Field(
        default_factory=lambda: default_data_dir() / "local-tasks",
        description="One directory per attempt (named after the attempt) holds its record, status and log.",
    )
    default_environment: LocalEnvironment = Field(
        default_factory=LocalEnvironment, description="For images that `images` does not name."
    )
    images: dict[str, LocalEnvironment] = Field(
        default_factory=dict,
        description="Container image (exact, or an fnmatch pattern such as `ghcr.io/org/*`) -> environment; "
        "exact names win over patterns, patterns are tried in order.",
    )
    inherit_env: tuple[str, ...] = Field(
        default=(
            "HOME", "USER", "LOGNAME", "LANG", "LC_*", "TZ", "TMPDIR",
            "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
        ),
        description="fnmatch patterns of this process's environment variables that task processes inherit.",
    )  # fmt: skip
    system_path: str | None = Field(
        default=None, description="PATH after the environment's bin/; None: this process's own PATH."
    )
    memory_limit: Literal["address-space", "data", "off"] = Field(
        default="data",
        description="How a task's memory limit is enforced: RLIMIT_DATA (memory the process has made writable: "
        "heap, anonymous mappings; Linux 4.7 and later), RLIMIT_AS (all its address space, which runtimes reserve "
        "far beyond their use: a JVM cannot start under a 2Gi one), or not at all. cgroup memory.max, which "
        "would bound resident memory as a container does, is not used.",
    )
    default_memory_limit: str | None = Field(
        default="2Gi",
        description="The platform's memory limit for a task that declares none (a Kubernetes quantity), so one "
        "task cannot take the machine: a task's declared limit wins; one that requests more memory than this "
        "without a limit gets its request as the limit. None: tasks without a limit run unlimited.",
    )
    kill_grace_seconds: float = Field(default=10.0, ge=0, description="SIGTERM to SIGKILL on abort.")
    poll_interval_seconds: float = Field(
        default=1.0, gt=0, description="How often a re-attached process (not our child) is checked for exit."
    )
    start_timeout_seconds: float = Field(
        default=30.0, gt=0, description="How long a started runner may take to record itself."
    )
    log_upload_interval_seconds: float = Field(
        default=5.0, ge=0, description="Least time between uploads of a running task's log to the store."
    )
    error_tail_bytes: int = Field(
        default=4000, ge=0, description="How much of the log's end a crash's error message quotes."
    )
    log_link_base: str | None = Field(
        default=None,
        description="Admin's HTTP base URL (`http://host:port`, as people reach it): each attempt then also reports "
        "a `Task log` link to admin's live log endpoint (`<base>/api/v1/logs/...`) beside the `file://` one. "
        "`flyteplane start` sets it; None: only the `file://` link.",
    )
    warm: bool = Field(
        default=True,
        description="Run flytekit tasks (`pyflyte-execute`, `pyflyte-map-execute`, `pyflyte-fast-execute`) in "
        "processes forked from warm fork servers instead of fresh interpreters. An environment (`warm`) or a "
        "task (environment variable FLYTEPLANE_WARM=false) can opt out.",
    )
    warm_mode: WarmMode = Field(
        default="fork",
        description="How warm attempts run: `fork` (each attempt a fresh process forked from the fork server: "
        "process isolation) or `reuse` (successive attempts in the same long-lived warm worker, for the last "
        "milliseconds; module state is shared between them). An environment (`warm_mode`) or a task "
        "(FLYTEPLANE_WARM=reuse or =fork) can choose otherwise.",
    )
    linger_seconds: float = Field(
        default=0.05, ge=0,
        description="How long `handle` waits, at most once per attempt, for a warm attempt it finds running (or "
        "queued for a reuse worker) to finish, so that a quick task is reported done in the same engine round "
        "-- without a round, a RUNNING event and a wake-up of its own. 0: report at once.",
    )  # fmt: skip
    warm_pool: WarmPoolConfig = Field(default_factory=WarmPoolConfig, description="The fork servers.")
    image_spec: ImageSpecConfig = Field(
        default_factory=ImageSpecConfig,
        description="Tasks whose image is a flytekit ImageSpec (named by the flyteplane builder) run in a "
        "virtualenv built from the spec.",
    )
    jflyte: JflyteConfig = Field(default_factory=JflyteConfig, description="flytekit-java's tasks (`java-task`).")
    isolation: IsolationConfig = Field(
        default_factory=IsolationConfig, description="Whether tasks of different projects are kept apart."
    )

    @field_validator("work_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().absolute()

    @field_validator("log_link_base")
    @classmethod
    def _http_base(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"log_link_base must be an http(s) URL, not {value!r}")
        return value.rstrip("/") if value is not None else None

    @field_validator("default_memory_limit")
    @classmethod
    def _quantity(cls, value: str | None) -> str | None:
        if value is not None and _bytes(value) <= 0:
            raise ValueError(f"default_memory_limit {value!r} is not a positive memory quantity")
        return value

    @property
    def default_memory_limit_bytes(self) -> int | None:
        return None if self.default_memory_limit is None else _bytes(self.default_memory_limit)


@functools.lru_cache(maxsize=64)  # asked for every attempt's command, of the same few settings
def _bytes(value: str) -> int:
    """A memory quantity (`2Gi`) in bytes; ValueError if it is not one."""
    try:
        return whole_units(value)
    except BadTaskDefinition as exc:
        raise ValueError(str(exc)) from exc


class PluginsConfig(_Frozen):
    """Which plugin serves each task type (per project/domain where configured), and backend settings."""

    task_types: dict[str, str] = Field(
        default_factory=lambda: {
            **dict.fromkeys(CONTAINER_TASK_TYPES, "local"),
            **dict.fromkeys(JAVA_TASK_TYPES, "local"),
            "echo": "echo",
            **dict.fromkeys(AGENT_TASK_TYPES, "agent"),
        },
        description="Task type -> plugin id. Replaces the default mapping as a whole when given.",
    )
    default_plugin: str | None = Field(
        default=None,
        description="Plugin id for task types nothing else maps; None: the plugin serving `container` there, "
        "as Flyte's container plugin is its default (such tasks are refused only when nothing serves `container`).",
    )
    overrides: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description='"<project>/<domain>" or "<project>" -> {task type: plugin id}; the most specific wins.',
    )
    factories: dict[str, str] = Field(
        default_factory=dict,
        description='Plugin id -> "module:callable" factory; wins over entry points and built-ins of that id. '
        "A plugin named here is enabled.",
    )
    enabled: tuple[str, ...] = Field(
        default=(),
        description="Plugins to load although `task_types` does not name them; they serve the task types they "
        "declare (`Plugin.task_types`) where `task_types` says nothing.",
    )
    backends: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Plugin id -> the configuration mapping given to its factory."
    )

    @field_validator("overrides")
    @classmethod
    def _scope_keys(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for scope in value:
            parts = scope.split("/")
            if len(parts) > 2 or not all(parts):
                raise ValueError(f'override scope {scope!r} must be "<project>" or "<project>/<domain>"')
        return value

    @field_validator("factories")
    @classmethod
    def _import_paths(cls, value: dict[str, str]) -> dict[str, str]:
        for plugin_id, target in value.items():
            module, _, attribute = target.partition(":")
            if not module or not attribute:
                raise ValueError(f'factory of {plugin_id!r} must be "module:callable", got {target!r}')
        return value

    @model_validator(mode="after")
    def _plugin_ids_and_local_backend(self) -> PluginsConfig:
        for plugin_id in self.referenced_plugins():
            if not _PLUGIN_ID.match(plugin_id):
                raise ValueError(f"invalid plugin id {plugin_id!r} (lower-case letters, digits, '.', '_', '-')")
        LocalPluginConfig.model_validate(self.backends.get("local", {}))
        return self

    @property
    def local(self) -> LocalPluginConfig:
        """The `local` backend's settings, typed."""
        return LocalPluginConfig.model_validate(self.backends.get("local", {}))

    def self_declaring_plugins(self) -> list[str]:
        """Plugins whose own `task_types` count: the `enabled` ones, then those named in `factories`."""
        return list(dict.fromkeys([*self.enabled, *self.factories]))

    def referenced_plugins(self) -> list[str]:
        """Every plugin id to load: those some task type may resolve to, in a stable order."""
        ids = list(self.task_types.values())
        for mapping in self.overrides.values():
            ids.extend(mapping.values())
        ids.extend(self.self_declaring_plugins())
        if self.default_plugin:
            ids.append(self.default_plugin)
        return list(dict.fromkeys(ids))

    def plugin_id_for(
        self, task_type: str, project: str, domain: str, declared: Mapping[str, str] | None = None
    ) -> str | None:
        """The plugin id for `task_type` in `project`/`domain`, or None when nothing serves it.

        `declared` maps the task types that self-declaring plugins serve to their ids (the registry
        knows it once they are built).
        """
        for scope in (f"{project}/{domain}", project):
            mapped = self.overrides.get(scope, {}).get(task_type)
            if mapped:
                return mapped
        chosen = self.task_types.get(task_type) or (declared or {}).get(task_type) or self.default_plugin
        if chosen is None and task_type != CONTAINER:
            return self.plugin_id_for(CONTAINER, project, domain, declared)
        return chosen
