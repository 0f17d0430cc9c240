"""Managing stock locations: the tree with what each place holds, adding, renaming, capacities.

A site holds zones, a zone shelves, a shelf bins; a kind may skip levels below
its parent (a bin straight on a zone) but never sits above it. Names are unique
among siblings so a label's path says one place. Deleting is not offered: a
location's code is on printed labels and in devices' histories.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pydantic import BaseModel, Field

from refurb.codes.service import mint
from refurb.core.codes import CodeType, parse_code
from refurb.core.errors import BadInput, Conflict
from refurb.core.i18n import N_
from refurb.db import write_transaction
from refurb.stock import holdings
from refurb.stock import service as stock
from refurb.stock.putaway import OCCUPYING
from refurb.stock.service import LOCATION_KINDS, LocationOut
from refurb.stock.tables import Location
from refurb.timestamps import utcnow

__all__ = (
    "UNSET",
    "LocationNode",
    "add_location",
    "rename_location",
    "set_capacity",
    "tree",
    "update_location",
)

NAME_MAX = 200
#: The kinds of location as people read them (translation ids for LOCATION_KINDS).
KIND_WORDS = (N_("site"), N_("zone"), N_("shelf"), N_("bin"))


class _Kind(str):
    """A kind in a message: `fill` translates whatever has a `label`."""

    __slots__ = ()

    @property
    def label(self) -> str:
        """The translation id."""
        return str(self)


CAPACITY_MAX = 1_000_000


class LocationNode(BaseModel):
    """A location in the tree, with what it holds now."""

    code: str
    display_code: str
    name: str
    kind: str
    parent: str | None
    path: str = Field(description="Names from the site down, joined by ' / '")
    capacity: int | None = Field(description="None: unlimited")
    held: int = Field(description="Devices in stock or reserved here (not counting the children)")
    held_below: int = Field(description="Devices here and in every location below")
    full: bool
    children: list[LocationNode] = Field(default_factory=list)

    def codes(self) -> list[str]:
        """The codes of the subtree, this one first: what its "print labels" link prints."""
        return [self.code, *(code for child in self.children for code in child.codes())]


def _rank(kind: str) -> int:
    return LOCATION_KINDS.index(kind)


async def _held_by_location() -> dict[int, int]:
    """Devices that take a place, per location id, from one grouped query."""
    held: dict[int, int] = defaultdict(int)
    for row in await holdings.grouped(OCCUPYING, older_than=utcnow()):
        if row["location_id"] is not None:
            held[int(row["location_id"])] += int(row["count"])
    return held


async def tree() -> list[LocationNode]:
    """Every location, sites first, children by name: two queries whatever the size."""
    rows = await Location.select(
        Location.id, Location.code, Location.name, Location.kind, Location.parent, Location.capacity
    ).order_by(Location.name)
    held = await _held_by_location()
    by_id = {row["id"]: row for row in rows}
    children: dict[int | None, list[int]] = defaultdict(list)
    for row in rows:
        parent = row["parent"] if row["parent"] in by_id else None
        children[parent].append(row["id"])

    def build(row_id: int, path: list[str], seen: frozenset[int]) -> LocationNode:
        row = by_id[row_id]
        names = [*path, row["name"]]
        below = [build(c, names, seen | {row_id}) for c in children[row_id] if c not in seen]
        here = held.get(row_id, 0)
        capacity = row["capacity"]
        return LocationNode(
            code=row["code"],
            display_code=parse_code(row["code"]).display,
            name=row["name"],
            kind=row["kind"],
            parent=by_id[row["parent"]]["code"] if row["parent"] in by_id else None,
            path=" / ".join(names),
            capacity=capacity,
            held=here,
            held_below=here + sum(child.held_below for child in below),
            full=capacity is not None and here >= capacity,
            children=below,
        )

    return [build(root, [], frozenset()) for root in children[None]]


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > NAME_MAX:
        raise BadInput(
            N_("A location needs a name of 1 to {limit} characters."),
            code="bad_location_name",
            limit=NAME_MAX,
        )
    return cleaned


def _check_capacity(capacity: int | None) -> None:
    if capacity is not None and not 0 <= capacity <= CAPACITY_MAX:
        raise BadInput(
            N_("A capacity is a number of devices from 0 to {limit}, or empty for unlimited."),
            code="bad_capacity",
            limit=CAPACITY_MAX,
        )


async def _name_free(name: str, parent_id: int | None, *, other_than: int | None = None) -> None:
    """Refuse a name a sibling already has (letter case and spaces aside)."""
    query = Location.select(Location.id, Location.name)
    query = query.where(Location.parent.is_null() if parent_id is None else Location.parent == parent_id)
    for row in await query:
        if row["id"] != other_than and row["name"].casefold() == name.casefold():
            raise Conflict(
                N_("There is already a location named '{name}' here."),
                code="location_name_taken",
                name=name,
            )


async def add_location(
    name: str, kind: str, *, parent: str | None = None, capacity: int | None = None
) -> LocationOut:
    """A new location under `parent` (a site has none), with a fresh L code."""
    name = _clean_name(name)
    if kind not in LOCATION_KINDS:
        raise BadInput(
            N_("'{kind}' is not a kind of location (known: {known})."),
            code="bad_location_kind",
            kind=kind[:20],
            known=", ".join(LOCATION_KINDS),
        )
    _check_capacity(capacity)
    above = await stock.get_location(parent) if parent else None
    if kind == "site" and above is not None:
        raise BadInput(N_("A site is the top of the tree: it has no parent."), code="bad_location_kind")
    if kind != "site" and above is None:
        raise BadInput(
            N_("A {kind} goes in a location above it: give its parent."),
            code="location_parent_required",
            kind=_Kind(kind),
        )
    if above is not None and _rank(kind) <= _rank(above.kind):
        raise BadInput(
            N_("A {kind} cannot go in a {parent_kind}: the order is site, zone, shelf, bin."),
            code="bad_location_kind",
            kind=_Kind(kind),
            parent_kind=_Kind(above.kind),
        )
    async with write_transaction():
        if above is not None:
            await stock.lock_location(above.id)  # two supervisors adding "Bac 1" at once: one wins
        await _name_free(name, above.id if above else None)
        (code,) = await mint(CodeType.LOCATION, 1)
        await Location.insert(
            Location(
                code=code.compact,
                name=name,
                kind=kind,
                parent=above.id if above else None,
                capacity=capacity,
            )
        )
    return await stock.get_location(code.compact)


class _Unset:
    """A PATCH field left out (None is a value: an unlimited capacity)."""


UNSET = _Unset()


async def update_location(
    code: str, *, name: str | _Unset = UNSET, capacity: int | _Unset | None = UNSET
) -> LocationOut:
    """Rename and/or set the capacity (None: unlimited) in one transaction: a refusal changes nothing.

    A capacity never goes below what the location holds now; labels already printed keep the code.
    """
    location = await stock.get_location(code)
    changes: dict[Any, Any] = {}
    if not isinstance(name, _Unset):
        changes[Location.name] = _clean_name(name)
    if not isinstance(capacity, _Unset):
        _check_capacity(capacity)
        changes[Location.capacity] = capacity
    if not changes:
        return location
    parent_id = (await stock.get_location(location.parent)).id if location.parent else None
    async with write_transaction():
        if Location.name in changes:
            if parent_id is not None:
                await stock.lock_location(parent_id)
            await _name_free(changes[Location.name], parent_id, other_than=location.id)
        if Location.capacity in changes:
            await stock.lock_location(location.id)  # a put-away in flight waits, then sees the new capacity
            held = await holdings.count_at(location.id, OCCUPYING)
            if capacity is not None and capacity < held:
                raise Conflict(
                    N_(
                        "{name} holds {held} devices: its capacity cannot be {capacity}. Move some out first."
                    ),
                    code="capacity_below_held",
                    extra={"held": held, "capacity": capacity},
                    name=location.name,
                    held=held,
                    capacity=capacity,
                )
        await Location.update(changes).where(Location.id == location.id)
    return await stock.get_location(location.code)


async def rename_location(code: str, name: str) -> LocationOut:
    """A new name, unique among its siblings."""
    return await update_location(code, name=name)


async def set_capacity(code: str, capacity: int | None) -> LocationOut:
    """A new capacity (None: unlimited), never below what the location holds now."""
    return await update_location(code, capacity=capacity)
