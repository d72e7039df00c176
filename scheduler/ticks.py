"""Which ticks of a schedule are due, and the execution each one becomes: its deterministic name and request.

Catch-up (Flyte's native scheduler's rule, flyteadmin/scheduler): a schedule fires every tick after
the later of (a) the time its launch plan version was activated and (b) the last tick recorded as
fired for that version, up to now. So after the scheduler was down (or no scheduler held the lease),
every tick missed in between is fired, oldest first, as soon as it is back; a version deactivated
during the downtime catches up nothing (only active versions are fired), and one activated during it
catches up from its activation. Flyte records fired ticks in a snapshot every 30 s and re-fires the
rest (admin answers ALREADY_EXISTS); this scheduler records each tick once admin has its execution.
The limit: at most `max_catchup_ticks` (default 1000) ticks per schedule and recovery, the latest
ones; earlier missed ticks are skipped with a warning (Flyte has no limit and would fire a week of
one-minute ticks, 10,080 executions, at once).

Names: Flyte's, so a tick fired by this scheduler, a second one or a retry is the same execution —
"f" + the first 19 hex digits of a UUID whose first 8 bytes are the little-endian FNV-1 64-bit hash
of "project:domain:name:version:<tick in Unix seconds>" (20 characters, within admin's name rule).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from flyteidl_py.admin import execution_pb2
from flyteidl_py.core import identifier_pb2, literals_pb2
from flyteplane.schedules import Cadence

_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_MASK = (1 << 64) - 1


def _fnv1_64(data: bytes) -> int:
    value = _FNV_OFFSET
    for byte in data:
        value = ((value * _FNV_PRIME) & _MASK) ^ byte
    return value


def execution_name(launch_plan: identifier_pb2.Identifier, tick: datetime) -> str:
    """The name of the execution for `tick` of `launch_plan` (the one Flyte's native scheduler gives it)."""
    key = f"{launch_plan.project}:{launch_plan.domain}:{launch_plan.name}:{launch_plan.version}:{int(tick.timestamp())}"
    uuid_bytes = _fnv1_64(key.encode()).to_bytes(8, "little") + bytes(8)
    return "f" + uuid_bytes.hex()[:19]


@dataclass(frozen=True)
class Due:
    """The ticks to fire now, oldest first, and how many older missed ticks the catch-up limit skipped."""

    ticks: list[datetime]
    skipped: int


def ticks_after(cadence: Cadence, start: datetime) -> Iterator[datetime]:
    """Every tick strictly after `start`, in order."""
    tick = cadence.next_after(start)
    while True:
        yield tick
        tick = cadence.next_after(tick)


def catch_up_from(active_since: datetime, last_fired: datetime | None) -> datetime:
    """Where a schedule's ticks start: after its activation, and after the last tick it fired (Flyte's rule)."""
    return active_since if last_fired is None or last_fired < active_since else last_fired


def due_ticks(cadence: Cadence, start: datetime, now: datetime, limit: int = 0) -> Due:
    """The ticks in (start, now], at most the latest `limit` of them (0: all)."""
    due: list[datetime] = []
    skipped = 0
    for tick in ticks_after(cadence, start):
        if tick > now:
            break
        due.append(tick)
        if limit and len(due) > limit:
            due.pop(0)
            skipped += 1
    return Due(due, skipped)


def execution_request(
    launch_plan: identifier_pb2.Identifier, tick: datetime, kickoff_time_input_arg: str
) -> execution_pb2.ExecutionCreateRequest:
    """CreateExecution for one tick: mode SCHEDULED, scheduled_at the tick, the kickoff input set to it.

    Admin fills in the launch plan's default and fixed inputs. (Flyte's native scheduler sets the kickoff
    input for cron schedules only; here fixed rates get it too, since flytekit lets them declare one.)
    """
    at = Timestamp()
    at.FromDatetime(tick.astimezone(UTC))
    inputs = literals_pb2.LiteralMap()
    if kickoff_time_input_arg:
        inputs.literals[kickoff_time_input_arg].scalar.primitive.datetime.CopyFrom(at)
    target = identifier_pb2.Identifier()
    target.CopyFrom(launch_plan)
    target.resource_type = identifier_pb2.LAUNCH_PLAN
    return execution_pb2.ExecutionCreateRequest(
        project=launch_plan.project,
        domain=launch_plan.domain,
        name=execution_name(launch_plan, tick),
        org=launch_plan.org,
        spec=execution_pb2.ExecutionSpec(
            launch_plan=target,
            metadata=execution_pb2.ExecutionMetadata(mode=execution_pb2.ExecutionMetadata.SCHEDULED, scheduled_at=at),
        ),
        inputs=inputs,
    )
