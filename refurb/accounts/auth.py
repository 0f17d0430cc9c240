"""Who is calling: a bearer token (API) or a session cookie (pages).

The middleware never refuses: it puts the principal (or None) in the scope,
and each route's guard decides. A request with an `Authorization` header is
judged on that header alone, never on a cookie, so CSRF cannot ride along.
"""

from __future__ import annotations

import datetime
import logging
import re
from urllib.parse import parse_qs, unquote_plus

from litestar.types import ASGIApp, Receive, Scope, Send

from refurb.accounts import service
from refurb.core.principal import Principal
from refurb.web.context import cookie_value

__all__ = ("SESSION_COOKIE", "AuthMiddleware", "RedactQueryTokens", "bearer_token")

SESSION_COOKIE = "refurb_session"
_SKIP = ("/static/", "/health", "/schema")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _route(scope: Scope) -> tuple[str, str]:
    return scope.get("method", ""), scope.get("path", "").rstrip("/")


def _query_token(scope: Scope) -> str | None:
    """ShredOS's `http_post_url=` can only name a URL: a limited token may come in the query there."""
    if not any(_route(scope) in routes for routes in service.TOKEN_SCOPES.values()):
        return None
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
    return values[0].strip() if values else None


def bearer_token(scope: Scope) -> str | None:
    """The bearer credentials of the request, or None (also for other schemes)."""
    header = _header(scope, b"authorization")
    if header is None:
        return _query_token(scope)
    scheme, _, credentials = header.partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


_QUERY_PAIR = re.compile(r"(?<=[?&])([^=&\s]*)=([^&\s]*)")


def _mask_tokens(text: str) -> str:
    """`token=***` whatever way the name is spelt: parse_qs decodes `%74oken` to `token` too."""

    def mask(pair: re.Match[str]) -> str:
        name = unquote_plus(pair.group(1))
        return f"{pair.group(1)}=***" if name == "token" else pair.group(0)

    return _QUERY_PAIR.sub(mask, text) if "?" in text else text


class RedactQueryTokens(logging.Filter):
    """Access logs show `token=***`: a token typed into a ShredOS boot line must not land in a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the logged path; never drop the line."""
        if isinstance(record.args, tuple):
            record.args = tuple(_mask_tokens(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def _admitted(principal: Principal | None, scope: Scope) -> Principal | None:
    """A limited token opens its routes only; a full token never comes in a URL."""
    if principal is None:
        return None
    in_query = _header(scope, b"authorization") is None
    if principal.token_scope is None:
        return None if in_query else principal
    return principal if _route(scope) in service.TOKEN_SCOPES.get(principal.token_scope, ()) else None


class AuthMiddleware:
    """Resolve the principal once per request."""

    def __init__(self, app: ASGIApp, secret_key: str, session_lifetime: datetime.timedelta) -> None:
        self.app = app
        self.secret_key = secret_key
        self.session_lifetime = session_lifetime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Put `user` (a Principal or None) and `auth` (how it came) in the scope."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        scope["user"] = None
        scope["auth"] = None
        if not scope.get("path", "").startswith(_SKIP):
            token = bearer_token(scope)
            if token is not None:
                scope["auth"] = "bearer"
                if token:
                    scope["user"] = _admitted(await service.principal_for_token(token), scope)
            else:
                cookie = cookie_value(scope, SESSION_COOKIE)
                if cookie:
                    scope["auth"] = "session"
                    scope["user"] = await service.principal_for_session(
                        cookie, key=self.secret_key, lifetime=self.session_lifetime
                    )
        await self.app(scope, receive, send)
