"""The words and pure rules of the distribution bus: round statuses, time slots, hand-over terms.

No database here: `distribution.rounds` and `distribution.handover` apply these
rules and `tests/unit/test_bus.py` tests them apart.
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from refurb.core.errors import BadInput, InvalidTransition
from refurb.core.i18n import N_

__all__ = (
    "MAX_SLOT_CAPACITY",
    "TERMS_VERSION",
    "AppointmentStatus",
    "RoundStatus",
    "Terms",
    "add_months",
    "check_round_move",
    "hhmm",
    "slots",
    "terms_for",
)

#: The version of the hand-over terms below: a family's acceptance names it.
TERMS_VERSION = "remise-2026-12"
MAX_SLOT_CAPACITY = 50
MIN_SLOT_MINUTES = 5


class RoundStatus(StrEnum):
    """Where a bus round stands."""

    PLANNED = "planned"
    LOADING = "loading"
    OUT = "out"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        """English name, a translation id."""
        return _ROUND_LABELS[self]


_ROUND_LABELS = {
    RoundStatus.PLANNED: N_("planned"),
    RoundStatus.LOADING: N_("loading"),
    RoundStatus.OUT: N_("out"),
    RoundStatus.CLOSED: N_("closed"),
}

R = RoundStatus
#: Where a round may go next: forward only, and back from loading to planned (a loading started by mistake).
ROUND_MOVES: Mapping[RoundStatus, frozenset[RoundStatus]] = {
    R.PLANNED: frozenset({R.LOADING}),
    R.LOADING: frozenset({R.OUT, R.PLANNED}),
    R.OUT: frozenset({R.CLOSED}),
    R.CLOSED: frozenset(),
}
#: A device may be loaded on a round in these statuses, unloaded and handed over in these.
LOADABLE = frozenset({R.PLANNED, R.LOADING})
ON_THE_ROAD = frozenset({R.LOADING, R.OUT})


def check_round_move(source: RoundStatus, target: RoundStatus) -> None:
    """Refuse a move the round's status table does not allow."""
    if target not in ROUND_MOVES[source]:
        raise InvalidTransition(
            N_("A round cannot go from {source} to {target}."),
            code="invalid_round_transition",
            source=source,
            target=target,
        )


class AppointmentStatus(StrEnum):
    """What became of a household's convocation."""

    CONVOKED = "convoked"
    DELIVERED = "delivered"
    ABSENT = "absent"
    MOVED = "moved"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        """English name, a translation id."""
        return _APPOINTMENT_LABELS[self]


_APPOINTMENT_LABELS = {
    AppointmentStatus.CONVOKED: N_("convoked"),
    AppointmentStatus.DELIVERED: N_("delivered"),
    AppointmentStatus.ABSENT: N_("absent"),
    AppointmentStatus.MOVED: N_("moved"),
    AppointmentStatus.CANCELLED: N_("cancelled"),
}

_HHMM = re.compile(r"([01]?\d|2[0-3])[:hH]([0-5]\d)")


def hhmm(text: str, field_name: str) -> str:
    """A time of day as `HH:MM` (accepts 9:30, 09h30); BadInput naming the field otherwise."""
    found = _HHMM.fullmatch(str(text).strip())
    if found is None:
        raise BadInput(
            N_("'{text}' is not a time of day: write it like 09:30."),
            code="bad_time",
            text=str(text)[:20],
            extra={"field": field_name},
        )
    return f"{int(found.group(1)):02d}:{found.group(2)}"


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def slots(starts_at: str, ends_at: str, slot_minutes: int) -> list[str]:
    """The slot starts of a time window, e.g. 09:00–10:00 by 30 → 09:00, 09:30."""
    start, end = _minutes(starts_at), _minutes(ends_at)
    if end <= start:
        raise BadInput(
            N_("A stop ends after it starts ({start}–{end})."),
            code="bad_time_window",
            start=starts_at,
            end=ends_at,
            extra={"field": "ends_at"},
        )
    if slot_minutes < MIN_SLOT_MINUTES or slot_minutes > end - start:
        raise BadInput(
            N_("A slot lasts from {low} minutes to the whole window ({high} minutes)."),
            code="bad_slot",
            low=MIN_SLOT_MINUTES,
            high=end - start,
            extra={"field": "slot_minutes"},
        )
    return [f"{m // 60:02d}:{m % 60:02d}" for m in range(start, end - slot_minutes + 1, slot_minutes)]


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later (the month's last day when it is shorter)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return day.replace(year=year, month=month + 1, day=min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True, slots=True)
class Terms:
    """What a household accepts at hand-over, in plain words (translation ids) with their figures."""

    mode: str
    version: str
    lines: tuple[str, ...]
    params: Mapping[str, Any] = field(default_factory=dict)

    def figures(self) -> dict[str, Any]:
        """What is stored with the acceptance: the mode, the version and the figures named."""
        return {"mode": self.mode, "version": self.version, **self.params}


_DONATION = (
    N_("Donation: the equipment becomes yours on the day it is handed over."),
    N_("You may not sell, rent or give it away for at least one year."),
    N_("If it breaks while under warranty, contact the support: it will be repaired or replaced."),
)
_LOAN = (
    N_("Loan: the equipment stays the programme's property and is lent to you until {loan_ends_on}."),
    N_("Bring it back by that date, complete with its charger, to the structure that referred you."),
    N_("It may not be sold, rented or lent to anyone else; a loss or a breakage is reported at once."),
)
_RENTAL = (
    N_("Rental: {rent} a month, of which the programme pays {programme_share}; you pay {family_pays}."),
    N_("The equipment stays the programme's property for as long as it is rented."),
    N_("It may not be sold, rented or lent to anyone else; a breakage is reported at once."),
)


def _euros(cents: int) -> str:
    return f"{cents // 100},{cents % 100:02d} €"


def terms_for(
    mode: str,
    handed_on: datetime.date,
    *,
    loan_months: int | None,
    rental_monthly_cents: int | None,
    rental_programme_share: int | None,
) -> Terms:
    """The terms of a mode for a programme's figures, on the day of the hand-over."""
    if mode == "loan":
        ends = add_months(handed_on, loan_months or 12)
        return Terms(mode, TERMS_VERSION, _LOAN, {"loan_ends_on": ends.isoformat()})
    if mode == "rental":
        rent = rental_monthly_cents or 0
        share = rent * (rental_programme_share or 0) // 100
        return Terms(
            mode,
            TERMS_VERSION,
            _RENTAL,
            {
                "rent": _euros(rent),
                "programme_share": _euros(share),
                "family_pays": _euros(rent - share),
                "rent_cents": rent,
                "programme_share_cents": share,
                "family_pays_cents": rent - share,
            },
        )
    return Terms(
        "donation", TERMS_VERSION, _DONATION, {"resale_allowed_from": add_months(handed_on, 12).isoformat()}
    )
