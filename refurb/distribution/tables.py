"""Programmes, households and the personal data kept apart from them.

`Household` is pseudonymous (an F code, a QPV, a composition by birth years);
names and contact details live only in `HouseholdPerson`, which listings never
join and a purge deletes. `HouseholdEvent`, `PersonalDataAccess` and
`PurgeAudit` are append-only (database triggers); a purge may only blank a
household event's free-text reason, once (see the migration).
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    BigInt,
    Boolean,
    Bytea,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from refurb.accounts.tables import Organisation, User
from refurb.devices.tables import Device
from refurb.distribution.model import (
    Ability,
    AllocationStatus,
    BudgetCategory,
    HouseholdStatus,
    LegalBasis,
    ResourceKind,
)
from refurb.timestamps import Timestamped

__all__ = (
    "TABLES",
    "Allocation",
    "Appointment",
    "BudgetLine",
    "CommissionSession",
    "Decision",
    "Handover",
    "Household",
    "HouseholdEvent",
    "HouseholdPerson",
    "PersonalDataAccess",
    "Programme",
    "ProgrammeQpv",
    "PurgeAudit",
    "Round",
    "RoundStop",
    "SupportResource",
    "SyncConflict",
)


class Programme(Timestamped):
    """A digital-inclusion programme: its territory, period, what it gives and how.

    `rules` is the allocation rule set as a coordinator edits it (validated by
    `distribution.rules`); `rules_version` goes up at every change so a decision
    can name the version it used.
    """

    name = Varchar(length=200, unique=True)
    territory = Varchar(length=200, default="")
    starts_on = Date()
    ends_on = Date(null=True, default=None)
    equipment = JSON(default=[])  # Equipment values the programme gives
    modes = JSON(default=[])  # AttributionMode values allowed
    loan_months = Integer(null=True, default=None)  # default loan duration
    rental_monthly_cents = Integer(null=True, default=None)
    rental_programme_share = Integer(null=True, default=None)  # percent of the rent the programme pays
    minimum_grade = Varchar(length=1, null=True, default=None)  # A/B/C; None: any grade
    rules = JSON(default={})
    rules_version = Integer(default=1)
    created_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)


class ProgrammeQpv(Timestamped):
    """A priority neighbourhood (quartier prioritaire) a programme covers; (programme, code) is unique."""

    programme = ForeignKey(references=Programme, on_delete=OnDelete.restrict, null=False, index=True)
    code = Varchar(length=20)  # the official QPV code, e.g. QN09301M
    name = Varchar(length=200)


class BudgetLine(Timestamped):
    """One line of a programme's budget."""

    programme = ForeignKey(references=Programme, on_delete=OnDelete.restrict, null=False, index=True)
    category = Varchar(length=20, choices=BudgetCategory)
    label = Varchar(length=200, default="")
    amount_cents = BigInt(default=0)


class SupportResource(Timestamped):
    """A local place that helps families of a QPV with their equipment."""

    programme = ForeignKey(references=Programme, on_delete=OnDelete.restrict, null=False, index=True)
    qpv_code = Varchar(length=20)
    kind = Varchar(length=24, choices=ResourceKind)
    name = Varchar(length=200)
    address = Text(default="")
    opening_hours = Text(default="")
    contact = Varchar(length=200, default="")


class Household(Timestamped):
    """A family in a programme, known by its F code: composition and needs, never names.

    Only `distribution.service` writes `status` and `version` (compare-and-set).
    (programme, referring_organisation, family_reference) is unique: the
    referent's own reference, so a re-imported census updates instead of duplicating.
    """

    code = Varchar(length=9, unique=True)
    programme = ForeignKey(references=Programme, on_delete=OnDelete.restrict, null=False, index=True)
    qpv_code = Varchar(length=20, default="", index=True)
    school = Varchar(length=200, default="")
    referring_organisation = ForeignKey(references=Organisation, on_delete=OnDelete.restrict, null=False)
    referent = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, index=True)
    family_reference = Varchar(length=100, null=True, default=None)
    adults = Integer(default=1)
    children_birth_years = JSON(default=[])  # years only: never names nor birth dates
    computers = Integer(default=0)
    has_printer = Boolean(default=False)
    has_internet = Boolean(default=False)
    can_pay_rent = Varchar(length=7, choices=Ability, default=Ability.UNKNOWN.value)
    can_install = Varchar(length=7, choices=Ability, default=Ability.UNKNOWN.value)
    can_use = Varchar(length=7, choices=Ability, default=Ability.UNKNOWN.value)
    training_accepted = Boolean(default=False)
    requests = JSON(default=[])  # Equipment values asked for
    social_hotel = Boolean(default=False)
    status = Varchar(length=10, choices=HouseholdStatus, default=HouseholdStatus.CENSUS.value, index=True)
    status_reason = Text(default="")  # why it was declined / withdrawn; blanked by a purge
    version = Integer(default=1)
    waiting_since = Date()
    last_activity_at = Timestamptz(default=TimestamptzNow(), index=True)
    purged_at = Timestamptz(null=True, default=None)


class HouseholdEvent(Timestamped):
    """One change of a household. Never updated nor deleted (database triggers).

    The one exception: a purge blanks `reason` (free text that may describe the family)
    and sets `redacted`, once.
    """

    household = ForeignKey(references=Household, on_delete=OnDelete.restrict, null=False, index=True)
    action = Varchar(length=20)  # create | update | status
    from_status = Varchar(length=10, null=True, default=None)
    to_status = Varchar(length=10)
    reason = Text(default="")
    payload = JSON(default={})  # field names changed, never their personal values
    actor = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    actor_name = Varchar(length=80, default="")
    redacted = Boolean(default=False)


class HouseholdPerson(Timestamped):
    """The personal data of a household's contact: read only by the roles allowed, deleted by a purge."""

    household = ForeignKey(references=Household, on_delete=OnDelete.restrict, null=False, unique=True)
    last_name = Varchar(length=200, default="")
    first_name = Varchar(length=200, default="")
    phone = Varchar(length=40, default="")
    email = Varchar(length=254, default="")
    postal_address = Text(default="")
    legal_basis = Varchar(length=20, choices=LegalBasis)
    notice_version = Varchar(length=40)  # the information notice given to the family
    notice_given_on = Date()


class PersonalDataAccess(Timestamped):
    """Who read which household's personal data, when and through what. Append-only."""

    household = ForeignKey(references=Household, on_delete=OnDelete.restrict, null=False, index=True)
    user = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    actor_name = Varchar(length=80, default="")
    purpose = Varchar(length=40)  # detail_page | api_read | access_export_json | access_export_pdf | …
    route = Varchar(length=200, default="")


class PurgeAudit(Timestamped):
    """One purge: who, when, how many households, the cutoff — never the data. Append-only."""

    user = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    actor_name = Varchar(length=80, default="")
    cutoff = Timestamptz()
    households = Integer(default=0)
    via = Varchar(length=10, default="cli")  # cli | web


class CommissionSession(Timestamped):
    """A meeting of a programme's allocation commission: its date, who sat, open or closed."""

    programme = ForeignKey(references=Programme, on_delete=OnDelete.restrict, null=False, index=True)
    held_on = Date()
    members = JSON(default=[])  # the members present, as the minutes name them (never a family)
    status = Varchar(length=6, default="open")  # open | closed
    closed_at = Timestamptz(null=True, default=None)
    created_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)


class Decision(Timestamped):
    """The commission's decision on one household. Never updated nor deleted (database triggers).

    It keeps what the rules proposed and the rule-set version they used, and the
    equipment lines decided, so the record stands when the rules change.
    """

    session = ForeignKey(references=CommissionSession, on_delete=OnDelete.restrict, null=False, index=True)
    household = ForeignKey(references=Household, on_delete=OnDelete.restrict, null=False, index=True)
    kind = Varchar(length=7)  # approve | modify | defer | reject
    reason = Text(default="")  # required for modify, defer and reject
    proposal = JSON(default={})
    lines = JSON(default=[])  # the equipment decided: kind, quantity, connection, reasons
    exception = JSON(null=True, default=None)  # the one-computer exception: computers and reason
    rule_set_version = Integer()
    mode = Varchar(length=8, null=True, default=None)  # donation | loan | rental, for what is given
    actor = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    actor_name = Varchar(length=80, default="")


class Allocation(Timestamped):
    """One unit of equipment decided for a household, waiting for (or holding) a device.

    Only `distribution.matching` writes `status` and `device`, with a compare-and-set
    on the status inside the device's own transition (the `reserve`/`release` effects).
    """

    household = ForeignKey(references=Household, on_delete=OnDelete.restrict, null=False, index=True)
    programme = ForeignKey(references=Programme, on_delete=OnDelete.restrict, null=False, index=True)
    decision = ForeignKey(references=Decision, on_delete=OnDelete.restrict, null=False)
    kind = Varchar(length=20)  # a DeviceKind value: what stock is matched on
    connection = Varchar(length=8, null=True, default=None)  # 4g_key | box, for a connectivity line
    mode = Varchar(length=8)  # donation | loan | rental
    status = Varchar(length=12, choices=AllocationStatus, default=AllocationStatus.TO_MATCH.value, index=True)
    device = ForeignKey(references=Device, on_delete=OnDelete.restrict, null=True, index=True)
    matched_at = Timestamptz(null=True, default=None)


class Round(Timestamped):
    """A day out of the distribution bus (R code): its vehicle, its staff and its stops in order.

    `status` moves `planned → loading → out → closed` (only `distribution.rounds`
    writes it, compare-and-set on `version`); `report` is what closing found.
    """

    code = Varchar(length=9, unique=True)
    programme = ForeignKey(references=Programme, on_delete=OnDelete.restrict, null=False, index=True)
    held_on = Date(index=True)
    vehicle = Varchar(length=100, default="")
    staff = JSON(default=[])  # user ids of the bus staff on board
    status = Varchar(length=8, default="planned", index=True)
    version = Integer(default=1)
    departed_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    report = JSON(default={})
    created_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)


class RoundStop(Timestamped):
    """Where the bus parks, in order: a place of a QPV, the partner there, a time window cut in slots."""

    round = ForeignKey(references=Round, on_delete=OnDelete.restrict, null=False, index=True)
    position = Integer(default=1)
    place = Varchar(length=200)
    qpv_code = Varchar(length=20, default="")
    partner = Varchar(length=200, default="")
    starts_at = Varchar(length=5)  # HH:MM, local time
    ends_at = Varchar(length=5)
    slot_minutes = Integer(default=30)
    slot_capacity = Integer(default=4)  # households per slot


class Appointment(Timestamped):
    """A household convoked at a stop and a time slot.

    `status`: convoked → delivered | absent | moved (to `moved_to`, another
    appointment) | cancelled. Rows are never deleted: a household's moves are its history.
    At most one `convoked` appointment per household (a partial unique index).
    """

    round = ForeignKey(references=Round, on_delete=OnDelete.restrict, null=False, index=True)
    stop = ForeignKey(references=RoundStop, on_delete=OnDelete.restrict, null=False, index=True)
    household = ForeignKey(references=Household, on_delete=OnDelete.restrict, null=False, index=True)
    slot = Varchar(length=5)  # HH:MM, the slot's start
    status = Varchar(length=10, default="convoked", index=True)
    moved_to = Integer(null=True, default=None)
    created_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)


class Handover(Timestamped):
    """A device handed to a household: the mode and terms accepted, the signature, what was offered.

    Holds personal data (the signature, a typed name): read like the household's
    own personal data, and blanked by a purge. One per (allocation, device).
    """

    device = ForeignKey(references=Device, on_delete=OnDelete.restrict, null=False, index=True)
    household = ForeignKey(references=Household, on_delete=OnDelete.restrict, null=False, index=True)
    allocation = ForeignKey(references=Allocation, on_delete=OnDelete.restrict, null=False, index=True)
    round = ForeignKey(references=Round, on_delete=OnDelete.restrict, null=True, index=True)
    appointment = Integer(null=True, default=None)
    without_appointment = Boolean(default=False)
    mode = Varchar(length=8)  # donation | loan | rental
    terms_version = Varchar(length=40)
    terms = JSON(default={})  # the figures the terms named: loan end, rent, the programme's share
    loan_ends_on = Date(null=True, default=None)
    signature = Bytea(null=True, default=None)  # PNG drawn on the tablet
    signature_sha256 = Varchar(length=64, default="")
    typed_name = Varchar(length=200, default="")  # when signing is impossible
    identity_checked = Boolean(default=False)
    support_resource = ForeignKey(references=SupportResource, on_delete=OnDelete.restrict, null=True)
    training = Varchar(length=10, default="none")  # accepted | declined | none
    training_session = Varchar(length=200, default="")
    client_key = Varchar(length=255, null=True, default=None)
    queued_at = Timestamptz(null=True, default=None)  # done offline at, by the tablet's clock
    actor = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    actor_name = Varchar(length=80, default="")


class SyncConflict(Timestamped):
    """An action done offline that the server refused on replay: shown to the staff and the coordinator."""

    round = ForeignKey(references=Round, on_delete=OnDelete.restrict, null=True, index=True)
    household_code = Varchar(length=9, default="")
    device_code = Varchar(length=9, default="")
    action = Varchar(length=20)
    problem_code = Varchar(length=60)
    detail = Text(default="")
    client_key = Varchar(length=255, null=True, default=None)
    queued_at = Timestamptz(null=True, default=None)
    actor = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    actor_name = Varchar(length=80, default="")
    resolved_at = Timestamptz(null=True, default=None)
    resolution = Text(default="")
    resolved_by = Varchar(length=80, default="")


#: This area's tables, registered with the database by `wiring` (in dependency order).
TABLES = (
    Programme,
    ProgrammeQpv,
    BudgetLine,
    SupportResource,
    Household,
    HouseholdEvent,
    HouseholdPerson,
    PersonalDataAccess,
    PurgeAudit,
    CommissionSession,
    Decision,
    Allocation,
    Round,
    RoundStop,
    Appointment,
    Handover,
    SyncConflict,
)
