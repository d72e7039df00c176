from flyteidl_py.admin import common_pb2 as _common_pb2
from flyteidl_py.admin import description_entity_pb2 as _description_entity_pb2
from flyteidl_py.admin import event_pb2 as _event_pb2
from flyteidl_py.admin import execution_pb2 as _execution_pb2
from flyteidl_py.admin import launch_plan_pb2 as _launch_plan_pb2
from flyteidl_py.admin import matchable_resource_pb2 as _matchable_resource_pb2
from flyteidl_py.admin import node_execution_pb2 as _node_execution_pb2
from flyteidl_py.admin import project_pb2 as _project_pb2
from flyteidl_py.admin import project_attributes_pb2 as _project_attributes_pb2
from flyteidl_py.admin import project_domain_attributes_pb2 as _project_domain_attributes_pb2
from flyteidl_py.admin import task_pb2 as _task_pb2
from flyteidl_py.admin import task_execution_pb2 as _task_execution_pb2
from flyteidl_py.admin import version_pb2 as _version_pb2
from flyteidl_py.admin import workflow_pb2 as _workflow_pb2
from flyteidl_py.admin import workflow_attributes_pb2 as _workflow_attributes_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor
