"""The outbox dispatcher: a task in admin's process that sends due messages and retries failed ones with backoff.

Delivery is at least once: a message is deleted only after its receiver accepted it, so one that
was being sent when admin stopped is sent again after the restart. Each poll claims due messages
(leasing them for the length of a send, so admins sharing a database do not send one twice while
both live), sends them concurrently up to `max_concurrent`, each under a timeout, and either
deletes a message or reschedules it `base * 2^(attempts-1)` seconds later (capped at
`max_seconds`). A failing receiver is logged and counted; it never holds up other messages, and
no request of admin ever waits for a delivery.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram

from admin.config import NotificationsConfig
from admin.delivery.senders import Email, SmtpSender, WebhookPost, WebhookSender
from admin.managers.notifications import CHANNELS
from admin.models import OutboxMessage
from admin.repositories import outbox
from flyteplane.database import Database
from flyteplane.logs import log_context

log = logging.getLogger("flyteplane.admin.delivery")

_DELIVERY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)


class DeliveryMetrics:
    """The outbox's instruments, labelled by channel (email, pager_duty, slack, cloud_event)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.delivered = Counter(
            "flyteplane_admin_outbox_delivered_total",
            "Notifications and CloudEvents their receiver accepted.",
            ["channel"],
            registry=registry,
        )
        self.failed = Counter(
            "flyteplane_admin_outbox_failed_attempts_total",
            "Delivery attempts that failed (the message is retried with backoff).",
            ["channel"],
            registry=registry,
        )
        self.dropped = Counter(
            "flyteplane_admin_outbox_dropped_total",
            "Messages given up after admin.notifications.retry.max_attempts failed attempts.",
            ["channel"],
            registry=registry,
        )
        self.latency = Histogram(
            "flyteplane_admin_outbox_delivery_seconds",
            "Time from the phase change that wrote a message to its delivery.",
            ["channel"],
            buckets=_DELIVERY_BUCKETS,
            registry=registry,
        )


def _execution_fields(subject: str) -> dict[str, str]:
    """project, domain and execution of a message's subject ("project/domain/name")."""
    parts = subject.split("/", 2)
    return dict(zip(("project", "domain", "execution"), parts, strict=False)) if len(parts) == 3 else {}


def _utcnow() -> datetime:
    return datetime.now(UTC)


class OutboxDispatcher:
    """Started and stopped with admin's server; see the module docstring."""

    def __init__(
        self,
        db: Database,
        config: NotificationsConfig,
        metrics: DeliveryMetrics,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.db = db
        self.config = config
        self.metrics = metrics
        self.clock = clock
        retry = config.retry
        # E-mail, PagerDuty and Slack-by-e-mail all go through SMTP: a thread for each slot of each.
        self.smtp = SmtpSender(config.smtp, retry.send_timeout_seconds, retry.max_concurrent * 3)
        self.webhooks = WebhookSender(retry.send_timeout_seconds)
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._in_flight_channels: dict[int, str] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-dispatcher")

    async def stop(self) -> None:
        """Stops polling and abandons sends in flight; their messages stay in the outbox for the next start."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        abandoned = list(self._in_flight)
        in_flight = list(self._in_flight.values())
        for task in in_flight:
            task.cancel()
        await asyncio.gather(*in_flight, return_exceptions=True)
        if abandoned:  # give their leases back, so the next start sends them at once
            try:
                async with self.db.session() as session:
                    await outbox.release(session, abandoned, self.clock())
            except Exception:
                log.warning("could not release %d outbox leases; they expire on their own", len(abandoned))
        await self.webhooks.close()
        self.smtp.close()

    # ---- the loop ------------------------------------------------------------------------------

    async def _run(self) -> None:
        poll = self.config.retry.poll_interval_seconds
        while True:
            try:
                await self._dispatch_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database is away: keep the loop alive, try again at the next poll
                log.exception("reading the outbox failed")
            try:
                async with asyncio.timeout(poll):
                    await self._wake.wait()  # a finished delivery frees a slot: look again at once
            except TimeoutError:
                pass
            self._wake.clear()

    async def _dispatch_due(self) -> None:
        # Each channel has its own slots, so a mail server that hangs until every send times out
        # never holds up Slack or the CloudEvents sink (nor the other way round).
        now = self.clock()
        if not await outbox.any_due(self.db, now):
            return
        lease = now + timedelta(seconds=self.config.retry.send_timeout_seconds * 3)
        rows: list[OutboxMessage] = []
        async with self.db.session() as session:
            for channel in CHANNELS:
                busy = sum(1 for c in self._in_flight_channels.values() if c == channel)
                free = self.config.retry.max_concurrent - busy
                if free > 0:
                    rows += await outbox.claim_due(session, channel, now, free, lease, exclude=list(self._in_flight))
        for row in rows:
            task = asyncio.create_task(self._deliver(row), name=f"outbox-{row.id}")
            self._in_flight[row.id] = task
            self._in_flight_channels[row.id] = row.channel
            task.add_done_callback(functools.partial(self._done, row.id))

    def _done(self, message_id: int, _task: asyncio.Task[None]) -> None:
        self._in_flight.pop(message_id, None)
        self._in_flight_channels.pop(message_id, None)
        self._wake.set()  # a slot is free: more may be due

    async def _deliver(self, row: OutboxMessage) -> None:
        # Its lines say whose execution the message is about, as the engine's lines of that execution do.
        with log_context(**_execution_fields(row.subject), channel=row.channel):
            await self._deliver_in_context(row)

    async def _deliver_in_context(self, row: OutboxMessage) -> None:
        try:
            try:
                await self._send(row)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                await self._failed(row, exc)
                return
            async with self.db.session() as session:
                await outbox.remove(session, row.id)
        except asyncio.CancelledError:
            raise
        except Exception:  # recording the outcome failed: the lease runs out and the message is sent again
            log.exception("recording the delivery of %s message %d failed", row.channel, row.id)
            return
        self.metrics.delivered.labels(row.channel).inc()
        self.metrics.latency.labels(row.channel).observe(max(0.0, (self.clock() - row.created_at).total_seconds()))
        log.info(
            "notification sent: %s message %d of %s after %d failed attempts",
            row.channel,
            row.id,
            row.subject,
            row.attempts,
        )

    async def _send(self, row: OutboxMessage) -> None:
        payload = json.loads(row.payload)
        if row.transport == "email":
            await self.smtp.send(Email(list(payload["to"]), str(payload["subject"]), str(payload["body"])))
        elif row.transport == "webhook":
            await self.webhooks.send(
                WebhookPost(str(payload["url"]), str(payload["content_type"]), str(payload["body"]))
            )
        else:
            raise ValueError(f"unknown transport {row.transport!r}")

    async def _failed(self, row: OutboxMessage, exc: Exception) -> None:
        retry = self.config.retry
        attempts = row.attempts + 1
        self.metrics.failed.labels(row.channel).inc()
        async with self.db.session() as session:
            if retry.max_attempts and attempts >= retry.max_attempts:
                await outbox.remove(session, row.id)
                self.metrics.dropped.labels(row.channel).inc()
                log.error(
                    "notification failed: gave up on %s message %d of %s after %d attempts: %s",
                    row.channel,
                    row.id,
                    row.subject,
                    attempts,
                    exc,
                )
                return
            delay = min(retry.base_seconds * 2 ** (attempts - 1), retry.max_seconds)
            await outbox.failed(session, row.id, attempts, self.clock() + timedelta(seconds=delay), str(exc))
        log.warning(
            "notification failed: %s message %d of %s (attempt %d, next in %.1fs): %s",
            row.channel,
            row.id,
            row.subject,
            attempts,
            delay,
            exc,
        )
