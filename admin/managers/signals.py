"""Signals: typed values gate nodes wait for; propeller creates them, users set them."""

from __future__ import annotations

from admin.lists import list_request
from admin.managers.context import AdminContext
from admin.managers.ids import check_execution_id, require
from admin.models import Signal
from admin.repositories import executions, signals
from flyteidl_py.admin import signal_pb2
from flyteidl_py.core import identifier_pb2, literals_pb2, types_pb2
from flyteplane.errors import InvalidArgument
from propeller.compiler import is_castable, literal_type_of


def _check_id(ident: identifier_pb2.SignalIdentifier) -> None:
    check_execution_id(ident.execution_id, "id.execution_id")
    require(ident.signal_id, "id.signal_id")


def to_signal(row: Signal) -> signal_pb2.Signal:
    signal = signal_pb2.Signal(
        id=identifier_pb2.SignalIdentifier(
            signal_id=row.signal_id,
            execution_id=identifier_pb2.WorkflowExecutionIdentifier(
                project=row.execution_project, domain=row.execution_domain, name=row.execution_name
            ),
        ),
        type=types_pb2.LiteralType.FromString(row.type),
    )
    if row.value:
        signal.value.CopyFrom(literals_pb2.Literal.FromString(row.value))
    return signal


class SignalManager:
    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx

    async def get_or_create(self, request: signal_pb2.SignalGetOrCreateRequest) -> signal_pb2.Signal:
        _check_id(request.id)
        if not request.HasField("type"):
            raise InvalidArgument("missing type", field="type")
        async with self.ctx.db.session() as session:
            await executions.get(session, request.id.execution_id)
            row = await signals.find(session, request.id)
            if row is None:
                e = request.id.execution_id
                row = Signal(
                    execution_project=e.project,
                    execution_domain=e.domain,
                    execution_name=e.name,
                    signal_id=request.id.signal_id,
                    type=request.type.SerializeToString(),
                    value=b"",
                )
                signals.add(session, row)
            return to_signal(row)

    async def set(self, request: signal_pb2.SignalSetRequest) -> signal_pb2.SignalSetResponse:
        _check_id(request.id)
        if not request.HasField("value"):
            raise InvalidArgument("missing value", field="value")
        async with self.ctx.db.session() as session:
            row = await signals.find(session, request.id)
            if row is None:
                raise InvalidArgument(
                    f"failed to validate that signal [{request.id.signal_id}] exists", field="id.signal_id"
                )
            expected = types_pb2.LiteralType.FromString(row.type)
            if not is_castable(literal_type_of(request.value), expected):
                raise InvalidArgument(
                    f"requested signal value [{request.value}] is not castable to existing signal type [{expected}]",
                    field="value",
                )
            row.value = request.value.SerializeToString()
        return signal_pb2.SignalSetResponse()

    async def list(self, request: signal_pb2.SignalListRequest) -> signal_pb2.SignalList:
        check_execution_id(request.workflow_execution_id, "workflow_execution_id")
        listing = list_request(request, "signal")
        async with self.ctx.db.session() as session:
            rows = await signals.list_page(session, request.workflow_execution_id, listing)
        return signal_pb2.SignalList(signals=[to_signal(r) for r in rows], token=listing.token_after(rows))
