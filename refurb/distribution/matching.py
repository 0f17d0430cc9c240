"""Matching approved allocations to devices in stock (issue 17, point 7), and the shortage.

A device is reserved only through the devices service (`reserve`, the allocation
id as evidence in the payload). This area answers the spine's
`allocation_approved` check and follows `reserve` / `release` with an effect
that moves the allocation by compare-and-set on its status, in the device's own
transaction: whoever reserves — a coordinator here, two at once, or a program
through the devices API — one device never serves two allocations and one
allocation never gets two devices; the loser's transaction is rolled back whole.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from refurb.core.codes import CodeType, parse_code
from refurb.core.errors import BadInput, Conflict, DomainError, GuardRefused, NotFound
from refurb.core.i18n import N_
from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import Action, Check, State
from refurb.core.principal import Principal
from refurb.devices import service as devices
from refurb.devices.service import CheckContext, register_check, register_effect
from refurb.distribution.model import AllocationStatus, HouseholdStatus
from refurb.distribution.schemas import AllocationOut, MatchOut, ShortageOut, StockDemandRow
from refurb.distribution.tables import Allocation, Programme
from refurb.stock import holdings
from refurb.timestamps import as_utc, utcnow
from refurb.workshop.checklists import Grade

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


async def _allocation_approved(context: CheckContext) -> None:
    """The spine's `allocation_approved`: reserve for an allocation to match; release the one held."""
    ref = parse_code(context.device.code).display
    allocation_id = _allocation_id(context.payload, ref)
    row = (
        await Allocation.select(
            Allocation.status, Allocation.kind, Allocation.device, Allocation.household.status
        )
        .where(Allocation.id == allocation_id)
        .first()
    )
    if row is None:
        raise GuardRefused(
            N_("{ref}: no allocation #{id} is known."), code="allocation_missing", ref=ref, id=allocation_id
        )
    if context.transition.action is Action.RELEASE:
        if row["status"] != AllocationStatus.RESERVED.value or row["device"] != context.device.id:
            raise GuardRefused(
                N_("{ref} is not the device reserved for allocation #{id}."),
                code="allocation_mismatch",
                ref=ref,
                id=allocation_id,
            )
        return
    if row["household.status"] != HouseholdStatus.APPROVED.value:
        raise GuardRefused(
            N_("{ref}: the household of allocation #{id} is not approved."),
            code="allocation_not_approved",
            ref=ref,
            id=allocation_id,
        )
    if row["status"] != AllocationStatus.TO_MATCH.value:
        raise GuardRefused(
            N_("Allocation #{id} already has a device."), code="allocation_taken", id=allocation_id
        )
    if row["kind"] != context.device.kind.value:
        raise GuardRefused(
            N_("{ref} is a {kind}; allocation #{id} is for a {wanted}."),
            code="allocation_kind",
            ref=ref,
            id=allocation_id,
            kind=context.device.kind,
            wanted=DeviceKind(row["kind"]),
        )


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


async def _minimum_grade(programme_id: int) -> str | None:
    row = await Programme.select(Programme.minimum_grade).where(Programme.id == programme_id).first()
    return row["minimum_grade"] if row else None


async def match(allocation_id: int, principal: Principal, device: str | None = None) -> AllocationOut:
    """Reserve a device for one allocation: the one named, or the oldest suitable one in stock."""
    row = await _allocation(allocation_id)
    if row["status"] != AllocationStatus.TO_MATCH.value:
        raise Conflict(
            N_("Allocation #{id} already has a device."), code="allocation_taken", id=allocation_id
        )
    grades = grades_at_least(await _minimum_grade(row["programme"]))
    if device is not None:
        code = parse_code(device, expected=CodeType.DEVICE).compact
        candidates = await holdings.available(row["kind"], grades)
        if code not in candidates:
            raise BadInput(
                N_("{ref} is not a {kind} in stock of the programme's minimum grade or better."),
                code="device_unsuitable",
                ref=parse_code(code).display,
                kind=DeviceKind(row["kind"]),
            )
        result = await devices.transition(
            code, Action.RESERVE.value, {"allocation": allocation_id}, principal
        )
        if result.outcome != "recorded":
            raise Conflict(
                N_("{ref} was reserved meanwhile."), code="device_taken", ref=parse_code(code).display
            )
        return (await _outs([await _allocation(allocation_id)]))[0]
    for code in await holdings.available(row["kind"], grades):
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


async def match_all(principal: Principal, programme: int | None = None) -> MatchOut:
    """Match every allocation to match, in decision order, oldest suitable stock first.

    Candidates are read once per kind and grade rule; a device another
    coordinator takes meanwhile is skipped, an allocation they matched too.
    """
    query = Allocation.select(Allocation.id, Allocation.kind, Allocation.programme).where(
        Allocation.status == AllocationStatus.TO_MATCH.value
    )
    if programme is not None:
        query = query.where(Allocation.programme == programme)
    rows = await query.order_by(Allocation.id)
    minimum = {
        r["id"]: r["minimum_grade"] for r in await Programme.select(Programme.id, Programme.minimum_grade)
    }
    pools: dict[tuple[str, str | None], list[str]] = {}
    cursor: Counter[tuple[str, str | None]] = Counter()
    reserved = 0
    for row in rows:
        key = (row["kind"], minimum.get(row["programme"]))
        if key not in pools:
            pools[key] = await holdings.available(row["kind"], grades_at_least(key[1]))
        pool = pools[key]
        while cursor[key] < len(pool):
            code = pool[cursor[key]]
            outcome = await _try(code, row["id"], principal)
            if outcome == "allocation_gone":
                break  # the device stays for the next allocation
            cursor[key] += 1
            if outcome == "reserved":
                reserved += 1
                break
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


async def shortage(programme: int | None = None) -> ShortageOut:
    """Approved allocations still without a device, per kind: the shortage, said plainly."""
    query = Allocation.select(Allocation.kind).where(Allocation.status == AllocationStatus.TO_MATCH.value)
    if programme is not None:
        query = query.where(Allocation.programme == programme)
    counts = Counter(r["kind"] for r in await query)
    by_kind = dict(sorted(counts.items()))
    return ShortageOut(programme=programme, by_kind=by_kind, total=sum(by_kind.values()))


async def stock_demand(programme: int | None = None) -> list[StockDemandRow]:
    """Per kind: what is in stock by grade, reserved, to match, and how many are missing.

    `missing` counts allocations to match beyond the stock of a suitable grade (the
    programme's minimum, when one programme is asked about; any grade otherwise).
    """
    stock = await holdings.by_kind_and_grade([State.IN_STOCK, State.RESERVED])
    grades = grades_at_least(await _minimum_grade(programme)) if programme is not None else None
    by_grade: dict[str, dict[str, int]] = defaultdict(dict)
    reserved_devices: Counter[str] = Counter()
    suitable: Counter[str] = Counter()
    for row in stock:
        if row["state"] == State.RESERVED.value:
            reserved_devices[row["kind"]] += row["count"]
            continue
        grade = row["grade"] or "-"
        by_grade[row["kind"]][grade] = by_grade[row["kind"]].get(grade, 0) + row["count"]
        if grades is None or row["grade"] in grades:
            suitable[row["kind"]] += row["count"]
    wanted = (await shortage(programme)).by_kind
    kinds = sorted(set(by_grade) | set(wanted) | set(reserved_devices))
    return [
        StockDemandRow(
            kind=kind,
            in_stock_by_grade=dict(sorted(by_grade.get(kind, {}).items())),
            in_stock=sum(by_grade.get(kind, {}).values()),
            reserved=reserved_devices[kind],
            to_match=wanted.get(kind, 0),
            missing=max(0, wanted.get(kind, 0) - suitable[kind]),
        )
        for kind in kinds
    ]


def register() -> None:
    """Answer the spine's `allocation_approved` and follow `reserve` / `release`."""
    register_check(Check.ALLOCATION_APPROVED, _allocation_approved)
    register_effect(Action.RESERVE, _reserved)
    register_effect(Action.RELEASE, _released)
