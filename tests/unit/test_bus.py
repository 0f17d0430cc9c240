"""The bus's pure rules: time slots, round moves, hand-over terms and their figures."""

from __future__ import annotations

import datetime

import pytest

from refurb.core.errors import BadInput, InvalidTransition
from refurb.distribution.bus import RoundStatus, add_months, check_round_move, hhmm, slots, terms_for


def test_a_window_is_cut_in_whole_slots() -> None:
    assert slots("09:00", "10:00", 30) == ["09:00", "09:30"]
    assert slots("09:00", "10:10", 30) == ["09:00", "09:30"]  # 10:00–10:10 is too short for a slot
    assert slots("13:45", "14:00", 15) == ["13:45"]


@pytest.mark.parametrize(
    ("start", "end", "minutes", "code"),
    [("10:00", "09:00", 30, "bad_time_window"), ("09:00", "09:00", 30, "bad_time_window"),
     ("09:00", "09:20", 30, "bad_slot"), ("09:00", "10:00", 2, "bad_slot")],
)  # fmt: skip
def test_a_window_or_slot_that_does_not_fit_is_refused(start: str, end: str, minutes: int, code: str) -> None:
    with pytest.raises(BadInput) as refused:
        slots(start, end, minutes)
    assert refused.value.code == code


def test_times_are_read_the_french_way_too() -> None:
    assert [hhmm(t, "slot") for t in ("9:30", "09h30", "21H05")] == ["09:30", "09:30", "21:05"]
    for wrong in ("24:00", "9:3", "nine", ""):
        with pytest.raises(BadInput) as refused:
            hhmm(wrong, "slot")
        assert refused.value.code == "bad_time"
        assert refused.value.extra["field"] == "slot"


def test_a_round_moves_forward_only() -> None:
    check_round_move(RoundStatus.PLANNED, RoundStatus.LOADING)
    check_round_move(RoundStatus.LOADING, RoundStatus.PLANNED)
    check_round_move(RoundStatus.OUT, RoundStatus.CLOSED)
    for source, target in ((RoundStatus.PLANNED, RoundStatus.OUT), (RoundStatus.CLOSED, RoundStatus.OUT),
                           (RoundStatus.PLANNED, RoundStatus.CLOSED)):  # fmt: skip
        with pytest.raises(InvalidTransition):
            check_round_move(source, target)


def test_months_end_on_the_last_day_when_shorter() -> None:
    assert add_months(datetime.date(2027, 1, 31), 1) == datetime.date(2027, 2, 28)
    assert add_months(datetime.date(2027, 11, 15), 3) == datetime.date(2028, 2, 15)


def test_the_terms_name_their_figures() -> None:
    day = datetime.date(2027, 4, 10)
    figures = dict(loan_months=12, rental_monthly_cents=500, rental_programme_share=80)
    loan = terms_for("loan", day, **figures)
    assert loan.figures() == {"mode": "loan", "version": "remise-2026-12", "loan_ends_on": "2028-04-10"}
    rental = terms_for("rental", day, **figures)
    assert (rental.params["rent"], rental.params["programme_share"], rental.params["family_pays"]) == (
        "5,00 €", "4,00 €", "1,00 €",
    )  # fmt: skip
    assert rental.params["family_pays_cents"] == 100
    donation = terms_for("donation", day, **figures)
    assert donation.params == {"resale_allowed_from": "2028-04-10"}
    assert len(donation.lines) == 3
