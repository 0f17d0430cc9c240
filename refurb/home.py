"""The home page, the language switch, health, and problem type pages (on top: they read every area)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect

from refurb import __version__
from refurb.accounts.guards import allow, principal_of
from refurb.accounts.pages import safe_next
from refurb.db import database_status
from refurb.devices import service as devices
from refurb.web.i18n import LOCALE_COOKIE, LOCALES, gettext
from refurb.web.problems import TITLES
from refurb.web.render import page
from refurb.work import work_for

__all__ = ("HealthController", "HomeController")

REFRESH_SECONDS = 15


@dataclass
class LocaleForm:
    """The language switch."""

    locale: str = "fr"
    next: str = "/"


class HomeController(Controller):
    """Pages every logged-in user shares."""

    path = "/"
    include_in_schema = False

    @get("/", guards=allow())
    async def home(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """The work waiting for this role, then live counts of devices per state."""
        principal = principal_of(request)
        counts = await devices.counts_by_state(principal)
        work = await work_for(principal)
        return page(
            request, "web/home.html", counts=counts, work=work.sections, refresh_seconds=REFRESH_SECONDS
        )

    @post("/locale", opt={"public": True}, status_code=303)
    async def switch_locale(self, data: URLEncodedBody[LocaleForm]) -> Response[Any]:
        """Remember the chosen language for a year."""
        locale = data.locale if data.locale in LOCALES else LOCALES[0]
        return Redirect(
            path=safe_next(data.next),
            status_code=303,
            cookies=[
                Cookie(key=LOCALE_COOKIE, value=locale, max_age=365 * 24 * 3600, samesite="lax", path="/")
            ],
        )

    @get("/problems/{code:str}", opt={"public": True})
    async def problem_type(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Response[Any]:
        """What a problem `type` URI means."""
        title = gettext(TITLES[code]) if code in TITLES else None
        status = 200 if title else 404
        return page(request, "web/problem.html", status_code=status, code=code[:64], title=title or "—")


class HealthController(Controller):
    """`GET /health` for load balancers and people."""

    path = "/health"
    tags = ["health"]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/", opt={"public": True}, summary="Service and database health")
    async def health(self) -> Response[dict[str, Any]]:
        """200 when the database answers, 503 otherwise."""
        database = await database_status()
        healthy = database["status"] == "ok"
        body = {"status": "ok" if healthy else "degraded", "version": __version__, "database": database}
        return Response(body, status_code=200 if healthy else 503)
