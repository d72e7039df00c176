"""GetOrExtendReservation and ReleaseReservation: one owner at a time, expiry by heartbeat, races decided once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import grpc
from google.protobuf.duration_pb2 import Duration

from flyteidl_py.datacatalog import datacatalog_pb2 as dc
from tests.integration.datacatalog.conftest import RunningCatalog
from tests.integration.datacatalog.helpers import Stub, dataset_id, refused

INVALID = grpc.StatusCode.INVALID_ARGUMENT
RESERVATION = dc.ReservationID(dataset_id=dataset_id(), tag_name="flyte_cached-abc")


def seconds(value: float) -> Duration:
    duration = Duration()
    duration.FromTimedelta(timedelta(seconds=value))
    return duration


async def reserve(
    stub: Stub, owner: str, heartbeat: float = 2.0, reservation: dc.ReservationID = RESERVATION
) -> dc.Reservation:
    response = await stub.GetOrExtendReservation(
        dc.GetOrExtendReservationRequest(
            reservation_id=reservation, owner_id=owner, heartbeat_interval=seconds(heartbeat)
        )
    )
    return response.reservation


async def release(stub: Stub, owner: str) -> None:
    await stub.ReleaseReservation(dc.ReleaseReservationRequest(reservation_id=RESERVATION, owner_id=owner))


async def test_the_first_caller_gets_the_reservation_without_a_dataset_existing(catalog: RunningCatalog) -> None:
    granted = await reserve(catalog.stub, "owner-a", heartbeat=2)
    assert granted.owner_id == "owner-a"
    assert granted.reservation_id == RESERVATION
    assert granted.heartbeat_interval.ToTimedelta() == timedelta(seconds=2)
    assert granted.expires_at.ToDatetime() == catalog.clock.now.replace(tzinfo=None) + timedelta(seconds=6)


async def test_another_owner_is_told_who_holds_it(catalog: RunningCatalog) -> None:
    held = await reserve(catalog.stub, "owner-a")
    answer = await reserve(catalog.stub, "owner-b")
    assert answer.owner_id == "owner-a"
    assert answer.expires_at == held.expires_at


async def test_the_owner_extends_its_reservation(catalog: RunningCatalog) -> None:
    first = await reserve(catalog.stub, "owner-a")
    catalog.clock.advance(4)
    extended = await reserve(catalog.stub, "owner-a")
    assert extended.owner_id == "owner-a"
    assert extended.expires_at.ToDatetime() - first.expires_at.ToDatetime() == timedelta(seconds=4)
    catalog.clock.advance(4)  # past the first expiry, not the extended one
    assert (await reserve(catalog.stub, "owner-b")).owner_id == "owner-a"


async def test_an_expired_reservation_passes_to_the_next_caller(catalog: RunningCatalog) -> None:
    await reserve(catalog.stub, "owner-a", heartbeat=2)
    catalog.clock.advance(5.9)
    assert (await reserve(catalog.stub, "owner-b")).owner_id == "owner-a"
    catalog.clock.advance(0.2)
    assert (await reserve(catalog.stub, "owner-b")).owner_id == "owner-b"
    assert (await reserve(catalog.stub, "owner-a")).owner_id == "owner-b"


async def test_the_heartbeat_is_capped_by_the_configured_maximum(catalog: RunningCatalog) -> None:
    granted = await reserve(catalog.stub, "owner-a", heartbeat=3600)
    assert granted.heartbeat_interval.ToTimedelta() == timedelta(seconds=10)
    assert granted.expires_at.ToDatetime() == catalog.clock.now.replace(tzinfo=None) + timedelta(seconds=30)


async def test_release_frees_the_reservation_for_others(catalog: RunningCatalog) -> None:
    await reserve(catalog.stub, "owner-a")
    await release(catalog.stub, "owner-a")
    assert (await reserve(catalog.stub, "owner-b")).owner_id == "owner-b"


async def test_releasing_someone_elses_or_no_reservation_succeeds_and_changes_nothing(catalog: RunningCatalog) -> None:
    await release(catalog.stub, "owner-a")  # nothing to release
    await reserve(catalog.stub, "owner-a")
    await release(catalog.stub, "owner-b")
    assert (await reserve(catalog.stub, "owner-b")).owner_id == "owner-a"


async def test_reservations_are_per_dataset_and_tag(catalog: RunningCatalog) -> None:
    await reserve(catalog.stub, "owner-a")
    other_tag = dc.ReservationID(dataset_id=dataset_id(), tag_name="flyte_cached-other")
    other_dataset = dc.ReservationID(dataset_id=dataset_id(version="2"), tag_name=RESERVATION.tag_name)
    assert (await reserve(catalog.stub, "owner-b", reservation=other_tag)).owner_id == "owner-b"
    assert (await reserve(catalog.stub, "owner-b", reservation=other_dataset)).owner_id == "owner-b"


async def test_racing_callers_agree_on_exactly_one_owner(catalog: RunningCatalog) -> None:
    owners = [f"owner-{i}" for i in range(12)]
    keys = [dc.ReservationID(dataset_id=dataset_id(), tag_name=f"flyte_cached-{n}") for n in range(4)]
    answers = await asyncio.gather(*(reserve(catalog.stub, owner, reservation=key) for key in keys for owner in owners))
    for index in range(len(keys)):
        round_answers = answers[index * len(owners) : (index + 1) * len(owners)]
        winners = {answer.owner_id for answer in round_answers}
        assert len(winners) == 1, winners
        assert sum(answer.owner_id == owner for answer, owner in zip(round_answers, owners, strict=True)) == 1


async def test_racing_callers_after_expiry_hand_it_to_exactly_one_new_owner(catalog: RunningCatalog) -> None:
    await reserve(catalog.stub, "owner-old")
    catalog.clock.advance(60)
    owners = [f"owner-{i}" for i in range(8)]
    answers = await asyncio.gather(*(reserve(catalog.stub, owner) for owner in owners))
    winners = {answer.owner_id for answer in answers}
    assert len(winners) == 1
    assert winners <= set(owners)


async def test_incomplete_reservation_requests_are_invalid(stub: Stub) -> None:
    async def get(request: dc.GetOrExtendReservationRequest, *fragments: str) -> None:
        await refused(stub.GetOrExtendReservation(request), INVALID, *fragments)

    await get(dc.GetOrExtendReservationRequest(owner_id="o", heartbeat_interval=seconds(1)), "missing reservationID")
    await get(
        dc.GetOrExtendReservationRequest(
            reservation_id=dc.ReservationID(tag_name="t"), owner_id="o", heartbeat_interval=seconds(1)
        ),
        "missing dataset",
    )
    await get(
        dc.GetOrExtendReservationRequest(
            reservation_id=dc.ReservationID(dataset_id=dataset_id()), owner_id="o", heartbeat_interval=seconds(1)
        ),
        "reservation_id.tag_name: missing tagName",
    )
    await get(
        dc.GetOrExtendReservationRequest(reservation_id=RESERVATION, heartbeat_interval=seconds(1)), "missing ownerID"
    )
    await get(dc.GetOrExtendReservationRequest(reservation_id=RESERVATION, owner_id="o"), "missing heartbeatInterval")
    await get(
        dc.GetOrExtendReservationRequest(
            reservation_id=RESERVATION, owner_id="o", heartbeat_interval=Duration(seconds=-1)
        ),
        "heartbeat_interval",
    )
    await refused(stub.ReleaseReservation(dc.ReleaseReservationRequest(reservation_id=RESERVATION)), INVALID, "ownerID")
    await refused(stub.ReleaseReservation(dc.ReleaseReservationRequest(owner_id="o")), INVALID, "reservationID")
    assert (await reserve(stub, "owner-z")).owner_id == "owner-z"  # nothing was reserved by the refusals
