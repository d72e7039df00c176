"""Who is calling: the principal of the request being served, set by the guard for the handler's duration."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

PLANE_SUBJECT = "flyteplane"  # the plane's own components (scheduler, engine), known by the plane credential


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a service client, a person, or the plane itself."""

    subject: str  # the token's `sub`: the client id of a service client, the user id of a person
    client_id: str = ""  # the OAuth2 client the token was issued to
    scopes: frozenset[str] = field(default_factory=frozenset)
    groups: frozenset[str] = field(default_factory=frozenset)
    issuer: str = ""
    name: str = ""  # a person's display name, when the identity provider gives one
    email: str = ""

    @property
    def is_plane(self) -> bool:
        return self.subject == PLANE_SUBJECT and not self.issuer


PLANE = Principal(subject=PLANE_SUBJECT, client_id=PLANE_SUBJECT)

# None: auth is off (or the call came in before the guard), and the caller's own account of itself stands.
current_principal: ContextVar[Principal | None] = ContextVar("flyteplane_principal", default=None)


def acting_subject(claimed: str) -> str:
    """Who an action is recorded under: the authenticated caller, else (auth off) what the caller says of itself.

    The plane's own calls keep their claim: the scheduler names the schedule, a child execution its parent's user.
    """
    principal = current_principal.get()
    if principal is None or principal.is_plane:
        return claimed
    return principal.subject
