"""Programmes and households: the use cases and all their queries.

Households are pseudonymous; who may see one, and who may read its personal
data, is decided here (`may_see_household`, `may_read_personal_data`), never in
controllers. A household's status changes only through `change_status`:
compare-and-set on (id, version) and one `HouseholdEvent` in the same
transaction. Every reading of personal data writes a `PersonalDataAccess` line.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from piccolo.query.functions.aggregate import Count

from refurb.accounts import service as accounts
from refurb.codes.service import mint
from refurb.core.codes import Code, CodeType, parse_code
from refurb.core.errors import BadInput, Conflict, Forbidden, InvalidTransition, NotFound
from refurb.core.i18n import N_
from refurb.core.principal import Principal
from refurb.core.roles import Role
from refurb.db import chunked, json_value, write_transaction
from refurb.distribution.model import (
    TRANSITIONS,
    Ability,
    AttributionMode,
    BudgetCategory,
    Equipment,
    HouseholdStatus,
    LegalBasis,
    ResourceKind,
    needs_reason,
)
from refurb.distribution.rules import RuleSet
from refurb.distribution.schemas import (
    AccessExport,
    AccessOut,
    BudgetLineOut,
    HouseholdEventOut,
    HouseholdIn,
    HouseholdOut,
    HouseholdPatch,
    HouseholdSummary,
    PersonalDataIn,
    PersonalDataOut,
    ProgrammeIn,
    ProgrammeOut,
    ProgrammeStatistics,
    ProgrammeSummary,
    PurgeOut,
    QpvOut,
    SupportResourceOut,
)
from refurb.distribution.tables import (
    BudgetLine,
    Handover,
    Household,
    HouseholdEvent,
    HouseholdPerson,
    PersonalDataAccess,
    Programme,
    ProgrammeQpv,
    PurgeAudit,
    SupportResource,
)
from refurb.stations import service as stations
from refurb.stations.schemas import ThingOut
from refurb.timestamps import as_utc, utcnow
from refurb.workshop.checklists import Grade

__all__ = (
    "HOUSEHOLD_MANAGERS",
    "HOUSEHOLD_READERS",
    "NO_PERSONAL_DATA",
    "PROGRAMME_WRITERS",
    "Actor",
    "HouseholdRef",
    "access_export",
    "change_status",
    "create_household",
    "create_programme",
    "get_household",
    "get_programme",
    "household_ref",
    "list_households",
    "list_programmes",
    "may_read_personal_data",
    "may_see_household",
    "no_personal_data",
    "programme_statistics",
    "purge",
    "purge_candidates",
    "read_personal_data",
    "record_event",
    "referent_user",
    "register",
    "schools",
    "set_personal_data",
    "stored",
    "update_household",
    "update_programme",
)

#: Manage programmes and every household.
HOUSEHOLD_MANAGERS = frozenset({Role.COORDINATOR, Role.ADMIN})
PROGRAMME_WRITERS = HOUSEHOLD_MANAGERS
#: Never see a household nor its personal data: to them households do not exist (404).
NO_PERSONAL_DATA = frozenset({Role.DONOR, Role.TECHNICIAN, Role.SUPERVISOR, Role.DRIVER, Role.AUDITOR})
#: May list households (managers all of them, the others those they are the referent of).
HOUSEHOLD_READERS = frozenset(Role) - NO_PERSONAL_DATA

NAME_MAX = 200
MAX_ADULTS = 20
MAX_COMPUTERS = 50
MAX_CHILD_AGE = 25  # a birth year further back is not a child at home
MAX_LOAN_MONTHS = 120
MAX_RENT_CENTS = 100_000
MAX_REASON = 1000
LIST_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Actor:
    """Who a change or a reading is attributed to; the command line acts as a named system."""

    user_id: int | None
    name: str

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        """The actor of a logged-in user."""
        return cls(principal.user_id, principal.name[:80])


@dataclass(frozen=True, slots=True)
class HouseholdRef:
    """The columns access decisions look at."""

    id: int
    code: str
    programme_id: int
    referent_id: int | None
    status: HouseholdStatus
    version: int


# --- access ------------------------------------------------------------------


def may_see_household(principal: Principal, household: HouseholdRef) -> bool:
    """Managers see every household; a referent sees theirs; the roles without personal data none."""
    if principal.role in NO_PERSONAL_DATA:
        return False
    if principal.role in HOUSEHOLD_MANAGERS:
        return True
    return household.referent_id == principal.user_id


async def may_read_personal_data(principal: Principal, household: HouseholdRef) -> bool:
    """Coordinators and the household's own referent read its names and contacts; nobody else.

    The one place the rule lives: the rounds (bus staff of a round the household
    is on) extend it here. Administrators run the service, they do not read
    families' files unless they are the referent.
    """
    if principal.role in NO_PERSONAL_DATA:
        return False
    if principal.role is Role.COORDINATOR:
        return True
    return household.referent_id is not None and household.referent_id == principal.user_id


def _not_found(code_text: str) -> NotFound:
    return NotFound(N_("No household {ref} is known."), ref=code_text)


async def household_ref(code_text: str, principal: Principal | None = None) -> HouseholdRef:
    """A household by its F code; NotFound too when `principal` may not see it."""
    code = parse_code(code_text, expected=CodeType.HOUSEHOLD)
    row = (
        await Household.select(
            Household.id,
            Household.programme,
            Household.referent,
            Household.status,
            Household.version,
        )
        .where(Household.code == code.compact)
        .first()
    )
    if row is None:
        raise _not_found(code.display)
    ref = HouseholdRef(
        id=row["id"],
        code=code.compact,
        programme_id=row["programme"],
        referent_id=row["referent"],
        status=HouseholdStatus(row["status"]),
        version=row["version"],
    )
    if principal is not None and not may_see_household(principal, ref):
        raise _not_found(code.display)
    return ref


# --- programmes --------------------------------------------------------------


def _clean(text: str) -> str:
    return " ".join(text.split())


def _choices(values: Sequence[str], enum: Any, message: str, code: str) -> list[str]:
    """Known values, each once, in the order given."""
    out: list[str] = []
    for value in values:
        try:
            member = enum(value)
        except ValueError:
            raise BadInput(
                message, code=code, value=str(value)[:40], known=", ".join(m.value for m in enum)
            ) from None
        if member.value not in out:
            out.append(member.value)
    return out


@dataclass(frozen=True, slots=True)
class _ProgrammeValues:
    columns: dict[str, Any]
    qpvs: list[tuple[str, str]]
    budget: list[tuple[str, str, int]]
    resources: list[tuple[str, str, str, str, str, str]]


def _programme_values(data: ProgrammeIn) -> _ProgrammeValues:
    """Check a programme as a whole; every refusal names its field and changes nothing."""
    name = _clean(data.name)
    if not name:
        raise BadInput(N_("A programme needs a name."), code="bad_programme_name")
    if data.ends_on is not None and data.ends_on < data.starts_on:
        raise BadInput(
            N_("A programme cannot end ({end}) before it starts ({start})."),
            code="bad_programme_period",
            start=data.starts_on.isoformat(),
            end=data.ends_on.isoformat(),
        )
    equipment = _choices(
        data.equipment,
        Equipment,
        N_("'{value}' is not a kind of equipment (known: {known})."),
        "bad_equipment",
    )
    if not equipment:
        raise BadInput(N_("A programme gives at least one kind of equipment."), code="bad_equipment")
    modes = _choices(
        data.modes,
        AttributionMode,
        N_("'{value}' is not an attribution mode (known: {known})."),
        "bad_attribution_mode",
    )
    if not modes:
        raise BadInput(N_("A programme allows at least one attribution mode."), code="bad_attribution_mode")
    loan = AttributionMode.LOAN.value in modes
    if loan and not (data.loan_months is not None and 1 <= data.loan_months <= MAX_LOAN_MONTHS):
        raise BadInput(
            N_("A loan needs a default duration of 1 to {limit} months."),
            code="bad_loan_months",
            limit=MAX_LOAN_MONTHS,
        )
    if not loan and data.loan_months is not None:
        raise BadInput(N_("A loan duration needs the loan mode."), code="bad_loan_months")
    rental = AttributionMode.RENTAL.value in modes
    rent, share = data.rental_monthly_cents, data.rental_programme_share
    if rental and not (
        rent is not None and 0 <= rent <= MAX_RENT_CENTS and share is not None and 0 <= share <= 100
    ):
        raise BadInput(
            N_(
                "A rental needs a monthly amount (0 to {limit} cents) and the share the programme "
                "pays (0 to 100 %)."
            ),
            code="bad_rental_terms",
            limit=MAX_RENT_CENTS,
        )
    if not rental and (rent is not None or share is not None):
        raise BadInput(N_("Rental terms need the rental mode."), code="bad_rental_terms")
    grade = data.minimum_grade or None
    if grade is not None and grade not in {g.value for g in Grade}:
        raise BadInput(N_("'{grade}' is not a grade (known: A, B, C)."), code="bad_grade", grade=grade[:4])
    qpvs: list[tuple[str, str]] = []
    for qpv in data.qpvs:
        qpv_code, qpv_name = _clean(qpv.code).upper(), _clean(qpv.name)
        if not qpv_code or not qpv_name:
            raise BadInput(N_("A QPV needs a code and a name."), code="bad_qpv")
        if any(qpv_code == known for known, _ in qpvs):
            raise BadInput(N_("The QPV {qpv} is listed twice."), code="duplicate_qpv", qpv=qpv_code)
        qpvs.append((qpv_code, qpv_name))
    budget = []
    for line in data.budget_lines:
        category = _choices(
            [line.category],
            BudgetCategory,
            N_("'{value}' is not a budget category (known: {known})."),
            "bad_budget_category",
        )[0]
        budget.append((category, _clean(line.label), line.amount_cents))
    known_qpvs = {code for code, _ in qpvs}
    resources = []
    for resource in data.support_resources:
        kind = _choices(
            [resource.kind],
            ResourceKind,
            N_("'{value}' is not a kind of support resource (known: {known})."),
            "bad_resource_kind",
        )[0]
        qpv_code = _clean(resource.qpv_code).upper()
        if qpv_code not in known_qpvs:
            raise BadInput(
                N_("The QPV {qpv} is not one of the programme's."), code="unknown_qpv", qpv=qpv_code[:20]
            )
        resource_name = _clean(resource.name)
        if not resource_name:
            raise BadInput(N_("A support resource needs a name."), code="bad_resource")
        resources.append(
            (
                qpv_code,
                kind,
                resource_name,
                resource.address.strip(),
                resource.opening_hours.strip(),
                _clean(resource.contact),
            )
        )
    RuleSet.from_json(data.rules)  # refused when saved, not at the commission's agenda
    columns = {
        "name": name,
        "territory": _clean(data.territory),
        "starts_on": data.starts_on,
        "ends_on": data.ends_on,
        "equipment": equipment,
        "modes": modes,
        "loan_months": data.loan_months,
        "rental_monthly_cents": rent,
        "rental_programme_share": share,
        "minimum_grade": grade,
        "rules": data.rules,
    }
    return _ProgrammeValues(columns, qpvs, budget, resources)


async def _name_free(name: str, other_than: int | None = None) -> None:
    for row in await Programme.select(Programme.id, Programme.name):
        if row["id"] != other_than and row["name"].casefold() == name.casefold():
            raise Conflict(
                N_("A programme named '{name}' already exists."), code="programme_name_taken", name=name
            )


async def _write_parts(programme_id: int, values: _ProgrammeValues) -> None:
    """Replace a programme's QPVs, budget lines and support resources (inside the caller's transaction)."""
    await ProgrammeQpv.delete().where(ProgrammeQpv.programme == programme_id)
    await BudgetLine.delete().where(BudgetLine.programme == programme_id)
    await SupportResource.delete().where(SupportResource.programme == programme_id)
    if values.qpvs:
        await ProgrammeQpv.insert(
            *[ProgrammeQpv(programme=programme_id, code=c, name=n) for c, n in values.qpvs]
        )
    if values.budget:
        await BudgetLine.insert(
            *[
                BudgetLine(programme=programme_id, category=c, label=label, amount_cents=a)
                for c, label, a in values.budget
            ]
        )
    if values.resources:
        await SupportResource.insert(
            *[
                SupportResource(
                    programme=programme_id,
                    qpv_code=q,
                    kind=k,
                    name=n,
                    address=a,
                    opening_hours=h,
                    contact=c,
                )
                for q, k, n, a, h, c in values.resources
            ]
        )


async def create_programme(data: ProgrammeIn, actor: Actor) -> ProgrammeOut:
    """A new programme with its QPVs, budget and support resources, all at once or nothing."""
    values = _programme_values(data)
    async with write_transaction():
        await _name_free(values.columns["name"])
        rows = await Programme.insert(
            Programme(**values.columns, rules_version=1, created_by=actor.user_id)
        ).returning(Programme.id)
        programme_id = rows[0]["id"]
        await _write_parts(programme_id, values)
    return await get_programme(programme_id)


async def update_programme(programme_id: int, data: ProgrammeIn, actor: Actor) -> ProgrammeOut:
    """Replace a programme; its rule-set version goes up when the rules change.

    A QPV that households still belong to cannot be removed.
    """
    values = _programme_values(data)
    async with write_transaction():
        row = (
            await Programme.select(Programme.id, Programme.rules, Programme.rules_version)
            .where(Programme.id == programme_id)
            .first()
        )
        if row is None:
            raise _programme_not_found(programme_id)
        await _name_free(values.columns["name"], other_than=programme_id)
        kept = {code for code, _ in values.qpvs}
        used = (
            await Household.select(Household.qpv_code).where(Household.programme == programme_id).distinct()
        )
        orphaned = sorted({r["qpv_code"] for r in used if r["qpv_code"]} - kept)
        if orphaned:
            raise Conflict(
                N_("Households still belong to the QPV {qpv}: it cannot be removed."),
                code="qpv_in_use",
                qpv=", ".join(orphaned),
            )
        version = row["rules_version"]
        if json_value(row["rules"], {}) != data.rules:
            version += 1
        await Programme.update({**values.columns, "rules_version": version}).where(
            Programme.id == programme_id
        )
        await _write_parts(programme_id, values)
    return await get_programme(programme_id)


async def replace_rules(programme_id: int, given: dict[str, Any]) -> ProgrammeOut:
    """A programme's rule set, edited apart from the rest; the version goes up when it changes."""
    stored = RuleSet.from_json(given).to_json()  # every field spelt out, refused with its field name
    del stored["version"]
    async with write_transaction():
        row = (
            await Programme.select(Programme.rules, Programme.rules_version)
            .where(Programme.id == programme_id)
            .first()
        )
        if row is None:
            raise _programme_not_found(programme_id)
        if json_value(row["rules"], {}) != stored:
            await Programme.update(
                {Programme.rules: stored, Programme.rules_version: row["rules_version"] + 1}
            ).where(Programme.id == programme_id)
    return await get_programme(programme_id)


def _programme_not_found(programme_id: int) -> NotFound:
    return NotFound(N_("No programme #{id} is known."), id=programme_id)


async def get_programme(programme_id: int) -> ProgrammeOut:
    """A programme with its parts."""
    row = await Programme.select().where(Programme.id == programme_id).first()
    if row is None:
        raise _programme_not_found(programme_id)
    qpvs = (
        await ProgrammeQpv.select().where(ProgrammeQpv.programme == programme_id).order_by(ProgrammeQpv.code)
    )
    budget = await BudgetLine.select().where(BudgetLine.programme == programme_id).order_by(BudgetLine.id)
    resources = (
        await SupportResource.select()
        .where(SupportResource.programme == programme_id)
        .order_by(SupportResource.qpv_code)
        .order_by(SupportResource.name)
    )
    lines = [
        BudgetLineOut(category=r["category"], label=r["label"], amount_cents=r["amount_cents"])
        for r in budget
    ]
    return ProgrammeOut(
        id=row["id"],
        name=row["name"],
        territory=row["territory"],
        starts_on=row["starts_on"],
        ends_on=row["ends_on"],
        equipment=json_value(row["equipment"], []),
        modes=json_value(row["modes"], []),
        loan_months=row["loan_months"],
        rental_monthly_cents=row["rental_monthly_cents"],
        rental_programme_share=row["rental_programme_share"],
        minimum_grade=row["minimum_grade"],
        rules=json_value(row["rules"], {}),
        rules_version=row["rules_version"],
        qpvs=[QpvOut(code=r["code"], name=r["name"]) for r in qpvs],
        budget_lines=lines,
        budget_total_cents=sum(line.amount_cents for line in lines),
        support_resources=[
            SupportResourceOut(
                qpv_code=r["qpv_code"],
                kind=r["kind"],
                name=r["name"],
                address=r["address"],
                opening_hours=r["opening_hours"],
                contact=r["contact"],
            )
            for r in resources
        ],
    )


async def list_programmes() -> list[ProgrammeSummary]:
    """Every programme, newest start first, with its number of households."""
    rows = await Programme.select(
        Programme.id, Programme.name, Programme.territory, Programme.starts_on, Programme.ends_on
    ).order_by(Programme.starts_on, ascending=False)
    counts = await Household.select(Household.programme, Count(alias="n")).group_by(Household.programme)
    by_programme = {r["programme"]: r["n"] for r in counts}
    return [ProgrammeSummary(**row, households=by_programme.get(row["id"], 0)) for row in rows]


async def programme_statistics(programme_id: int) -> ProgrammeStatistics:
    """Households by status and by QPV and status: pseudonymous, kept by purges."""
    if not await Programme.exists().where(Programme.id == programme_id):
        raise _programme_not_found(programme_id)
    rows = (
        await Household.select(Household.qpv_code, Household.status, Count(alias="n"))
        .where(Household.programme == programme_id)
        .group_by(Household.qpv_code, Household.status)
    )
    by_status = {status.value: 0 for status in HouseholdStatus}
    by_qpv: dict[str, dict[str, int]] = defaultdict(lambda: {status.value: 0 for status in HouseholdStatus})
    for row in rows:
        by_status[row["status"]] += row["n"]
        by_qpv[row["qpv_code"]][row["status"]] += row["n"]
    return ProgrammeStatistics(
        programme=programme_id,
        total=sum(by_status.values()),
        by_status=by_status,
        by_qpv=dict(sorted(by_qpv.items())),
    )


async def _programme_qpvs(programme_id: int) -> set[str]:
    if not await Programme.exists().where(Programme.id == programme_id):
        raise _programme_not_found(programme_id)
    rows = await ProgrammeQpv.select(ProgrammeQpv.code).where(ProgrammeQpv.programme == programme_id)
    return {r["code"] for r in rows}


# --- households: the needs form ----------------------------------------------


def _ability(value: str, field: str) -> str:
    try:
        return Ability(value).value
    except ValueError:
        raise BadInput(
            N_("'{value}' is not an answer for {field} (known: yes, no, unknown)."),
            code="bad_ability",
            value=str(value)[:20],
            field=field,
        ) from None


def _birth_years(years: Sequence[int], today: datetime.date) -> list[int]:
    for year in years:
        if not today.year - MAX_CHILD_AGE <= year <= today.year:
            raise BadInput(
                N_("{year} is not a child's birth year (from {first} to {last})."),
                code="bad_birth_years",
                year=year,
                first=today.year - MAX_CHILD_AGE,
                last=today.year,
            )
    return sorted(years)


def _needs(values: dict[str, Any], today: datetime.date) -> dict[str, Any]:
    """Check the needs-form fields present in `values`; returns the column values."""
    out: dict[str, Any] = {}
    if "adults" in values:
        if not 1 <= values["adults"] <= MAX_ADULTS:
            raise BadInput(N_("A household has 1 to {limit} adults."), code="bad_adults", limit=MAX_ADULTS)
        out["adults"] = values["adults"]
    if "children_birth_years" in values:
        out["children_birth_years"] = _birth_years(values["children_birth_years"], today)
    if "computers" in values:
        if not 0 <= values["computers"] <= MAX_COMPUTERS:
            raise BadInput(
                N_("The number of computers at home is 0 to {limit}."),
                code="bad_computers",
                limit=MAX_COMPUTERS,
            )
        out["computers"] = values["computers"]
    for field in ("can_pay_rent", "can_install", "can_use"):
        if field in values:
            out[field] = _ability(values[field], field)
    if "requests" in values:
        out["requests"] = _choices(
            values["requests"],
            Equipment,
            N_("'{value}' is not a kind of equipment (known: {known})."),
            "bad_request",
        )
    for field in ("has_printer", "has_internet", "training_accepted", "social_hotel"):
        if field in values:
            out[field] = bool(values[field])
    if "school" in values:
        out["school"] = _clean(values["school"])
    if "family_reference" in values:
        out["family_reference"] = _clean(values["family_reference"] or "") or None
    if values.get("waiting_since") is not None:
        if values["waiting_since"] > today:
            raise BadInput(N_("A household cannot be waiting since a future date."), code="bad_waiting_since")
        out["waiting_since"] = values["waiting_since"]
    return out


async def referent_user(username: str | None) -> int | None:
    """The id of the referent named by `username` (None: none); refused for a role without personal data."""
    if not username:
        return None
    user_id, role = await accounts.user_ref(username)
    if role in NO_PERSONAL_DATA:
        raise BadInput(
            N_("A {role} cannot be a household's referent: the role may not read personal data."),
            code="referent_not_allowed",
            role=role,
        )
    return user_id


async def _reference_free(
    programme_id: int, organisation_id: int, reference: str | None, other_than: int | None = None
) -> None:
    if reference is None:
        return
    row = (
        await Household.select(Household.id, Household.code)
        .where(
            (Household.programme == programme_id)
            & (Household.referring_organisation == organisation_id)
            & (Household.family_reference == reference)
        )
        .first()
    )
    if row is not None and row["id"] != other_than:
        raise Conflict(
            N_("The family reference '{reference}' is already household {ref}'s."),
            code="family_reference_taken",
            reference=reference,
            ref=parse_code(row["code"]).display,
        )


async def record_event(
    household_id: int,
    action: str,
    source: str | None,
    target: str,
    actor: Actor,
    *,
    reason: str = "",
    payload: dict[str, Any] | None = None,
) -> None:
    """One line of a household's history, inside the caller's transaction."""
    await HouseholdEvent.insert(
        HouseholdEvent(
            household=household_id,
            action=action,
            from_status=source,
            to_status=target,
            reason=reason,
            payload=payload or {},
            actor=actor.user_id,
            actor_name=actor.name,
        )
    )


async def create_household(data: HouseholdIn, principal: Principal) -> HouseholdOut:
    """A new household in `census`, with a fresh F code and a first history line.

    A coordinator names the referent (or none); anyone else allowed who records a
    household becomes its referent.
    """
    if principal.role in NO_PERSONAL_DATA:
        raise Forbidden(N_("A {role} may not record households."), role=principal.role)
    today = datetime.date.today()
    qpvs = await _programme_qpvs(data.programme)
    qpv_code = _clean(data.qpv_code).upper()
    if qpv_code not in qpvs:
        raise BadInput(
            N_("The QPV {qpv} is not one of the programme's."), code="unknown_qpv", qpv=qpv_code[:20]
        )
    values = _needs(data.model_dump(), today)
    if principal.role in HOUSEHOLD_MANAGERS:
        referent_id = await referent_user(data.referent)
    else:
        referent_id = principal.user_id
    organisation_id = (
        await accounts.organisation_id(_clean(data.referring_organisation))
        if data.referring_organisation
        else principal.organisation_id
    )
    actor = Actor.of(principal)
    async with write_transaction():
        await _reference_free(data.programme, organisation_id, values.get("family_reference"))
        (code,) = await mint(CodeType.HOUSEHOLD, 1)
        rows = await Household.insert(
            Household(
                code=code.compact,
                programme=data.programme,
                qpv_code=qpv_code,
                referring_organisation=organisation_id,
                referent=referent_id,
                status=HouseholdStatus.CENSUS.value,
                version=1,
                waiting_since=values.pop("waiting_since", today),
                last_activity_at=utcnow(),
                **values,
            )
        ).returning(Household.id)
        await record_event(rows[0]["id"], "create", None, HouseholdStatus.CENSUS.value, actor)
    return await get_household(code.compact, principal)


async def update_household(code_text: str, patch: HouseholdPatch, principal: Principal) -> HouseholdOut:
    """Change needs-form fields; the history names the fields changed, never their values."""
    ref = await household_ref(code_text, principal)
    given = {
        name: value
        for name, value in patch.model_dump(exclude_unset=True).items()
        if value is not None or name in ("referent", "family_reference")  # null clears only these two
    }
    changes = _needs(given, datetime.date.today())
    if "qpv_code" in given:
        qpv_code = _clean(given["qpv_code"]).upper()
        if qpv_code not in await _programme_qpvs(ref.programme_id):
            raise BadInput(
                N_("The QPV {qpv} is not one of the programme's."), code="unknown_qpv", qpv=qpv_code[:20]
            )
        changes["qpv_code"] = qpv_code
    if "referent" in given:
        if principal.role not in HOUSEHOLD_MANAGERS:
            raise Forbidden(N_("Only a coordinator changes a household's referent."))
        changes["referent"] = await referent_user(given["referent"])
    if not changes:
        return await get_household(ref.code, principal)
    actor = Actor.of(principal)
    async with write_transaction():
        row = await Household.select().where(Household.id == ref.id).first()
        assert row is not None
        if "family_reference" in changes:
            await _reference_free(
                row["programme"], row["referring_organisation"], changes["family_reference"], ref.id
            )
        changed = sorted(name for name, value in changes.items() if stored(name, row[name]) != value)
        if changed:
            await Household.update(
                {**{name: changes[name] for name in changed}, "last_activity_at": utcnow()}
            ).where(Household.id == ref.id)
            await record_event(
                ref.id, "update", row["status"], row["status"], actor, payload={"changed": changed}
            )
    return await get_household(ref.code, principal)


def stored(name: str, value: Any) -> Any:
    """A column as the service writes it (JSON lists parsed, booleans as booleans)."""
    if name in ("children_birth_years", "requests"):
        return json_value(value, [])
    if name in ("has_printer", "has_internet", "training_accepted", "social_hotel"):
        return bool(value)
    return value


async def change_status(
    code_text: str,
    target: str,
    reason: str,
    principal: Principal,
    *,
    version: int | None = None,
) -> HouseholdOut:
    """Move a household to `target`: compare-and-set on its version and one history line, together.

    The same status again is a no-op (a double click); declining, withdrawing and
    stepping back need a reason.
    """
    ref = await household_ref(code_text, principal)
    if principal.role not in HOUSEHOLD_MANAGERS:
        raise Forbidden(N_("Only a coordinator changes a household's status."))
    try:
        status = HouseholdStatus(target)
    except ValueError:
        raise BadInput(
            N_("'{status}' is not a household status (known: {known})."),
            code="bad_status",
            status=str(target)[:20],
            known=", ".join(s.value for s in HouseholdStatus),
        ) from None
    reason = reason.strip()
    async with write_transaction():
        row = (
            await Household.select(Household.status, Household.version).where(Household.id == ref.id).first()
        )
        assert row is not None
        current, current_version = HouseholdStatus(row["status"]), row["version"]
        if version is not None and version != current_version:
            raise Conflict(
                N_("Household {ref} changed meanwhile (version {current}, not {version}): reload it."),
                code="household_changed",
                extra={"version": current_version},
                ref=parse_code(ref.code).display,
                current=current_version,
                version=version,
            )
        if status is current:
            return await get_household(ref.code, principal)
        if status not in TRANSITIONS[current]:
            raise InvalidTransition(
                N_("A household cannot go from {source} to {target}."),
                code="invalid_household_transition",
                source=current,
                target=status,
            )
        if needs_reason(current, status) and not reason:
            raise BadInput(
                N_("Going from {source} to {target} needs a reason."),
                code="reason_required",
                source=current,
                target=status,
            )
        changes: dict[Any, Any] = {
            Household.status: status.value,
            Household.version: current_version + 1,
            Household.last_activity_at: utcnow(),
        }
        if status in (HouseholdStatus.DECLINED, HouseholdStatus.WITHDRAWN):
            changes[Household.status_reason] = reason
        elif current in (HouseholdStatus.DECLINED, HouseholdStatus.WITHDRAWN):
            changes[Household.status_reason] = ""
        moved = (
            await Household.update(changes)
            .where((Household.id == ref.id) & (Household.version == current_version))
            .returning(Household.id)
        )
        if not moved:
            raise Conflict(
                N_("Household {ref} changed meanwhile: reload it."),
                code="household_changed",
                ref=parse_code(ref.code).display,
            )
        await record_event(ref.id, "status", current.value, status.value, Actor.of(principal), reason=reason)
    return await get_household(ref.code, principal)


# --- households: reading -----------------------------------------------------


async def get_household(code_text: str, principal: Principal) -> HouseholdOut:
    """A household with its history; NotFound for whoever may not see it. Never its personal data."""
    ref = await household_ref(code_text, principal)
    return await _household_out(ref.id)


async def _household_out(household_id: int) -> HouseholdOut:
    row = await Household.select().where(Household.id == household_id).first()
    assert row is not None
    programme = await Programme.select(Programme.name).where(Programme.id == row["programme"]).first()
    organisations = await accounts.organisation_names([row["referring_organisation"]])
    referents = await accounts.user_names([row["referent"]] if row["referent"] else [])
    events = (
        await HouseholdEvent.select()
        .where(HouseholdEvent.household == household_id)
        .order_by(HouseholdEvent.id)
    )
    has_person = await HouseholdPerson.exists().where(HouseholdPerson.household == household_id)
    code = parse_code(row["code"])
    return HouseholdOut(
        code=code.compact,
        display_code=code.display,
        programme=row["programme"],
        programme_name=programme["name"] if programme else "",
        qpv_code=row["qpv_code"],
        school=row["school"],
        referring_organisation=organisations.get(row["referring_organisation"], ""),
        referent=referents.get(row["referent"]) if row["referent"] else None,
        family_reference=row["family_reference"],
        adults=row["adults"],
        children_birth_years=json_value(row["children_birth_years"], []),
        computers=row["computers"],
        has_printer=bool(row["has_printer"]),
        has_internet=bool(row["has_internet"]),
        can_pay_rent=row["can_pay_rent"],
        can_install=row["can_install"],
        can_use=row["can_use"],
        training_accepted=bool(row["training_accepted"]),
        requests=json_value(row["requests"], []),
        social_hotel=bool(row["social_hotel"]),
        status=row["status"],
        status_reason=row["status_reason"],
        version=row["version"],
        waiting_since=row["waiting_since"],
        last_activity_at=as_utc(row["last_activity_at"]),
        purged=row["purged_at"] is not None,
        has_personal_data=has_person,
        history=[
            HouseholdEventOut(
                at=as_utc(e["created_at"]),
                action=e["action"],
                from_status=e["from_status"],
                to_status=e["to_status"],
                reason=e["reason"],
                payload=json_value(e["payload"], {}),
                actor=e["actor_name"],
                redacted=bool(e["redacted"]),
            )
            for e in events
        ],
    )


def _status_filter(status: str) -> HouseholdStatus:
    try:
        return HouseholdStatus(status)
    except ValueError:
        raise BadInput(
            N_("'{status}' is not a household status (known: {known})."),
            code="bad_status",
            status=status[:20],
            known=", ".join(s.value for s in HouseholdStatus),
        ) from None


def household_filters(
    principal: Principal,
    *,
    programme: int | None = None,
    status: str | None = None,
    qpv: str | None = None,
    school: str | None = None,
) -> list[Any]:
    """The conditions of a household list; an unknown status is refused, not an empty list."""
    if principal.role in NO_PERSONAL_DATA:
        raise Forbidden(N_("A {role} may not list households."), role=principal.role)
    conditions = []
    if principal.role not in HOUSEHOLD_MANAGERS:
        conditions.append(Household.referent == principal.user_id)
    if programme is not None:
        conditions.append(Household.programme == programme)
    if status:
        conditions.append(Household.status == _status_filter(status).value)
    if qpv:
        conditions.append(Household.qpv_code == qpv.strip().upper())
    if school:
        conditions.append(Household.school == _clean(school))
    return conditions


#: The columns of a household in a list.
SUMMARY_COLUMNS = (
    Household.code,
    Household.programme,
    Household.qpv_code,
    Household.school,
    Household.status,
    Household.adults,
    Household.children_birth_years,
    Household.requests,
    Household.waiting_since,
)


def summary_of(row: Mapping[str, Any], priority: int | None = None) -> HouseholdSummary:
    """A household row (SUMMARY_COLUMNS) as a list shows it."""
    code = parse_code(row["code"])
    return HouseholdSummary(
        code=code.compact,
        display_code=code.display,
        programme=row["programme"],
        qpv_code=row["qpv_code"],
        school=row["school"],
        status=row["status"],
        adults=row["adults"],
        children=len(json_value(row["children_birth_years"], [])),
        requests=json_value(row["requests"], []),
        waiting_since=row["waiting_since"],
        priority=priority,
    )


async def list_households(
    principal: Principal,
    *,
    programme: int | None = None,
    status: str | None = None,
    qpv: str | None = None,
    school: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[HouseholdSummary]:
    """Households by code, filtered; pseudonymous, whoever asks. A referent lists only theirs."""
    conditions = household_filters(principal, programme=programme, status=status, qpv=qpv, school=school)
    query = Household.select(*SUMMARY_COLUMNS)
    for condition in conditions:
        query = query.where(condition)
    rows = await query.order_by(Household.code).limit(max(1, min(limit, LIST_LIMIT))).offset(max(0, offset))
    return [summary_of(row) for row in rows]


async def schools(programme: int | None = None) -> list[str]:
    """The schools households name, for the list's filter."""
    query = Household.select(Household.school).where(Household.school != "").distinct()
    if programme is not None:
        query = query.where(Household.programme == programme)
    return sorted({r["school"] for r in await query})


# --- personal data -----------------------------------------------------------


def no_personal_data(code_text: str) -> NotFound:
    """The answer when a household has no personal data recorded (to a reader allowed to see it)."""
    return NotFound(
        N_("No personal data is recorded for household {ref}."),
        code="no_personal_data",
        ref=parse_code(code_text, expected=CodeType.HOUSEHOLD).display,
    )


async def _personal_ref(code_text: str, principal: Principal) -> HouseholdRef:
    """The household, when `principal` may read its personal data; NotFound otherwise."""
    ref = await household_ref(code_text, principal)
    if not await may_read_personal_data(principal, ref):
        raise _not_found(parse_code(ref.code).display)
    return ref


async def _person(ref: HouseholdRef) -> PersonalDataOut | None:
    row = await HouseholdPerson.select().where(HouseholdPerson.household == ref.id).first()
    if row is None:
        return None
    return PersonalDataOut(
        household=ref.code,
        last_name=row["last_name"],
        first_name=row["first_name"],
        phone=row["phone"],
        email=row["email"],
        postal_address=row["postal_address"],
        legal_basis=row["legal_basis"],
        notice_version=row["notice_version"],
        notice_given_on=row["notice_given_on"],
        updated_at=as_utc(row["updated_at"]),
    )


async def _log_access(ref: HouseholdRef, principal: Principal, purpose: str, route: str) -> None:
    actor = Actor.of(principal)
    async with write_transaction():
        await PersonalDataAccess.insert(
            PersonalDataAccess(
                household=ref.id,
                user=actor.user_id,
                actor_name=actor.name,
                purpose=purpose,
                route=route[:200],
            )
        )


async def read_personal_data(
    code_text: str, principal: Principal, *, purpose: str, route: str = ""
) -> PersonalDataOut | None:
    """A household's personal data (None when none is recorded), and a line in the access log.

    NotFound for whoever may not read it, exactly as for a household that does not exist.
    """
    ref = await _personal_ref(code_text, principal)
    await _log_access(ref, principal, purpose, route)
    return await _person(ref)


async def set_personal_data(code_text: str, data: PersonalDataIn, principal: Principal) -> PersonalDataOut:
    """Record or replace a household's personal data, with its legal basis and notice version."""
    ref = await _personal_ref(code_text, principal)
    try:
        basis = LegalBasis(data.legal_basis)
    except ValueError:
        raise BadInput(
            N_("'{basis}' is not a legal basis (known: public_interest, consent)."),
            code="bad_legal_basis",
            basis=data.legal_basis[:20],
        ) from None
    notice = data.notice_version.strip()
    if not notice:
        raise BadInput(N_("Say which version of the information notice was given."), code="notice_required")
    if data.notice_given_on > datetime.date.today():
        raise BadInput(N_("The information notice cannot be given in the future."), code="bad_notice_date")
    values = {
        "last_name": _clean(data.last_name),
        "first_name": _clean(data.first_name),
        "phone": _clean(data.phone),
        "email": data.email.strip(),
        "postal_address": data.postal_address.strip(),
        "legal_basis": basis.value,
        "notice_version": notice,
        "notice_given_on": data.notice_given_on,
    }
    actor = Actor.of(principal)
    async with write_transaction():
        existing = await HouseholdPerson.select().where(HouseholdPerson.household == ref.id).first()
        if existing is None:
            await HouseholdPerson.insert(HouseholdPerson(household=ref.id, **values))
            changed = sorted(values)
        else:
            changed = sorted(name for name, value in values.items() if existing[name] != value)
            if changed:
                await HouseholdPerson.update(values).where(HouseholdPerson.household == ref.id)
        if changed:
            await Household.update({Household.last_activity_at: utcnow()}).where(Household.id == ref.id)
            await record_event(
                ref.id,
                "personal_data",
                ref.status.value,
                ref.status.value,
                actor,
                payload={"changed": changed},
            )
    person = await _person(ref)
    assert person is not None
    return person


async def access_export(
    code_text: str, principal: Principal, *, purpose: str, route: str = ""
) -> AccessExport:
    """Everything held on a household, for its right-of-access request; the export is itself logged."""
    ref = await _personal_ref(code_text, principal)
    await _log_access(ref, principal, purpose, route)
    accesses = (
        await PersonalDataAccess.select(
            PersonalDataAccess.created_at, PersonalDataAccess.actor_name, PersonalDataAccess.purpose
        )
        .where(PersonalDataAccess.household == ref.id)
        .order_by(PersonalDataAccess.id)
    )
    return AccessExport(
        generated_at=utcnow(),
        household=await _household_out(ref.id),
        personal_data=await _person(ref),
        accesses=[
            AccessOut(at=as_utc(a["created_at"]), by=a["actor_name"], purpose=a["purpose"]) for a in accesses
        ],
    )


# --- purge -------------------------------------------------------------------


def _purgeable(cutoff: datetime.datetime) -> Any:
    return (Household.last_activity_at < cutoff) & (
        Household.purged_at.is_null() | (Household.purged_at < Household.last_activity_at)
    )


async def purge_candidates(cutoff: datetime.datetime) -> int:
    """How many households a purge with this cutoff would erase."""
    return await Household.count().where(_purgeable(cutoff))


async def purge(
    cutoff: datetime.datetime, actor: Actor, *, dry_run: bool = False, via: str = "cli"
) -> PurgeOut:
    """Erase the personal data of households with no activity since `cutoff`; keep what is pseudonymous.

    Deletes their `HouseholdPerson` rows, blanks the free text that could name or
    describe a family (decline/withdrawal reasons, history reasons, the
    referent's family reference, a hand-over's signature or typed name — its
    SHA-256 stays, the proof that something was signed), and writes one `PurgeAudit` line that says who
    purged how many households with which cutoff — never the data.
    """
    if dry_run:
        return PurgeOut(households=await purge_candidates(cutoff), cutoff=cutoff, dry_run=True)
    now = utcnow()
    async with write_transaction():
        rows = await Household.select(Household.id).where(_purgeable(cutoff))
        ids = [r["id"] for r in rows]
        for part in chunked(ids):
            await HouseholdPerson.delete().where(HouseholdPerson.household.is_in(part))
            await Handover.update({Handover.signature: None, Handover.typed_name: ""}).where(
                Handover.household.is_in(part)
            )
            await Household.update(
                {Household.status_reason: "", Household.family_reference: None, Household.purged_at: now}
            ).where(Household.id.is_in(part))
            marks = ", ".join("{}" for _ in part)
            await HouseholdEvent.raw(
                f"UPDATE household_event SET reason = '', redacted = {{}} "  # noqa: S608 - placeholders only
                f"WHERE household IN ({marks}) AND reason <> '' AND NOT redacted",
                True,
                *part,
            )
        await PurgeAudit.insert(
            PurgeAudit(user=actor.user_id, actor_name=actor.name, cutoff=cutoff, households=len(ids), via=via)
        )
    return PurgeOut(households=len(ids), cutoff=cutoff, dry_run=False)


# --- the spine ---------------------------------------------------------------


async def _resolve(code: Code, principal: Principal) -> ThingOut:
    """A scanned or searched F code: the household's page, pseudonymous; 404 to whoever may not see it."""
    ref = await household_ref(code.compact, principal)
    row = await Household.select(Household.qpv_code).where(Household.id == ref.id).first()
    return ThingOut(
        type="household",
        code=code.compact,
        display_code=code.display,
        title=code.display,
        state=ref.status.value,
        url=f"/households/{code.compact}",
        details={"programme": ref.programme_id, "qpv": row["qpv_code"] if row else ""},
    )


def register() -> None:
    """What an F code means to the stations and the code search."""
    stations.register_resolver(CodeType.HOUSEHOLD, _resolve)
