"""Stock locations (the stock issue adds put-away, moves, levels and stock-takes)."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from refurb.codes.service import mint
from refurb.core.codes import Code, CodeType, parse_code
from refurb.core.errors import BadInput, NotFound
from refurb.core.i18n import N_
from refurb.core.lifecycle import State
from refurb.core.principal import Principal
from refurb.db import fetch, is_sqlite, write_transaction
from refurb.devices import service as devices
from refurb.stations import service as stations
from refurb.stations.schemas import ThingOut
from refurb.stock.tables import Location

__all__ = (
    "LOCATION_KINDS",
    "LocationOut",
    "create_location",
    "find_location",
    "get_location",
    "location_codes",
    "location_id",
    "location_names",
    "location_path",
    "location_with_room",
    "lock_location",
    "register",
)

LOCATION_KINDS = ("site", "zone", "shelf", "bin")


class LocationOut(BaseModel):
    """A location as other areas and the API see it."""

    id: int
    code: str
    display_code: str
    name: str
    kind: str
    parent: str | None
    capacity: int | None


async def create_location(
    name: str, kind: str, *, parent_code: str | None = None, capacity: int | None = None
) -> LocationOut:
    """Add a location under `parent_code`, with a fresh L code."""
    if kind not in LOCATION_KINDS:
        raise BadInput(
            N_("'{kind}' is not a kind of location (known: {known})."),
            code="bad_location",
            kind=kind,
            known=", ".join(LOCATION_KINDS),
        )
    if capacity is not None and capacity < 0:
        raise BadInput(N_("A capacity cannot be negative."), code="bad_location")
    parent_id = (await get_location(parent_code)).id if parent_code else None
    async with write_transaction():
        (code,) = await mint(CodeType.LOCATION, 1)
        await Location.insert(
            Location(code=code.compact, name=name.strip(), kind=kind, parent=parent_id, capacity=capacity)
        )
    return await get_location(code.compact)


async def find_location(name: str) -> LocationOut | None:
    """A location by its exact name, if any."""
    row = await Location.select(Location.code).where(Location.name == name).first()
    return await get_location(row["code"]) if row else None


async def location_path(code_text: str) -> list[str]:
    """Names from the site down to this location."""
    names: list[str] = []
    current: str | None = code_text
    while current is not None and len(names) < 20:
        location = await get_location(current)
        names.append(location.name)
        current = location.parent
    return list(reversed(names))


async def lock_location(location_id: int) -> None:
    """Hold a location until the caller's transaction ends: two stations filling its last place queue."""
    if not is_sqlite():
        await fetch("SELECT id FROM location WHERE id = {} FOR UPDATE", location_id)


async def location_with_room(code_text: str, states: Sequence[State]) -> tuple[LocationOut, int]:
    """A location by its code, locked on PostgreSQL till the commit, and the devices in `states` it holds.

    Two statements for what a put-away checks (were three). The count cannot share the locking
    statement: after waiting for another station's lock, PostgreSQL would count with the snapshot
    taken before the wait and miss the device that station just put there.
    """
    code = parse_code(code_text, expected=CodeType.LOCATION)
    lock = "" if is_sqlite() else " FOR UPDATE OF l"
    rows = await fetch(
        "SELECT l.id, l.name, l.kind, p.code AS parent_code, l.capacity "
        "FROM location l LEFT JOIN location p ON p.id = l.parent WHERE l.code = {}" + lock,
        code.compact,
    )
    if not rows:
        raise NotFound(N_("No location {ref} is known."), ref=code.display)
    row = rows[0]
    marks = ", ".join("{}" for _ in states)
    held = await fetch(
        f"SELECT COUNT(*) AS held FROM device WHERE location = {{}} AND state IN ({marks})",  # noqa: S608
        row["id"],
        *[s.value for s in states],
    )
    out = LocationOut(
        id=row["id"],
        code=code.compact,
        display_code=code.display,
        name=row["name"],
        kind=row["kind"],
        parent=row["parent_code"],
        capacity=row["capacity"],
    )
    return out, held[0]["held"]


async def get_location(code_text: str) -> LocationOut:
    """A location by its code."""
    code = parse_code(code_text, expected=CodeType.LOCATION)
    row = (
        await Location.select(
            Location.id, Location.name, Location.kind, Location.parent.code, Location.capacity
        )
        .where(Location.code == code.compact)
        .first()
    )
    if row is None:
        raise NotFound(N_("No location {ref} is known."), ref=code.display)
    return LocationOut(
        id=row["id"],
        code=code.compact,
        display_code=code.display,
        name=row["name"],
        kind=row["kind"],
        parent=row["parent.code"],
        capacity=row["capacity"],
    )


async def location_codes(ids: Sequence[int]) -> dict[int, str]:
    """Locations' codes by id (for the devices registry)."""
    if not ids:
        return {}
    rows = await Location.select(Location.id, Location.code).where(Location.id.is_in(list(ids)))
    return {row["id"]: row["code"] for row in rows}


async def location_names(ids: Sequence[int]) -> dict[int, str]:
    """Locations' names by id (a station's site)."""
    if not ids:
        return {}
    rows = await Location.select(Location.id, Location.name).where(Location.id.is_in(list(ids)))
    return {row["id"]: row["name"] for row in rows}


#: L code → row id; both are fixed once minted (locations are never deleted), so they are kept.
_ids: dict[str, int] = {}
_MAX_IDS = 10_000


async def location_id(code_text: str) -> int | None:
    """A location's id by its code, None when unknown (kept in memory once read)."""
    code = parse_code(code_text, expected=CodeType.LOCATION)
    if (known := _ids.get(code.compact)) is not None:
        return known
    row = await Location.select(Location.id).where(Location.code == code.compact).first()
    if row is None:
        return None
    if len(_ids) >= _MAX_IDS:
        _ids.clear()
    _ids[code.compact] = row["id"]
    return row["id"]


async def _resolve(code: Code, principal: Principal) -> ThingOut:
    stations.internal(principal, code)
    location = await get_location(code.compact)
    return ThingOut(
        type="location",
        code=location.code,
        display_code=location.display_code,
        title=location.name,
        details={"kind": location.kind, "parent": location.parent, "capacity": location.capacity},
    )


def register() -> None:
    """What a location's code means to the spine and the stations, and what a site is called."""
    devices.register_reference("location", location_codes, location_id)
    stations.register_resolver(CodeType.LOCATION, _resolve)
    stations.register_site_names(location_names)
