"""Matching approved allocations to devices in stock (issue 17, point 7), and the shortage.

A device is reserved only through the devices service (`reserve`, the allocation
id as evidence in the payload). This area answers the spine's
`allocation_approved` check and follows `reserve` / `release` with an effect
that moves the allocation by compare-and-set on its status, in the device's own
transaction: whoever reserves — a coordinator here, two at once, or a program
through the devices API — one device never serves two allocations and one
allocation never gets two devices; the loser's transaction is rolled back whole.

"Match all" reserves many devices in one transaction (`devices.transition_each`,
each device with its own allocation as evidence, its own event): the bulk form of
the check locks the allocations it judges, so two coordinators matching at once
never both take one; a device or an allocation someone else took meanwhile is
left out of that transaction and the next round pairs what is left.

A device is suitable for an allocation when it is of the right kind, of the
programme's minimum grade or better, and — for a kind that runs an OS — when its
recorded OS is one the programme's rule set accepts (`RuleSet.os_suitable`): a
computer with no OS recorded is not suitable yet, and the shortage says how many
such devices wait in stock.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from refurb.core.codes import CodeType, parse_code
from refurb.core.errors import BadInput, Conflict, DomainError, GuardRefused, NotFound
from refurb.core.i18n import N_
from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import Action, Check, State
from refurb.core.principal import Principal
from refurb.db import chunked, fetch, is_sqlite, json_value
from refurb.devices import service as devices
from refurb.devices.service import CheckContext, register_check, register_effect
from refurb.distribution.model import AllocationStatus, HouseholdStatus
from refurb.distribution.rules import RuleSet
from refurb.distribution.schemas import AllocationOut, MatchOut, ShortageOut, StockDemandRow
from refurb.distribution.tables import Allocation, Programme
from refurb.stock import holdings
from refurb.timestamps import as_utc, utcnow
from refurb.workshop.checklists import Grade, needs_os

__all__ = (
    "allocation_of_device",
    "grades_at_least",
    "list_allocations",
    "match",
    "match_all",
    "register",
    "release",
    "shortage",
    "stock_demand",
)

_GRADES = [g.value for g in Grade]  # best first: A, B, C
#: Rounds of "match all": each one after the first only retries what someone else took meanwhile.
MAX_ROUNDS = 10


def grades_at_least(minimum: str | None) -> list[str] | None:
    """The grades at or above a programme's minimum (None: any device, graded or not)."""
    if not minimum:
        return None
    return _GRADES[: _GRADES.index(minimum) + 1]


def _allocation_id(payload: Mapping[str, Any], ref: str) -> int:
    value = payload.get("allocation")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise GuardRefused(
            N_("{ref}: say which approved allocation this is for (the allocation id in the payload)."),
            code="allocation_missing",
            ref=ref,
        )
    return value


_ALLOCATION_SQL = (
    "SELECT a.id, a.status, a.kind, a.device, h.status AS household_status "
    "FROM allocation a JOIN household h ON h.id = a.household WHERE a.id IN ({ids}) ORDER BY a.id"
)


async def _allocation_rows(ids: Sequence[int], *, lock: bool) -> dict[int, dict[str, Any]]:
    """What the check looks at, by allocation id; `lock` (PostgreSQL): held until the transaction ends."""
    found: dict[int, dict[str, Any]] = {}
    suffix = " FOR UPDATE OF a" if lock and not is_sqlite() else ""
    for chunk in chunked(sorted(set(ids))):
        sql = _ALLOCATION_SQL.format(ids=", ".join("{}" for _ in chunk)) + suffix
        found.update((row["id"], row) for row in await fetch(sql, *chunk))
    return found


def _judge(context: CheckContext, allocation_id: int, row: Mapping[str, Any] | None) -> DomainError | None:
    """Why `reserve` (or `release`) may not name this allocation for this device, or None."""
    ref = parse_code(context.device.code).display
    if row is None:
        return GuardRefused(
            N_("{ref}: no allocation #{id} is known."), code="allocation_missing", ref=ref, id=allocation_id
        )
    if context.transition.action is Action.RELEASE:
        if row["status"] != AllocationStatus.RESERVED.value or row["device"] != context.device.id:
            return GuardRefused(
                N_("{ref} is not the device reserved for allocation #{id}."),
                code="allocation_mismatch",
                ref=ref,
                id=allocation_id,
            )
        return None
    if row["household_status"] != HouseholdStatus.APPROVED.value:
        return GuardRefused(
            N_("{ref}: the household of allocation #{id} is not approved."),
            code="allocation_not_approved",
            ref=ref,
            id=allocation_id,
        )
    if row["status"] != AllocationStatus.TO_MATCH.value:
        return _taken(allocation_id)
    if row["kind"] != context.device.kind.value:
        return GuardRefused(
            N_("{ref} is a {kind}; allocation #{id} is for a {wanted}."),
            code="allocation_kind",
            ref=ref,
            id=allocation_id,
            kind=context.device.kind,
            wanted=DeviceKind(row["kind"]),
        )
    return None


def _taken(allocation_id: int) -> GuardRefused:
    return GuardRefused(
        N_("Allocation #{id} already has a device."), code="allocation_taken", id=allocation_id
    )


async def _allocation_approved(context: CheckContext) -> None:
    """The spine's `allocation_approved`: reserve for an allocation to match; release the one held."""
    allocation_id = _allocation_id(context.payload, parse_code(context.device.code).display)
    rows = await _allocation_rows([allocation_id], lock=False)
    refused = _judge(context, allocation_id, rows.get(allocation_id))
    if refused is not None:
        raise refused


async def _allocations_approved(contexts: Sequence[CheckContext]) -> dict[int, DomainError]:
    """The bulk form ("match all"): every allocation read, and locked, in a few queries.

    The lock keeps each allocation judged free until this transaction ends, so its
    `reserve` effect cannot find it taken; an allocation named twice is given once.
    """
    refused: dict[int, DomainError] = {}
    wanted: dict[int, int] = {}
    for context in contexts:
        try:
            wanted[context.device.id] = _allocation_id(
                context.payload, parse_code(context.device.code).display
            )
        except DomainError as error:
            refused[context.device.id] = error
    rows = await _allocation_rows(list(wanted.values()), lock=True)
    given: set[int] = set()
    for context in contexts:
        allocation_id = wanted.get(context.device.id)
        if allocation_id is None:
            continue
        error = _judge(context, allocation_id, rows.get(allocation_id))
        if error is None and context.transition.action is Action.RESERVE:
            error = _taken(allocation_id) if allocation_id in given else None
            given.add(allocation_id)
        if error is not None:
            refused[context.device.id] = error
    return refused


async def _reserved(context: CheckContext) -> None:
    """After `reserve`: the allocation takes the device, only if it still had none (compare-and-set)."""
    allocation_id = context.payload["allocation"]
    taken = (
        await Allocation.update(
            {
                Allocation.status: AllocationStatus.RESERVED.value,
                Allocation.device: context.device.id,
                Allocation.matched_at: utcnow(),
            }
        )
        .where((Allocation.id == allocation_id) & (Allocation.status == AllocationStatus.TO_MATCH.value))
        .returning(Allocation.id)
    )
    if not taken:
        raise Conflict(
            N_("Allocation #{id} already has a device."), code="allocation_taken", id=allocation_id
        )


async def _reserved_many(contexts: Sequence[CheckContext]) -> dict[int, dict[str, Any]]:
    """The bulk form of `_reserved`: every allocation takes its device in a few statements, or none does."""
    pairs = sorted((context.payload["allocation"], context.device.id) for context in contexts)
    now = utcnow()
    taken = 0
    for chunk in chunked(pairs, 400):
        if is_sqlite():
            values = ", ".join("({}, {})" for _ in chunk)
            rows = await fetch(
                "UPDATE allocation SET status = {}, device = v.column2, matched_at = {}, updated_at = {} "  # noqa: S608
                f"FROM (VALUES {values}) AS v WHERE allocation.id = v.column1 AND allocation.status = {{}} "
                "RETURNING allocation.id",
                AllocationStatus.RESERVED.value, now, now,
                *[value for pair in chunk for value in pair],
                AllocationStatus.TO_MATCH.value,
            )  # fmt: skip
        else:
            rows = await fetch(
                "UPDATE allocation AS a SET status = {}, device = v.device, matched_at = {}, updated_at = {} "
                "FROM unnest({}::integer[], {}::integer[]) AS v(id, device) "
                "WHERE a.id = v.id AND a.status = {} RETURNING a.id",
                AllocationStatus.RESERVED.value, now, now,
                [a for a, _ in chunk], [d for _, d in chunk],
                AllocationStatus.TO_MATCH.value,
            )  # fmt: skip
        taken += len(rows)
    if taken != len(pairs):
        raise Conflict(
            N_("An allocation was matched by someone else meanwhile: match again."), code="allocation_taken"
        )
    return {}


async def _released(context: CheckContext) -> None:
    """After `release`: the allocation is to match again."""
    allocation_id = context.payload["allocation"]
    freed = (
        await Allocation.update(
            {
                Allocation.status: AllocationStatus.TO_MATCH.value,
                Allocation.device: None,
                Allocation.matched_at: None,
            }
        )
        .where(
            (Allocation.id == allocation_id)
            & (Allocation.status == AllocationStatus.RESERVED.value)
            & (Allocation.device == context.device.id)
        )
        .returning(Allocation.id)
    )
    if not freed:
        raise Conflict(
            N_("Allocation #{id} changed meanwhile: reload it."), code="allocation_changed", id=allocation_id
        )


# --- reading -----------------------------------------------------------------


async def _outs(rows: Sequence[Mapping[str, Any]]) -> list[AllocationOut]:
    device_codes = await devices.codes_of("device", [r["device"] for r in rows])
    out = []
    for r in rows:
        code = parse_code(r["household.code"])
        out.append(
            AllocationOut(
                id=r["id"],
                household=code.compact,
                display_code=code.display,
                programme=r["programme"],
                decision=r["decision"],
                kind=r["kind"],
                connection=r["connection"],
                mode=r["mode"],
                status=r["status"],
                device=device_codes.get(r["device"]) if r["device"] else None,
                matched_at=as_utc(r["matched_at"]) if r["matched_at"] else None,
            )
        )
    return out


_COLUMNS = (
    Allocation.id,
    Allocation.household.code,
    Allocation.programme,
    Allocation.decision,
    Allocation.kind,
    Allocation.connection,
    Allocation.mode,
    Allocation.status,
    Allocation.device,
    Allocation.matched_at,
)


async def list_allocations(
    *,
    programme: int | None = None,
    status: str | None = None,
    household_id: int | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[AllocationOut]:
    """Allocations, oldest first, filtered."""
    query = Allocation.select(*_COLUMNS)
    if programme is not None:
        query = query.where(Allocation.programme == programme)
    if status:
        query = query.where(Allocation.status == status)
    if household_id is not None:
        query = query.where(Allocation.household == household_id)
    return await _outs(await query.order_by(Allocation.id).limit(limit).offset(offset))


async def _allocation(allocation_id: int) -> dict[str, Any]:
    row = await Allocation.select(*_COLUMNS).where(Allocation.id == allocation_id).first()
    if row is None:
        raise NotFound(N_("No allocation #{id} is known."), id=allocation_id)
    return row


async def allocation_of_device(device_id: int) -> AllocationOut | None:
    """The allocation a device is reserved for, if any."""
    row = (
        await Allocation.select(*_COLUMNS)
        .where((Allocation.device == device_id) & (Allocation.status == AllocationStatus.RESERVED.value))
        .first()
    )
    return (await _outs([row]))[0] if row else None


# --- matching ----------------------------------------------------------------


async def _try(code: str, allocation_id: int, principal: Principal) -> str:
    """Reserve one device for one allocation: `reserved`, `device_gone` (try another) or `allocation_gone`."""
    try:
        result = await devices.transition(
            code, Action.RESERVE.value, {"allocation": allocation_id}, principal
        )
    except DomainError as error:
        if error.code in ("allocation_taken", "allocation_not_approved", "allocation_missing"):
            return "allocation_gone"
        return "device_gone"  # reserved by someone else meanwhile, on hold, moved: the next one
    if result.outcome != "recorded":
        return "device_gone"  # it was reserved already (for another allocation): not ours
    return "reserved"


@dataclass(frozen=True, slots=True)
class _Terms:
    """What a programme accepts from stock: its grades (None: any) and its rule set (for the OS)."""

    grades: tuple[str, ...] | None
    rules: RuleSet

    def suitable(self, kind: str, os: str | None) -> bool:
        """Whether a device of this kind and grade, with this OS recorded, may go to the programme."""
        return not needs_os(DeviceKind(kind)) or self.rules.os_suitable(os)


#: Stock judged for every programme at once: any grade, any OS the workshop recorded.
_ANY_PROGRAMME = _Terms(None, RuleSet())


async def _terms(programme_ids: Iterable[int]) -> dict[int, _Terms]:
    """Each programme's terms; a rule set that no longer reads (edited by hand) accepts any recorded OS."""
    ids = sorted(set(programme_ids))
    if not ids:
        return {}
    rows = await Programme.select(Programme.id, Programme.minimum_grade, Programme.rules).where(
        Programme.id.is_in(ids)
    )
    terms = {}
    for row in rows:
        try:
            rules = RuleSet.from_json(json_value(row["rules"], {}))
        except DomainError:
            rules = RuleSet()
        grades = grades_at_least(row["minimum_grade"])
        # Only the OS names matter here: programmes that accept the same stock share one pool.
        terms[row["id"]] = _Terms(
            None if grades is None else tuple(grades), RuleSet(suitable_os=rules.suitable_os)
        )
    return terms


async def _candidates(kind: str, terms: _Terms) -> list[str]:
    """The codes of the devices in stock the terms accept, oldest stock first."""
    return [r["code"] for r in await holdings.available(kind, terms.grades) if terms.suitable(kind, r["os"])]


def _unsuitable(code: str, kind: str, held: Mapping[str, Any] | None) -> BadInput:
    ref = parse_code(code).display
    if held is None:
        return BadInput(
            N_("{ref} is not a {kind} in stock of the programme's minimum grade or better."),
            code="device_unsuitable",
            ref=ref,
            kind=DeviceKind(kind),
        )
    if not " ".join((held["os"] or "").split()):
        return BadInput(
            N_("{ref} has no OS recorded yet: it is not suitable until the workshop licenses it."),
            code="device_os_unsuitable",
            ref=ref,
        )
    return BadInput(
        N_("{ref} runs {os}, which is not among the OS this programme accepts."),
        code="device_os_unsuitable",
        ref=ref,
        os=held["os"],
    )


async def match(allocation_id: int, principal: Principal, device: str | None = None) -> AllocationOut:
    """Reserve a device for one allocation: the one named, or the oldest suitable one in stock."""
    row = await _allocation(allocation_id)
    if row["status"] != AllocationStatus.TO_MATCH.value:
        raise Conflict(
            N_("Allocation #{id} already has a device."), code="allocation_taken", id=allocation_id
        )
    terms = (await _terms([row["programme"]])).get(row["programme"], _ANY_PROGRAMME)
    if device is not None:
        code = parse_code(device, expected=CodeType.DEVICE).compact
        in_stock = {r["code"]: r for r in await holdings.available(row["kind"], terms.grades)}
        held = in_stock.get(code)
        if held is None or not terms.suitable(row["kind"], held["os"]):
            raise _unsuitable(code, row["kind"], held)
        result = await devices.transition(
            code, Action.RESERVE.value, {"allocation": allocation_id}, principal
        )
        if result.outcome != "recorded":
            raise Conflict(
                N_("{ref} was reserved meanwhile."), code="device_taken", ref=parse_code(code).display
            )
        return (await _outs([await _allocation(allocation_id)]))[0]
    for code in await _candidates(row["kind"], terms):
        outcome = await _try(code, allocation_id, principal)
        if outcome == "reserved":
            return (await _outs([await _allocation(allocation_id)]))[0]
        if outcome == "allocation_gone":
            raise Conflict(
                N_("Allocation #{id} already has a device."), code="allocation_taken", id=allocation_id
            )
    raise Conflict(
        N_("No {kind} in stock for allocation #{id}: it stays in the shortage."),
        code="out_of_stock",
        kind=DeviceKind(row["kind"]),
        id=allocation_id,
    )


async def _still_to_match(ids: Sequence[int]) -> set[int]:
    """Those of these allocations still to match, for a household still approved."""
    found: set[int] = set()
    for chunk in chunked(sorted(ids)):
        rows = await Allocation.select(Allocation.id).where(
            Allocation.id.is_in(chunk)
            & (Allocation.status == AllocationStatus.TO_MATCH.value)
            & (Allocation.household.status == HouseholdStatus.APPROVED.value)
        )
        found.update(r["id"] for r in rows)
    return found


async def match_all(principal: Principal, programme: int | None = None) -> MatchOut:
    """Match every allocation to match, in decision order, oldest suitable stock first.

    Candidates are read once per kind and programme terms; the pairs are reserved
    in one transaction (`devices.transition_each`). A device or an allocation
    another coordinator took meanwhile is left out; the next round pairs the
    allocations still to match with the devices still free, until nothing changes.
    """
    query = Allocation.select(Allocation.id, Allocation.kind, Allocation.programme).where(
        (Allocation.status == AllocationStatus.TO_MATCH.value)
        & (Allocation.household.status == HouseholdStatus.APPROVED.value)
    )
    if programme is not None:
        query = query.where(Allocation.programme == programme)
    pending = await query.order_by(Allocation.id)
    terms = await _terms(r["programme"] for r in pending)
    pools: dict[tuple[str, _Terms], list[str]] = {}
    for row in pending:
        key = (row["kind"], terms.get(row["programme"], _ANY_PROGRAMME))
        if key not in pools:
            pools[key] = await _candidates(*key)
    unavailable: set[str] = set()  # reserved here, or found taken by someone else
    reserved = 0
    for _round in range(MAX_ROUNDS):
        pairs: list[tuple[str, dict[str, Any]]] = []
        claimed: set[str] = set()
        position: Counter[tuple[str, _Terms]] = Counter()
        for row in pending:
            key = (row["kind"], terms.get(row["programme"], _ANY_PROGRAMME))
            pool, at = pools[key], position[key]
            while at < len(pool) and (pool[at] in unavailable or pool[at] in claimed):
                at += 1
            position[key] = at
            if at < len(pool):
                claimed.add(pool[at])
                pairs.append((pool[at], row))
        if not pairs:
            break
        moved = set(
            await devices.transition_each(
                [(code, {"allocation": row["id"]}) for code, row in pairs], Action.RESERVE.value, principal
            )
        )
        reserved += len(moved)
        unavailable |= moved
        failed = [(code, row) for code, row in pairs if code not in moved]
        if not failed:
            break  # every allocation left without a device is short of stock
        still = await _still_to_match([row["id"] for _, row in failed])
        unavailable.update(code for code, row in failed if row["id"] in still)  # the device was the problem
        done = {row["id"] for code, row in pairs if code in moved or row["id"] not in still}
        pending = [row for row in pending if row["id"] not in done]
    return MatchOut(reserved=reserved, shortage=(await shortage(programme)).by_kind)


async def release(allocation_id: int, reason: str, principal: Principal) -> AllocationOut:
    """Put the reserved device back in stock, with the reason; the allocation is to match again."""
    reason = " ".join(reason.split())
    if not reason:
        raise BadInput(
            N_("Say why the device goes back to stock."), code="reason_required", extra={"field": "reason"}
        )
    row = await _allocation(allocation_id)
    if row["status"] != AllocationStatus.RESERVED.value or row["device"] is None:
        raise Conflict(
            N_("Allocation #{id} has no device reserved."), code="allocation_not_reserved", id=allocation_id
        )
    codes = await devices.codes_of("device", [row["device"]])
    await devices.transition(
        codes[row["device"]], Action.RELEASE.value, {"allocation": allocation_id, "reason": reason}, principal
    )
    return (await _outs([await _allocation(allocation_id)]))[0]


def _judged_stock(stock: Sequence[Mapping[str, Any]], terms: _Terms) -> tuple[Counter[str], Counter[str]]:
    """Per kind: the devices in stock the terms accept, and those of a good grade held back by their OS."""
    suitable: Counter[str] = Counter()
    without_os: Counter[str] = Counter()
    for row in stock:
        if row["state"] != State.IN_STOCK.value:
            continue
        if terms.grades is not None and row["grade"] not in terms.grades:
            continue
        if terms.suitable(row["kind"], row["os"]):
            suitable[row["kind"]] += row["count"]
        else:
            without_os[row["kind"]] += row["count"]
    return suitable, without_os


async def _view_terms(programme: int | None) -> _Terms:
    """The terms a stock view judges by: the programme's, or for every programme any grade and recorded OS."""
    if programme is None:
        return _ANY_PROGRAMME
    return (await _terms([programme])).get(programme, _ANY_PROGRAMME)


async def shortage(programme: int | None = None) -> ShortageOut:
    """Approved allocations still without a device, per kind: the shortage, said plainly.

    With it, per kind short, the devices in stock held back only by their OS
    (none recorded, or one the programme does not accept): "not yet", not "none".
    """
    counts = Counter(r["kind"] for r in await _to_match_kinds(programme))
    by_kind = dict(sorted(counts.items()))
    held_back: dict[str, int] = {}
    if by_kind:
        _, without_os = _judged_stock(
            await holdings.by_kind_and_grade([State.IN_STOCK]), await _view_terms(programme)
        )
        held_back = {kind: without_os[kind] for kind in by_kind if without_os[kind]}
    return ShortageOut(
        programme=programme, by_kind=by_kind, total=sum(by_kind.values()), without_suitable_os=held_back
    )


async def stock_demand(programme: int | None = None) -> list[StockDemandRow]:
    """Per kind: what is in stock by grade, reserved, to match, held back by its OS, and how many are missing.

    `missing` counts allocations to match beyond the stock the terms accept: the
    programme's minimum grade and OS rule when one programme is asked about; any
    grade with an OS recorded otherwise.
    """
    stock = await holdings.by_kind_and_grade([State.IN_STOCK, State.RESERVED])
    suitable, without_os = _judged_stock(stock, await _view_terms(programme))
    by_grade: dict[str, dict[str, int]] = defaultdict(dict)
    reserved_devices: Counter[str] = Counter()
    for row in stock:
        if row["state"] == State.RESERVED.value:
            reserved_devices[row["kind"]] += row["count"]
            continue
        grade = row["grade"] or "-"
        by_grade[row["kind"]][grade] = by_grade[row["kind"]].get(grade, 0) + row["count"]
    wanted = Counter(r["kind"] for r in await _to_match_kinds(programme))
    kinds = sorted(set(by_grade) | set(wanted) | set(reserved_devices))
    return [
        StockDemandRow(
            kind=kind,
            in_stock_by_grade=dict(sorted(by_grade.get(kind, {}).items())),
            in_stock=sum(by_grade.get(kind, {}).values()),
            reserved=reserved_devices[kind],
            to_match=wanted[kind],
            without_suitable_os=without_os[kind],
            missing=max(0, wanted[kind] - suitable[kind]),
        )
        for kind in kinds
    ]


async def _to_match_kinds(programme: int | None) -> list[dict[str, Any]]:
    query = Allocation.select(Allocation.kind).where(Allocation.status == AllocationStatus.TO_MATCH.value)
    if programme is not None:
        query = query.where(Allocation.programme == programme)
    return await query


def register() -> None:
    """Answer the spine's `allocation_approved` and follow `reserve` / `release`."""
    register_check(Check.ALLOCATION_APPROVED, _allocation_approved, bulk=_allocations_approved)
    register_effect(Action.RESERVE, _reserved, bulk=_reserved_many)
    register_effect(Action.RELEASE, _released)
