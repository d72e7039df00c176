"""People's logins at the built-in server: authorization code with PKCE (S256 only) and the device flow (RFC 8628).

The person says who they are at the external OpenID Connect provider: `/oauth2/authorize` and the device
verification page (`/oauth2/device`) send their browser there, as the provider's public client coming back to
`/oauth2/callback`; the server then issues its own token naming them and their groups (admin.auth.grants), with
a refresh token when the client asked for scope `offline`. Only registered public clients (`flytectl`, with its
localhost redirect URIs) may ask. The login in progress lives in a signed cookie, the codes in admin's database
(as hashes, single use), so any replica answers any step.

Off (`admin.auth.people` is not `built-in`, or no provider is configured): these endpoints answer
`unauthorized_client` saying so, the token endpoint's people's grants `unsupported_grant_type`, and
AuthMetadataService does not advertise them.
"""

from __future__ import annotations

import hmac
import html
import logging
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from admin.auth.external import IdentityProvider, code_challenge
from admin.auth.grants import Grants, Person, TokenAnswer, digest
from admin.auth.oauth import NO_STORE, OAuthError, asks_offline, granted_scopes, read_form
from admin.auth.signed import Signer
from admin.config import AuthConfig, PublicClient
from admin.models import PendingLogin
from admin.repositories import auth as auth_records
from flyteplane.database import Database
from flyteplane.errors import FlyteplaneError

log = logging.getLogger("flyteplane.admin.auth")

AUTHORIZE_PATH = "/oauth2/authorize"
DEVICE_CODE_PATH = "/oauth2/device/code"
DEVICE_PATH = "/oauth2/device"  # where a person enters the device flow's user code
CALLBACK_PATH = "/oauth2/callback"  # where the provider sends the person back
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
PEOPLE_GRANTS = ("authorization_code", "refresh_token", DEVICE_GRANT)
CODE_SECONDS = 60  # an authorization code is exchanged at once by the client that asked for it
LOGIN_SECONDS = 600  # how long a person may take at the provider
LOGIN_COOKIE = "flyteplane_oauth2_login"
USER_CODE_LETTERS = "BCDFGHJKLMNPQRSTVWXZ"  # RFC 8628 6.1: no vowels (no words), nothing that looks alike


def _user_code() -> str:
    return "".join(secrets.choice(USER_CODE_LETTERS) for _ in range(8))


def _normalized(user_code: str) -> str:
    """A user code as typed (any case, with or without the dash) as stored."""
    return "".join(c for c in user_code.upper() if c.isalnum())


def _page(title: str, text: str, status: int = 200, form: str = "") -> HTMLResponse:
    body = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>{form}</body></html>"
    )
    return HTMLResponse(body, status_code=status, headers=NO_STORE)


def _code_form(user_code: str = "") -> str:
    return (
        f"<form method='post' action='{DEVICE_PATH}'><label>Code <input name='user_code' "
        f"value='{html.escape(user_code, quote=True)}' autocomplete='off' autofocus></label> "
        "<button type='submit'>Continue</button></form>"
    )


class PeopleLogins:
    """The built-in server's endpoints for people, and the token endpoint's grants for them."""

    def __init__(
        self,
        db: Database,
        grants: Grants,
        provider: IdentityProvider | None,
        settings: AuthConfig,
        http_base: str,
        secret: str,
        audiences: list[str],
    ) -> None:
        self._db = db
        self.grants = grants
        self._provider = provider if settings.people == "built-in" else None
        self._settings = settings
        self._base = http_base
        self._callback = f"{http_base}{CALLBACK_PATH}"
        self._signer = Signer(secret, "oauth2-login")
        self._audiences = audiences
        self.clients = {c.client_id: c for c in settings.public_clients}

    @property
    def enabled(self) -> bool:
        return self._provider is not None

    def off(self) -> str:
        if self._settings.people != "built-in":
            return "people log in at the identity provider, not here (admin.auth.people is 'provider')"
        return (
            "people's logins need an OpenID Connect provider to say who they are (admin.auth.external); "
            "none is configured, so only service clients get tokens here (client credentials)"
        )

    def routes(self) -> list[Route]:
        return [
            Route(AUTHORIZE_PATH, self.authorize, methods=["GET"]),
            Route(DEVICE_CODE_PATH, self.device_authorization, methods=["POST"]),
            Route(DEVICE_PATH, self.device_page, methods=["GET", "POST"]),
            Route(CALLBACK_PATH, self.callback, methods=["GET"]),
        ]

    def public_client(self, form: dict[str, str]) -> PublicClient:
        """The registered public client a request names (public clients have no secret to present)."""
        client_id = form.get("client_id", "")
        if not client_id:
            raise OAuthError("invalid_request", "client_id is required")
        client = self.clients.get(client_id)
        if client is None:
            raise OAuthError("invalid_client", f"{client_id!r} is not a public client of this server", 401)
        return client

    def _check_audience(self, audience: str) -> None:
        if audience and audience not in self._audiences:
            raise OAuthError(
                "invalid_target",
                f"audience {audience!r} is not this server's (accepted: {', '.join(self._audiences)})",
            )

    async def _to_provider(self, started: dict[str, str]) -> Response:
        """Send the browser to log in at the provider; what was started is kept in a signed cookie meanwhile."""
        assert self._provider is not None
        upstream_state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
        try:
            url = await self._provider.login_url(self._callback, upstream_state, verifier)
        except FlyteplaneError as error:
            return _page("The identity provider cannot be reached", str(error), 503)
        response = RedirectResponse(url, status_code=303)
        cookie = self._signer.sign({**started, "upstream_state": upstream_state, "verifier": verifier}, LOGIN_SECONDS)
        response.set_cookie(
            LOGIN_COOKIE, cookie, max_age=LOGIN_SECONDS, httponly=True, samesite="lax", path=CALLBACK_PATH
        )
        return response

    async def authorize(self, request: Request) -> Response:
        """RFC 6749 4.1.1 with RFC 7636: a wrong client or redirect URI is shown here; anything else, sent back."""
        if not self.enabled:
            return OAuthError("unauthorized_client", self.off()).response()
        query = request.query_params
        client = self.clients.get(query.get("client_id", ""))
        if client is None:
            return _page(
                "Unknown client", f"{query.get('client_id', '')!r} is not a public client of this server.", 400
            )
        redirect_uri = query.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            return _page(
                "Wrong redirect URI", f"{redirect_uri!r} is not registered for client {client.client_id!r}.", 400
            )
        state = query.get("state", "")

        def refuse(error: str, description: str) -> Response:
            answer = {"error": error, "error_description": description, **({"state": state} if state else {})}
            return RedirectResponse(f"{redirect_uri}?{urlencode(answer)}", status_code=302)

        if query.get("response_type") != "code":
            return refuse("unsupported_response_type", "response_type must be 'code'")
        challenge = query.get("code_challenge", "")
        if not challenge:
            return refuse("invalid_request", "code_challenge is required: this server issues codes only with PKCE")
        if query.get("code_challenge_method") != "S256":
            return refuse("invalid_request", "code_challenge_method must be S256 (plain is not accepted)")
        if not 43 <= len(challenge) <= 128:
            return refuse("invalid_request", "code_challenge is not an S256 challenge (43 base64url characters)")
        try:
            scopes = granted_scopes(query.get("scope", ""))
            self._check_audience(query.get("audience", ""))
        except OAuthError as error:
            return refuse(error.error, error.description)
        scope = " ".join([*scopes, *(["offline"] if asks_offline(query.get("scope", "")) else [])])
        started = {
            "kind": "code",
            "client_id": client.client_id,
            "redirect_uri": redirect_uri,
            "challenge": challenge,
            "scope": scope,
            "state": state,
        }
        return await self._to_provider(started)

    async def device_authorization(self, request: Request) -> Response:
        """RFC 8628 3.1-3.2: a device code for the client to poll with, a user code for the person to enter."""
        try:
            if not self.enabled:
                raise OAuthError("unauthorized_client", self.off())
            form = await read_form(request)
            client = self.public_client(form)
            scopes = granted_scopes(form.get("scope", ""))
            self._check_audience(form.get("audience", ""))
        except OAuthError as error:
            return error.response()
        device_code, user_code = secrets.token_urlsafe(32), _user_code()
        now = datetime.now(UTC)
        seconds, interval = self._settings.device_code_seconds, self._settings.device_poll_seconds
        login = PendingLogin(
            kind="device",
            secret_hash=digest(device_code),
            user_code=user_code,
            client_id=client.client_id,
            scope=" ".join([*scopes, *(["offline"] if asks_offline(form.get("scope", "")) else [])]),
            state="pending",
            identity="",
            interval=interval,
            expires_at=now + timedelta(seconds=seconds),
        )
        async with self._db.session() as session:
            await auth_records.add_login(session, login, now)
        shown = f"{user_code[:4]}-{user_code[4:]}"
        verification = f"{self._base}{DEVICE_PATH}"
        return JSONResponse(
            {
                "device_code": device_code,
                "user_code": shown,
                "verification_uri": verification,
                "verification_uri_complete": f"{verification}?{urlencode({'user_code': shown})}",
                "expires_in": seconds,
                "interval": interval,
            },
            headers=NO_STORE,
        )

    async def device_page(self, request: Request) -> Response:
        """The verification page: the person enters (or confirms) the user code, then logs in at the provider."""
        if not self.enabled:
            return _page("People cannot log in here", self.off(), 400)
        if request.method == "GET":
            shown = request.query_params.get("user_code", "")
            return _page("Log in to Flyte", "Enter the code your terminal shows.", form=_code_form(shown))
        try:
            form = await read_form(request)
        except OAuthError as error:
            return _page("Bad request", error.description, 400, form=_code_form())
        user_code = _normalized(form.get("user_code", ""))
        async with self._db.session() as session:
            login = await auth_records.find_device_login(session, user_code) if user_code else None
        if login is None or login.expires_at <= datetime.now(UTC):
            return _page("Unknown code", "That code is unknown or has expired: start again in your terminal.", 400)
        return await self._to_provider({"kind": "device", "user_code": user_code})

    async def callback(self, request: Request) -> Response:
        """The provider sent the person back: finish their login there, then answer the client (or the device)."""
        if not self.enabled or self._provider is None:
            return _page("People cannot log in here", self.off(), 400)
        started = self._signer.unsign(request.cookies.get(LOGIN_COOKIE, ""))
        query = request.query_params
        if started is None or not hmac.compare_digest(query.get("state", ""), str(started.get("upstream_state"))):
            return _page("Login not recognised", "This login was not started here or took too long: try again.", 400)
        person: Person | None = None
        refusal = query.get("error_description") or query.get("error") or ""
        if not refusal:
            try:
                login = await self._provider.finish_login(query.get("code", ""), self._callback, started["verifier"])
                person = Person.of(login.principal)
            except FlyteplaneError as problem:
                refusal = str(problem)
        if started["kind"] == "code":
            response = await self._send_code(started, person, refusal)
        else:
            response = await self._approve_device(started["user_code"], person, refusal)
        response.delete_cookie(LOGIN_COOKIE, path=CALLBACK_PATH)
        return response

    async def _send_code(self, started: dict[str, str], person: Person | None, refusal: str) -> Response:
        state = {"state": started["state"]} if started["state"] else {}
        if person is None:
            answer = {"error": "access_denied", "error_description": f"the login failed: {refusal}", **state}
            return RedirectResponse(f"{started['redirect_uri']}?{urlencode(answer)}", status_code=302)
        code = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        login = PendingLogin(
            kind="code",
            secret_hash=digest(code),
            client_id=started["client_id"],
            redirect_uri=started["redirect_uri"],
            code_challenge=started["challenge"],
            scope=started["scope"],
            state="approved",
            identity=person.to_json(),
            expires_at=now + timedelta(seconds=CODE_SECONDS),
        )
        async with self._db.session() as session:
            await auth_records.add_login(session, login, now)
        log.info("%s logged in for client %r (authorization code)", person.subject, started["client_id"])
        return RedirectResponse(f"{started['redirect_uri']}?{urlencode({'code': code, **state})}", status_code=302)

    async def _approve_device(self, user_code: str, person: Person | None, refusal: str) -> Response:
        now = datetime.now(UTC)
        async with self._db.session() as session:
            login = await auth_records.find_device_login(session, user_code)
            moved = False
            if login is not None and login.expires_at > now:
                after, identity = ("approved", person.to_json()) if person is not None else ("denied", "")
                moved = await auth_records.move_login(session, login.id, "pending", after, identity=identity)
        if not moved:
            return _page(
                "Unknown code", "That code is unknown, used or has expired: start again in your terminal.", 400
            )
        if person is None:
            return _page("Login refused", f"The identity provider refused: {refusal}", 401)
        log.info("%s logged in for a device (client %r)", person.subject, login.client_id if login else "")
        return _page("You are logged in", f"Logged in as {person.subject}. Return to your terminal: it carries on.")

    async def exchange_code(self, form: dict[str, str], client: PublicClient) -> TokenAnswer:
        """grant_type=authorization_code (RFC 6749 4.1.3, RFC 7636 4.5): each code once, by its client, with PKCE."""
        code, verifier = form.get("code", ""), form.get("code_verifier", "")
        for name, value in (
            ("code", code),
            ("redirect_uri", form.get("redirect_uri", "")),
            ("code_verifier", verifier),
        ):
            if not value:
                raise OAuthError("invalid_request", f"{name} is required")
        now = datetime.now(UTC)
        async with self._db.session() as session:
            login = await auth_records.find_login(session, "code", digest(code))
        if login is None:
            raise OAuthError("invalid_grant", "unknown authorization code")
        if login.state != "approved":
            # RFC 6749 4.1.2: a code presented twice may have been stolen; what it gave is taken back.
            await self.grants.end(_grant_of(login))
            raise OAuthError("invalid_grant", "the authorization code was used already: its grant is revoked")
        if login.expires_at <= now:
            raise OAuthError("invalid_grant", "the authorization code has expired: log in again")
        if login.client_id != client.client_id:
            raise OAuthError("invalid_grant", "the authorization code was issued to another client")
        if form["redirect_uri"] != login.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri is not the one the authorization request named")
        if not hmac.compare_digest(code_challenge(verifier), login.code_challenge):
            raise OAuthError("invalid_grant", "the code_verifier does not match the code_challenge (PKCE S256)")
        async with self._db.session() as session:
            if not await auth_records.move_login(session, login.id, "approved", "used"):
                raise OAuthError("invalid_grant", "the authorization code was used already")
        return await self._issue(login)

    async def poll_device(self, form: dict[str, str], client: PublicClient) -> TokenAnswer:
        """grant_type=urn:ietf:params:oauth:grant-type:device_code (RFC 8628 3.4-3.5)."""
        device_code = form.get("device_code", "")
        if not device_code:
            raise OAuthError("invalid_request", "device_code is required")
        now = datetime.now(UTC)
        waiting: OAuthError | None = None
        async with self._db.session() as session:
            login = await auth_records.find_login(session, "device", digest(device_code))
            if login is not None and login.state == "pending" and login.expires_at > now:
                too_soon = login.polled_at is not None and (now - login.polled_at).total_seconds() < login.interval
                # RFC 8628 3.5: a client polling too fast waits 5 s longer from then on.
                await auth_records.note_poll(session, login.id, now, login.interval + (5 if too_soon else 0))
                waiting = (
                    OAuthError("slow_down", f"poll at most every {login.interval} s; now every {login.interval + 5} s")
                    if too_soon
                    else OAuthError("authorization_pending", "the person has not logged in yet")
                )
        if waiting is not None:  # raised after the poll's time is recorded (raising inside would undo it)
            raise waiting
        if login is None or login.client_id != client.client_id:
            raise OAuthError("invalid_grant", "unknown device code")
        if login.state == "used":
            await self.grants.end(_grant_of(login))  # as for a code presented twice
            raise OAuthError("invalid_grant", "the device code was used already: its grant is revoked")
        if login.state == "denied":
            raise OAuthError("access_denied", "the person's login was refused")
        if login.expires_at <= now:
            raise OAuthError("expired_token", "the device code has expired: start the login again")
        async with self._db.session() as session:
            if not await auth_records.move_login(session, login.id, "approved", "used"):
                raise OAuthError("invalid_grant", "the device code was used already")
        return await self._issue(login)

    async def _issue(self, login: PendingLogin) -> TokenAnswer:
        scopes = login.scope.split()
        offline = "offline" in scopes
        granted = [s for s in scopes if s != "offline"] or ["all"]
        person = Person.from_json(login.identity)
        return await self.grants.issue(person, login.client_id, granted, offline, _grant_of(login))


def _grant_of(login: PendingLogin) -> str:
    """The grant a code's (or device code's) tokens belong to: derived from the code, so a replay finds it."""
    return login.secret_hash[:32]
