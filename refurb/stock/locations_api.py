"""JSON API of stock locations: the tree, adding a location, renaming it or changing its capacity."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody
from pydantic import BaseModel, Field

from refurb.accounts.guards import allow
from refurb.core.roles import SUPERVISION
from refurb.stock import locations
from refurb.stock.api import STOCK_READERS
from refurb.stock.locations import LocationNode
from refurb.stock.service import LOCATION_KINDS, LocationOut

__all__ = ("LOCATION_WRITERS", "LocationController")

LOCATION_WRITERS = SUPERVISION


class LocationIn(BaseModel):
    """A new location; a site has no parent, anything else goes under a location above its kind."""

    name: str = Field(max_length=locations.NAME_MAX, examples=["Bac A1"])
    kind: str = Field(max_length=20, description=" → ".join(LOCATION_KINDS), examples=["bin"])
    parent: str | None = Field(default=None, max_length=40, description="The parent's L code")
    capacity: int | None = Field(
        default=None, le=locations.CAPACITY_MAX, description="Devices it can hold; null: unlimited"
    )


class LocationPatch(BaseModel):
    """Send only what changes; `capacity: null` makes it unlimited."""

    name: str | None = Field(default=None, max_length=locations.NAME_MAX)
    capacity: int | None = Field(default=None, le=locations.CAPACITY_MAX)


class LocationController(Controller):
    """Where devices are kept: site → zone → shelf → bin, each with an L code and a label."""

    path = "/api/v1/locations"
    tags = ["stock"]  # noqa: RUF012 - Litestar reads this class attribute
    guards = allow(*STOCK_READERS)

    @get("/", summary="The location tree, with devices held and capacities")
    async def location_tree(self) -> list[LocationNode]:
        """Sites with their children nested; `held` counts devices in stock or reserved at each."""
        return await locations.tree()

    @post("/", summary="Add a location", guards=allow(*LOCATION_WRITERS))
    async def create_location(self, data: JSONBody[LocationIn]) -> LocationOut:
        """A fresh L code; the name must be free among the parent's children."""
        return await locations.add_location(data.name, data.kind, parent=data.parent, capacity=data.capacity)

    @patch("/{code:str}", summary="Rename a location or change its capacity", guards=allow(*LOCATION_WRITERS))
    async def update_location(self, code: FromPath[str], data: JSONBody[LocationPatch]) -> LocationOut:
        """A capacity below what the location holds now is refused with both numbers."""
        changes: dict[str, Any] = {name: getattr(data, name) for name in data.model_fields_set}
        if changes.get("name", "") is None:
            del changes["name"]  # a null name means "unchanged"
        return await locations.update_location(code, **changes)
