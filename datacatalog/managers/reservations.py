"""GetOrExtendReservation and ReleaseReservation: at most one owner computes an artifact at a time.

The granted heartbeat is the caller's, capped by `max_reservation_heartbeat_seconds`; the
reservation expires `heartbeat x heartbeat_grace_period_multiplier` after each call. The owner
(or anyone, once it has expired) takes it with one conditional UPDATE; otherwise an INSERT
creates it, and when that loses a race the caller is told who won. The answer always carries the
current owner: callers compare it with their own id, as propeller does.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from datacatalog import transform, validation
from datacatalog.managers.context import CatalogManager
from datacatalog.repositories import reservations
from flyteidl_py.datacatalog import datacatalog_pb2 as dc
from flyteplane.errors import Aborted, AlreadyExists

log = logging.getLogger("flyteplane.datacatalog")

# A row that keeps appearing and vanishing under us (others releasing and taking) is retried this often.
_ATTEMPTS = 5


class ReservationManager(CatalogManager):
    async def get_or_extend(self, request: dc.GetOrExtendReservationRequest) -> dc.GetOrExtendReservationResponse:
        key = validation.reservation_key(request)
        owner_id = validation.owner_id(request.owner_id)
        requested = validation.heartbeat_seconds(request)
        config = self.ctx.config
        heartbeat = timedelta(seconds=min(requested, config.max_reservation_heartbeat_seconds))
        for _ in range(_ATTEMPTS):
            now = self.ctx.clock()
            expires_at = now + heartbeat * config.heartbeat_grace_period_multiplier
            granted = dc.GetOrExtendReservationResponse(
                reservation=transform.reservation(key, owner_id, expires_at, heartbeat)
            )
            async with self.ctx.db.session() as session:
                if await reservations.take_over(session, key, owner_id, expires_at, now):
                    return granted
            try:
                async with self.ctx.db.session() as session:
                    await reservations.create(session, key, owner_id, expires_at, now)
                return granted
            except AlreadyExists:
                pass
            async with self.ctx.db.session() as session:
                current = await reservations.find(session, key)
            if current is not None and current.owner_id != owner_id and current.expires_at >= now:
                held = transform.reservation(key, current.owner_id, current.expires_at, heartbeat)
                return dc.GetOrExtendReservationResponse(reservation=held)
            # Released, expired or ours meanwhile: go round and take it.
        raise Aborted("the reservation changed hands too often to settle; retry", field="reservation_id")

    async def release(self, request: dc.ReleaseReservationRequest) -> dc.ReleaseReservationResponse:
        key = validation.reservation_key(request)
        owner_id = validation.owner_id(request.owner_id)
        async with self.ctx.db.session() as session:
            released = await reservations.release(session, key, owner_id)
        if not released:
            # Flyte treats releasing a reservation one does not hold (or that is gone) as done.
            log.debug("release of %s by %s: not held by them", key, owner_id)
        return dc.ReleaseReservationResponse()
