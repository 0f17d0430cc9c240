"""Label data this area owns: a location's shelf or bin label."""

from __future__ import annotations

from pydantic import BaseModel

from refurb.core.codes import Code
from refurb.core.principal import Principal
from refurb.printing.kinds import LabelKind, LocationLabel
from refurb.printing.service import LabelContext, register_provider
from refurb.stock import service as stock

__all__ = ("register",)


async def location_labels(code: Code, principal: Principal, context: LabelContext) -> list[BaseModel]:
    """A bin or shelf label with where it is."""
    location = await stock.get_location(code.compact)
    path = await stock.location_path(code.compact)
    return [
        LocationLabel(
            code=location.code,
            display_code=location.display_code,
            name=location.name,
            parent=" / ".join(path[:-1]),
        )
    ]


def register() -> None:
    """Declare the label kinds this area fills."""
    register_provider(LabelKind.LOCATION, location_labels)
