"""The words of the distribution area and the household status table: pure, no database.

A household's status moves `census → eligible → approved → equipped`, or ends in
`declined` / `withdrawn` (always with a reason). Going back a step (a file
reopened, a decision cancelled) is allowed and needs a reason too, so the
history says why.
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Mapping
from enum import StrEnum

from refurb.core.errors import BadInput
from refurb.core.i18n import N_

__all__ = (
    "REASON_REQUIRED",
    "TRANSITIONS",
    "Ability",
    "AllocationStatus",
    "AttributionMode",
    "BudgetCategory",
    "DecisionKind",
    "Equipment",
    "HouseholdStatus",
    "LegalBasis",
    "ResourceKind",
    "cutoff_before",
    "needs_reason",
)


class HouseholdStatus(StrEnum):
    """Where a household's file stands."""

    CENSUS = "census"
    ELIGIBLE = "eligible"
    APPROVED = "approved"
    EQUIPPED = "equipped"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        """English name, a translation id."""
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    HouseholdStatus.CENSUS: N_("census"),
    HouseholdStatus.ELIGIBLE: N_("eligible"),
    HouseholdStatus.APPROVED: N_("approved"),
    HouseholdStatus.EQUIPPED: N_("equipped"),
    HouseholdStatus.DECLINED: N_("declined"),
    HouseholdStatus.WITHDRAWN: N_("withdrawn"),
}

S = HouseholdStatus
#: Where each status may go next.
TRANSITIONS: Mapping[HouseholdStatus, frozenset[HouseholdStatus]] = {
    S.CENSUS: frozenset({S.ELIGIBLE, S.DECLINED, S.WITHDRAWN}),
    S.ELIGIBLE: frozenset({S.APPROVED, S.DECLINED, S.WITHDRAWN, S.CENSUS}),
    S.APPROVED: frozenset({S.EQUIPPED, S.WITHDRAWN, S.ELIGIBLE}),
    S.EQUIPPED: frozenset({S.WITHDRAWN}),
    S.DECLINED: frozenset({S.CENSUS}),
    S.WITHDRAWN: frozenset({S.CENSUS}),
}
#: The forward path; any other move (an ending, a step back) needs a reason.
_FORWARD = frozenset({(S.CENSUS, S.ELIGIBLE), (S.ELIGIBLE, S.APPROVED), (S.APPROVED, S.EQUIPPED)})
REASON_REQUIRED = frozenset({S.DECLINED, S.WITHDRAWN})


def needs_reason(source: HouseholdStatus, target: HouseholdStatus) -> bool:
    """Declining, withdrawing and stepping back are explained; the forward path is not."""
    return (source, target) not in _FORWARD


class DecisionKind(StrEnum):
    """What the commission decides for a household on its agenda."""

    APPROVE = "approve"
    MODIFY = "modify"  # approved with other equipment lines than proposed, saying why
    DEFER = "defer"  # stays eligible, for a later session
    REJECT = "reject"  # declined, with the reason

    @property
    def label(self) -> str:
        """English name, a translation id."""
        return _DECISION_LABELS[self]


_DECISION_LABELS = {
    DecisionKind.APPROVE: N_("approved"),
    DecisionKind.MODIFY: N_("approved with changes"),
    DecisionKind.DEFER: N_("deferred"),
    DecisionKind.REJECT: N_("rejected"),
}


class AllocationStatus(StrEnum):
    """Where one unit of decided equipment stands."""

    TO_MATCH = "to_match"  # approved, no device yet (the shortage, when stock runs out)
    RESERVED = "reserved"  # a device in stock is reserved for it
    HANDED_OVER = "handed_over"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        """English name, a translation id."""
        return _ALLOCATION_LABELS[self]


_ALLOCATION_LABELS = {
    AllocationStatus.TO_MATCH: N_("to match"),
    AllocationStatus.RESERVED: N_("reserved"),
    AllocationStatus.HANDED_OVER: N_("handed over"),
    AllocationStatus.CANCELLED: N_("cancelled"),
}


class Ability(StrEnum):
    """What a household says it can do: yes, no, or not known yet."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        """English name, a translation id."""
        return {Ability.YES: N_("yes"), Ability.NO: N_("no"), Ability.UNKNOWN: N_("unknown")}[self]


class Equipment(StrEnum):
    """What a household asks for on its needs form, and what a programme gives."""

    DESKTOP = "desktop"
    LAPTOP = "laptop"
    TABLET = "tablet"
    PRINTER = "printer"
    CONNECTION = "connection"

    @property
    def label(self) -> str:
        """English name, a translation id."""
        return _EQUIPMENT_LABELS[self]


_EQUIPMENT_LABELS = {
    Equipment.DESKTOP: N_("desktop"),
    Equipment.LAPTOP: N_("laptop"),
    Equipment.TABLET: N_("tablet"),
    Equipment.PRINTER: N_("printer"),
    Equipment.CONNECTION: N_("connection"),
}


class AttributionMode(StrEnum):
    """How a household gets its equipment."""

    DONATION = "donation"
    LOAN = "loan"
    RENTAL = "rental"

    @property
    def label(self) -> str:
        """English name, a translation id."""
        return {
            AttributionMode.DONATION: N_("donation"),
            AttributionMode.LOAN: N_("loan"),
            AttributionMode.RENTAL: N_("rental"),
        }[self]


class BudgetCategory(StrEnum):
    """What a budget line pays for."""

    EQUIPMENT = "equipment"
    CONNECTION = "connection"
    ACCOMPANIMENT = "accompaniment"
    LICENCES = "licences"
    PARTS = "parts"
    TRANSPORT = "transport"
    OTHER = "other"

    @property
    def label(self) -> str:
        """English name, a translation id."""
        return _CATEGORY_LABELS[self]


_CATEGORY_LABELS = {
    BudgetCategory.EQUIPMENT: N_("equipment"),
    BudgetCategory.CONNECTION: N_("connection"),
    BudgetCategory.ACCOMPANIMENT: N_("accompaniment"),
    BudgetCategory.LICENCES: N_("licences"),
    BudgetCategory.PARTS: N_("parts"),
    BudgetCategory.TRANSPORT: N_("transport"),
    BudgetCategory.OTHER: N_("other"),
}


class ResourceKind(StrEnum):
    """A local place a family can turn to for help with its equipment."""

    SOCIAL_CENTRE = "social_centre"
    PUBLIC_DIGITAL_SPACE = "public_digital_space"
    ASSOCIATION = "association"

    @property
    def label(self) -> str:
        """English name, a translation id."""
        return {
            ResourceKind.SOCIAL_CENTRE: N_("social centre"),
            ResourceKind.PUBLIC_DIGITAL_SPACE: N_("public digital space"),
            ResourceKind.ASSOCIATION: N_("association"),
        }[self]


class LegalBasis(StrEnum):
    """Why Refurb may hold a family's personal data (GDPR art. 6)."""

    PUBLIC_INTEREST = "public_interest"
    CONSENT = "consent"

    @property
    def label(self) -> str:
        """English name, a translation id."""
        return {
            LegalBasis.PUBLIC_INTEREST: N_("public-interest mission"),
            LegalBasis.CONSENT: N_("consent"),
        }[self]


MAX_PERIOD_DAYS = 100 * 366  # a century: beyond, a typo
_PERIOD = re.compile(r"(\d{1,4})\s*(months?|m|days?|d|years?|y)")


def cutoff_before(text: str, now: datetime.datetime) -> datetime.datetime:
    """The moment `text` (e.g. `24months`, `90days`, `2years`) before `now`; BadInput otherwise."""
    found = _PERIOD.fullmatch(text.strip().lower())
    days = {"d": 1, "m": 31, "y": 366}[found.group(2)[0]] * int(found.group(1)) if found else 0
    if found is None or not 0 < days <= MAX_PERIOD_DAYS:
        raise BadInput(
            N_("'{text}' is not a period: write it like 24months, 90days or 2years."),
            code="bad_period",
            text=text[:40],
        )
    amount, unit = int(found.group(1)), found.group(2)[0]
    if unit == "d":
        return now - datetime.timedelta(days=amount)
    months = amount * (12 if unit == "y" else 1)
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    return now.replace(year=year, month=month + 1, day=day)
