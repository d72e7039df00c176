"""The scheduler's loop: while it holds the lease, fire every due tick of every active schedule through admin.

Reading schedules: through admin's gRPC schedule feed (flyteplane.schedules.v1.ScheduleService), not
admin's tables. Admin owns launch plans and their activation; reading its tables would tie the
scheduler to admin's schema and migrations, and the feed lets it run as its own process against any
admin replica. The feed is polled every `poll_seconds` (0.5 s) and answers "unchanged" cheaply, so an
activation, deactivation or replaced version takes effect within a second.

Firing: each tick becomes one CreateExecution with a name derived from (launch plan version, tick)
(`scheduler.ticks`), mode SCHEDULED and scheduled_at = the tick; admin merges the launch plan's
default and fixed inputs. ALREADY_EXISTS means the execution is there (a retry, or another
scheduler fired it): the tick is done. A transient failure (admin unreachable, overloaded) leaves the
tick due and retries it with backoff; any other refusal is logged and the tick skipped, so one broken
launch plan never stops the others. Ticks of one schedule go in order; schedules fire concurrently.
After each tick admin has, the tick is recorded in the scheduler's database: that record is what
catch-up starts from after downtime (the rule and its limit: `scheduler.ticks`).

Electing the active scheduler: a lease row in the scheduler's own database, renewed every third of
`lease_seconds` (5 s). A scheduler that dies or is cut off stops renewing; another one takes the lease
once it expired, reloads the recorded ticks and catches up from them. A holder fires only while its
lease is certainly still its own (it counts the lease from before its renewal was sent). Clocks of
the schedulers' hosts must agree to well within `lease_seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import grpc
from prometheus_client import CollectorRegistry, Counter, Histogram

from flyteidl_py.admin import execution_pb2
from flyteidl_py.core import identifier_pb2
from flyteidl_py.flyteplane.schedules.v1 import schedules_pb2
from flyteplane.database import utcnow
from flyteplane.errors import InvalidArgument
from flyteplane.logs import log_context
from flyteplane.rpc import TRANSIENT_CODES
from flyteplane.schedules import Cadence, cadence
from flyteplane.tracing import execution_span
from scheduler.admin_client import AdminClient
from scheduler.config import SchedulerConfig
from scheduler.store import SchedulerStore, VersionKey, version_key
from scheduler.ticks import catch_up_from, due_ticks, execution_request

log = logging.getLogger("flyteplane.scheduler")

_MAX_BACKOFF_SECONDS = 30.0
_FEED_TIMEOUT_SECONDS = 5.0


class SchedulerMetrics:
    """Firings by outcome, and how late after its tick each execution was created."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.firings = Counter(
            "flyteplane_scheduler_firings_total",
            "Ticks fired, by admin's answer: created, already_exists (fired before), refused (tick skipped), "
            "retried (transient failure; the tick stays due), failed (no answer; retried).",
            ["outcome"],
            registry=registry,
        )
        self.lag = Histogram(
            "flyteplane_scheduler_firing_lag_seconds",
            "Time from a tick to admin's acceptance of its execution.",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600),
            registry=registry,
        )


def default_owner() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass
class Job:
    """One active launch plan version's schedule, and how far it has fired."""

    ident: identifier_pb2.Identifier
    cadence: Cadence
    kickoff_time_input_arg: str
    active_since: datetime
    after: datetime  # ticks strictly after this are due once their time has come
    failures: int = 0
    retry_at: float = 0.0  # monotonic; after a transient failure
    running: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def key(self) -> VersionKey:
        return version_key(self.ident)


class Scheduler:
    def __init__(
        self,
        store: SchedulerStore,
        admin: AdminClient,
        settings: SchedulerConfig,
        *,
        clock: Callable[[], datetime] = utcnow,
        metrics: SchedulerMetrics | None = None,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.admin = admin
        self.settings = settings
        self.clock = clock
        self.jobs: dict[VersionKey, Job] = {}
        self._fired: dict[VersionKey, datetime] = {}
        self._revision = ""
        self._polled_at = 0.0  # monotonic: when the schedule feed was last read
        self._feed_failing = False  # logged once when admin stops answering, once when it answers again
        self._leader_until = 0.0  # monotonic: until when the lease is certainly ours
        self._reload = asyncio.Event()  # set when the lease was (re)gained: re-read recorded ticks and schedules
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    @property
    def leading(self) -> bool:
        return time.monotonic() < self._leader_until

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._lease_loop(), name="scheduler-lease"),
            asyncio.create_task(self._schedule_loop(), name="scheduler-loop"),
        ]

    async def stop(self) -> None:
        self._stopping = True
        was_leading = self.leading
        self._leader_until = 0.0
        running = [job.running for job in self.jobs.values() if job.running is not None]
        for task in [*self._tasks, *running]:
            task.cancel()
        await asyncio.gather(*self._tasks, *running, return_exceptions=True)
        if was_leading:
            try:
                await self.store.release_lease()
            except Exception:
                log.warning("could not release the scheduler lease; another scheduler takes over when it expires")

    # ---- leadership -----------------------------------------------------------------------------

    async def _lease_loop(self) -> None:
        seconds = self.settings.lease_seconds
        while not self._stopping:
            began = time.monotonic()
            try:
                held = await self.store.hold_lease(seconds)
            except Exception as exc:
                log.warning("scheduler lease not renewed: %s", exc)
                held = False
            if held:
                if not self.leading:
                    log.info("scheduler %s is the active scheduler", self.store.owner)
                    self._reload.set()
                    self._wake.set()
                # Counted from before the renewal was sent, with a margin: never later than the row says.
                self._leader_until = began + seconds * 0.9
            elif self._leader_until:
                if self.leading:
                    log.warning("scheduler %s lost the lease; it stops firing", self.store.owner)
                self._leader_until = 0.0
            await asyncio.sleep(max(0.05, seconds / 3 - (time.monotonic() - began)))

    # ---- the schedule loop ----------------------------------------------------------------------

    async def _schedule_loop(self) -> None:
        while not self._stopping:
            try:
                await self._round()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduler round failed; retrying")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._sleep_seconds())

    async def _round(self) -> None:
        if not self.leading:
            return
        if self._reload.is_set():
            self._reload.clear()
            self._fired = await self.store.fired_ticks()
            self._revision, self._polled_at = "", 0.0
            for job in self.jobs.values():  # another scheduler may have fired ticks meanwhile
                job.after = catch_up_from(job.active_since, self._fired.get(job.key))
        if time.monotonic() - self._polled_at >= self.settings.poll_seconds:
            self._polled_at = time.monotonic()
            await self._refresh()
        now, monotonic = self.clock(), time.monotonic()
        for job in self.jobs.values():
            if job.running is None and job.retry_at <= monotonic and job.cadence.next_after(job.after) <= now:
                job.running = asyncio.create_task(self._fire(job), name=f"scheduler-fire-{job.ident.name}")

    async def _refresh(self) -> None:
        try:
            feed = await asyncio.wait_for(self.admin.list_schedules(self._revision), _FEED_TIMEOUT_SECONDS)
        except (grpc.aio.AioRpcError, TimeoutError) as exc:
            if not self._feed_failing:
                detail = exc.details() if isinstance(exc, grpc.aio.AioRpcError) else "timed out"
                log.warning("cannot read the schedules from admin (%s); firing those known", detail)
            self._feed_failing = True
            return
        if self._feed_failing:
            log.info("admin answers the schedule feed again")
            self._feed_failing = False
        if feed.unchanged:
            return
        self._revision = feed.revision
        jobs: dict[VersionKey, Job] = {}
        for entry in feed.schedules:
            job = self._job(entry)
            if job is not None:
                jobs[job.key] = job
        for key, job in self.jobs.items():
            if key not in jobs and job.running is not None:
                job.running.cancel()  # deactivated: its remaining ticks are not fired
        if set(jobs) != set(self.jobs):
            log.info("scheduler: %d active schedule(s)", len(jobs))
        self.jobs = jobs

    def _job(self, entry: schedules_pb2.ScheduledLaunchPlan) -> Job | None:
        key = version_key(entry.id)
        active_since = entry.active_since.ToDatetime(tzinfo=UTC).replace(microsecond=0)
        known = self.jobs.get(key)
        if known is not None and known.active_since == active_since:
            return known
        try:
            when = cadence(entry.schedule)
        except InvalidArgument as exc:
            log.error("launch plan %s has a schedule that cannot fire: %s", _name(entry.id), exc)
            return None
        if when is None:
            return None
        after = catch_up_from(active_since, self._fired.get(key))
        return Job(entry.id, when, entry.schedule.kickoff_time_input_arg, active_since, after)

    def _sleep_seconds(self) -> float:
        """Until the next poll of the feed, or the next tick due (or retry) of an idle job if that is sooner."""
        sleep = self.settings.poll_seconds - (time.monotonic() - self._polled_at)
        if self.leading:
            now, monotonic = self.clock(), time.monotonic()
            for job in self.jobs.values():
                if job.running is None:
                    due = (job.cadence.next_after(job.after) - now).total_seconds()
                    sleep = min(sleep, max(due, job.retry_at - monotonic))
        return max(sleep, 0.005)

    async def _fire(self, job: Job) -> None:
        try:
            await self._fire_due(job)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("firing %s failed; retrying", _name(job.ident))
            self._back_off(job)
        finally:
            job.running = None
            self._wake.set()

    async def _fire_due(self, job: Job) -> None:
        due = due_ticks(job.cadence, job.after, self.clock(), self.settings.max_catchup_ticks)
        if due.skipped:
            log.warning(
                "%s: %d missed tick(s) before %s not caught up (max_catchup_ticks=%d)",
                _name(job.ident),
                due.skipped,
                due.ticks[0].isoformat(),
                self.settings.max_catchup_ticks,
            )
        for tick in due.ticks:
            if not self.leading or self.jobs.get(job.key) is not job:
                return
            request = execution_request(job.ident, tick, job.kickoff_time_input_arg)
            # The firing's lines say which execution it makes, as the engine's lines of that execution do.
            with log_context(project=request.project, domain=request.domain, execution=request.name):
                if not await self._fire_tick(job, tick, request):
                    return
            await self.store.record_tick(job.key, tick)
            job.after, job.failures, job.retry_at = tick, 0, 0.0
            self._fired[job.key] = tick

    async def _fire_tick(self, job: Job, tick: datetime, request: execution_pb2.ExecutionCreateRequest) -> bool:
        """CreateExecution for one tick; False when the tick stays due (a transient failure: retried later)."""
        attributes = {
            "flyte.project": request.project,
            "flyte.domain": request.domain,
            "flyte.execution": request.name,
            "flyte.launch_plan": job.ident.name,
            "flyte.launch_plan_version": job.ident.version,
        }
        outcome = "failed"  # not an answer from admin: the error propagates and the tick is retried
        try:
            # CreateExecution, and so the execution, joins its trace: the one derived from the execution's id.
            with execution_span("scheduler fire", request.project, request.domain, request.name, attributes):
                async with self._slots:
                    await self.admin.create_execution(request)
            outcome = "created"
            lag = (self.clock() - tick).total_seconds()
            if self.metrics is not None:
                self.metrics.lag.observe(max(0.0, lag))
            log.info("scheduler fired %s for tick %s (%.3fs after it)", _name(job.ident), tick.isoformat(), lag)
        except grpc.aio.AioRpcError as error:
            code = error.code()
            if code in TRANSIENT_CODES:  # the tick stays due and is retried
                outcome = "retried"
                log.warning("%s tick %s: admin %s (%s); retrying", _name(job.ident), tick, code.name, error.details())
                self._back_off(job)
            elif code == grpc.StatusCode.ALREADY_EXISTS:
                outcome = "already_exists"
                log.debug("scheduler tick %s of %s was fired before", tick.isoformat(), _name(job.ident))
            else:
                outcome = "refused"
                log.error(
                    "%s tick %s refused by admin: %s %s; tick skipped",
                    _name(job.ident),
                    tick.isoformat(),
                    code.name,
                    error.details(),
                )
        finally:
            if self.metrics is not None:
                self.metrics.firings.labels(outcome).inc()
        return outcome != "retried"

    def _back_off(self, job: Job) -> None:
        job.failures += 1
        job.retry_at = time.monotonic() + min(_MAX_BACKOFF_SECONDS, 0.5 * 2 ** (job.failures - 1))


def _name(ident: identifier_pb2.Identifier) -> str:
    return f"{ident.project}/{ident.domain}/{ident.name}@{ident.version}"
