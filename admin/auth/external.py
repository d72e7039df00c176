"""An external OpenID Connect provider: its discovery document, its keys, and verification of its tokens.

People log in with the provider (flytekit's PKCE or device flow runs against it, as AuthMetadataService then
advertises its endpoints); admin accepts the access tokens it issues, verified against its JWKS (fetched when
first needed and again when a token names a key not seen yet — the provider rotated its keys — at most every
`REFETCH_SECONDS`), its issuer and the configured audiences. `login_url` and `finish_login` are the two halves
of a person's login at the provider (authorization code with PKCE, as its public client), for the console's login
and for the built-in server's people's logins.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from admin.auth.principal import Principal
from admin.config import ExternalAuthConfig
from flyteplane.errors import Unauthenticated, Unavailable

REFETCH_SECONDS = 10.0
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256"]
LEEWAY_SECONDS = 30


@dataclass(frozen=True)
class ProviderLogin:
    """A person's finished login at the provider: who they are, and the provider's access token."""

    principal: Principal
    access_token: str
    expires_in: int


def code_challenge(verifier: str) -> str:
    """PKCE's S256 challenge of `verifier` (RFC 7636 4.2)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


class IdentityProvider:
    """One external provider, as admin reads it over HTTP."""

    def __init__(self, settings: ExternalAuthConfig) -> None:
        self.settings = settings
        self.issuer = settings.issuer.rstrip("/")
        self.audiences = settings.audiences or [settings.client_id]
        self._discovery: dict[str, Any] | None = None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._keys_fetched = -float("inf")
        self._lock = asyncio.Lock()

    def _url(self, path: str) -> str:
        base = (self.settings.discovery_url or self.issuer).rstrip("/")
        return f"{base}{path}"

    async def _get(self, url: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=self.settings.timeout_seconds) as http:
                answer = await http.get(url)
            answer.raise_for_status()
            document: dict[str, Any] = answer.json()
        except (httpx.HTTPError, ValueError) as error:
            raise Unavailable(f"the identity provider at {self.issuer} cannot be read ({url}): {error}") from None
        return document

    async def discovery(self) -> dict[str, Any]:
        """The provider's OpenID configuration (read once)."""
        if self._discovery is None:
            document = await self._get(self._url("/.well-known/openid-configuration"))
            if str(document.get("issuer", "")).rstrip("/") != self.issuer:
                raise Unavailable(
                    f"the identity provider's discovery document names issuer {document.get('issuer')!r}, "
                    f"not the configured {self.issuer!r}"
                )
            self._discovery = document
        return self._discovery

    async def login_url(self, redirect_uri: str, state: str, verifier: str) -> str:
        """Where to send a person's browser to log in, coming back to `redirect_uri` with a code and `state`."""
        document = await self.discovery()
        query = {
            "client_id": self.settings.client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": " ".join(self.settings.scopes),
            "state": state,
            "code_challenge": code_challenge(verifier),
            "code_challenge_method": "S256",
        }
        return f"{document['authorization_endpoint']}?{urlencode(query)}"

    async def finish_login(self, code: str, redirect_uri: str, verifier: str) -> ProviderLogin:
        """Exchange the code the provider sent back for its token, verified; Unauthenticated if refused."""
        document = await self.discovery()
        try:
            async with httpx.AsyncClient(timeout=self.settings.timeout_seconds) as http:
                answer = await http.post(
                    str(document["token_endpoint"]),
                    data={
                        "grant_type": "authorization_code",
                        "code": code,
                        "redirect_uri": redirect_uri,
                        "client_id": self.settings.client_id,
                        "code_verifier": verifier,
                    },
                )
        except httpx.HTTPError as error:
            raise Unavailable(f"the identity provider at {self.issuer} cannot be reached: {error}") from None
        if answer.status_code != 200:
            raise Unauthenticated(f"the identity provider answered {answer.status_code}: {answer.text[:300]}")
        try:
            tokens = answer.json()
            token = str(tokens["access_token"])
            expires_in = int(tokens.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise Unauthenticated("the identity provider's token answer has no access_token") from None
        return ProviderLogin(await self.verify(token), token, expires_in)

    async def _key(self, kid: str) -> jwt.PyJWK:
        if kid in self._keys:
            return self._keys[kid]
        async with self._lock:
            if kid not in self._keys and time.monotonic() - self._keys_fetched > REFETCH_SECONDS:
                jwks_uri = str((await self.discovery())["jwks_uri"])
                document = await self._get(jwks_uri)
                keys: dict[str, jwt.PyJWK] = {}
                for entry in document.get("keys", []):
                    try:
                        key = jwt.PyJWK(entry)
                    except jwt.PyJWTError:
                        continue  # a key of a kind this server does not verify with
                    keys[str(entry.get("kid", ""))] = key
                self._keys, self._keys_fetched = keys, time.monotonic()
        if kid not in self._keys:
            raise Unauthenticated(f"the access token names key {kid!r}, which the identity provider does not publish")
        return self._keys[kid]

    async def verify(self, token: str) -> Principal:
        """The person (or client) `token` stands for, or Unauthenticated naming why it is refused."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"the bearer token is not a valid JWT: {error}") from None
        key = await self._key(str(header.get("kid", "")))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self.audiences,
                issuer=self.settings.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["iss", "sub", "aud", "exp"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the identity provider's token has expired: log in again") from None
        except jwt.InvalidAudienceError:
            audience = unverified_claims(token).get("aud")
            raise Unauthenticated(
                f"the identity provider's token is for audience {audience!r}, not this server "
                f"(accepted: {', '.join(self.audiences)})"
            ) from None
        except jwt.InvalidSignatureError:
            raise Unauthenticated("the token's signature does not verify with the identity provider's keys") from None
        except jwt.MissingRequiredClaimError as error:
            raise Unauthenticated(f"the identity provider's token has no {error.claim!r} claim") from None
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"the identity provider's token is refused: {error}") from None
        groups = claims.get(self.settings.groups_claim, [])
        audience = claims.get("aud")
        named = claims.get(self.settings.principal_claim)
        return Principal(
            subject=str(named) if isinstance(named, str) and named else str(claims["sub"]),
            client_id=str(claims.get("azp") or (audience if isinstance(audience, str) else "")),
            scopes=frozenset(str(claims.get("scope", "")).split()),
            groups=frozenset(str(g) for g in groups) if isinstance(groups, list) else frozenset(),
            issuer=self.issuer,
            name=str(claims.get("name") or claims.get("preferred_username") or ""),
            email=str(claims.get("email", "")),
        )


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims of a token that failed verification (or whose issuer says who verifies it), never trusted."""
    try:
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return {}
    return claims
