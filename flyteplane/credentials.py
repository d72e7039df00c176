"""The plane credential: what the plane's own components present to each other, and nobody else has.

Two channels inside the plane carry authority no client may borrow: the engine reports what
happened to executions (admin's event RPCs — a forged SUCCEEDED with made-up outputs would be
recorded as the truth), and admin hands executions to the engine (EngineService — a direct Launch
would run a closure admin never checked). Both ends of those channels share one secret: the
configuration's `credential`, or, when none is configured, one kept in the data directory (every
component of `flyteplane start` shares it; components on different machines must be given the same
configured value). The caller sends it as the `flyteplane-credential` metadata; the server compares
it in constant time and answers PERMISSION_DENIED without running the RPC when it is missing or wrong.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import grpc

from flyteplane.rpc import UnaryCall, UnaryInterceptor
from flyteplane.storage.signing import persistent_secret

METADATA_KEY = "flyteplane-credential"
CREDENTIAL_FILE = "plane-credential"


def plane_credential(configured: str | None, data_dir: Path) -> str:
    """The configured credential, or the one kept in `data_dir` (created once). Blocking: off the loop."""
    if configured:
        return configured
    return persistent_secret(data_dir.expanduser() / CREDENTIAL_FILE).hex()


class CredentialInterceptor(UnaryInterceptor):
    """Refuses the `protected` RPCs (full names, `/package.Service/Method`) unless the caller has the credential."""

    def __init__(self, credential: str, protected: Collection[str]) -> None:
        self._expected = credential.encode()
        self._protected = frozenset(protected)

    def wrap(self, method: str, call: UnaryCall) -> UnaryCall:
        if method not in self._protected:
            return call

        async def checked(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            presented = dict(context.invocation_metadata() or ()).get(METADATA_KEY, "")
            value = presented.encode() if isinstance(presented, str) else bytes(presented)
            if not hmac.compare_digest(value, self._expected):
                await context.abort(
                    grpc.StatusCode.PERMISSION_DENIED,
                    f"{method} is reserved for the plane's own components: the request carries no valid {METADATA_KEY}",
                )
            return await call(request, context)

        return checked


class _PresentCredential(grpc.aio.UnaryUnaryClientInterceptor):
    def __init__(self, credential: str) -> None:
        self._metadata = (METADATA_KEY, credential)

    async def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Any],
        details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        metadata.add(*self._metadata)
        details = grpc.aio.ClientCallDetails(
            details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
        )
        return await continuation(details, request)


def presenting(credential: str) -> list[grpc.aio.ClientInterceptor]:
    """Client interceptors that send the credential with every call of a channel."""
    return [_PresentCredential(credential)]
