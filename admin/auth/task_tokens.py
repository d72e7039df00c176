"""Tokens for task processes (flyteplane's TaskTokenService): a task calling back into admin acts as its execution.

The engine asks for one per attempt (with the plane credential: only the plane may ask) and hands it to the task
process, whose flytekit sends it with every call — an eager workflow's launches, FlyteRemote in a task. The
token names the execution's principal (who launched it) and, in `flyteplane_execution`, the execution itself.
With auth off the answer is empty, and the task gets nothing.
"""

from __future__ import annotations

from admin.auth.tokens import TokenService
from admin.managers.ids import check_execution_id
from admin.repositories import executions
from flyteidl_py.flyteplane.auth.v1 import tokens_pb2
from flyteplane.database import Database

TASK_CLIENT = "flyteplane-task"  # the client id task tokens are issued to


class TaskTokens:
    def __init__(self, tokens: TokenService, db: Database, *, enabled: bool, seconds: int) -> None:
        self._tokens = tokens
        self._db = db
        self._enabled = enabled
        self._seconds = seconds

    async def issue(self, request: tokens_pb2.IssueTaskTokenRequest) -> tokens_pb2.IssueTaskTokenResponse:
        check_execution_id(request.execution_id, "execution_id")
        async with self._db.session() as session:
            row = await executions.get(session, request.execution_id)
        if not self._enabled:
            return tokens_pb2.IssueTaskTokenResponse()
        ident = request.execution_id
        issued = await self._tokens.issue(
            row.user or TASK_CLIENT,
            TASK_CLIENT,
            ["all"],
            seconds=self._seconds,
            claims={"flyteplane_execution": f"{ident.project}/{ident.domain}/{ident.name}"},
        )
        return tokens_pb2.IssueTaskTokenResponse(access_token=issued.access_token, expires_in=issued.expires_in)
