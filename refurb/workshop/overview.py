"""The workshop view: what waits at each stage, who did what each day, what came back."""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any

from refurb.core.errors import BadInput
from refurb.core.i18n import N_
from refurb.core.lifecycle import State
from refurb.devices import service as devices
from refurb.timestamps import as_utc, utcnow
from refurb.workshop.schemas import WorkshopView
from refurb.workshop.tables import Reconditioning

__all__ = ("WAITING", "view")

#: Devices in the workshop's hands, by the stage they wait for.
WAITING = (State.RECEIVED, State.SANITIZED, State.REFURBISHED, State.LICENSED)


def _day(value: Any, tz: datetime.tzinfo) -> str:
    return as_utc(value).astimezone(tz).date().isoformat()


async def view(days: int = 14, tz: datetime.tzinfo = datetime.UTC) -> WorkshopView:
    """Counts per stage now; passes, minutes and parts per technician and day; returns per workshop."""
    if not 1 <= days <= 366:
        raise BadInput(N_("Choose between 1 and 366 days."), code="bad_days")
    since = utcnow() - datetime.timedelta(days=days)
    waiting = await devices.count_in_states(WAITING)
    rows = await Reconditioning.select(
        Reconditioning.device,
        Reconditioning.technician_name,
        Reconditioning.organisation.name.as_alias("workshop"),
        Reconditioning.outcome,
        Reconditioning.minutes,
        Reconditioning.parts_cost_cents,
        Reconditioning.created_at,
    ).where(Reconditioning.created_at >= since)
    per_day: dict[tuple[str, str], dict[str, Any]] = {}
    per_workshop: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"passes": 0, "refurbished": 0, "rejected": 0, "minutes": 0, "parts_cost": 0.0, "returns": 0}
    )
    for row in rows:
        key = (_day(row["created_at"], tz), row["technician_name"])
        entry = per_day.setdefault(
            key,
            {"day": key[0], "technician": key[1], "refurbished": 0, "rejected": 0, "minutes": 0},
        )
        passed = row["outcome"] == "passed"
        entry["refurbished" if passed else "rejected"] += 1
        entry["minutes"] += row["minutes"]
        shop = per_workshop[row["workshop"] or "—"]
        shop["passes"] += 1
        shop["refurbished" if passed else "rejected"] += 1
        shop["minutes"] += row["minutes"]
        shop["parts_cost"] += row["parts_cost_cents"] / 100
    returns = []
    returned = await devices.events_since("return", since)
    if returned:
        last_pass = await _refurbished_by([r["device_id"] for r in returned])
        for event in returned:
            workshop = last_pass.get(event["device_id"], "—")
            per_workshop[workshop]["returns"] += 1
            returns.append(
                {
                    "device": event["code"],
                    "at": as_utc(event["at"]),
                    "workshop": workshop,
                    "reason": (event["payload"] or {}).get("reason", ""),
                }
            )
    return WorkshopView(
        in_progress={state.value: waiting.get(state, 0) for state in WAITING},
        per_technician=sorted(per_day.values(), key=lambda e: (e["day"], e["technician"]), reverse=True),
        per_workshop=[{"workshop": name, **figures} for name, figures in sorted(per_workshop.items())],
        returns=returns,
    )


async def _refurbished_by(device_ids: list[int]) -> dict[int, str]:
    """The workshop that last passed each device."""
    rows = (
        await Reconditioning.select(
            Reconditioning.device, Reconditioning.organisation.name.as_alias("workshop")
        )
        .where(Reconditioning.device.is_in(device_ids) & (Reconditioning.outcome == "passed"))
        .order_by(Reconditioning.id)
    )
    return {row["device"]: row["workshop"] or "—" for row in rows}
