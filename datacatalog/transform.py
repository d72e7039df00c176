"""Records to wire messages and back: datasets, artifacts, tags, reservations and serialized metadata."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from datacatalog import models
from datacatalog.keys import DatasetKey, ReservationKey
from flyteidl_py.datacatalog import datacatalog_pb2 as dc
from flyteplane.errors import Internal


def metadata_bytes(metadata: dc.Metadata) -> bytes:
    return metadata.SerializeToString(deterministic=True)


def metadata_of(data: bytes) -> dc.Metadata:
    try:
        return dc.Metadata.FromString(data)
    except Exception as exc:
        raise Internal(f"corrupt metadata in the catalog: {exc}") from exc


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def duration(span: timedelta) -> Duration:
    result = Duration()
    result.FromTimedelta(span)
    return result


def dataset_key(record: models.Dataset) -> DatasetKey:
    return DatasetKey(record.project, record.name, record.domain, record.version, record.org)


def dataset_id(record: models.Dataset) -> dc.DatasetID:
    return dataset_key(record).to_proto(uuid=record.uuid)


def dataset(record: models.Dataset, partition_keys: Sequence[str]) -> dc.Dataset:
    return dc.Dataset(
        id=dataset_id(record), metadata=metadata_of(record.serialized_metadata), partitionKeys=partition_keys
    )


def artifact(
    record: models.Artifact,
    dataset_record: models.Dataset,
    data: Sequence[dc.ArtifactData],
    partitions: Sequence[tuple[str, str]],
    tag_names: Sequence[str],
) -> dc.Artifact:
    owner = dataset_id(dataset_record)
    return dc.Artifact(
        id=record.artifact_id,
        dataset=owner,
        data=data,
        metadata=metadata_of(record.serialized_metadata),
        partitions=[dc.Partition(key=key, value=value) for key, value in partitions],
        tags=[dc.Tag(name=name, artifact_id=record.artifact_id, dataset=owner) for name in tag_names],
        created_at=timestamp(record.created_at),
    )


def reservation(key: ReservationKey, owner_id: str, expires_at: datetime, heartbeat: timedelta) -> dc.Reservation:
    """The reservation as Flyte answers it: with the heartbeat this request was granted, also when the
    reservation belongs to someone else."""
    return dc.Reservation(
        reservation_id=key.to_proto(),
        owner_id=owner_id,
        heartbeat_interval=duration(heartbeat),
        expires_at=timestamp(expires_at),
        metadata=dc.Metadata(),
    )
