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
    "BudgetLine",
    "CommissionSession",
    "Decision",
    "Household",
    "HouseholdEvent",
    "HouseholdPerson",
    "PersonalDataAccess",
    "Programme",
    "ProgrammeQpv",
    "PurgeAudit",
    "SupportResource",
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
)
