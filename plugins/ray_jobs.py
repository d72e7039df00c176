"""The `ray-jobs` backend: `ray` tasks submitted to a running Ray cluster through its Jobs API, without Kubernetes.

The job's entrypoint is the task's own command (`pyflyte-execute ...`, template variables
rendered); flytekitplugins-ray's `ray.init()` inside it then joins the cluster the job runs on.
The submission id is the attempt's generated name, so `handle` is idempotent and a restarted
propeller finds its job: it reads `GET /api/jobs/<id>`, submits only on 404 (a lost race ends in
"already exists", which is fine; a submission Ray answers with 5xx or 429, "try again later", leaves the
attempt waiting for resources and is tried again after a poll interval), and maps the job status:
PENDING -> initializing, RUNNING -> running, SUCCEEDED -> success (propeller then reads
outputs.pb/error.pb), FAILED -> the task's error document if it wrote one, else a retryable system
failure quoting the job's message and log tail, STOPPED -> a retryable system failure.

The runtime environment is the configured one under the task's `RayJob` runtime env, with the
task's environment (`FLYTE_INTERNAL_*`, store endpoints, `PYTHONPATH`) in `env_vars`. The job's
log is copied to `<output prefix>/task.log` and reported as a log link with the dashboard's
job page. A poller per running job calls `ctx.wake()` when its status changes. The task's
environment on the cluster needs flytekit and flytekitplugins-ray.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shlex
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from flyteidl_py.core import errors_pb2, execution_pb2
from flyteplane.errors import NotFound, Unavailable
from flyteplane.storage.task_credentials import CredentialsUnavailable
from plugins.common.background import cancel_and_wait
from plugins.common.command import (
    NO_PREVIOUS_CHECKPOINT,
    container_of,
    flyte_environment,
    local_path,
    render_for_attempt,
    storage_environment,
)
from plugins.common.ray import ray_job, runtime_env_of
from plugins.common.templates import rewrite_dest_dir
from plugins.core import BadTaskDefinition, Phase, TaskExecutionContext, Transition

log = logging.getLogger(__name__)

TASK_TYPES = ("ray",)
LOG_FILE = "task.log"


class RayJobsConfig(BaseModel):
    """`plugins.backends.ray-jobs`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    address: str = Field(default="http://127.0.0.1:8265", description="The Ray dashboard (Jobs API) URL.")
    headers: dict[str, str] = Field(default_factory=dict, description="Sent with every request (e.g. auth).")
    runtime_env: dict[str, Any] = Field(default_factory=dict, description="Under every task's runtime env.")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables of the job.")
    python_path: tuple[str, ...] = Field(default=(), description="PYTHONPATH of the job (paths on the cluster).")
    fast_register_dir: str = Field(
        default="/tmp/flyteplane-ray-jobs", description="Where fast-registered code is unpacked, per attempt."
    )
    entrypoint_num_cpus: float | None = Field(default=None, ge=0)
    request_timeout_seconds: float = Field(default=30.0, gt=0)
    poll_interval_seconds: float = Field(default=1.0, gt=0, description="How often a running job is checked.")
    log_upload_interval_seconds: float = Field(default=5.0, ge=0)
    error_tail_bytes: int = Field(default=4000, ge=0)


@dataclass
class _Poll:
    task: asyncio.Task[None]
    wake: Callable[[], None]


class RayJobsPlugin:
    """Serves `ray` tasks through a Ray cluster's Jobs API; see the module docstring."""

    id = "ray-jobs"
    task_types: tuple[str, ...] = TASK_TYPES

    def __init__(self, config: RayJobsConfig | None = None, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config or RayJobsConfig()
        self._http = httpx.AsyncClient(
            base_url=self.config.address.rstrip("/"),
            headers=self.config.headers,
            timeout=self.config.request_timeout_seconds,
            transport=transport,
        )
        self._polls: dict[str, _Poll] = {}
        self._log_uploads: dict[str, float] = {}

    # -- the Jobs API -------------------------------------------------------------------------------------

    async def _call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        try:
            response = await self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise Unavailable(f"the Ray Jobs API at {self.config.address} did not answer: {exc}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise Unavailable(f"the Ray Jobs API answered {response.status_code}: {response.text[:500]}")
        return response

    async def job(self, submission_id: str) -> dict[str, Any] | None:
        response = await self._call("GET", f"/api/jobs/{submission_id}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        value: dict[str, Any] = response.json()
        return value

    async def _logs(self, submission_id: str) -> str:
        with contextlib.suppress(Unavailable, httpx.HTTPError, ValueError):
            response = await self._call("GET", f"/api/jobs/{submission_id}/logs")
            if response.status_code == 200:
                return str(response.json().get("logs", ""))
        return ""

    # -- the plugin interface -----------------------------------------------------------------------------

    async def handle(self, ctx: TaskExecutionContext) -> Transition:
        submission_id = ctx.generated_name
        details = await self.job(submission_id)
        if details is None:
            try:
                request = await self.submission(ctx)
            except BadTaskDefinition as exc:
                return exc.transition()
            except CredentialsUnavailable as exc:  # never the store's keys instead of the attempt's own
                return Transition.failure("StorageCredentialsUnavailable", str(exc), retryable=True, system=True)
            try:
                response = await self._call("POST", "/api/jobs/", request)
            except Unavailable as exc:
                if exc.__cause__ is not None:  # no answer at all: the round fails, propeller tries again (backoff)
                    raise
                # Ray answered 5xx/429, "try again later" (its job agent not registered yet, or busy): the attempt
                # waits for it rather than failing the round, and is looked at again after a poll interval.
                asyncio.get_running_loop().call_later(self.config.poll_interval_seconds, ctx.wake)
                return Transition(Phase.WAITING_FOR_RESOURCES, reason=f"waiting for Ray to take the job: {exc}")
            if response.status_code >= 400:
                details = await self.job(submission_id)  # "already exists": a concurrent submit won
                if details is None:
                    message = f"the Ray Jobs API refused the job: {response.status_code} {response.text[:1000]}"
                    return Transition.failure("RayJobRefused", message, retryable=False, system=True)
            else:
                details = await self.job(submission_id) or {"status": "PENDING"}
        return await self._phase(ctx, submission_id, details)

    async def abort(self, ctx: TaskExecutionContext) -> None:
        self._stop_poll(ctx.generated_name)
        with contextlib.suppress(httpx.HTTPError):
            response = await self._call("POST", f"/api/jobs/{ctx.generated_name}/stop")
            if response.status_code not in (200, 404):
                response.raise_for_status()
        await self._upload_log(ctx, force=True)

    async def finalize(self, ctx: TaskExecutionContext) -> None:
        self._stop_poll(ctx.generated_name)
        details = await self.job(ctx.generated_name)
        if details is not None and details.get("status") in ("PENDING", "RUNNING"):
            await self._call("POST", f"/api/jobs/{ctx.generated_name}/stop")
        await self._upload_log(ctx, force=True)
        self._log_uploads.pop(ctx.generated_name, None)

    async def aclose(self) -> None:
        polls = list(self._polls.values())
        self._polls.clear()
        await cancel_and_wait(poll.task for poll in polls)
        await self._http.aclose()

    # -- submitting ---------------------------------------------------------------------------------------

    async def submission(self, ctx: TaskExecutionContext) -> dict[str, Any]:
        """The Jobs API request for this attempt."""
        job = ray_job(ctx)
        container = container_of(ctx.template)
        if container is None:
            raise BadTaskDefinition("a ray task needs a container whose command becomes the job's entrypoint")
        command = [*container.command, *container.args]
        argv = await render_for_attempt(
            ctx, command, namespace="", path=local_path, no_previous_checkpoint=NO_PREVIOUS_CHECKPOINT
        )
        if not argv:
            raise BadTaskDefinition("the ray task's container has neither command nor args")
        dest = f"{self.config.fast_register_dir.rstrip('/')}/{ctx.generated_name}"
        rewritten = rewrite_dest_dir(argv, dest)
        # pyflyte-fast-execute unpacks the code bundle into an existing directory on the node the job runs on.
        prefix = f"mkdir -p {shlex.quote(dest)} && " if rewritten != argv else ""
        argv = rewritten
        paths = ctx.paths
        env = storage_environment(
            ctx.storage.config,
            [paths.inputs, paths.output_prefix, paths.raw_output_prefix, *argv],
            scoped=ctx.scoped_storage_credentials,
        )
        env.update(self.config.env)
        env.update({pair.key: pair.value for pair in container.env})
        env.update(flyte_environment(ctx))
        env.update(ctx.environment)
        credentials = await ctx.read_storage_credentials()  # the attempt's own, when the store scopes them
        if credentials is not None:
            env.update(credentials.environment())
        env["PYTHONUNBUFFERED"] = "1"
        if self.config.python_path:
            env["PYTHONPATH"] = os.pathsep.join(self.config.python_path)
        runtime_env = {**self.config.runtime_env, **runtime_env_of(job)}
        runtime_env["env_vars"] = {**(runtime_env.get("env_vars") or {}), **env}
        execution = ctx.task_execution_id.node_execution_id.execution_id
        request: dict[str, Any] = {
            "entrypoint": prefix + " ".join(_shell_word(a) for a in argv),
            "submission_id": ctx.generated_name,
            "runtime_env": runtime_env,
            "metadata": {
                "flyte-project": execution.project,
                "flyte-domain": execution.domain,
                "flyte-execution": execution.name,
                "flyte-node": ctx.task_execution_id.node_execution_id.node_id,
                "flyte-task": ctx.task_execution_id.task_id.name,
                "flyte-attempt": str(ctx.attempt),
            },
        }
        if self.config.entrypoint_num_cpus is not None:
            request["entrypoint_num_cpus"] = self.config.entrypoint_num_cpus
        return request

    # -- observing ----------------------------------------------------------------------------------------

    def _links(self, ctx: TaskExecutionContext, submission_id: str) -> list[execution_pb2.TaskLog]:
        return [
            execution_pb2.TaskLog(uri=ctx.storage.join(ctx.paths.output_prefix, LOG_FILE), name="Ray job log"),
            execution_pb2.TaskLog(
                uri=f"{self.config.address.rstrip('/')}/#/jobs/{submission_id}", name="Ray dashboard"
            ),
        ]

    async def _phase(self, ctx: TaskExecutionContext, submission_id: str, details: Mapping[str, Any]) -> Transition:
        status = str(details.get("status", ""))
        info = {k: details[k] for k in ("job_id", "submission_id", "start_time", "end_time") if details.get(k)}
        common: dict[str, Any] = {"logs": self._links(ctx, submission_id), "custom_info": info}
        if status in ("PENDING", "RUNNING"):
            self._poll(ctx, submission_id, status)
            await self._upload_log(ctx, force=False)
            phase = Phase.INITIALIZING if status == "PENDING" else Phase.RUNNING
            return Transition(phase, reason=f"Ray job {status.lower()}", **common)
        self._stop_poll(submission_id)
        await self._upload_log(ctx, force=True)
        if status == "SUCCEEDED":
            return Transition(Phase.SUCCESS, reason="Ray job succeeded", **common)
        document = await self._error_document(ctx)
        if document is not None:
            error = document.error
            retryable = error.kind == errors_pb2.ContainerError.RECOVERABLE
            system = error.origin == execution_pb2.ExecutionError.SYSTEM
            return Transition.failure(error.code, error.message, retryable=retryable, system=system, **common)
        tail = (await self._logs(submission_id))[-self.config.error_tail_bytes :]
        message = f"Ray job {submission_id} {status.lower()}: {details.get('message', '')}\n{tail}".rstrip()
        code = "RayJobStopped" if status == "STOPPED" else "RayJobFailed"
        return Transition.failure(code, message, retryable=True, system=True, **common)

    async def _error_document(self, ctx: TaskExecutionContext) -> errors_pb2.ErrorDocument | None:
        try:
            return await ctx.storage.read_proto(ctx.paths.error, errors_pb2.ErrorDocument)
        except NotFound:
            return None

    async def _upload_log(self, ctx: TaskExecutionContext, *, force: bool) -> None:
        now = time.monotonic()
        last = self._log_uploads.get(ctx.generated_name)
        if not force and last is not None and now - last < self.config.log_upload_interval_seconds:
            return
        text = await self._logs(ctx.generated_name)
        if text or force:
            await ctx.storage.write(ctx.storage.join(ctx.paths.output_prefix, LOG_FILE), text.encode())
        self._log_uploads[ctx.generated_name] = now

    def _poll(self, ctx: TaskExecutionContext, submission_id: str, status: str) -> None:
        """Calls the latest `ctx.wake` once the job's status is no longer `status`."""
        current = self._polls.get(submission_id)
        if current is not None and not current.task.done():
            current.wake = ctx.wake
            return

        async def watch() -> None:
            while True:
                await asyncio.sleep(self.config.poll_interval_seconds)
                try:
                    details = await self.job(submission_id)
                except (Unavailable, httpx.HTTPError) as exc:
                    log.debug("polling Ray job %s: %s", submission_id, exc)
                    continue
                if details is None or details.get("status") != status:
                    poll = self._polls.pop(submission_id, None)
                    if poll is not None:
                        poll.wake()
                    return

        self._polls[submission_id] = _Poll(asyncio.create_task(watch(), name=f"ray-job-{submission_id}"), ctx.wake)

    def _stop_poll(self, submission_id: str) -> None:
        poll = self._polls.pop(submission_id, None)
        if poll is not None and asyncio.current_task() is not poll.task:
            poll.task.cancel()


def _shell_word(arg: str) -> str:
    """One argument for the job's shell: Flyte's `""` (no previous checkpoint) stays an empty word."""
    return '""' if arg == '""' else shlex.quote(arg)


def create(config: Mapping[str, Any]) -> RayJobsPlugin:
    """The factory the registry calls with `plugins.backends.ray-jobs` (a `RayJobsConfig`)."""
    return RayJobsPlugin(RayJobsConfig.model_validate(dict(config)))
