"""`flyteplane start`: the whole plane on one machine — admin, propeller, datacatalog and the scheduler in one process.

One data directory holds the databases (SQLite unless `--database` names a PostgreSQL), the object
store (unless `--storage` names a bucket), the task environment and the client config file it
prints. Ctrl-C stops everything; starting again resumes the executions that were running.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path
from typing import Any

import yaml

from flyteplane import collector
from flyteplane.metrics import MetricsRegistry
from launcher.agent_server import AgentServer, free_loopback_port, serves_agents
from launcher.auth import check_exposure, default_client_secret, with_default_client_bound
from launcher.config import FlyteplaneConfig
from launcher.migrate import migrate
from plugins.local.isolation import check_privileges

# flytekit's `agent` extra: its agent server (prometheus-client, grpcio-health-checking) runs from here too, with
# the agents of the AWS SageMaker plugin (endpoints, invocations, training jobs, any boto3 call).
TASK_ENV_REQUIREMENTS = (
    "flytekit[agent]==1.16.31",
    "flytekitplugins-awssagemaker==1.16.31",
    "pandas>=2,<3",
    "pyarrow>=15,<30",
)
# flyteplane's ImageSpec builder for flytekit (no Docker: the plane builds a virtualenv from the spec), installed
# into the task environment so that a client using it needs nothing more; absent from an installed wheel.
FLYTEKIT_PLUGIN = Path(__file__).resolve().parents[1] / "clients" / "flytekit-plugin"
SANDBOX_OWNER = "sandbox"


def ensure_task_environment(path: Path, *, quiet: bool = False) -> Path:
    """A virtualenv with flytekit for task processes (created once; the first time takes a minute)."""
    marker = path / ".flyteplane-task-env"
    wanted = "\n".join([*TASK_ENV_REQUIREMENTS, _plugin_digest()])
    if marker.exists() and marker.read_text() == wanted:
        return path
    if not quiet:
        print(f"creating the task environment in {path} ({', '.join(TASK_ENV_REQUIREMENTS)}) ...", flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    with tempfile.TemporaryDirectory(prefix="flyteplane-plugin-") as scratch:
        subprocess.run(
            [
                str(path / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                *TASK_ENV_REQUIREMENTS,
                *flytekit_plugin_requirements(Path(scratch)),
            ],
            check=True,
        )
    marker.write_text(wanted)
    return path


def flytekit_plugin_requirements(scratch: Path) -> list[str]:
    """The plugin as a pip requirement -- a copy in `scratch`, as pip builds in the source tree -- when this
    installation carries it (a checkout does; an installed wheel does not)."""
    if not (FLYTEKIT_PLUGIN / "pyproject.toml").exists():
        return []
    copy = scratch / FLYTEKIT_PLUGIN.name
    shutil.copytree(FLYTEKIT_PLUGIN, copy, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    return [str(copy)]


def _plugin_digest() -> str:
    """Changes when the plugin's files do, so an updated plugin is installed again."""
    digest = hashlib.sha256()
    for file in sorted([*FLYTEKIT_PLUGIN.glob("pyproject.toml"), *FLYTEKIT_PLUGIN.glob("flytekitplugins/**/*.py")]):
        digest.update(str(file.relative_to(FLYTEKIT_PLUGIN)).encode() + b"\0" + file.read_bytes())
    return f"# flytekitplugins-flyteplane {digest.hexdigest()[:16]}"


def sandbox_config(
    base: FlyteplaneConfig,
    data_dir: Path,
    *,
    database: str | None = None,
    storage: str | None = None,
    s3_endpoint: str | None = None,
    task_env: Path | None = None,
) -> FlyteplaneConfig:
    """The configuration `start` runs with: everything under `data_dir`, components pointing at each other."""
    data_dir = data_dir.expanduser().absolute()
    admin = base.admin.model_copy(
        update={
            "database_url": database or base.admin.database_url,
            "engine_endpoint": f"{base.propeller.host}:{base.propeller.grpc_port}",
        }
    )
    store = base.storage
    updates: dict[str, Any] = {}
    if "local_root" not in store.model_fields_set:
        updates["local_root"] = data_dir / "data"
    if storage:
        scheme, _, bucket = storage.partition("://")
        if scheme not in ("s3", "gs", "file") or not bucket:
            raise SystemExit(f"--storage must look like s3://bucket or gs://bucket, not {storage!r}")
        updates.update(default_scheme=scheme, default_bucket=bucket.strip("/"))
    if s3_endpoint:
        updates["s3"] = store.s3.model_copy(update={"endpoint_url": s3_endpoint})
    store = store.model_copy(update=updates)
    plugins = base.propeller.plugins
    local = dict(plugins.backends.get("local", {}))
    local.setdefault("work_dir", str(data_dir / "local-tasks"))
    # Attempts link to admin's live log view where people reach admin: its console URL, else its fixed HTTP port
    # (a free port, 0, is not known before admin starts).
    if base.admin.console_url:
        local.setdefault("log_link_base", base.admin.console_url.rstrip("/"))
    elif base.admin.http_port:
        local.setdefault("log_link_base", f"http://{_client_host(base.admin.host)}:{base.admin.http_port}")
    # A `k8s-pod` attempt links to the same view, which reads its pod's log from the pod log API.
    pod_backend = dict(plugins.backends.get("k8s-pod", {}))
    if "log_link_base" in local and "k8s-pod" in plugins.backends:
        pod_backend.setdefault("log_link_base", local["log_link_base"])
    if task_env is not None:
        local.setdefault("default_environment", {"venv": str(task_env)})
    # Isolated tasks (`plugins.local.isolation`) must not see the data directory: databases, keys, credential.
    isolation = dict(local.get("isolation", {}))
    isolation["hide"] = [*isolation.get("hide", []), str(data_dir)]
    local["isolation"] = isolation
    # ImageSpec environments live with the plane's data, built once and kept across restarts.
    local["image_spec"] = {"env_dir": str(data_dir / "imagespec-envs"), **local.get("image_spec", {})}
    backends = {**plugins.backends, "local": local, **({"k8s-pod": pod_backend} if pod_backend else {})}
    plugins = plugins.model_copy(update={"backends": backends})
    # Admin serves the local attempts' logs from wherever the local backend keeps them.
    work_dir = Path(local["work_dir"]).expanduser().absolute()
    logs = admin.logs.model_copy(
        update={
            "task_dirs": admin.logs.task_dirs or [work_dir],
            # Not the whole data directory: it also holds the databases, the secrets key and the
            # plane credential, and a task could replace its own log file with a link to them.
            "roots": admin.logs.roots or [work_dir, Path(store.local_root).expanduser().absolute()],
        }
    )
    admin = admin.model_copy(update={"logs": logs})
    propeller = base.propeller.model_copy(
        update={
            "database_url": database or base.propeller.database_url,
            "admin_endpoint": f"{base.admin.host}:{base.admin.grpc_port}",
            "datacatalog_endpoint": base.propeller.datacatalog_endpoint
            or f"{base.datacatalog.host}:{base.datacatalog.grpc_port}",
            "owner_id": base.propeller.owner_id or SANDBOX_OWNER,
            "plugins": plugins,
        }
    )
    datacatalog = base.datacatalog.model_copy(update={"database_url": database or base.datacatalog.database_url})
    scheduler = base.scheduler.model_copy(
        update={
            "database_url": database or base.scheduler.database_url,
            "admin_endpoint": f"{base.admin.host}:{base.admin.grpc_port}",
        }
    )
    return base.model_copy(
        update={
            "data_dir": data_dir,
            "admin": admin,
            "storage": store,
            "propeller": propeller,
            "datacatalog": datacatalog,
            "scheduler": scheduler,
        }
    )


def with_agent_server(config: FlyteplaneConfig, endpoint: str) -> FlyteplaneConfig:
    """`config` with the agent plugin pointed at the agent server `start` runs (its default agent, unless the
    configuration names one), and enabled, so the task types that server lists are served with no mapping."""
    plugins = config.propeller.plugins
    agent = dict(plugins.backends.get("agent", {}))
    agent.setdefault("default_agent", {"endpoint": endpoint})
    # The plane does not wait for the server to import flytekit (3 s): the plugin asks it every second until
    # it answers, and `sensor`, mapped to the plugin already, waits for it meanwhile.
    agent.setdefault("discovery_timeout_seconds", 0)
    enabled = tuple(dict.fromkeys([*plugins.enabled, "agent"]))
    plugins = plugins.model_copy(update={"backends": {**plugins.backends, "agent": agent}, "enabled": enabled})
    propeller = config.propeller.model_copy(update={"plugins": plugins})
    return config.model_copy(update={"propeller": propeller})


def agent_server_for(config: FlyteplaneConfig) -> AgentServer | None:
    """The agent server for the task environment of `config` (the local backend's default environment, whose
    `env` it gets too), or None when that environment has no flytekit or the configuration already names a
    default agent."""
    environment = config.propeller.plugins.local.default_environment
    venv = environment.venv
    if venv is None or not serves_agents(venv):
        return None
    if config.propeller.plugins.backends.get("agent", {}).get("default_agent"):
        return None
    return AgentServer(venv, free_loopback_port(), config.data_dir / "agent-server.log", environment=environment.env)


def _client_host(host: str) -> str:
    """How a client on this machine names admin's host."""
    return "localhost" if host in ("127.0.0.1", "0.0.0.0", "") else host


def write_client_config(config: FlyteplaneConfig, http_port: int, auth_client: tuple[str, Path] | None = None) -> Path:
    """The flytekit / flytectl config that points at this plane (with auth on: as `auth_client`, its id and the
    file holding its secret)."""
    host = _client_host(config.admin.host)
    admin: dict[str, Any] = {"endpoint": f"dns:///{host}:{config.admin.grpc_port}", "insecure": True}
    if auth_client is not None:
        client_id, secret_file = auth_client
        # Admin advertises its own token endpoint unless people log in at the provider (whose endpoint knows
        # nothing of admin's own clients): then a command asks admin's endpoint instead.
        if config.admin.auth.external is None or config.admin.auth.people == "built-in":
            admin.update({"authType": "ClientSecret", "clientId": client_id, "clientSecretLocation": str(secret_file)})
        else:
            token_url = f"http://{_local(config.admin.host)}:{http_port}/oauth2/token"
            command = [str(Path(sys.executable).with_name("flyteplane")), "auth", "token", "--token-url", token_url]
            command += ["--client-id", client_id, "--secret-file", str(secret_file)]
            admin.update({"authType": "ExternalCommand", "command": command})
    client: dict[str, Any] = {"admin": admin, "console": {"endpoint": f"http://{host}:{http_port}"}}
    s3 = config.storage.s3
    if config.storage.default_scheme == "s3":
        connection: dict[str, Any] = {"endpoint": s3.endpoint_url} if s3.endpoint_url else {}
        if s3.access_key_id and s3.secret_access_key:
            connection.update({"access-key": s3.access_key_id, "secret-key": s3.secret_access_key.get_secret_value()})
        client["storage"] = {"type": "s3", "connection": connection}
    path = config.data_dir / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(client, sort_keys=False))
    return path


class Plane:
    """The servers of a running sandbox."""

    def __init__(
        self, admin: Any, propeller: Any, datacatalog: Any, client_config: Path, scheduler: Any = None
    ) -> None:
        self.admin, self.propeller, self.datacatalog = admin, propeller, datacatalog
        self.scheduler = scheduler
        self.client_config = client_config

    async def stop(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.stop()
        await self.admin.stop()
        await self.propeller.stop()
        if self.datacatalog is not None:
            await self.datacatalog.stop()


async def start_plane(config: FlyteplaneConfig) -> Plane:
    from admin.server import start_admin
    from datacatalog.server import start_datacatalog
    from launcher.cache import catalog_endpoint, explainer
    from propeller.server import start_propeller
    from scheduler.server import start_scheduler

    await migrate(config, quiet=True)
    # One registry: admin's /metrics shows every component's instruments.
    registry = MetricsRegistry() if config.admin.http_metrics else None
    datacatalog = await start_datacatalog(config, registry=registry)
    propeller = await start_propeller(config, registry)
    explain = explainer(catalog_endpoint(config, datacatalog.port), await asyncio.to_thread(config.plane_credential))
    admin = await start_admin(config, registry=registry, cache_explainer=explain)
    # The admin address it was given may say port 0 (any free port): the scheduler needs the one it got.
    scheduler = await start_scheduler(
        config, admin_endpoint=f"{_local(config.admin.host)}:{admin.grpc_port}", registry=registry
    )
    auth_client = (
        await default_client_secret(admin.db, config.data_dir.expanduser()) if config.admin.auth.enabled else None
    )
    return Plane(admin, propeller, datacatalog, write_client_config(config, admin.http_port, auth_client), scheduler)


def _local(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else host


async def run(config: FlyteplaneConfig, agent_server: AgentServer | None = None, auth_note: str = "") -> None:
    began = time.monotonic()
    if agent_server is not None:
        # First: it imports flytekit while the plane starts, and the agent plugin asks it what it serves.
        await agent_server.start()
        config = with_agent_server(config, agent_server.endpoint)
    try:
        plane = await start_plane(config)
    except BaseException:
        if agent_server is not None:
            await agent_server.stop()
        raise
    collector.settle()
    ready = time.monotonic() - began
    # Before the banner: a Ctrl-C the moment it appears stops the plane cleanly.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(
        f"flyteplane is running ({ready:.1f}s to healthy)\n"
        f"  admin gRPC   {config.admin.host}:{plane.admin.grpc_port}   (flytekit, flytectl, grpcurl)\n"
        f"  admin HTTP   http://{config.admin.host}:{plane.admin.http_port}\n"
        f"  data         {config.data_dir}\n"
        + (f"  agents       {agent_server.endpoint}   (flytekit's agent server)\n" if agent_server else "")
        + f"  client config {plane.client_config}\n"
        + (f"  {auth_note}\n" if auth_note else "")
        + "\n"
        f"Next:\n  pyflyte --config {plane.client_config} run --remote <your_file.py> <workflow> [--inputs]\n"
        "Stop with Ctrl-C; starting again resumes running executions.",
        flush=True,
    )
    await stop.wait()
    print("stopping ...", flush=True)
    await plane.stop()
    if agent_server is not None:
        await agent_server.stop()


def main(args: Any, base: FlyteplaneConfig) -> int:
    data_dir = Path(args.data_dir) if args.data_dir else base.data_dir
    if getattr(args, "auth", False):
        base = base.model_copy(
            update={
                "admin": base.admin.model_copy(update={"auth": base.admin.auth.model_copy(update={"enabled": True})})
            }
        )
    base = with_default_client_bound(base)
    auth_note = check_exposure(base, getattr(args, "insecure", False))
    check_privileges(base.propeller.plugins.local.isolation)  # refused before anything starts
    if base.admin.auth.enabled and base.propeller.plugins.local.isolation.mode == "off":
        # Not turned on for the user: it needs root, and changes who owns the store's files (see README).
        auth_note += (
            "\n  tasks are not isolated from each other: propeller.plugins.backends.local.isolation.mode: users "
            "runs each project's tasks as a user of its own (needs root)"
        )
    task_env = None if args.no_task_env else ensure_task_environment(data_dir.expanduser() / "task-env")
    config = sandbox_config(
        base, data_dir, database=args.database, storage=args.storage, s3_endpoint=args.s3_endpoint, task_env=task_env
    )
    os.environ.setdefault("FLYTEPLANE_HOME", str(config.data_dir))
    agent_server = None if getattr(args, "no_agent_server", False) else agent_server_for(config)
    asyncio.run(run(config, agent_server, auth_note))
    return 0
