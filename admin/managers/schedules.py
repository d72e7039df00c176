"""The schedule feed (flyteplane's ScheduleService): the active launch plan versions with a schedule, for the scheduler.

The scheduler polls this about twice a second so that an activation takes effect within a second;
an unchanged set is answered from one narrow query (ids and update times) without reading a spec.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from admin.managers.context import AdminContext
from admin.repositories import entities
from flyteidl_py.admin import launch_plan_pb2
from flyteidl_py.core import identifier_pb2
from flyteidl_py.flyteplane.schedules.v1 import schedules_pb2


def _revision(versions: Iterable[tuple[int, datetime]]) -> str:
    # Activation, deactivation and replacing a version each change an id or an update time in the set.
    digest = hashlib.sha256()
    for ident, updated_at in versions:
        digest.update(f"{ident}@{updated_at.isoformat()};".encode())
    return digest.hexdigest()[:32]


class ScheduleFeed:
    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx

    async def list_schedules(self, request: schedules_pb2.ListSchedulesRequest) -> schedules_pb2.ListSchedulesResponse:
        revision = _revision(await entities.active_schedule_versions(self.ctx.db))
        if request.known_revision and request.known_revision == revision:
            return schedules_pb2.ListSchedulesResponse(revision=revision, unchanged=True)
        async with self.ctx.db.session() as session:
            rows = await entities.active_scheduled_launch_plans(session)
        response = schedules_pb2.ListSchedulesResponse(
            revision=_revision(sorted((row.id, row.updated_at) for row in rows))
        )
        for row in rows:
            active_since = Timestamp()
            active_since.FromDatetime(row.updated_at)
            response.schedules.add(
                id=identifier_pb2.Identifier(
                    resource_type=identifier_pb2.LAUNCH_PLAN,
                    project=row.project,
                    domain=row.domain,
                    name=row.name,
                    version=row.version,
                    org=row.org,
                ),
                schedule=launch_plan_pb2.LaunchPlanSpec.FromString(row.spec).entity_metadata.schedule,
                active_since=active_since,
            )
        return response
