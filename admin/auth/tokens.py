"""Access tokens: JWTs admin issues (RS256, its own key) and verifies, with the reason a token is refused.

A token carries `iss`, `sub`, `aud`, `iat`, `exp`, `jti`, `client_id` and `scp` (the granted scopes, as Flyte's
own authorization server writes them). Verification checks the signature, the algorithm, expiry (30 s of
leeway for clocks), issuer, audience and revocation, and says which failed: flytekit shows the message, and a
person must be able to tell an expired token from one meant for another server.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt

from admin.auth.external import IdentityProvider, unverified_claims
from admin.auth.keys import SigningKey
from admin.auth.principal import Principal
from admin.repositories import auth as auth_records
from flyteplane.database import Database
from flyteplane.errors import Unauthenticated

REQUIRED_CLAIMS = ["iss", "sub", "aud", "iat", "exp", "jti"]


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str
    jti: str


class Revocations:
    """The ids of revoked, unexpired tokens, read from admin's database at most once per `ttl` seconds.

    A revocation made through another admin replica takes effect here within `ttl`; one made here, at once.
    """

    def __init__(self, db: Database, ttl: float = 1.0) -> None:
        self._db = db
        self._ttl = ttl
        self._jtis: frozenset[str] = frozenset()
        self._loaded = -float("inf")
        self._lock = asyncio.Lock()

    async def contains(self, jti: str) -> bool:
        if time.monotonic() - self._loaded > self._ttl:
            async with self._lock:
                if time.monotonic() - self._loaded > self._ttl:
                    async with self._db.session() as session:
                        self._jtis = frozenset(await auth_records.revoked_ids(session, datetime.now(UTC)))
                    self._loaded = time.monotonic()
        return jti in self._jtis

    async def add(self, jti: str, expires_at: datetime) -> None:
        async with self._db.session() as session:
            await auth_records.revoke(session, jti, expires_at, datetime.now(UTC))
        self._jtis = self._jtis | {jti}


class TokenService:
    """Issues and verifies the plane's access tokens."""

    def __init__(
        self,
        key_file: Path,
        issuer: str,
        audiences: Sequence[str],
        access_token_seconds: int,
        revocations: Revocations,
        external: IdentityProvider | None = None,
        leeway_seconds: int = 30,
    ) -> None:
        self._key_file = key_file
        self._key: SigningKey | None = None
        self._key_lock = asyncio.Lock()
        self.issuer = issuer
        self.audiences = list(audiences) or [issuer]
        self.access_token_seconds = access_token_seconds
        self.revocations = revocations
        self.external = external
        self.leeway_seconds = leeway_seconds

    async def signing_key(self) -> SigningKey:
        """The key, loaded (or created) the first time it is needed: most admins with auth off never need one."""
        if self._key is None:
            async with self._key_lock:
                if self._key is None:
                    self._key = await asyncio.to_thread(SigningKey.load, self._key_file)
        return self._key

    @property
    def audience(self) -> str:
        """The audience tokens are issued for (the first accepted one)."""
        return self.audiences[0]

    async def issue(
        self,
        subject: str,
        client_id: str,
        scopes: Sequence[str],
        *,
        seconds: int | None = None,
        claims: Mapping[str, str | list[str]] | None = None,
    ) -> IssuedToken:
        """A token for `subject`, valid `seconds` (default: access_token_seconds), with extra `claims`."""
        key = await self.signing_key()
        now = int(time.time())
        jti = secrets.token_hex(16)
        lifetime = seconds or self.access_token_seconds
        payload: dict[str, Any] = {
            **(claims or {}),
            "iss": self.issuer,
            "sub": subject,
            "aud": self.audience,
            "iat": now,
            "exp": now + lifetime,
            "jti": jti,
            "client_id": client_id,
            "scp": list(scopes),
        }
        token = jwt.encode(payload, key.private, algorithm="RS256", headers={"kid": key.kid})
        return IssuedToken(token, lifetime, " ".join(scopes), jti)

    async def decode(self, token: str, *, verify_expiry: bool = True) -> dict[str, Any]:
        """The verified claims of `token` (revocation aside), or Unauthenticated saying what is wrong with it."""
        key = await self.signing_key()
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.public,
                algorithms=["RS256"],
                audience=self.audiences,
                issuer=self.issuer,
                leeway=self.leeway_seconds,
                options={"require": REQUIRED_CLAIMS, "verify_exp": verify_expiry},
            )
        except jwt.ExpiredSignatureError:
            expired = unverified_claims(token).get("exp")
            when = datetime.fromtimestamp(expired, UTC).isoformat() if isinstance(expired, int | float) else "?"
            raise Unauthenticated(f"the access token expired at {when}: get a new one") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated(
                f"the access token is for audience {unverified_claims(token).get('aud')!r}, not this server "
                f"(accepted: {', '.join(self.audiences)})"
            ) from None
        except jwt.InvalidIssuerError:
            accepted = self.issuer + (f" or its identity provider {self.external.issuer}" if self.external else "")
            issuer = unverified_claims(token).get("iss")
            raise Unauthenticated(
                f"the access token was issued by {issuer!r}, not by this server ({accepted})"
            ) from None
        except jwt.InvalidSignatureError:
            raise Unauthenticated("the access token's signature does not verify with this server's key") from None
        except jwt.InvalidAlgorithmError:
            raise Unauthenticated("the access token is not signed with RS256, the only algorithm accepted") from None
        except jwt.MissingRequiredClaimError as error:
            raise Unauthenticated(f"the access token has no {error.claim!r} claim") from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated("the access token is not valid yet (issued in the future)") from None
        except jwt.InvalidTokenError as error:
            raise Unauthenticated(f"the bearer token is not a valid JWT: {error}") from None
        return claims

    async def verify(self, token: str) -> Principal:
        """The principal `token` stands for, or Unauthenticated naming why it is refused."""
        if (
            self.external is not None
            and str(unverified_claims(token).get("iss", "")).rstrip("/") == self.external.issuer
        ):
            return await self.external.verify(token)
        claims = await self.decode(token)
        if await self.revocations.contains(str(claims["jti"])):
            raise Unauthenticated("the access token was revoked")
        scopes = claims.get("scp", [])
        groups = claims.get("groups", [])
        return Principal(
            subject=str(claims["sub"]),
            client_id=str(claims.get("client_id", "")),
            scopes=frozenset(str(s) for s in scopes) if isinstance(scopes, list) else frozenset(),
            groups=frozenset(str(g) for g in groups) if isinstance(groups, list) else frozenset(),
            issuer=str(claims["iss"]),
            name=str(claims.get("name", "")),
            email=str(claims.get("email", "")),
        )
