"""Accounts use cases: organisations, users, passwords, sessions, API tokens.

Secrets handed to people (passwords, tokens, session cookies) are never
stored: passwords as argon2 hashes, tokens and sessions as SHA-256 digests.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.fr import siret as siret_number

from refurb.accounts.tables import ApiToken, LoginFailure, Organisation, User, UserSession
from refurb.core.choices import parse_choice
from refurb.core.errors import BadInput, Conflict, NotAuthenticated, NotFound, RateLimited
from refurb.core.i18n import N_
from refurb.core.principal import Principal
from refurb.core.roles import OrganisationKind, Role
from refurb.db import fetch, is_sqlite, write_transaction
from refurb.timestamps import utcnow
from refurb.web.problems import is_outage

__all__ = (
    "LoginPolicy",
    "authenticate",
    "create_organisation",
    "create_session",
    "create_token",
    "create_user",
    "device_cookie",
    "donor_organisation",
    "donor_organisations",
    "end_session",
    "known_device",
    "organisation_names",
    "principal_for_session",
    "principal_for_token",
    "user_names",
    "user_ref",
)

log = logging.getLogger("refurb.accounts")
TOKEN_PREFIX = "rfb_"  # noqa: S105 - a marker, not a secret
MIN_PASSWORD_LENGTH = 10
MAX_DISPLAY_NAME = 80  # it is copied into every event the user records
TOKEN_TOUCH_INTERVAL = datetime.timedelta(minutes=1)
SESSION_TOUCH_INTERVAL = datetime.timedelta(minutes=10)
FAILURE_RETENTION = datetime.timedelta(days=1)
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,79}")
_hasher = PasswordHasher()
# Verified against when the username is unknown, so timing does not tell.
_DUMMY_HASH = _hasher.hash("not a real password, only for constant time")


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """How many failed logins are tolerated, per username and per address."""

    max_failures: int = 5
    window: datetime.timedelta = datetime.timedelta(minutes=15)

    @property
    def max_failures_per_address(self) -> int:
        """An address may try several accounts (a shared workshop PC), but not forever."""
        return self.max_failures * 4


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _principal_columns(user: object) -> tuple:
    """The columns a principal is built from, reached from `user` (User or a FK to it)."""
    return (
        user.id,  # type: ignore[attr-defined]
        user.username,  # type: ignore[attr-defined]
        user.display_name,  # type: ignore[attr-defined]
        user.role,  # type: ignore[attr-defined]
        user.active,  # type: ignore[attr-defined]
        user.organisation.id,  # type: ignore[attr-defined]
        user.organisation.name,  # type: ignore[attr-defined]
        user.organisation.kind,  # type: ignore[attr-defined]
    )


def _principal(row: dict, prefix: str = "") -> Principal | None:
    if not row[f"{prefix}active"]:
        return None
    return Principal(
        user_id=row[f"{prefix}id"],
        username=row[f"{prefix}username"],
        display_name=row[f"{prefix}display_name"],
        role=Role(row[f"{prefix}role"]),
        organisation_id=row[f"{prefix}organisation.id"],
        organisation_name=row[f"{prefix}organisation.name"],
        organisation_kind=OrganisationKind(row[f"{prefix}organisation.kind"]),
    )


async def principal_for_user(user_id: int) -> Principal:
    """The principal of an active user."""
    row = await User.select(*_principal_columns(User)).where(User.id == user_id).first()
    principal = _principal(row) if row else None
    if principal is None:
        raise NotFound(N_("No such user."))
    return principal


# --- organisations and users -------------------------------------------------


async def create_organisation(name: str, kind: OrganisationKind | str, siret: str | None = None) -> int:
    """Create an organisation; the SIRET, when given, must be a valid one."""
    name = name.strip()
    if not name:
        raise BadInput(N_("The organisation needs a name."), code="bad_organisation")
    kind = parse_choice(
        OrganisationKind,
        kind,
        N_("'{kind}' is not a kind of organisation (known: {known})."),
        code="bad_organisation",
        field="kind",
    )
    if siret:
        try:
            siret = siret_number.validate(siret)
        except StdnumValidationError:
            raise BadInput(N_("'{siret}' is not a valid SIRET."), code="bad_siret", siret=siret) from None
    async with write_transaction():
        if await Organisation.exists().where(Organisation.name == name):
            raise Conflict(N_("An organisation named '{name}' already exists."), name=name)
        rows = await Organisation.insert(
            Organisation(name=name, kind=kind.value, siret=siret or None)
        ).returning(Organisation.id)
    return rows[0]["id"]


async def organisation_id(name: str) -> int:
    """The id of the organisation called `name`."""
    row = await Organisation.select(Organisation.id).where(Organisation.name == name).first()
    if row is None:
        raise NotFound(N_("No organisation is named '{name}'."), name=name)
    return row["id"]


async def organisation_facts(org_id: int) -> tuple[str, str | None]:
    """An organisation's name and SIRET, as documents print them."""
    row = (
        await Organisation.select(Organisation.name, Organisation.siret)
        .where(Organisation.id == org_id)
        .first()
    )
    if row is None:
        raise NotFound(N_("No organisation #{id} is known."), id=org_id)
    return row["name"], row["siret"]


async def organisation_names(ids: Sequence[int]) -> dict[int, str]:
    """Organisations' names by id (for pages and exports of other areas)."""
    if not ids:
        return {}
    rows = await Organisation.select(Organisation.id, Organisation.name).where(
        Organisation.id.is_in(list(ids))
    )
    return {row["id"]: row["name"] for row in rows}


async def user_ref(username: str) -> tuple[int, Role]:
    """The id and role of the active user called `username`."""
    row = (
        await User.select(User.id, User.role)
        .where((User.username == username.strip().lower()) & (User.active == True))  # noqa: E712
        .first()
    )
    if row is None:
        raise NotFound(N_("No active user is named '{name}'."), code="unknown_user", name=username[:80])
    return row["id"], Role(row["role"])


async def user_names(ids: Sequence[int]) -> dict[int, str]:
    """Users' usernames by id (a household's referent, on pages and exports)."""
    if not ids:
        return {}
    rows = await User.select(User.id, User.username).where(User.id.is_in(list(ids)))
    return {row["id"]: row["username"] for row in rows}


async def donor_organisation(name: str) -> int:
    """The id of the donor organisation called `name` (batches belong to donors only)."""
    row = (
        await Organisation.select(Organisation.id)
        .where((Organisation.name == name.strip()) & (Organisation.kind == OrganisationKind.DONOR.value))
        .first()
    )
    if row is None:
        raise NotFound(N_("No donor organisation is named '{name}'."), name=name[:200])
    return row["id"]


async def donor_organisations() -> list[str]:
    """The names of every donor organisation, for staff choosing whom a batch is for."""
    rows = (
        await Organisation.select(Organisation.name)
        .where(Organisation.kind == OrganisationKind.DONOR.value)
        .order_by(Organisation.name)
    )
    return [r["name"] for r in rows]


def check_password(password: str) -> None:
    """Refuse passwords too short to resist guessing."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadInput(
            N_("A password needs at least {length} characters."),
            code="weak_password",
            length=MIN_PASSWORD_LENGTH,
        )


async def create_user(
    username: str,
    role: Role | str,
    organisation: str,
    *,
    password: str | None = None,
    display_name: str = "",
) -> tuple[int, str | None]:
    """Create a user; returns its id and the generated password when none was given."""
    username = username.strip().lower()
    if not _USERNAME.fullmatch(username):
        raise BadInput(
            N_("'{username}' is not a valid username (2-80 of a-z, 0-9, '.', '_', '-')."),
            code="bad_username",
            username=username,
        )
    role = parse_choice(
        Role, role, N_("'{role}' is not a role (known: {known})."), code="bad_role", field="role"
    )
    display_name = display_name.strip()
    if len(display_name) > MAX_DISPLAY_NAME:
        raise BadInput(
            N_("A display name has at most {limit} characters."),
            code="bad_display_name",
            limit=MAX_DISPLAY_NAME,
        )
    generated = None
    if password is None:
        password = generated = secrets.token_urlsafe(12)
    check_password(password)
    org_id = await organisation_id(organisation)
    password_hash = _hasher.hash(password)
    async with write_transaction():
        if await User.exists().where(User.username == username):
            raise Conflict(N_("The username '{username}' is taken."), username=username)
        rows = await User.insert(
            User(
                username=username,
                display_name=display_name,
                password_hash=password_hash,
                role=role.value,
                organisation=org_id,
            )
        ).returning(User.id)
    return rows[0]["id"], generated


async def set_password(username: str, password: str) -> None:
    """Replace a user's password and end all their sessions."""
    check_password(password)
    password_hash = _hasher.hash(password)
    async with write_transaction():
        rows = (
            await User.update({User.password_hash: password_hash})
            .where(User.username == username)
            .returning(User.id)
        )
        if not rows:
            raise NotFound(N_("No user is named '{username}'."), username=username)
        await UserSession.delete().where(UserSession.user == rows[0]["id"])


async def set_active(username: str, active: bool) -> None:
    """Disable (or re-enable) a user: a disabled user's sessions end and tokens stop working."""
    async with write_transaction():
        rows = (
            await User.update({User.active: active})
            .where(User.username == username.strip().lower())
            .returning(User.id)
        )
        if not rows:
            raise NotFound(N_("No user is named '{username}'."), username=username)
        if not active:
            await UserSession.delete().where(UserSession.user == rows[0]["id"])


# --- login -------------------------------------------------------------------


async def _verify(password_hash: str, password: str) -> bool:
    """argon2 is deliberately slow: run it off the event loop so scans are not stalled."""

    def check() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(check)


async def _touch(update: Any) -> None:
    """Bookkeeping (a session slides, a token's last use) that must not block a read.

    A full or read-only database would turn every request into a 503: its failure is only logged.
    """
    try:
        async with write_transaction():
            await update
    except Exception as error:
        if not is_outage(error):
            raise
        log.warning("not recorded (database unavailable): %s", type(error).__name__)


async def authenticate(
    username: str, password: str, ip: str, policy: LoginPolicy, *, device: str | None = None
) -> Principal:
    """Check credentials, refusing when this username, address or device failed too often.

    OWASP's advice against lock-out abuse: a browser where this user logged in
    before carries a signed device cookie (`device`); its own failures count,
    not the username's, so nobody can lock the administrator out of her own
    browser by failing on purpose from elsewhere. An address over its limit is
    refused before anything is recorded, so its refusals never count against a
    username. The attempt is recorded *before* the password is checked and
    counted with the others (parallel guesses cannot slip under the limit);
    it is forgotten again when the password was right.
    """
    username = username.strip().lower()[:80]
    ip = ip[:64]
    since = utcnow() - policy.window
    refused = RateLimited(
        N_("Too many failed logins. Try again in {minutes} minutes."),
        minutes=int(policy.window.total_seconds() // 60),
        retry_after=int(policy.window.total_seconds()),
    )
    async with write_transaction():
        if not is_sqlite():  # SQLite's IMMEDIATE transaction already serialises writers
            await fetch("SELECT pg_advisory_xact_lock(hashtext({}))", f"login:{username}")
        by_ip = await LoginFailure.count().where((LoginFailure.ip == ip) & (LoginFailure.created_at > since))
        if by_ip >= policy.max_failures_per_address:
            raise refused
        attempt = await LoginFailure.insert(
            LoginFailure(username=username, ip=ip, device=(device or "")[:64])
        ).returning(LoginFailure.id)
        if device:
            counted = (LoginFailure.device == device[:64]) & (LoginFailure.username == username)
        else:
            counted = (LoginFailure.username == username) & (LoginFailure.device == "")
        tries = await LoginFailure.count().where(counted & (LoginFailure.created_at > since))
        await LoginFailure.delete().where(LoginFailure.created_at < utcnow() - FAILURE_RETENTION)
    if tries > policy.max_failures:
        raise refused
    row = (
        await User.select(User.id, User.password_hash)
        .where((User.username == username) & (User.active.eq(True)))
        .first()
    )
    valid = await _verify(row["password_hash"] if row else _DUMMY_HASH, password) and row is not None
    if not valid:
        raise NotAuthenticated(N_("Wrong username or password."), code="invalid_credentials")
    assert row is not None
    async with write_transaction():
        await LoginFailure.delete().where(LoginFailure.id == attempt[0]["id"])
        await User.update({User.last_login_at: utcnow()}).where(User.id == row["id"])
        if _hasher.check_needs_rehash(row["password_hash"]):
            await User.update({User.password_hash: _hasher.hash(password)}).where(User.id == row["id"])
    return await principal_for_user(row["id"])


def device_cookie(username: str, key: str) -> str:
    """A signed "this browser logged in as `username`" cookie (random id, username, signature)."""
    token = f"{secrets.token_urlsafe(12)}.{username.strip().lower()[:80]}"
    return f"{token}.{_sign('device:' + token, key)}"


def known_device(cookie: str | None, username: str, key: str) -> str | None:
    """The device id a valid device cookie gives for `username`, else None."""
    if not cookie or cookie.count(".") < 2:
        return None
    token, _, signature = cookie.rpartition(".")
    if not hmac.compare_digest(signature, _sign("device:" + token, key)):
        return None
    device, _, owner = token.partition(".")
    return device if owner == username.strip().lower()[:80] else None


# --- sessions ----------------------------------------------------------------


def _sign(token: str, key: str) -> str:
    mac = hmac.new(key.encode(), token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


async def create_session(
    user_id: int, *, key: str, lifetime: datetime.timedelta, ip: str = "", user_agent: str = ""
) -> str:
    """Open a session; returns the signed cookie value."""
    token = secrets.token_urlsafe(32)
    async with write_transaction():
        await UserSession.delete().where(UserSession.expires_at < utcnow())
        await UserSession.insert(
            UserSession(
                user=user_id,
                token_hash=_digest(token),
                expires_at=utcnow() + lifetime,
                ip=ip[:64],
                user_agent=user_agent[:300],
            )
        )
    return f"{token}.{_sign(token, key)}"


def _token_from_cookie(cookie: str, key: str) -> str | None:
    token, _, signature = cookie.partition(".")
    if not token or not signature or not hmac.compare_digest(signature, _sign(token, key)):
        return None
    return token


async def principal_for_session(cookie: str, *, key: str, lifetime: datetime.timedelta) -> Principal | None:
    """The user behind a session cookie, sliding its expiry; None if forged or expired."""
    token = _token_from_cookie(cookie, key)
    if token is None:
        return None
    now = utcnow()
    row = (
        await UserSession.select(
            UserSession.id, UserSession.expires_at, *_principal_columns(UserSession.user)
        )
        .where((UserSession.token_hash == _digest(token)) & (UserSession.expires_at > now))
        .first()
    )
    principal = _principal(row, "user.") if row else None
    if principal is None:
        return None
    if row["expires_at"] - now < lifetime - SESSION_TOUCH_INTERVAL:
        await _touch(
            UserSession.update({UserSession.expires_at: now + lifetime}).where(UserSession.id == row["id"])
        )
    return principal


async def end_session(cookie: str, *, key: str) -> None:
    """Log out: the session row goes, so the cookie is worthless even if kept."""
    token = _token_from_cookie(cookie, key)
    if token is not None:
        async with write_transaction():
            await UserSession.delete().where(UserSession.token_hash == _digest(token))


# --- API tokens --------------------------------------------------------------


#: Limited tokens and the routes they open: a ShredOS boot line carries one in clear.
TOKEN_SCOPES = {"erasure-reports": frozenset({("PUT", "/api/v1/erasure-reports")})}


async def create_token(username: str, name: str = "", scope: str | None = None) -> str:
    """Issue a bearer token for a user; the only time it is ever shown.

    A `scope` limits it to the routes of TOKEN_SCOPES (its user's role still applies).
    """
    if scope is not None and scope not in TOKEN_SCOPES:
        raise BadInput(
            N_("'{scope}' is not a token scope (known: {known})."),
            code="bad_scope",
            scope=scope[:40],
            known=", ".join(TOKEN_SCOPES),
        )
    row = (
        await User.select(User.id)
        .where((User.username == username.strip().lower()) & User.active.eq(True))
        .first()
    )
    if row is None:
        raise NotFound(N_("No active user is named '{username}'."), username=username)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with write_transaction():
        await ApiToken.insert(
            ApiToken(
                user=row["id"],
                name=name.strip()[:100],
                token_hash=_digest(token),
                prefix=token[:12],
                scope=scope,
            )
        )
    return token


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What may be shown of a token: never the token itself."""

    prefix: str
    name: str
    created_at: datetime.datetime
    last_used_at: datetime.datetime | None
    revoked_at: datetime.datetime | None


async def list_tokens(username: str) -> list[TokenInfo]:
    """A user's tokens, oldest first."""
    rows = (
        await ApiToken.select(
            ApiToken.prefix, ApiToken.name, ApiToken.created_at, ApiToken.last_used_at, ApiToken.revoked_at
        )
        .where(ApiToken.user.username == username.strip().lower())
        .order_by(ApiToken.id)
    )
    return [TokenInfo(**row) for row in rows]


async def revoke_tokens(username: str, prefix: str | None = None) -> int:
    """Revoke a user's tokens (those starting with `prefix`, or all); returns how many."""
    user = await User.select(User.id).where(User.username == username.strip().lower()).first()
    if user is None:
        raise NotFound(N_("No user is named '{username}'."), username=username)
    where = (ApiToken.user == user["id"]) & ApiToken.revoked_at.is_null()
    if prefix:
        where &= ApiToken.prefix == prefix[:12]
    async with write_transaction():
        rows = await ApiToken.update({ApiToken.revoked_at: utcnow()}).where(where).returning(ApiToken.id)
    return len(rows)


_BEARER_LOOKUP_SQL = """
SELECT t.id AS token_id, t.last_used_at, t.scope, u.id, u.username, u.display_name, u.role, u.active,
       o.id AS organisation_id, o.name AS organisation_name, o.kind AS organisation_kind
FROM api_token t
JOIN user_account u ON u.id = t."user"
JOIN organisation o ON o.id = u.organisation
WHERE t.token_hash = {} AND t.revoked_at IS NULL"""


async def principal_for_token(token: str) -> Principal | None:
    """The user behind a bearer token; None if unknown, revoked or the user is inactive.

    Runs on every API call, so it is one plain SQL query (no query building).
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    rows = await fetch(_BEARER_LOOKUP_SQL, _digest(token))
    if not rows or not rows[0]["active"]:
        return None
    row = rows[0]
    now = utcnow()
    if row["last_used_at"] is None or now - row["last_used_at"] > TOKEN_TOUCH_INTERVAL:
        await _touch(ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == row["token_id"]))
    return Principal(
        user_id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        role=Role(row["role"]),
        organisation_id=row["organisation_id"],
        organisation_name=row["organisation_name"],
        organisation_kind=OrganisationKind(row["organisation_kind"]),
        token_scope=row["scope"],
    )
