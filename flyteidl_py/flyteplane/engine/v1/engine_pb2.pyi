from flyteidl_py.admin import execution_pb2 as _execution_pb2
from flyteidl_py.core import compiler_pb2 as _compiler_pb2
from flyteidl_py.core import execution_pb2 as _execution_pb2_1
from flyteidl_py.core import identifier_pb2 as _identifier_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LaunchRequest(_message.Message):
    __slots__ = ("execution_id", "closure", "inputs_uri", "spec", "launch_plan_id")
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    CLOSURE_FIELD_NUMBER: _ClassVar[int]
    INPUTS_URI_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    LAUNCH_PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    execution_id: _identifier_pb2.WorkflowExecutionIdentifier
    closure: _compiler_pb2.CompiledWorkflowClosure
    inputs_uri: str
    spec: _execution_pb2.ExecutionSpec
    launch_plan_id: _identifier_pb2.Identifier
    def __init__(self, execution_id: _Optional[_Union[_identifier_pb2.WorkflowExecutionIdentifier, _Mapping]] = ..., closure: _Optional[_Union[_compiler_pb2.CompiledWorkflowClosure, _Mapping]] = ..., inputs_uri: _Optional[str] = ..., spec: _Optional[_Union[_execution_pb2.ExecutionSpec, _Mapping]] = ..., launch_plan_id: _Optional[_Union[_identifier_pb2.Identifier, _Mapping]] = ...) -> None: ...

class LaunchResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AbortRequest(_message.Message):
    __slots__ = ("execution_id", "cause")
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    execution_id: _identifier_pb2.WorkflowExecutionIdentifier
    cause: str
    def __init__(self, execution_id: _Optional[_Union[_identifier_pb2.WorkflowExecutionIdentifier, _Mapping]] = ..., cause: _Optional[str] = ...) -> None: ...

class AbortResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StatusRequest(_message.Message):
    __slots__ = ("execution_id",)
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    execution_id: _identifier_pb2.WorkflowExecutionIdentifier
    def __init__(self, execution_id: _Optional[_Union[_identifier_pb2.WorkflowExecutionIdentifier, _Mapping]] = ...) -> None: ...

class StatusResponse(_message.Message):
    __slots__ = ("phase", "active_nodes", "owner")
    PHASE_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_NODES_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    phase: _execution_pb2_1.WorkflowExecution.Phase
    active_nodes: int
    owner: str
    def __init__(self, phase: _Optional[_Union[_execution_pb2_1.WorkflowExecution.Phase, str]] = ..., active_nodes: _Optional[int] = ..., owner: _Optional[str] = ...) -> None: ...
