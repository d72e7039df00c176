"""Request validation: every rule that can refuse a request before anything is read or written.

Messages follow Flyte's datacatalog ("missing %s", "invalid value for %s, value:[%s]"); the
error's `field` is the offending field's path in the request, so the wire message reads e.g.
`dataset.project: missing project`. Lengths are capped (in UTF-8 bytes) so that every key fits
the database's unique indexes on both SQLite and PostgreSQL; PostgreSQL text cannot hold NUL.
"""

from __future__ import annotations

from collections.abc import Sequence

from datacatalog.keys import ArtifactHandle, DatasetKey, ReservationKey
from flyteidl_py.datacatalog import datacatalog_pb2 as dc
from flyteplane.errors import InvalidArgument

SHORT_TEXT_BYTES = 128  # project, domain, org
TEXT_BYTES = 512  # names, versions, ids, tags, partition keys and values, owners


def missing(field: str, label: str | None = None) -> InvalidArgument:
    return InvalidArgument(f"missing {label or field.rsplit('.', 1)[-1]}", field=field)


def invalid(field: str, value: str, why: str = "") -> InvalidArgument:
    shown = value if len(value) <= 64 else value[:64] + "..."
    suffix = f" ({why})" if why else ""
    return InvalidArgument(f"invalid value for {field.rsplit('.', 1)[-1]}, value:[{shown}]{suffix}", field=field)


def text(value: str, field: str, *, label: str | None = None, required: bool = True, limit: int = TEXT_BYTES) -> str:
    """A string field: present when required, without NUL, at most `limit` bytes of UTF-8."""
    if not value:
        if required:
            raise missing(field, label)
        return value
    if "\x00" in value:
        raise invalid(field, value.replace("\x00", "\\0"), "NUL character")
    if len(value.encode()) > limit:
        raise invalid(field, value, f"longer than {limit} bytes")
    return value


def identifier(value: str, field: str, *, required: bool = True, limit: int = TEXT_BYTES) -> str:
    """A part of a dataset's identity, which also names its data in the object store: a `text` without
    control characters (a CR/LF would split log lines and headers) and that is not `.` or `..`, nor
    holds such a path segment."""
    text(value, field, required=required, limit=limit)
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise invalid(field, value.encode("unicode_escape").decode(), "control character")
    if any(segment in (".", "..") for segment in value.split("/")):
        raise invalid(field, value, "'.' and '..' are not names")
    return value


def dataset_key(message: dc.DatasetID, field: str, *, present: bool = True) -> DatasetKey:
    """The dataset id's key; all of project, domain, name and version are required (org is optional)."""
    if not present:
        raise missing(field, "dataset")
    return DatasetKey(
        project=identifier(message.project, f"{field}.project", limit=SHORT_TEXT_BYTES),
        domain=identifier(message.domain, f"{field}.domain", limit=SHORT_TEXT_BYTES),
        name=identifier(message.name, f"{field}.name"),
        version=identifier(message.version, f"{field}.version"),
        org=identifier(message.org, f"{field}.org", required=False, limit=SHORT_TEXT_BYTES),
    )


def partition_keys(keys: Sequence[str], field: str) -> list[str]:
    """A dataset's partition key names: each present and distinct."""
    seen: set[str] = set()
    for index, key in enumerate(keys):
        text(key, f"{field}[{index}]", label="partitionKey")
        if key in seen:
            raise invalid(f"{field}[{index}]", key, "partition keys are not unique")
        seen.add(key)
    return list(keys)


def partitions(values: Sequence[dc.Partition], dataset_keys: Sequence[str], field: str) -> list[tuple[str, str]]:
    """An artifact's partition values: exactly one non-empty value for each of the dataset's keys."""
    pairs: list[tuple[str, str]] = []
    for index, partition in enumerate(values):
        pairs.append(
            (
                text(partition.key, f"{field}[{index}].key", label="partitionKey"),
                text(partition.value, f"{field}[{index}].value", label="partitionValue"),
            )
        )
    given = [key for key, _ in pairs]
    if len(given) != len(dataset_keys) or set(given) != set(dataset_keys) or len(set(given)) != len(given):
        raise InvalidArgument(
            f"Partition key mismatch, dataset keys: {list(dataset_keys)}, artifact partitions: {given}", field=field
        )
    return pairs


def artifact_data(values: Sequence[dc.ArtifactData], field: str) -> list[dc.ArtifactData]:
    """An artifact's data: at least one entry, each with a distinct non-empty name and a value."""
    if not values:
        raise missing(field, "artifactData")
    seen: set[str] = set()
    for index, data in enumerate(values):
        text(data.name, f"{field}[{index}].name", label="artifactData name")
        if data.name in seen:
            raise invalid(f"{field}[{index}].name", data.name, "artifact data names are not unique")
        seen.add(data.name)
        if not data.HasField("value"):
            raise missing(f"{field}[{index}].value", "artifactData value")
    return list(values)


def metadata(message: dc.Metadata, field: str) -> dc.Metadata:
    for key, value in message.key_map.items():
        text(key, f"{field}.key_map", label="metadata key")
        text(value, f"{field}.key_map[{key}]", required=False, limit=64 * 1024)
    return message


def artifact_handle(request: dc.GetArtifactRequest | dc.UpdateArtifactRequest) -> tuple[DatasetKey, ArtifactHandle]:
    """The dataset and the artifact id or tag name a Get/UpdateArtifact request names."""
    which = request.WhichOneof("query_handle")
    if which is None:
        raise missing("query_handle", "one of artifactID/tagName")
    key = dataset_key(request.dataset, "dataset", present=request.HasField("dataset"))
    if which == "artifact_id":
        return key, ArtifactHandle(artifact_id=text(request.artifact_id, "artifact_id", label="artifactID"))
    return key, ArtifactHandle(tag_name=text(request.tag_name, "tag_name", label="tagName"))


def reservation_key(request: dc.GetOrExtendReservationRequest | dc.ReleaseReservationRequest) -> ReservationKey:
    if not request.HasField("reservation_id"):
        raise missing("reservation_id", "reservationID")
    rid = request.reservation_id
    dataset = dataset_key(rid.dataset_id, "reservation_id.dataset_id", present=rid.HasField("dataset_id"))
    return ReservationKey(dataset, text(rid.tag_name, "reservation_id.tag_name", label="tagName"))


def owner_id(value: str) -> str:
    return text(value, "owner_id", label="ownerID")


def heartbeat_seconds(request: dc.GetOrExtendReservationRequest) -> float:
    """The requested heartbeat interval in seconds: present and not negative."""
    if not request.HasField("heartbeat_interval"):
        raise missing("heartbeat_interval", "heartbeatInterval")
    interval = request.heartbeat_interval
    if interval.seconds < 0 or interval.nanos < 0 or interval.nanos >= 1_000_000_000:
        raise invalid(
            "heartbeat_interval", f"{interval.seconds}s {interval.nanos}ns", "not a valid non-negative duration"
        )
    return interval.seconds + interval.nanos / 1e9
