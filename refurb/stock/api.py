"""JSON API of stock: levels and stock-takes."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import JSONBody
from pydantic import BaseModel, Field

from refurb.accounts.guards import allow, principal_of
from refurb.core.roles import WORKSHOP, Role
from refurb.stock import levels

__all__ = ("StockController",)

STOCK_READERS = (*WORKSHOP, Role.COORDINATOR, Role.AUDITOR)


class StockTakeIn(BaseModel):
    """A location and everything scanned in it (send the whole list each time: it is idempotent)."""

    location: str = Field(max_length=40)
    scanned: list[str] = Field(default_factory=list, max_length=2000)


class StockController(Controller):
    """What is in stock, and where."""

    path = "/api/v1/stock"
    tags = ["stock"]  # noqa: RUF012 - Litestar reads this class attribute
    guards = allow(*STOCK_READERS)

    @get("/levels", summary="Stock levels by kind and location, with age in stock")
    async def stock_levels(self) -> levels.Levels:
        """Devices in stock or reserved; `old` counts those in stock for more than 90 days."""
        return await levels.levels()

    @post(
        "/takes",
        summary="Compare a location's contents with what was scanned there",
        status_code=200,
        guards=allow(*WORKSHOP),
    )
    async def stock_take(
        self, request: Request[Any, Any, Any], data: JSONBody[StockTakeIn]
    ) -> levels.StockTake:
        """Found, missing (here, not scanned), extra (scanned here, recorded elsewhere); changes nothing."""
        return await levels.stock_take(data.location, data.scanned, principal_of(request))
