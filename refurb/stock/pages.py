"""Stock pages: levels, and a stock-take that keeps the scanner's focus."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter

from refurb.accounts.guards import allow
from refurb.core.errors import DomainError
from refurb.core.roles import Role
from refurb.stock import levels
from refurb.stock import service as stock
from refurb.stock.api import STOCK_READERS
from refurb.web.i18n import render_error
from refurb.web.problems import status_of
from refurb.web.render import page

__all__ = ("StockPages",)


class StockPages(Controller):
    """What is in stock, and checking a bin's contents."""

    path = "/stock"
    include_in_schema = False
    guards = allow(*STOCK_READERS)

    @get("/")
    async def levels_page(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Counts by kind and location, the longest waiting first in each row."""
        return page(request, "stock/levels.html", levels=await levels.levels())

    @get("/take", guards=allow(Role.TECHNICIAN, Role.SUPERVISOR, Role.ADMIN))
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
