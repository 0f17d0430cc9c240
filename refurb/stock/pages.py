"""Stock pages: levels, a stock-take that keeps the scanner's focus, and the location tree."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect

from refurb.accounts.guards import allow
from refurb.core.errors import BadInput, DomainError
from refurb.core.i18n import N_
from refurb.core.roles import WORKSHOP
from refurb.printing.kinds import KIND_ROLES, LabelKind
from refurb.stock import levels, locations
from refurb.stock import service as stock
from refurb.stock.api import STOCK_READERS
from refurb.stock.locations_api import LOCATION_WRITERS
from refurb.stock.service import LOCATION_KINDS
from refurb.web.forms import Form
from refurb.web.i18n import gettext, render_error
from refurb.web.problems import status_of
from refurb.web.render import page

__all__ = ("StockPages",)

DONE = {"added": N_("Location added."), "saved": N_("Location saved.")}


def _flatten(nodes: list[locations.LocationNode], depth: int = 0) -> list[tuple[locations.LocationNode, int]]:
    """The tree as table rows, each with its depth (a site, then everything under it)."""
    rows: list[tuple[locations.LocationNode, int]] = []
    for node in nodes:
        rows.append((node, depth))
        rows.extend(_flatten(node.children, depth + 1))
    return rows


def _text(form: dict[str, Any], name: str) -> str:
    value = form.get(name, "")
    return (value[0] if isinstance(value, list) and value else value or "").strip()


def _capacity(form: dict[str, Any]) -> int | None:
    """An empty capacity is unlimited."""
    text = _text(form, "capacity")
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise BadInput(
            N_("A capacity is a number of devices from 0 to {limit}, or empty for unlimited."),
            code="bad_capacity",
            limit=locations.CAPACITY_MAX,
        ) from None


def _can_take(request: Request[Any, Any, Any]) -> bool:
    """Only the roles that may do a stock-take see the link to it (others would get 403)."""
    return getattr(request.scope.get("user"), "role", None) in WORKSHOP


class StockPages(Controller):
    """What is in stock, and checking a bin's contents."""

    path = "/stock"
    include_in_schema = False
    guards = allow(*STOCK_READERS)

    @get("/")
    async def levels_page(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Counts by kind and location, the longest waiting first in each row."""
        return page(request, "stock/levels.html", levels=await levels.levels(), can_take=_can_take(request))

    @get("/take", guards=allow(*WORKSHOP))
    async def take_page(
        self, request: Request[Any, Any, Any], location: Annotated[str | None, QueryParameter()] = None
    ) -> Response[Any]:
        """Scan the location, then everything in it; the page shows what is missing or extra as you go."""
        found = None
        if location:
            try:
                found = await stock.get_location(location)
            except DomainError as error:
                return page(
                    request,
                    "stock/take.html",
                    location=None,
                    error=render_error(error),
                    status_code=status_of(error),
                )
        return page(request, "stock/take.html", location=found, error=None)

    async def _locations(
        self, request: Request[Any, Any, Any], *, error: DomainError | None = None, notice: str | None = None
    ) -> Response[Any]:
        role = getattr(request.scope.get("user"), "role", None)
        return page(
            request,
            "stock/locations.html",
            can_take=_can_take(request),
            status_code=status_of(error) if error else 200,
            rows=_flatten(await locations.tree()),
            kinds=LOCATION_KINDS,
            may_edit=role in LOCATION_WRITERS,
            may_print=role in KIND_ROLES[LabelKind.LOCATION],
            error=render_error(error) if error else None,
            notice=notice,
        )

    @get("/locations")
    async def locations_page(
        self, request: Request[Any, Any, Any], done: Annotated[str | None, QueryParameter()] = None
    ) -> Response[Any]:
        """Every location with what it holds against its capacity; supervisors add and edit here."""
        return await self._locations(request, notice=gettext(DONE[done]) if done in DONE else None)

    @post("/locations", guards=allow(*LOCATION_WRITERS), status_code=303)
    async def add_location(self, request: Request[Any, Any, Any], data: Form) -> Response[Any]:
        """A site (no parent), or a child of the location whose row the form is in."""
        try:
            added = await locations.add_location(
                _text(data, "name"),
                _text(data, "kind"),
                parent=_text(data, "parent") or None,
                capacity=_capacity(data),
            )
        except DomainError as error:
            return await self._locations(request, error=error)
        return Redirect(path=f"/stock/locations?done=added#{quote(added.code)}", status_code=303)

    @post("/locations/{code:str}", guards=allow(*LOCATION_WRITERS), status_code=303)
    async def edit_location(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: Form
    ) -> Response[Any]:
        """Name and capacity together (an empty capacity is unlimited); a refusal changes neither."""
        try:
            saved = await locations.update_location(code, name=_text(data, "name"), capacity=_capacity(data))
        except DomainError as error:
            return await self._locations(request, error=error)
        return Redirect(path=f"/stock/locations?done=saved#{quote(saved.code)}", status_code=303)
