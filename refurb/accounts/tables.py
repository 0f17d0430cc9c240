"""Organisations, users, API tokens, sessions and failed logins."""

from __future__ import annotations

from piccolo.columns import Boolean, ForeignKey, OnDelete, Timestamptz, Varchar

from refurb.core.roles import OrganisationKind, Role
from refurb.timestamps import Timestamped

__all__ = ("TABLES", "ApiToken", "LoginFailure", "Organisation", "User", "UserSession")


class Organisation(Timestamped):
    """A donor company, a workshop, a distributor, a city… Every user belongs to one."""

    name = Varchar(length=200, unique=True)
    kind = Varchar(length=20, choices=OrganisationKind)
    siret = Varchar(length=14, null=True, default=None)


class User(Timestamped, tablename="user_account"):
    """A person who logs in; one organisation, one role."""

    username = Varchar(length=80, unique=True)
    display_name = Varchar(length=200, default="")
    password_hash = Varchar(length=200)
    role = Varchar(length=20, choices=Role)
    organisation = ForeignKey(references=Organisation, on_delete=OnDelete.restrict, null=False)
    active = Boolean(default=True)
    last_login_at = Timestamptz(null=True, default=None)


class ApiToken(Timestamped):
    """A bearer token; only its SHA-256 is kept."""

    user = ForeignKey(references=User, on_delete=OnDelete.cascade, null=False)
    name = Varchar(length=100, default="")
    token_hash = Varchar(length=64, unique=True)
    prefix = Varchar(length=12)
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    scope = Varchar(length=40, null=True, default=None)  # None: everything the user may do


class UserSession(Timestamped):
    """A browser login; the cookie carries a signed token whose SHA-256 is kept here."""

    user = ForeignKey(references=User, on_delete=OnDelete.cascade, null=False)
    token_hash = Varchar(length=64, unique=True)
    expires_at = Timestamptz()
    ip = Varchar(length=64, default="")
    user_agent = Varchar(length=300, default="")


class LoginFailure(Timestamped):
    """One failed login, counted per username, per address and per known device for rate limiting."""

    username = Varchar(length=80, index=True)
    ip = Varchar(length=64, index=True)
    device = Varchar(length=64, default="", index=True)  # the browser's device cookie id, "" if none


#: This area's tables, registered with the database by `wiring` (in dependency order).
TABLES = (Organisation, User, ApiToken, UserSession, LoginFailure)
