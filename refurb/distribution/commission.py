"""The allocation commission (issue 17, point 6): sessions, the agenda, decisions and their allocations.

The agenda asks `rules` the same two questions everywhere (what to propose, in
which order) at the session's date. A decision is written once (`Decision` is
append-only on both engines) with the proposal as it stood, the rule-set version
it used and the lines decided; an approval moves the household to `approved`
(compare-and-set on its version, one history line) and turns each unit of each
line into an `Allocation` to match, all in one transaction.
"""

from __future__ import annotations

import datetime
import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from refurb.core.codes import parse_code
from refurb.core.errors import BadInput, Conflict, InvalidTransition, NotFound
from refurb.core.i18n import N_
from refurb.core.kinds import DeviceKind
from refurb.core.principal import Principal
from refurb.db import insert_many, json_value, write_transaction
from refurb.distribution import rules
from refurb.distribution.model import AllocationStatus, AttributionMode, DecisionKind, HouseholdStatus
from refurb.distribution.schemas import (
    AgendaItem,
    AgendaOut,
    DecisionIn,
    DecisionOut,
    HouseholdSummary,
    LineIn,
    LineOut,
    SessionIn,
    SessionOut,
)
from refurb.distribution.service import (
    LIST_LIMIT,
    SUMMARY_COLUMNS,
    Actor,
    household_filters,
    household_ref,
    record_event,
    summary_of,
)
from refurb.distribution.tables import CommissionSession, Decision, Household, Programme
from refurb.timestamps import as_utc, utcnow

__all__ = (
    "AGENDA_PAGE",
    "CoordinatorWork",
    "MinutesEntry",
    "agenda",
    "close_session",
    "coordinator_work",
    "create_session",
    "decide",
    "decisions",
    "get_session",
    "household_decisions",
    "list_sessions",
    "minutes",
    "needs_of",
    "rule_set",
)

AGENDA_PAGE = 50
MAX_AGENDA_PAGE = 500
MAX_MEMBERS = 40
MAX_UNITS = 10  # units of one line: beyond, a typo
_NEEDS_COLUMNS = (
    Household.id,
    Household.code,
    Household.qpv_code,
    Household.adults,
    Household.children_birth_years,
    Household.computers,
    Household.has_printer,
    Household.has_internet,
    Household.requests,
    Household.social_hotel,
    Household.waiting_since,
    Household.can_pay_rent,
    Household.can_install,
    Household.can_use,
)
_ABILITY = {"yes": True, "no": False}
_REQUESTS = {request.value: request for request in rules.Request}


def _session_not_found(session_id: int) -> NotFound:
    return NotFound(N_("No commission session #{id} is known."), code="not_found", id=session_id)


def rule_set(row: Mapping[str, Any]) -> rules.RuleSet:
    """A programme row's rule set, carrying the programme's rule-set version."""
    return rules.RuleSet.from_json({**json_value(row["rules"], {}), "version": row["rules_version"]})


def needs_of(row: Mapping[str, Any], reference: datetime.date) -> rules.HouseholdNeeds:
    """A household row as the rules read it, at the commission's date."""
    waiting = row["waiting_since"]
    return rules.HouseholdNeeds(
        code=row["code"],
        reference_date=reference,
        adults=row["adults"],
        children_birth_years=_births(row["children_birth_years"], reference.year),
        computers_at_home=row["computers"],
        printer_at_home=bool(row["has_printer"]),
        internet_at_home=bool(row["has_internet"]),
        requests=_requests(row["requests"]),
        social_hotel=bool(row["social_hotel"]),
        waiting_since=waiting if waiting is not None and waiting <= reference else None,
        can_pay_rent=_ABILITY.get(row["can_pay_rent"]),
        can_install=_ABILITY.get(row["can_install"]),
        can_use=_ABILITY.get(row["can_use"]),
    )


def _births(stored: Any, year: int) -> tuple[int, ...]:
    """The birth years of a row up to `year` (the form already bounds them; the date may not)."""
    if isinstance(stored, str):
        return _births_in_text(stored, year)
    return tuple(y for y in stored or () if y <= year and year - y <= rules.MAX_CHILD_AGE)


@functools.lru_cache(maxsize=8192)
def _births_in_text(text: str, year: int) -> tuple[int, ...]:
    # Parsed once per distinct value: families of an agenda share a few thousand compositions.
    return _births(json.loads(text), year)


def _requests(stored: Any) -> frozenset[rules.Request]:
    if isinstance(stored, str):
        return _requests_in_text(stored)
    return frozenset(_REQUESTS.get(r) or rules.Request(r) for r in stored or ())


@functools.lru_cache(maxsize=1024)
def _requests_in_text(text: str) -> frozenset[rules.Request]:
    return _requests(json.loads(text))


# --- sessions ----------------------------------------------------------------


def _session_out(row: Mapping[str, Any], programme_name: str, decided: int) -> SessionOut:
    return SessionOut(
        id=row["id"],
        programme=row["programme"],
        programme_name=programme_name,
        held_on=row["held_on"],
        members=json_value(row["members"], []),
        status=row["status"],
        closed_at=as_utc(row["closed_at"]) if row["closed_at"] else None,
        decisions=decided,
    )


async def create_session(data: SessionIn, actor: Actor) -> SessionOut:
    """A new open session of a programme's commission, with the members present."""
    members = [" ".join(m.split()) for m in data.members]
    members = [m for m in members if m]
    if not members:
        raise BadInput(N_("Name at least one member present."), code="members_required")
    if len(members) > MAX_MEMBERS:
        raise BadInput(N_("At most {limit} members."), code="too_many_members", limit=MAX_MEMBERS)
    if not await Programme.exists().where(Programme.id == data.programme):
        raise NotFound(N_("No programme #{id} is known."), id=data.programme)
    async with write_transaction():
        rows = await CommissionSession.insert(
            CommissionSession(
                programme=data.programme,
                held_on=data.held_on,
                members=members,
                status="open",
                created_by=actor.user_id,
            )
        ).returning(CommissionSession.id)
    return await get_session(rows[0]["id"])


async def _session_row(session_id: int) -> dict[str, Any]:
    row = await CommissionSession.select().where(CommissionSession.id == session_id).first()
    if row is None:
        raise _session_not_found(session_id)
    return row


async def get_session(session_id: int) -> SessionOut:
    """One session with its number of decisions."""
    row = await _session_row(session_id)
    programme = await Programme.select(Programme.name).where(Programme.id == row["programme"]).first()
    decided = await Decision.count().where(Decision.session == session_id)
    return _session_out(row, programme["name"] if programme else "", decided)


async def list_sessions(programme: int | None = None) -> list[SessionOut]:
    """Sessions, the latest date first."""
    query = CommissionSession.select()
    if programme is not None:
        query = query.where(CommissionSession.programme == programme)
    rows = await query.order_by(CommissionSession.held_on, ascending=False).order_by(
        CommissionSession.id, ascending=False
    )
    names = {r["id"]: r["name"] for r in await Programme.select(Programme.id, Programme.name)}
    return [_session_out(r, names.get(r["programme"], ""), 0) for r in rows]


async def close_session(session_id: int) -> SessionOut:
    """Close a session: no more decisions in it; closing twice is a no-op."""
    async with write_transaction():
        await CommissionSession.update(
            {CommissionSession.status: "closed", CommissionSession.closed_at: utcnow()}
        ).where((CommissionSession.id == session_id) & (CommissionSession.status == "open"))
    return await get_session(session_id)


# --- the agenda --------------------------------------------------------------


def _lines_out(lines: Sequence[Mapping[str, Any]], translate: Callable[[str], str]) -> list[LineOut]:
    out = []
    for line in lines:
        kind = DeviceKind(line["kind"])
        connection = rules.ConnectionKind(line["connection"]) if line.get("connection") else None
        shaped = rules.Line(
            kind,
            line["quantity"],
            tuple(rules.Reason.from_json(r) for r in line.get("reasons", [])),
            connection,
        )
        out.append(
            LineOut(
                kind=kind.value,
                quantity=line["quantity"],
                connection=connection.value if connection else None,
                label=shaped.render(translate),
                reasons=[r.render(translate) for r in shaped.reasons],
            )
        )
    return out


async def agenda(
    session_id: int,
    translate: Callable[[str], str],
    *,
    offset: int = 0,
    limit: int = AGENDA_PAGE,
) -> AgendaOut:
    """The eligible households of the session's programme by priority, each with its proposal and reasons.

    Ordered on all of them (`rules.order`), rendered for one page only.
    """
    session = await _session_row(session_id)
    programme = (
        await Programme.select(Programme.rules, Programme.rules_version)
        .where(Programme.id == session["programme"])
        .first()
    )
    assert programme is not None
    ruleset = rule_set(programme)
    reference = session["held_on"]
    rows = await Household.select(*_NEEDS_COLUMNS).where(
        (Household.programme == session["programme"]) & (Household.status == HouseholdStatus.ELIGIBLE.value)
    )
    by_code = {row["code"]: row for row in rows}
    ranked = rules.order((needs_of(row, reference) for row in rows), ruleset)
    page = ranked[max(0, offset) : max(0, offset) + max(1, min(limit, MAX_AGENDA_PAGE))]
    deferred = await _deferred_here(session_id, [by_code[r.needs.code]["id"] for r in page])
    items = []
    for ranked_item in page:
        needs = ranked_item.needs
        row = by_code[needs.code]
        proposal = rules.propose(needs, ruleset)
        code = parse_code(needs.code)
        items.append(
            AgendaItem(
                position=ranked_item.position,
                code=code.compact,
                display_code=code.display,
                qpv_code=row["qpv_code"],
                adults=needs.adults,
                children_ages=sorted((reference.year - y for y in needs.children_birth_years), reverse=True),
                score=ranked_item.priority.score,
                priority_reasons=[
                    f"{r.render(translate)} (+{r.points})" for r in ranked_item.priority.reasons
                ],
                lines=_lines_out([line.to_json() for line in proposal.lines], translate),
                notes=[n.render(translate) for n in proposal.notes],
                deferred=row["id"] in deferred,
            )
        )
    return AgendaOut(
        session=await get_session(session_id),
        rule_set_version=ruleset.version,
        total=len(ranked),
        offset=offset,
        items=items,
    )


async def _deferred_here(session_id: int, household_ids: Sequence[int]) -> set[int]:
    if not household_ids:
        return set()
    rows = await Decision.select(Decision.household).where(
        (Decision.session == session_id)
        & (Decision.kind == DecisionKind.DEFER.value)
        & Decision.household.is_in(list(household_ids))
    )
    return {r["household"] for r in rows}


# --- decisions ---------------------------------------------------------------

#: Said in the reader's language: a decision's name in English inside a French sentence read badly.
_REASON_NEEDED = {
    DecisionKind.MODIFY: N_("Say why the commission modifies the proposal."),
    DecisionKind.DEFER: N_("Say why the commission defers this household."),
    DecisionKind.REJECT: N_("Say why the commission rejects this household."),
}


def _decided_lines(data: DecisionIn, proposal: rules.Proposal, reason: str) -> list[dict[str, Any]]:
    """The lines a decision gives: the proposal's, or the coordinator's own (with the reason written on)."""
    if data.kind != DecisionKind.MODIFY.value:
        return [line.to_json() for line in proposal.lines]
    if not data.lines:
        raise BadInput(
            N_("A modified decision lists the equipment it gives."),
            code="lines_required",
            extra={"field": "lines"},
        )
    out = []
    why = rules.Reason("commission", N_("decided by the commission: {reason}"), {"reason": reason})
    for line in data.lines:
        out.append(_line(line, why))
    return out


def _line(line: LineIn, why: rules.Reason) -> dict[str, Any]:
    try:
        kind = DeviceKind(line.kind)
    except ValueError:
        raise BadInput(
            N_("'{kind}' is not a kind of device (known: {known})."),
            code="bad_kind",
            kind=line.kind[:20],
            known=", ".join(k.value for k in DeviceKind),
        ) from None
    if not 1 <= line.quantity <= MAX_UNITS:
        raise BadInput(
            N_("A line gives 1 to {limit} units."),
            code="bad_quantity",
            extra={"field": "lines"},
            limit=MAX_UNITS,
        )
    connection = None
    if line.connection:
        try:
            connection = rules.ConnectionKind(line.connection)
        except ValueError:
            raise BadInput(
                N_("'{value}' is not a kind of connection (known: 4g_key, box)."),
                code="bad_connection",
                value=line.connection[:20],
            ) from None
    if kind is DeviceKind.CONNECTIVITY and connection is None:
        connection = rules.ConnectionKind.KEY_4G
    return rules.Line(
        kind, line.quantity, (why,), connection if kind is DeviceKind.CONNECTIVITY else None
    ).to_json()


def _mode(requested: str | None, allowed: Sequence[str]) -> str:
    if requested is None:
        return allowed[0] if allowed else AttributionMode.DONATION.value
    if requested not in allowed:
        raise BadInput(
            N_("The programme does not allow the mode '{mode}' (allowed: {known})."),
            code="bad_attribution_mode",
            mode=requested[:20],
            known=", ".join(allowed),
        )
    return requested


async def decide(session_id: int, data: DecisionIn, principal: Principal) -> DecisionOut:
    """Record the commission's decision on an eligible household and apply it, all at once or nothing.

    approve / modify → `approved` and one allocation per unit decided; defer →
    stays eligible; reject → `declined` with the reason. Modify, defer and reject
    need a reason; an exception to the one-computer rule needs its own.
    """
    try:
        kind = DecisionKind(data.kind)
    except ValueError:
        raise BadInput(
            N_("'{kind}' is not a decision (known: approve, modify, defer, reject)."),
            code="bad_decision",
            kind=str(data.kind)[:20],
        ) from None
    reason = " ".join(data.reason.split())
    if kind is not DecisionKind.APPROVE and not reason:
        raise BadInput(_REASON_NEEDED[kind], code="reason_required", extra={"field": "reason"})
    exception = None
    if data.exception is not None:
        exception = rules.CommissionException(data.exception.computers, data.exception.reason)
    ref = await household_ref(data.household, principal)
    actor = Actor.of(principal)
    async with write_transaction():
        session = await _session_row(session_id)
        if session["status"] != "open":
            raise Conflict(N_("This commission session is closed."), code="session_closed")
        if ref.programme_id != session["programme"]:
            raise BadInput(
                N_("Household {ref} is not in this session's programme."),
                code="other_programme",
                ref=parse_code(ref.code).display,
            )
        row = (
            await Household.select(*_NEEDS_COLUMNS, Household.status, Household.version)
            .where(Household.id == ref.id)
            .first()
        )
        assert row is not None
        if row["status"] != HouseholdStatus.ELIGIBLE.value:
            raise InvalidTransition(
                N_("Household {ref} is {status}: the commission decides only on eligible households."),
                code="not_eligible",
                ref=parse_code(ref.code).display,
                status=HouseholdStatus(row["status"]),
            )
        programme = (
            await Programme.select(Programme.rules, Programme.rules_version, Programme.modes)
            .where(Programme.id == session["programme"])
            .first()
        )
        assert programme is not None
        ruleset = rule_set(programme)
        needs = needs_of(row, session["held_on"])
        proposal = rules.propose(needs, ruleset)
        decided = rules.propose(needs, ruleset, exception) if exception is not None else proposal
        lines = (
            _decided_lines(data, decided, reason)
            if kind in (DecisionKind.APPROVE, DecisionKind.MODIFY)
            else []
        )
        approving = kind in (DecisionKind.APPROVE, DecisionKind.MODIFY)
        if approving and not lines:
            raise BadInput(
                N_("The rules propose nothing for household {ref}: modify the decision to give equipment."),
                code="nothing_to_approve",
                ref=parse_code(ref.code).display,
            )
        mode = _mode(data.mode, json_value(programme["modes"], [])) if approving else None
        inserted = await Decision.insert(
            Decision(
                session=session_id,
                household=ref.id,
                kind=kind.value,
                reason=reason,
                proposal=proposal.to_json(),
                lines=lines,
                exception=None
                if exception is None
                else {"computers": exception.computers, "reason": exception.reason},
                rule_set_version=ruleset.version,
                mode=mode,
                actor=actor.user_id,
                actor_name=actor.name,
            )
        ).returning(Decision.id)
        decision_id = inserted[0]["id"]
        target = {
            DecisionKind.APPROVE: HouseholdStatus.APPROVED,
            DecisionKind.MODIFY: HouseholdStatus.APPROVED,
            DecisionKind.REJECT: HouseholdStatus.DECLINED,
        }.get(kind)
        if target is not None:
            changes: dict[Any, Any] = {
                Household.status: target.value,
                Household.version: row["version"] + 1,
                Household.last_activity_at: utcnow(),
            }
            if target is HouseholdStatus.DECLINED:
                changes[Household.status_reason] = reason
            moved = (
                await Household.update(changes)
                .where((Household.id == ref.id) & (Household.version == row["version"]))
                .returning(Household.id)
            )
            if not moved:
                raise Conflict(
                    N_("Household {ref} changed meanwhile: reload it."),
                    code="household_changed",
                    ref=parse_code(ref.code).display,
                )
            await record_event(
                ref.id,
                "status",
                HouseholdStatus.ELIGIBLE.value,
                target.value,
                actor,
                reason=reason,
                payload={"decision": decision_id, "session": session_id},
            )
        if approving:
            now = utcnow()
            values = [
                (ref.id, session["programme"], decision_id, line["kind"], line.get("connection"), mode,
                 AllocationStatus.TO_MATCH.value, now, now)
                for line in lines
                for _ in range(line["quantity"])
            ]  # fmt: skip
            await insert_many(
                "allocation",
                (
                    "household", "programme", "decision", "kind", "connection", "mode", "status",
                    "created_at", "updated_at",
                ),
                values,
            )  # fmt: skip
    return (await _decision_outs([await Decision.select().where(Decision.id == decision_id).first()]))[0]


async def _decision_outs(rows: Sequence[Mapping[str, Any] | None]) -> list[DecisionOut]:
    found = [r for r in rows if r is not None]
    ids = sorted({r["household"] for r in found})
    codes = (
        {
            r["id"]: r["code"]
            for r in await Household.select(Household.id, Household.code).where(Household.id.is_in(ids))
        }
        if ids
        else {}
    )
    out = []
    for r in found:
        code = parse_code(codes[r["household"]])
        out.append(
            DecisionOut(
                id=r["id"],
                session=r["session"],
                household=code.compact,
                display_code=code.display,
                kind=r["kind"],
                reason=r["reason"],
                proposal=json_value(r["proposal"], {}),
                lines=json_value(r["lines"], []),
                exception=json_value(r["exception"], None),
                rule_set_version=r["rule_set_version"],
                mode=r["mode"],
                actor=r["actor_name"],
                at=as_utc(r["created_at"]),
            )
        )
    return out


async def decisions(session_id: int) -> list[DecisionOut]:
    """The decisions of a session in the order they were taken."""
    await _session_row(session_id)
    rows = await Decision.select().where(Decision.session == session_id).order_by(Decision.id)
    return await _decision_outs(rows)


@dataclass(frozen=True, slots=True)
class HouseholdProposal:
    """What the programme's current rules propose for one household, and its priority, in words."""

    rule_set_version: int
    score: int
    priority_reasons: list[str]
    lines: list[LineOut]
    notes: list[str]


async def household_proposal(
    household_id: int, translate: Callable[[str], str], today: datetime.date
) -> HouseholdProposal:
    """The proposal and priority the agenda would show for this household today."""
    columns = (*_NEEDS_COLUMNS, Household.programme)
    row = await Household.select(*columns).where(Household.id == household_id).first()
    assert row is not None  # the caller found the household
    programme = (
        await Programme.select(Programme.rules, Programme.rules_version)
        .where(Programme.id == row["programme"])
        .first()
    )
    assert programme is not None
    ruleset = rule_set(programme)
    needs = needs_of(row, today)
    proposal = rules.propose(needs, ruleset)
    priority = rules.priority(needs, ruleset)
    return HouseholdProposal(
        rule_set_version=ruleset.version,
        score=priority.score,
        priority_reasons=[f"{r.render(translate)} (+{r.points})" for r in priority.reasons],
        lines=_lines_out([line.to_json() for line in proposal.lines], translate),
        notes=[n.render(translate) for n in proposal.notes],
    )


async def households_by_priority(
    principal: Principal,
    today: datetime.date,
    *,
    programme: int | None = None,
    status: str | None = None,
    qpv: str | None = None,
    school: str | None = None,
    priority_min: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[HouseholdSummary]:
    """The households of a list, highest priority first (the agenda's order), each with its score.

    Every household that passes the filters is scored under its programme's rules, then
    one page is cut: the order is right however many households there are.
    """
    conditions = household_filters(principal, programme=programme, status=status, qpv=qpv, school=school)
    columns = {c._meta.name: c for c in (*SUMMARY_COLUMNS, *_NEEDS_COLUMNS)}.values()
    query = Household.select(*columns)
    for condition in conditions:
        query = query.where(condition)
    rows = await query
    programmes = {row["programme"] for row in rows}
    rulesets = {
        p["id"]: rule_set(p)
        for p in await Programme.select(Programme.id, Programme.rules, Programme.rules_version).where(
            Programme.id.is_in(sorted(programmes) or [0])
        )
    }
    scored = []
    for row in rows:
        needs = needs_of(row, today)
        score = rules.priority(needs, rulesets[row["programme"]]).score
        if priority_min is None or score >= priority_min:
            scored.append((rules.priority_key(needs, score), row, score))
    scored.sort(key=lambda item: item[0])
    page = scored[max(0, offset) : max(0, offset) + max(1, min(limit, LIST_LIMIT))]
    return [summary_of(row, score) for _, row, score in page]


async def household_decisions(household_id: int) -> list[DecisionOut]:
    """Every decision on one household, oldest first."""
    rows = await Decision.select().where(Decision.household == household_id).order_by(Decision.id)
    return await _decision_outs(rows)


# --- the minutes -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MinutesEntry:
    """One decision as the minutes print it: pseudonymous."""

    display_code: str
    qpv_code: str
    adults: int
    children_ages: list[int]
    kind: DecisionKind
    lines: list[LineOut]
    reason: str
    rule_set_version: int


async def minutes(session_id: int, translate: Callable[[str], str]) -> tuple[SessionOut, list[MinutesEntry]]:
    """What the minutes of a session hold: F codes, QPV, composition, the decision; never a name."""
    session = await get_session(session_id)
    rows = await Decision.select().where(Decision.session == session_id).order_by(Decision.id)
    ids = sorted({r["household"] for r in rows})
    households = (
        {
            h["id"]: h
            for h in await Household.select(
                Household.id,
                Household.code,
                Household.qpv_code,
                Household.adults,
                Household.children_birth_years,
            ).where(Household.id.is_in(ids))
        }
        if ids
        else {}
    )
    year = session.held_on.year
    entries = []
    for r in rows:
        h = households[r["household"]]
        entries.append(
            MinutesEntry(
                display_code=parse_code(h["code"]).display,
                qpv_code=h["qpv_code"],
                adults=h["adults"],
                children_ages=sorted(
                    (year - y for y in json_value(h["children_birth_years"], [])), reverse=True
                ),
                kind=DecisionKind(r["kind"]),
                lines=_lines_out(json_value(r["lines"], []), translate),
                reason=r["reason"],
                rule_set_version=r["rule_set_version"],
            )
        )
    return session, entries


# --- what waits for a coordinator ---------------------------------------------


@dataclass(frozen=True, slots=True)
class CoordinatorWork:
    """Counts and the next few things for the coordinator's start page."""

    to_review: int  # households in census: needs to check before they are eligible
    eligible: int  # waiting for the commission
    next_session: SessionOut | None
    review_codes: list[str]


async def coordinator_work(today: datetime.date, shown: int = 5) -> CoordinatorWork:
    """Households to review, the next open commission session (today or later)."""
    to_review = await Household.count().where(Household.status == HouseholdStatus.CENSUS.value)
    eligible = await Household.count().where(Household.status == HouseholdStatus.ELIGIBLE.value)
    codes = (
        await Household.select(Household.code)
        .where(Household.status == HouseholdStatus.CENSUS.value)
        .order_by(Household.waiting_since)
        .order_by(Household.code)
        .limit(shown)
    )
    row = (
        await CommissionSession.select(CommissionSession.id)
        .where((CommissionSession.status == "open") & (CommissionSession.held_on >= today))
        .order_by(CommissionSession.held_on)
        .first()
    )
    return CoordinatorWork(
        to_review=to_review,
        eligible=eligible,
        next_session=await get_session(row["id"]) if row else None,
        review_codes=[r["code"] for r in codes],
    )
