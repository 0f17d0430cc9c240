"""Per-request context: a request id (kept in events and logs) and the locale."""

from __future__ import annotations

import itertools
import os
import re
import secrets
from contextvars import ContextVar
from http.cookies import SimpleCookie

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from refurb.web.i18n import LOCALE_COOKIE, pick_locale, use_locale

__all__ = ("REQUEST_ID_HEADER", "RequestContextMiddleware", "current_request_id")

REQUEST_ID_HEADER = "x-request-id"
_VALID_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# A request id must be unique, not secret: a random prefix per process and a counter
# (32 hex digits, like a UUID) spare every request a read of the system's random source.
_ids: tuple[int, str, itertools.count[int]] = (0, "", itertools.count(1))


def _new_request_id() -> str:
    global _ids
    pid, prefix, counter = _ids
    if pid != os.getpid():  # a forked worker draws its own prefix
        pid, prefix, counter = _ids = (os.getpid(), secrets.token_hex(10), itertools.count(1))
    return f"{prefix}{next(counter):012x}"


_request_id: ContextVar[str | None] = ContextVar("refurb_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being served, if any."""
    return _request_id.get()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def cookie_value(scope: Scope, name: str) -> str | None:
    """One cookie of the request, without building a Request."""
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None


class RequestContextMiddleware:
    """Sets the request id and locale for everything that runs under this request."""

    def __init__(self, app: ASGIApp, default_locale: str = "fr") -> None:
        self.app = app
        self.default_locale = default_locale

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request with its id and locale set, and echo the id in the response."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = _header(scope, REQUEST_ID_HEADER.encode())
        request_id = given if given and _VALID_ID.fullmatch(given) else _new_request_id()
        locale = pick_locale(
            cookie_value(scope, LOCALE_COOKIE), _header(scope, b"accept-language"), self.default_locale
        )
        scope.setdefault("state", {})["request_id"] = request_id
        id_token = _request_id.set(request_id)
        locale_token = use_locale(locale)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _request_id.reset(id_token)
            locale_token.var.reset(locale_token)
