"""The household status table and the purge period, pure: no database."""

from __future__ import annotations

import datetime

import pytest

from refurb.core.errors import BadInput
from refurb.distribution.model import TRANSITIONS, HouseholdStatus, cutoff_before, needs_reason

S = HouseholdStatus
NOW = datetime.datetime(2027, 3, 31, 12, 0, tzinfo=datetime.UTC)


def test_every_status_has_its_next_steps_and_equipped_only_ends_in_a_withdrawal() -> None:
    assert set(TRANSITIONS) == set(HouseholdStatus)
    assert TRANSITIONS[S.CENSUS] == {S.ELIGIBLE, S.DECLINED, S.WITHDRAWN}
    assert TRANSITIONS[S.EQUIPPED] == {S.WITHDRAWN}
    assert TRANSITIONS[S.DECLINED] == {S.CENSUS}
    assert all(status not in targets for status, targets in TRANSITIONS.items())


@pytest.mark.parametrize(
    ("source", "target", "reason"),
    [
        (S.CENSUS, S.ELIGIBLE, False),
        (S.ELIGIBLE, S.APPROVED, False),
        (S.APPROVED, S.EQUIPPED, False),
        (S.CENSUS, S.DECLINED, True),
        (S.APPROVED, S.WITHDRAWN, True),
        (S.APPROVED, S.ELIGIBLE, True),
        (S.WITHDRAWN, S.CENSUS, True),
    ],
)
def test_only_the_forward_path_goes_without_a_reason(source: S, target: S, reason: bool) -> None:
    assert needs_reason(source, target) is reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24months", datetime.datetime(2025, 3, 31, 12, 0, tzinfo=datetime.UTC)),
        ("1month", datetime.datetime(2027, 2, 28, 12, 0, tzinfo=datetime.UTC)),  # no 31 February
        ("2years", datetime.datetime(2025, 3, 31, 12, 0, tzinfo=datetime.UTC)),
        ("90 days", datetime.datetime(2026, 12, 31, 12, 0, tzinfo=datetime.UTC)),
        ("13m", datetime.datetime(2026, 2, 28, 12, 0, tzinfo=datetime.UTC)),
    ],
)
def test_a_period_gives_its_cutoff(text: str, expected: datetime.datetime) -> None:
    assert cutoff_before(text, NOW) == expected


@pytest.mark.parametrize("text", ["", "soon", "0months", "24 weeks", "-3days", "12345months", "9999years"])
def test_a_period_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(BadInput) as refused:
        cutoff_before(text, NOW)
    assert refused.value.code == "bad_period"
