"""What the stock holds: devices counted per location, kind, grade and OS.

Read-only queries over the spine's device table (the devices service alone
writes it); the stock area is the one that asks these questions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from refurb.core.lifecycle import State
from refurb.db import fetch
from refurb.devices.tables import Device

__all__ = ("at_location", "available", "by_kind_and_grade", "count_at", "grouped")


async def grouped(states: Sequence[State], *, older_than: Any) -> list[dict[str, Any]]:
    """Devices in these states per kind, grade, OS and location: how many, since when, how many are old."""
    marks = ", ".join("{}" for _ in states)
    return await fetch(
        "SELECT kind, grade, os, location AS location_id, COUNT(*) AS count, "  # noqa: S608
        "MIN(stocked_at) AS oldest, SUM(CASE WHEN stocked_at < {} THEN 1 ELSE 0 END) AS old "
        f"FROM device WHERE state IN ({marks}) GROUP BY kind, grade, os, location ORDER BY location, kind",
        older_than,
        *[s.value for s in states],
    )


async def at_location(location_id: int, states: Sequence[State]) -> list[str]:
    """The codes of the devices recorded at a location in these states."""
    rows = await Device.select(Device.code).where(
        (Device.location == location_id) & Device.state.is_in([s.value for s in states])
    )
    return sorted(row["code"] for row in rows)


async def count_at(location_id: int, states: Sequence[State]) -> int:
    """How many devices in these states sit at a location."""
    return await Device.count().where(
        (Device.location == location_id) & Device.state.is_in([s.value for s in states])
    )


async def available(kind: str, grades: Sequence[str] | None) -> list[dict[str, Any]]:
    """The devices in stock of `kind` (and of these grades, unless None), code and OS: oldest stock first.

    A device with no stocking date (brought in by an import) comes after the dated ones, on both engines.
    """
    where, values = "state = {} AND kind = {}", [State.IN_STOCK.value, kind]
    if grades is not None:
        where += f" AND grade IN ({', '.join('{}' for _ in grades)})" if grades else " AND 1 = 0"
        values += list(grades)
    return await fetch(
        f"SELECT code, os FROM device WHERE {where} "  # noqa: S608 - placeholders only
        "ORDER BY CASE WHEN stocked_at IS NULL THEN 1 ELSE 0 END, stocked_at, id",
        *values,
    )


async def by_kind_and_grade(states: Sequence[State]) -> list[dict[str, Any]]:
    """How many devices in these states per kind, grade, OS and state (no grade: None; no OS: '')."""
    marks = ", ".join("{}" for _ in states)
    return await fetch(
        "SELECT kind, grade, os, state, COUNT(*) AS count "  # noqa: S608 - placeholders only
        f"FROM device WHERE state IN ({marks}) GROUP BY kind, grade, os, state ORDER BY kind, grade",
        *[s.value for s in states],
    )
