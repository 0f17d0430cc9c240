"""Stock levels (per kind, grade, OS and location, with age in stock) and stock-takes of a location."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence

from pydantic import BaseModel, Field

from refurb.core.codes import CodeType, parse_code
from refurb.core.errors import DomainError
from refurb.core.lifecycle import State
from refurb.core.principal import Principal
from refurb.devices import service as devices
from refurb.stock import holdings
from refurb.stock import service as stock
from refurb.stock.tables import Location
from refurb.timestamps import as_utc, utcnow

__all__ = ("LevelRow", "Levels", "StockTake", "levels", "stock_take")

IN_STOCK = (State.IN_STOCK, State.RESERVED)
OLD_AFTER_DAYS = 90


class LevelRow(BaseModel):
    """Devices of one kind at one location."""

    kind: str
    location: str | None
    location_path: str
    count: int
    oldest: datetime.datetime | None = Field(description="When the longest-waiting one went in stock")
    old: int = Field(description=f"In stock for more than {OLD_AFTER_DAYS} days")


class ProfileRow(BaseModel):
    """Devices of one kind, grade and OS, whatever their location: what a commission can allocate."""

    kind: str
    grade: str | None
    os: str
    count: int
    oldest: datetime.datetime | None


class PlaceRow(BaseModel):
    """One location with its devices per kind: a row of the stock page."""

    location: str | None
    location_path: str
    kinds: dict[str, int]
    count: int
    oldest: datetime.datetime | None
    old: int


class Levels(BaseModel):
    """What is in stock (in stock or reserved), by kind and location."""

    rows: list[LevelRow]
    places: list[PlaceRow]
    profiles: list[ProfileRow] = Field(description="Per kind, grade and OS")
    by_kind: dict[str, int]
    by_grade: dict[str, int] = Field(description="'—' for devices without a grade")
    by_os: dict[str, int] = Field(description="'—' for devices without an OS")
    by_location: dict[str, int]
    total: int
    old: int
    old_after_days: int = OLD_AFTER_DAYS


async def _paths() -> dict[int, tuple[str, str]]:
    """Every location's code and "site / zone / shelf / bin" path, from one read."""
    rows = await Location.select(Location.id, Location.code, Location.name, Location.parent)
    by_id = {row["id"]: row for row in rows}

    def path(row_id: int) -> str:
        names, seen, current = [], set(), by_id.get(row_id)
        while current is not None and current["id"] not in seen:
            seen.add(current["id"])
            names.append(current["name"])
            current = by_id.get(current["parent"])
        return " / ".join(reversed(names))

    return {row_id: (row["code"], path(row_id)) for row_id, row in by_id.items()}


def _earliest(a: datetime.datetime | None, b: datetime.datetime | None) -> datetime.datetime | None:
    return b if a is None else a if b is None else min(a, b)


async def levels() -> Levels:
    """Two queries whatever the stock: the grouped counts, and the location names."""
    now = utcnow()
    grouped = await holdings.grouped(IN_STOCK, older_than=now - datetime.timedelta(days=OLD_AFTER_DAYS))
    paths = await _paths()
    merged: dict[tuple[str, str | None], LevelRow] = {}
    by_kind, by_location = defaultdict(int), defaultdict(int)
    by_grade, by_os = defaultdict(int), defaultdict(int)
    profiles: dict[tuple[str, str | None, str], ProfileRow] = {}
    for row in grouped:
        code, path = paths.get(row["location_id"], (None, "—"))
        count, old = int(row["count"]), int(row["old"] or 0)
        oldest = as_utc(row["oldest"]) if row["oldest"] is not None else None
        level = merged.setdefault(
            (row["kind"], code),
            LevelRow(kind=row["kind"], location=code, location_path=path, count=0, oldest=None, old=0),
        )
        level.count += count
        level.old += old
        level.oldest = _earliest(level.oldest, oldest)
        profile = profiles.setdefault(
            (row["kind"], row["grade"], row["os"] or ""),
            ProfileRow(kind=row["kind"], grade=row["grade"], os=row["os"] or "", count=0, oldest=None),
        )
        profile.count += count
        profile.oldest = _earliest(profile.oldest, oldest)
        by_kind[row["kind"]] += count
        by_location[path] += count
        by_grade[row["grade"] or "—"] += count
        by_os[row["os"] or "—"] += count
    rows = list(merged.values())
    places: dict[str | None, PlaceRow] = {}
    for row in rows:
        place = places.setdefault(
            row.location,
            PlaceRow(
                location=row.location, location_path=row.location_path, kinds={}, count=0, oldest=None, old=0
            ),
        )
        place.kinds[row.kind] = row.count
        place.count += row.count
        place.old += row.old
        if row.oldest is not None and (place.oldest is None or row.oldest < place.oldest):
            place.oldest = row.oldest
    return Levels(
        rows=rows,
        places=sorted(places.values(), key=lambda p: p.location_path),
        profiles=sorted(profiles.values(), key=lambda p: (p.kind, p.grade or "~", p.os)),
        by_kind=dict(sorted(by_kind.items())),
        by_grade=dict(sorted(by_grade.items())),
        by_os=dict(sorted(by_os.items())),
        by_location=dict(sorted(by_location.items())),
        total=sum(by_kind.values()),
        old=sum(r.old for r in rows),
    )


class Misplaced(BaseModel):
    """A device found in the location but recorded elsewhere (or not in stock)."""

    code: str
    display_code: str
    state: str
    recorded_at: str | None = Field(description="The location it is recorded at, if any")


class StockTake(BaseModel):
    """A location's recorded contents against what was scanned in it."""

    location: str
    display_code: str
    name: str
    expected: int
    found: list[str]
    missing: list[str] = Field(description="Recorded here, not scanned")
    extra: list[Misplaced] = Field(description="Scanned here, recorded elsewhere")
    unreadable: list[str] = Field(description="Scanned texts that are not a device code Refurb knows")


async def stock_take(location_text: str, scanned: Sequence[str], principal: Principal) -> StockTake:
    """Compare what a location should hold with what was scanned; changes nothing."""
    location = await stock.get_location(location_text)
    expected = set(await holdings.at_location(location.id, IN_STOCK))
    seen: list[str] = []
    unreadable: list[str] = []
    for text in scanned:
        try:
            code = parse_code(text, expected=CodeType.DEVICE)
        except DomainError:
            unreadable.append(text[:60])
            continue
        if code.compact not in seen:
            seen.append(code.compact)
    extra: list[Misplaced] = []
    for code in seen:
        if code in expected:
            continue
        try:
            device = await devices.get(code, principal)
        except DomainError:
            unreadable.append(code)
            continue
        extra.append(
            Misplaced(
                code=device.code,
                display_code=device.display_code,
                state=device.state.value,
                recorded_at=device.location,
            )
        )
    return StockTake(
        location=location.code,
        display_code=location.display_code,
        name=location.name,
        expected=len(expected),
        found=[c for c in seen if c in expected],
        missing=sorted(expected - set(seen)),
        extra=extra,
        unreadable=unreadable,
    )
