"""Login and logout pages."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import QueryParameter, URLEncodedBody
from litestar.response import Redirect

from refurb.accounts import service
from refurb.accounts.auth import SESSION_COOKIE
from refurb.core.errors import NotAuthenticated, RateLimited
from refurb.settings import Settings
from refurb.web.i18n import render_error
from refurb.web.render import page

__all__ = ("LoginController", "safe_next")

#: "This browser logged in as …": its own failures count, not the username's (OWASP, device cookies).
DEVICE_COOKIE = "refurb_device"
DEVICE_COOKIE_DAYS = 180


@dataclass
class LoginForm:
    """The login form's fields."""

    username: str = ""
    password: str = ""
    next: str = "/"


def safe_next(target: str | None) -> str:
    """Only same-site paths: a login link must not bounce people to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


class LoginController(Controller):
    """Session login for the pages (the API uses bearer tokens)."""

    path = "/"
    include_in_schema = False

    @get("/login", opt={"public": True})
    async def form(
        self,
        request: Request[Any, Any, Any],
        next_: Annotated[str | None, QueryParameter(name="next")] = None,
    ) -> Response[Any]:
        """The login form; a logged-in user goes straight on."""
        if request.scope.get("user") is not None:
            return Redirect(path=safe_next(next_), status_code=303)
        return page(request, "accounts/login.html", next=safe_next(next_), username="", error=None)

    @post("/login", opt={"public": True}, status_code=303)
    async def login(self, request: Request[Any, Any, Any], data: URLEncodedBody[LoginForm]) -> Response[Any]:
        """Check the credentials, open a session, and set its signed cookie."""
        settings: Settings = request.app.state.settings
        policy = service.LoginPolicy(
            max_failures=settings.login_max_failures,
            window=datetime.timedelta(minutes=settings.login_window_minutes),
        )
        ip = request.client.host if request.client else ""
        key = request.app.state.secret_key
        device = service.known_device(request.cookies.get(DEVICE_COOKIE), data.username, key)
        try:
            principal = await service.authenticate(data.username, data.password, ip, policy, device=device)
        except (NotAuthenticated, RateLimited) as error:
            status = 429 if isinstance(error, RateLimited) else 401
            headers = {"retry-after": str(error.retry_after)} if isinstance(error, RateLimited) else None
            return page(
                request,
                "accounts/login.html",
                status_code=status,
                headers=headers,
                next=safe_next(data.next),
                username=data.username,
                error=render_error(error),
            )
        lifetime = datetime.timedelta(hours=settings.session_hours)
        cookie = await service.create_session(
            principal.user_id,
            key=request.app.state.secret_key,
            lifetime=lifetime,
            ip=ip,
            user_agent=request.headers.get("user-agent", ""),
        )
        return Redirect(
            path=safe_next(data.next),
            status_code=303,
            cookies=[
                Cookie(
                    key=SESSION_COOKIE,
                    value=cookie,
                    httponly=True,
                    samesite="lax",
                    secure=settings.secure_cookies,
                    max_age=int(lifetime.total_seconds()),
                    path="/",
                ),
                Cookie(
                    key=DEVICE_COOKIE,
                    value=service.device_cookie(principal.username, key),
                    httponly=True,
                    samesite="lax",
                    secure=settings.secure_cookies,
                    max_age=DEVICE_COOKIE_DAYS * 24 * 3600,
                    path="/login",
                ),
            ],
        )

    @post("/logout", opt={"public": True}, status_code=303)
    async def logout(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """End the session server-side and drop the cookie."""
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            await service.end_session(cookie, key=request.app.state.secret_key)
        return Redirect(
            path="/login",
            status_code=303,
            cookies=[Cookie(key=SESSION_COOKIE, value="", max_age=0, expires=0, path="/")],
        )
