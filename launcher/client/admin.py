"""The client commands' view of admin over gRPC: executions, their nodes (nested ones too) and their attempts.

A blocking channel: these are short-lived commands, not servers. Every RPC failure becomes a
ClientError naming admin's address and status, so a person gets a sentence, not a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

import grpc
from google.protobuf.message import Message

from flyteidl_py.admin import common_pb2, execution_pb2, node_execution_pb2, task_execution_pb2
from flyteidl_py.core import identifier_pb2
from flyteidl_py.service import admin_pb2_grpc
from launcher.client.target import ClientError, ExecutionRef, Target

TIMEOUT_SECONDS = 30.0
PAGE = 500
_Response = TypeVar("_Response", bound=Message)


def execution_id(ref: ExecutionRef) -> identifier_pb2.WorkflowExecutionIdentifier:
    return identifier_pb2.WorkflowExecutionIdentifier(project=ref.project, domain=ref.domain, name=ref.name)


class AdminClient:
    """AdminService calls the commands need, each a ClientError when admin refuses or cannot be reached."""

    def __init__(self, target: Target) -> None:
        self.target = target
        if target.insecure:
            self._channel = grpc.insecure_channel(target.grpc_address)
        else:
            self._channel = grpc.secure_channel(target.grpc_address, grpc.ssl_channel_credentials())
        self._stub = admin_pb2_grpc.AdminServiceStub(self._channel)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> AdminClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _call(self, method: Callable[..., _Response], request: Message) -> _Response:
        try:
            return method(request, timeout=TIMEOUT_SECONDS)
        except grpc.RpcError as error:
            code = error.code() if isinstance(error, grpc.Call) else None
            details = error.details() if isinstance(error, grpc.Call) else str(error)
            if code == grpc.StatusCode.UNAVAILABLE:
                raise ClientError(f"admin at {self.target.grpc_address} is not reachable: {details}") from None
            name = code.name if code is not None else "an error"
            raise ClientError(f"admin at {self.target.grpc_address} answered {name}: {details}") from None

    def execution(self, ref: ExecutionRef) -> execution_pb2.Execution:
        return self._call(self._stub.GetExecution, execution_pb2.WorkflowExecutionGetRequest(id=execution_id(ref)))

    def executions(self, project: str, domain: str, limit: int, phases: list[str]) -> list[execution_pb2.Execution]:
        """The newest `limit` executions of a project and domain, optionally only in these phases."""
        request = common_pb2.ResourceListRequest(
            id=common_pb2.NamedEntityIdentifier(project=project, domain=domain),
            limit=limit,
            sort_by=common_pb2.Sort(key="created_at", direction=common_pb2.Sort.DESCENDING),
        )
        if phases:
            request.filters = f"value_in(phase,{';'.join(phases)})"
        return list(self._call(self._stub.ListExecutions, request).executions)

    def nodes(self, ref: ExecutionRef, parent: str = "") -> list[node_execution_pb2.NodeExecution]:
        """The execution's top-level nodes, or the children of the node `parent` (a dynamic, a sub-workflow)."""
        return list(self._pages(ref, parent))

    def _pages(self, ref: ExecutionRef, parent: str) -> Iterator[node_execution_pb2.NodeExecution]:
        token = ""
        while True:
            page = self._call(
                self._stub.ListNodeExecutions,
                node_execution_pb2.NodeExecutionListRequest(
                    workflow_execution_id=execution_id(ref), limit=PAGE, token=token, unique_parent_id=parent
                ),
            )
            yield from page.node_executions
            token = page.token
            if not token:
                return

    def attempts(self, ref: ExecutionRef, node_id: str) -> list[task_execution_pb2.TaskExecution]:
        node = identifier_pb2.NodeExecutionIdentifier(execution_id=execution_id(ref), node_id=node_id)
        page = self._call(
            self._stub.ListTaskExecutions,
            task_execution_pb2.TaskExecutionListRequest(node_execution_id=node, limit=PAGE),
        )
        return list(page.task_executions)
