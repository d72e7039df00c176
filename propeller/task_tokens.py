"""Tokens for task processes, from admin's TaskTokenService: asked per execution, kept until half-way to expiry.

With auth off admin answers an empty token, and the engine stops asking for `AUTH_OFF_RECHECK_SECONDS`, so a
plane without auth pays one call a minute, not one per attempt. An admin that does not know the service (an
older one) is treated as auth off, and so is an unreachable admin that has never answered a token. An admin
known to require tokens that cannot be reached fails the attempt's start as a system error, retried like any
other: a task started without the token it needs would fail or hang at its first call.
"""

from __future__ import annotations

import asyncio
import time

import grpc

from flyteidl_py.core import identifier_pb2
from flyteidl_py.flyteplane.auth.v1 import tokens_pb2, tokens_pb2_grpc
from flyteplane.errors import Unavailable

AUTH_OFF_RECHECK_SECONDS = 60.0
UNREACHABLE_RECHECK_SECONDS = 5.0


class TaskTokenSource:
    def __init__(self, channel: grpc.aio.Channel, timeout: float = 10.0) -> None:
        self._stub = tokens_pb2_grpc.TaskTokenServiceStub(channel)
        self._timeout = timeout
        self._off_until = -float("inf")
        self._tokens: dict[tuple[str, str, str], tuple[str, float]] = {}  # execution -> (token, refresh after)
        self._lock = asyncio.Lock()
        self._auth_seen = False  # admin has answered tokens (auth on)

    async def token(self, execution: identifier_pb2.WorkflowExecutionIdentifier) -> str:
        """The token for a task of `execution`; "" when admin requires none."""
        now = time.monotonic()
        if now < self._off_until:
            return ""
        key = (execution.project, execution.domain, execution.name)
        cached = self._tokens.get(key)
        if cached is not None and now < cached[1]:
            return cached[0]
        async with self._lock:
            try:
                answer = await self._stub.IssueTaskToken(
                    tokens_pb2.IssueTaskTokenRequest(execution_id=execution), timeout=self._timeout
                )
            except grpc.aio.AioRpcError as error:
                if error.code() == grpc.StatusCode.UNIMPLEMENTED:
                    self._off_until = now + AUTH_OFF_RECHECK_SECONDS
                    return ""
                if not self._auth_seen:
                    # Admin unreachable and never seen requiring tokens: tasks start as they did before (their
                    # calls back need admin anyway); asked again shortly.
                    self._off_until = now + UNREACHABLE_RECHECK_SECONDS
                    return ""
                reason = f"{error.code().name}: {error.details()}"
                raise Unavailable(f"admin did not give the task its token: {reason}") from None
            if not answer.access_token:
                self._off_until = now + AUTH_OFF_RECHECK_SECONDS
                self._auth_seen = False
                self._tokens.clear()
                return ""
            self._auth_seen = True
            if len(self._tokens) > 10_000:
                self._tokens.clear()
            self._tokens[key] = (answer.access_token, now + answer.expires_in / 2)
            return answer.access_token
