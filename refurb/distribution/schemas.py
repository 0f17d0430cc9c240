"""What the distribution API reads and returns.

Household answers are pseudonymous: an F code, a QPV, a composition by birth
years. Names and contact details are only in `PersonalDataOut`, served by the
household's personal-data route to the roles allowed, and logged.
"""

from __future__ import annotations

import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, conint

from refurb.intake.schemas import ProblemOut

__all__ = (
    "AccessExport",
    "AccessOut",
    "AgendaItem",
    "AgendaOut",
    "AllocationOut",
    "BudgetLineIn",
    "BudgetLineOut",
    "CensusLine",
    "CensusReport",
    "DecisionIn",
    "DecisionOut",
    "ExceptionIn",
    "HouseholdEventOut",
    "HouseholdIn",
    "HouseholdOut",
    "HouseholdPatch",
    "HouseholdSummary",
    "LineIn",
    "LineOut",
    "MatchIn",
    "MatchOut",
    "PersonalDataIn",
    "PersonalDataOut",
    "ProgrammeIn",
    "ProgrammeOut",
    "ProgrammeStatistics",
    "ProgrammeSummary",
    "PurgeOut",
    "QpvIn",
    "QpvOut",
    "ReleaseIn",
    "SessionIn",
    "SessionOut",
    "ShortageOut",
    "StatusIn",
    "StockDemandRow",
    "SupportResourceIn",
    "SupportResourceOut",
)

TEXT = 200
#: The schema's upper bound of a count; the service refuses narrower ranges with its own codes.
BIG = 1_000_000
Year = conint(le=9999)  # Litestar keeps the bound of a list item only this way


class QpvIn(BaseModel):
    """A priority neighbourhood the programme covers."""

    code: str = Field(max_length=20, examples=["QN09301M"])
    name: str = Field(max_length=TEXT, examples=["Les Courtillières"])


class QpvOut(QpvIn):
    """A QPV of a programme."""


class BudgetLineIn(BaseModel):
    """One budget line; amounts in euro cents."""

    category: str = Field(
        max_length=20,
        description="equipment, connection, accompaniment, licences, parts, transport or other",
        examples=["equipment"],
    )
    label: str = Field(default="", max_length=TEXT)
    amount_cents: int = Field(ge=0, le=10**13, examples=[1500000])


class BudgetLineOut(BudgetLineIn):
    """A budget line of a programme."""


class SupportResourceIn(BaseModel):
    """A local place that helps the families of a QPV."""

    qpv_code: str = Field(max_length=20)
    kind: str = Field(max_length=24, description="social_centre, public_digital_space or association")
    name: str = Field(max_length=TEXT)
    address: str = Field(default="", max_length=1000)
    opening_hours: str = Field(default="", max_length=1000)
    contact: str = Field(default="", max_length=TEXT)


class SupportResourceOut(SupportResourceIn):
    """A support resource of a programme."""


class ProgrammeIn(BaseModel):
    """A programme as a coordinator writes it; PUT replaces QPVs, budget lines and resources too."""

    name: str = Field(max_length=TEXT, examples=["PRE Bobigny 2027"])
    territory: str = Field(default="", max_length=TEXT, examples=["Bobigny"])
    starts_on: datetime.date
    ends_on: datetime.date | None = None
    equipment: list[str] = Field(
        max_length=10, description="desktop, laptop, tablet, printer, connection", examples=[["laptop"]]
    )
    modes: list[str] = Field(max_length=3, description="donation, loan, rental", examples=[["donation"]])
    loan_months: int | None = Field(
        default=None, le=BIG, description="Default loan duration; with the loan mode"
    )
    rental_monthly_cents: int | None = Field(
        default=None, le=BIG, description="Monthly rent; with the rental mode"
    )
    rental_programme_share: int | None = Field(
        default=None, le=BIG, description="Percent of the rent the programme pays; with the rental mode"
    )
    minimum_grade: str | None = Field(default=None, max_length=1, description="A, B or C; null: any")
    rules: dict[str, Any] = Field(
        default_factory=dict, description="The allocation rule set; its version goes up when it changes"
    )
    qpvs: list[QpvIn] = Field(default_factory=list, max_length=200)
    budget_lines: list[BudgetLineIn] = Field(default_factory=list, max_length=200)
    support_resources: list[SupportResourceIn] = Field(default_factory=list, max_length=500)


class ProgrammeSummary(BaseModel):
    """A programme in a list."""

    id: int
    name: str
    territory: str
    starts_on: datetime.date
    ends_on: datetime.date | None
    households: int


class ProgrammeOut(BaseModel):
    """A programme with its QPVs, budget and support resources."""

    id: int
    name: str
    territory: str
    starts_on: datetime.date
    ends_on: datetime.date | None
    equipment: list[str]
    modes: list[str]
    loan_months: int | None
    rental_monthly_cents: int | None
    rental_programme_share: int | None
    minimum_grade: str | None
    rules: dict[str, Any]
    rules_version: int
    qpvs: list[QpvOut]
    budget_lines: list[BudgetLineOut]
    budget_total_cents: int
    support_resources: list[SupportResourceOut]


class ProgrammeStatistics(BaseModel):
    """Pseudonymous counts: what auditors see, and what a purge keeps."""

    programme: int
    total: int
    by_status: dict[str, int]
    by_qpv: dict[str, dict[str, int]] = Field(description="QPV code → status → households")


class HouseholdIn(BaseModel):
    """A household's needs form; no names here (see the personal-data route)."""

    programme: int = Field(ge=1, le=2**31 - 1)
    qpv_code: str = Field(max_length=20)
    school: str = Field(default="", max_length=TEXT)
    referring_organisation: str | None = Field(
        default=None, max_length=TEXT, description="Organisation name; default: the caller's"
    )
    referent: str | None = Field(
        default=None, max_length=80, description="Username of the referent; default: none for coordinators"
    )
    family_reference: str | None = Field(
        default=None, max_length=100, description="The referent's own reference for the family (re-imports)"
    )
    adults: int = Field(default=1, le=BIG)
    children_birth_years: list[Year] = Field(default_factory=list, max_length=30)
    computers: int = Field(default=0, le=BIG)
    has_printer: bool = False
    has_internet: bool = False
    can_pay_rent: str = "unknown"
    can_install: str = "unknown"
    can_use: str = "unknown"
    training_accepted: bool = False
    requests: list[str] = Field(default_factory=list, max_length=10)
    social_hotel: bool = False
    waiting_since: datetime.date | None = Field(default=None, description="Default: today")


class HouseholdPatch(BaseModel):
    """Send only what changes (programme and status are changed elsewhere)."""

    qpv_code: str | None = Field(default=None, max_length=20)
    school: str | None = Field(default=None, max_length=TEXT)
    referent: str | None = Field(default=None, max_length=80)
    family_reference: str | None = Field(default=None, max_length=100)
    adults: int | None = Field(default=None, le=BIG)
    children_birth_years: list[Year] | None = Field(default=None, max_length=30)
    computers: int | None = Field(default=None, le=BIG)
    has_printer: bool | None = None
    has_internet: bool | None = None
    can_pay_rent: str | None = None
    can_install: str | None = None
    can_use: str | None = None
    training_accepted: bool | None = None
    requests: list[str] | None = Field(default=None, max_length=10)
    social_hotel: bool | None = None
    waiting_since: datetime.date | None = None


class StatusIn(BaseModel):
    """A status change; declining, withdrawing and going back need a reason."""

    status: str = Field(max_length=20, examples=["eligible"])
    reason: str = Field(default="", max_length=1000)
    version: int | None = Field(
        default=None, le=2**31 - 1, description="Refuse if the household changed since"
    )


class HouseholdEventOut(BaseModel):
    """One line of a household's history."""

    at: datetime.datetime
    action: str
    from_status: str | None
    to_status: str
    reason: str
    payload: dict[str, Any]
    actor: str
    redacted: bool


class HouseholdSummary(BaseModel):
    """A household in a list: pseudonymous, no names, no references."""

    code: str
    display_code: str
    programme: int
    qpv_code: str
    school: str
    status: str
    adults: int
    children: int
    requests: list[str]
    waiting_since: datetime.date
    priority: int | None = Field(default=None, description="The priority score, when listed by priority")


class HouseholdOut(BaseModel):
    """A household: composition, equipment, abilities, needs, status, history. Never names."""

    code: str
    display_code: str
    programme: int
    programme_name: str
    qpv_code: str
    school: str
    referring_organisation: str
    referent: str | None
    family_reference: str | None
    adults: int
    children_birth_years: list[int]
    computers: int
    has_printer: bool
    has_internet: bool
    can_pay_rent: str
    can_install: str
    can_use: str
    training_accepted: bool
    requests: list[str]
    social_hotel: bool
    status: str
    status_reason: str
    version: int
    waiting_since: datetime.date
    last_activity_at: datetime.datetime
    purged: bool
    has_personal_data: bool
    history: list[HouseholdEventOut]


class PersonalDataIn(BaseModel):
    """The family's contact, with the legal basis and the information notice it was given."""

    last_name: str = Field(default="", max_length=TEXT)
    first_name: str = Field(default="", max_length=TEXT)
    phone: str = Field(default="", max_length=40)
    email: str = Field(default="", max_length=254)
    postal_address: str = Field(default="", max_length=1000)
    legal_basis: str = Field(max_length=20, description="public_interest or consent")
    notice_version: str = Field(max_length=40, description="Version of the information notice given")
    notice_given_on: datetime.date


class PersonalDataOut(PersonalDataIn):
    """A household's personal data (reading it is logged)."""

    household: str
    updated_at: datetime.datetime


class AccessOut(BaseModel):
    """One reading of a household's personal data."""

    at: datetime.datetime
    by: str
    purpose: str


class AccessExport(BaseModel):
    """Everything Refurb holds on one household: the answer to a right-of-access request."""

    generated_at: datetime.datetime
    household: HouseholdOut
    personal_data: PersonalDataOut | None
    accesses: list[AccessOut]


class PurgeOut(BaseModel):
    """What a purge did: how many households, with which cutoff (never the data)."""

    households: int
    cutoff: datetime.datetime
    dry_run: bool


# --- the commission and matching ---------------------------------------------


class SessionIn(BaseModel):
    """A commission session: its programme, date and the members present."""

    programme: int = Field(ge=1, le=2**31 - 1)
    held_on: datetime.date
    members: list[str] = Field(max_length=100, examples=[["Mme Roux (PRE)", "M. Diallo (centre social)"]])


class SessionOut(BaseModel):
    """A commission session."""

    id: int
    programme: int
    programme_name: str
    held_on: datetime.date
    members: list[str]
    status: str
    closed_at: datetime.datetime | None
    decisions: int


class LineOut(BaseModel):
    """A line of equipment, in words too."""

    kind: str
    quantity: int
    connection: str | None
    label: str
    reasons: list[str]


class AgendaItem(BaseModel):
    """One eligible household on the agenda: pseudonymous composition, priority and proposal."""

    position: int
    code: str
    display_code: str
    qpv_code: str
    adults: int
    children_ages: list[int]
    score: int
    priority_reasons: list[str]
    lines: list[LineOut]
    notes: list[str]
    deferred: bool  # already deferred in this session


class AgendaOut(BaseModel):
    """A page of the agenda."""

    session: SessionOut
    rule_set_version: int
    total: int
    offset: int
    items: list[AgendaItem]


class LineIn(BaseModel):
    """A line of a modified decision."""

    kind: str = Field(max_length=20, examples=["laptop"])
    quantity: int = Field(default=1, ge=0, le=BIG)
    connection: str | None = Field(default=None, max_length=10, description="4g_key or box")


class ExceptionIn(BaseModel):
    """The commission's exception to the programme's cap of computers, with its reason."""

    computers: int = Field(ge=0, le=BIG)
    reason: str = Field(max_length=1000)


class DecisionIn(BaseModel):
    """The commission's decision on one household."""

    household: str = Field(max_length=20, examples=["F00000017"])
    kind: str = Field(max_length=10, description="approve, modify, defer or reject", examples=["approve"])
    reason: str = Field(default="", max_length=1000, description="required for modify, defer and reject")
    lines: list[LineIn] = Field(default_factory=list, max_length=20, description="modify: the lines given")
    exception: ExceptionIn | None = None
    mode: str | None = Field(default=None, max_length=10, description="donation, loan or rental")


class DecisionOut(BaseModel):
    """A decision as recorded (never changed afterwards)."""

    id: int
    session: int
    household: str
    display_code: str
    kind: str
    reason: str
    proposal: dict[str, Any]
    lines: list[dict[str, Any]]
    exception: dict[str, Any] | None
    rule_set_version: int
    mode: str | None
    actor: str
    at: datetime.datetime


class AllocationOut(BaseModel):
    """One unit of decided equipment and the device reserved for it, if any."""

    id: int
    household: str
    display_code: str
    programme: int
    decision: int
    kind: str
    connection: str | None
    mode: str
    status: str
    device: str | None
    matched_at: datetime.datetime | None


class MatchIn(BaseModel):
    """Match one allocation: to this device, or to the oldest suitable one in stock."""

    device: str | None = Field(default=None, max_length=40)


class MatchOut(BaseModel):
    """What a "match all" did."""

    reserved: int
    shortage: dict[str, int]


class ReleaseIn(BaseModel):
    """Why a reserved device goes back to stock."""

    reason: str = Field(max_length=1000, examples=["la famille a déménagé"])


class ShortageOut(BaseModel):
    """Approved allocations without a device, per kind."""

    programme: int | None
    by_kind: dict[str, int]
    total: int
    without_suitable_os: dict[str, int] = Field(
        default_factory=dict,
        description="Per kind short: devices in stock held back only by their OS (none recorded, or refused)",
    )


class StockDemandRow(BaseModel):
    """Stock against demand for one kind of device."""

    kind: str
    in_stock_by_grade: dict[str, int]
    in_stock: int
    reserved: int
    to_match: int
    without_suitable_os: int = Field(
        description="In stock, of an accepted grade, but without a suitable OS recorded: not yet matchable"
    )
    missing: int


class CensusLine(BaseModel):
    """What an import does (or would do) with one family of the file."""

    row: int
    reference: str = Field(description="The referent's own family reference")
    household: str | None = Field(description="Its F code (null for a household a dry run would create)")
    action: Literal["create", "update", "unchanged", "skip"]
    changed: list[str] = Field(default_factory=list, description="Fields changed; never their values")


class CensusReport(BaseModel):
    """How a census file was read and what importing it did (or would do)."""

    programme: int
    filename: str
    size: int
    format: str
    encoding: str
    delimiter: str
    header_row: int
    mapping: dict[str, str] = Field(description="Field → the file's column")
    columns: list[str] = Field(description="Every column of the file")
    ignored_columns: list[str] = Field(description="Columns no field was recognised in")
    reference_year: int = Field(description="Ages are stored as birth years: this year minus the age")
    dry_run: bool
    mode: Literal["all_or_nothing", "valid_only"]
    status: Literal["checked", "imported", "refused"]
    rows: int
    valid: int
    invalid: int
    warnings: int
    created: int
    updated: int
    unchanged: int
    skipped: int = Field(description="Households already decided, left as they are")
    problems: list[ProblemOut]
    problems_total: int
    lines: list[CensusLine]
