import datetime

from flyteidl_py.admin import schedule_pb2 as _schedule_pb2
from flyteidl_py.core import identifier_pb2 as _identifier_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListSchedulesRequest(_message.Message):
    __slots__ = ("known_revision",)
    KNOWN_REVISION_FIELD_NUMBER: _ClassVar[int]
    known_revision: str
    def __init__(self, known_revision: _Optional[str] = ...) -> None: ...

class ListSchedulesResponse(_message.Message):
    __slots__ = ("revision", "unchanged", "schedules")
    REVISION_FIELD_NUMBER: _ClassVar[int]
    UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    SCHEDULES_FIELD_NUMBER: _ClassVar[int]
    revision: str
    unchanged: bool
    schedules: _containers.RepeatedCompositeFieldContainer[ScheduledLaunchPlan]
    def __init__(self, revision: _Optional[str] = ..., unchanged: _Optional[bool] = ..., schedules: _Optional[_Iterable[_Union[ScheduledLaunchPlan, _Mapping]]] = ...) -> None: ...

class ScheduledLaunchPlan(_message.Message):
    __slots__ = ("id", "schedule", "active_since")
    ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_SINCE_FIELD_NUMBER: _ClassVar[int]
    id: _identifier_pb2.Identifier
    schedule: _schedule_pb2.Schedule
    active_since: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[_Union[_identifier_pb2.Identifier, _Mapping]] = ..., schedule: _Optional[_Union[_schedule_pb2.Schedule, _Mapping]] = ..., active_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
