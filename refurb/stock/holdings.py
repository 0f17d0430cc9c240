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

__all__ = ("at_location", "count_at", "grouped")


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
