"""Bus rounds (R codes): planning, stops and slots, convocations, status, closing with its report.

A round is read by coordinators and administrators, and by the bus staff named
on it; anyone else gets 404, as for a household they may not see. A household
holds at most one `convoked` appointment (a partial unique index says so too);
moving it keeps the old appointment as `moved`, pointing to the new one.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from refurb.accounts import service as accounts
from refurb.codes.service import mint
from refurb.core.codes import CodeType, parse_code
from refurb.core.errors import BadInput, Conflict, Forbidden, NotFound
from refurb.core.i18n import N_
from refurb.core.lifecycle import State
from refurb.core.principal import Principal
from refurb.core.roles import Role
from refurb.db import chunked, json_value, write_transaction
from refurb.devices import service as devices
from refurb.distribution.bus import (
    LOADABLE,
    MAX_SLOT_CAPACITY,
    AppointmentStatus,
    RoundStatus,
    check_round_move,
    hhmm,
    slots,
)
from refurb.distribution.model import AllocationStatus, HouseholdStatus
from refurb.distribution.round_schemas import (
    AppointmentIn,
    AppointmentOut,
    FillOut,
    MoveIn,
    RoundIn,
    RoundOut,
    RoundProgress,
    RoundReport,
    StopIn,
    StopOut,
    StopProgress,
)
from refurb.distribution.service import HOUSEHOLD_MANAGERS, household_ref
from refurb.distribution.tables import (
    Allocation,
    Appointment,
    Handover,
    Household,
    Programme,
    Round,
    RoundStop,
    SyncConflict,
)
from refurb.timestamps import utcnow

__all__ = (
    "RoundRef",
    "add_appointment",
    "appointments",
    "cancel_appointment",
    "close_round",
    "convocation_of",
    "create_round",
    "fill",
    "get_round",
    "household_appointments",
    "list_rounds",
    "move_appointment",
    "progress",
    "reconvoke_absent",
    "round_ref",
    "set_status",
    "start_loading",
    "to_load",
)

MAX_STOPS = 40


class RoundRef:
    """The columns access and checks look at."""

    __slots__ = ("code", "held_on", "id", "programme_id", "staff", "status", "version")

    def __init__(self, row: Mapping[str, Any]) -> None:
        self.id: int = row["id"]
        self.code: str = row["code"]
        self.programme_id: int = row["programme"]
        self.held_on: datetime.date = row["held_on"]
        self.staff: list[int] = [int(u) for u in json_value(row["staff"], [])]
        self.status = RoundStatus(row["status"])
        self.version: int = row["version"]

    @property
    def display(self) -> str:
        """The R code as people read it."""
        return parse_code(self.code).display


def on_round(principal: Principal, ref: RoundRef) -> bool:
    """Coordinators and administrators see every round; bus staff the rounds they are on."""
    if principal.role in HOUSEHOLD_MANAGERS:
        return True
    return principal.role is Role.BUS_STAFF and principal.user_id in ref.staff


def _round_not_found(display: str) -> NotFound:
    return NotFound(N_("No round {ref} is known."), ref=display)


_REF_COLUMNS = (
    Round.id,
    Round.code,
    Round.programme,
    Round.held_on,
    Round.staff,
    Round.status,
    Round.version,
)


async def round_ref(code_text: str, principal: Principal | None = None) -> RoundRef:
    """A round by its R code; NotFound too when `principal` is not allowed to see it."""
    code = parse_code(code_text, expected=CodeType.ROUND)
    row = await Round.select(*_REF_COLUMNS).where(Round.code == code.compact).first()
    if row is None:
        raise _round_not_found(code.display)
    ref = RoundRef(row)
    if principal is not None and not on_round(principal, ref):
        raise _round_not_found(code.display)
    return ref


def _manager(principal: Principal) -> None:
    if principal.role not in HOUSEHOLD_MANAGERS:
        raise Forbidden(N_("Only a coordinator plans rounds."), code="forbidden")


# --- planning ------------------------------------------------------------------


def _stop_values(stop: StopIn, position: int) -> dict[str, Any]:
    starts, ends = (
        hhmm(stop.starts_at, f"stops.{position}.starts_at"),
        hhmm(stop.ends_at, f"stops.{position}.ends_at"),
    )
    slots(starts, ends, stop.slot_minutes)  # refuses a window or a slot that does not fit
    if stop.slot_capacity > MAX_SLOT_CAPACITY:
        raise BadInput(
            N_("A slot takes at most {limit} households."),
            code="bad_slot_capacity",
            limit=MAX_SLOT_CAPACITY,
            extra={"field": f"stops.{position}.slot_capacity"},
        )
    return {
        "position": position,
        "place": " ".join(stop.place.split()),
        "qpv_code": stop.qpv_code.strip().upper(),
        "partner": " ".join(stop.partner.split()),
        "starts_at": starts,
        "ends_at": ends,
        "slot_minutes": stop.slot_minutes,
        "slot_capacity": stop.slot_capacity,
    }


async def _staff_ids(usernames: Sequence[str]) -> list[int]:
    ids = []
    for name in usernames:
        try:
            user_id, role = await accounts.user_ref(name)
        except NotFound:
            raise BadInput(
                N_("No active user is named '{name}'."), code="unknown_user", name=name[:80],
                extra={"field": "staff"},
            ) from None  # fmt: skip
        if role is not Role.BUS_STAFF:
            raise BadInput(
                N_("{name} is a {role}: only bus staff work on a round."),
                code="not_bus_staff",
                name=name[:80],
                role=role,
                extra={"field": "staff"},
            )
        if user_id not in ids:
            ids.append(user_id)
    return ids


async def create_round(data: RoundIn, principal: Principal) -> RoundOut:
    """A planned round with its stops, and a fresh R code."""
    _manager(principal)
    if not await Programme.exists().where(Programme.id == data.programme):
        raise BadInput(N_("No programme #{id} is known."), code="unknown_programme", id=data.programme)
    if len(data.stops) > MAX_STOPS:
        raise BadInput(N_("A round has at most {limit} stops."), code="too_many_stops", limit=MAX_STOPS)
    stops = [_stop_values(stop, position) for position, stop in enumerate(data.stops, start=1)]
    staff = await _staff_ids(data.staff)
    async with write_transaction():
        (code,) = await mint(CodeType.ROUND)
        (row,) = await Round.insert(
            Round(
                code=code.compact,
                programme=data.programme,
                held_on=data.held_on,
                vehicle=" ".join(data.vehicle.split()),
                staff=staff,
                created_by=principal.user_id,
            )
        ).returning(Round.id)
        await RoundStop.insert(*[RoundStop(round=row["id"], **values) for values in stops])
    return await get_round(code.compact, principal)


async def _stops(round_ids: Sequence[int]) -> dict[int, list[StopOut]]:
    found: dict[int, list[StopOut]] = defaultdict(list)
    if not round_ids:
        return found
    rows = await RoundStop.select().where(RoundStop.round.is_in(list(round_ids))).order_by(RoundStop.position)
    for r in rows:
        found[r["round"]].append(
            StopOut(
                id=r["id"],
                position=r["position"],
                place=r["place"],
                qpv_code=r["qpv_code"],
                partner=r["partner"],
                starts_at=r["starts_at"],
                ends_at=r["ends_at"],
                slot_minutes=r["slot_minutes"],
                slot_capacity=r["slot_capacity"],
                slots=slots(r["starts_at"], r["ends_at"], r["slot_minutes"]),
            )
        )
    return found


async def _round_outs(rows: Sequence[Mapping[str, Any]]) -> list[RoundOut]:
    ids = [r["id"] for r in rows]
    stops = await _stops(ids)
    staff_ids = sorted({int(u) for r in rows for u in json_value(r["staff"], [])})
    names = await accounts.user_names(staff_ids)
    counts: Counter[int] = Counter()
    for chunk in chunked(ids):
        for r in await Appointment.select(Appointment.round).where(
            Appointment.round.is_in(chunk) & (Appointment.status != AppointmentStatus.MOVED.value)
            & (Appointment.status != AppointmentStatus.CANCELLED.value)
        ):  # fmt: skip
            counts[r["round"]] += 1
    outs = []
    for r in rows:
        report = json_value(r["report"], {})
        outs.append(
            RoundOut(
                code=r["code"],
                display_code=parse_code(r["code"]).display,
                programme=r["programme"],
                held_on=r["held_on"],
                vehicle=r["vehicle"],
                staff=[names.get(int(u), "?") for u in json_value(r["staff"], [])],
                status=r["status"],
                version=r["version"],
                stops=stops.get(r["id"], []),
                appointments=counts[r["id"]],
                departed_at=r["departed_at"],
                closed_at=r["closed_at"],
                report=RoundReport(**report) if report else None,
            )
        )
    return outs


async def get_round(code_text: str, principal: Principal) -> RoundOut:
    """One round, to whoever may see it."""
    ref = await round_ref(code_text, principal)
    row = await Round.select().where(Round.id == ref.id).first()
    return (await _round_outs([row]))[0]


async def list_rounds(
    principal: Principal,
    *,
    programme: int | None = None,
    held_on: datetime.date | None = None,
    status: str | None = None,
    limit: int = 200,
) -> list[RoundOut]:
    """Rounds, latest day first: every round for coordinators, their own for bus staff."""
    query = Round.select()
    if programme is not None:
        query = query.where(Round.programme == programme)
    if held_on is not None:
        query = query.where(Round.held_on == held_on)
    if status:
        query = query.where(Round.status == status)
    rows = (
        await query.order_by(Round.held_on, ascending=False).order_by(Round.id, ascending=False).limit(limit)
    )
    visible = [r for r in rows if on_round(principal, RoundRef(r))]
    return await _round_outs(visible)


# --- appointments --------------------------------------------------------------


async def _stop(ref: RoundRef, stop_id: int) -> dict[str, Any]:
    row = await RoundStop.select().where((RoundStop.id == stop_id) & (RoundStop.round == ref.id)).first()
    if row is None:
        raise BadInput(
            N_("Round {ref} has no stop #{id}."), code="unknown_stop", ref=ref.display, id=stop_id,
            extra={"field": "stop"},
        )  # fmt: skip
    return row


async def _taken(stop_id: int) -> Counter[str]:
    rows = await Appointment.select(Appointment.slot).where(
        (Appointment.stop == stop_id) & (Appointment.status == AppointmentStatus.CONVOKED.value)
    )
    return Counter(r["slot"] for r in rows)


def _check_slot(stop: Mapping[str, Any], slot_text: str, taken: Counter[str]) -> str:
    slot = hhmm(slot_text, "slot")
    known = slots(stop["starts_at"], stop["ends_at"], stop["slot_minutes"])
    if slot not in known:
        raise BadInput(
            N_("{slot} is not a slot of {place} (slots: {known})."),
            code="unknown_slot",
            slot=slot,
            place=stop["place"],
            known=", ".join(known),
            extra={"field": "slot"},
        )
    if taken[slot] >= stop["slot_capacity"]:
        raise Conflict(
            N_("The {slot} slot at {place} is full ({capacity} households)."),
            code="slot_full",
            slot=slot,
            place=stop["place"],
            capacity=stop["slot_capacity"],
        )
    return slot


async def _reserved_devices(household_ids: Sequence[int]) -> dict[int, list[int]]:
    """Per household: the devices reserved for its allocations."""
    found: dict[int, list[int]] = defaultdict(list)
    for chunk in chunked(sorted(set(household_ids))):
        rows = await Allocation.select(Allocation.household, Allocation.device).where(
            Allocation.household.is_in(chunk) & (Allocation.status == AllocationStatus.RESERVED.value)
        ).order_by(Allocation.id)  # fmt: skip
        for r in rows:
            found[r["household"]].append(r["device"])
    return found


async def _convoked_on(household_id: int) -> dict[str, Any] | None:
    return (
        await Appointment.select(Appointment.id, Appointment.round.code, Appointment.round)
        .where(
            (Appointment.household == household_id) & (Appointment.status == AppointmentStatus.CONVOKED.value)
        )
        .first()
    )


async def _convocable(ref: RoundRef, code_text: str) -> int:
    """The household's id, if it may be convoked on this round; refused with the reason otherwise."""
    household = await household_ref(code_text)
    display = parse_code(household.code).display
    if household.programme_id != ref.programme_id:
        raise BadInput(
            N_("Household {ref} is not in this round's programme."), code="other_programme", ref=display
        )
    if household.status is not HouseholdStatus.APPROVED:
        raise Conflict(
            N_("Household {ref} is {status}: only an approved household is convoked."),
            code="household_not_approved",
            ref=display,
            status=household.status,
        )
    if not (await _reserved_devices([household.id])).get(household.id):
        raise Conflict(
            N_("Household {ref} has no device reserved yet: match its allocations first."),
            code="nothing_reserved",
            ref=display,
        )
    already = await _convoked_on(household.id)
    if already is not None:
        raise Conflict(
            N_("Household {ref} is already convoked on round {round}: move it instead."),
            code="already_convoked",
            ref=display,
            round=parse_code(already["round.code"]).display,
        )
    return household.id


def _plannable(ref: RoundRef) -> None:
    if ref.status not in LOADABLE:
        raise Conflict(
            N_("Round {ref} is {status}: households are convoked before it leaves."),
            code="round_not_plannable",
            ref=ref.display,
            status=ref.status,
        )


async def add_appointment(code_text: str, data: AppointmentIn, principal: Principal) -> AppointmentOut:
    """Convoke one household at a stop and a slot with room."""
    ref = await round_ref(code_text, principal)
    _manager(principal)
    _plannable(ref)
    async with write_transaction():
        household_id = await _convocable(ref, data.household)
        stop = await _stop(ref, data.stop)
        slot = _check_slot(stop, data.slot, await _taken(stop["id"]))
        (row,) = await Appointment.insert(
            Appointment(round=ref.id, stop=stop["id"], household=household_id, slot=slot,
                        created_by=principal.user_id)
        ).returning(Appointment.id)  # fmt: skip
    return (await _appointment_outs(await _appointment_rows(ids=[row["id"]])))[0]


async def fill(code_text: str, qpvs: Sequence[str], principal: Principal) -> FillOut:
    """Convoke the approved households with reserved devices of these QPVs, oldest waiting first.

    Each household goes to the first stop of its QPV (or a stop with no QPV) with a
    free slot, earliest slot first; a household that finds none is counted, not convoked.
    """
    ref = await round_ref(code_text, principal)
    _manager(principal)
    _plannable(ref)
    wanted = {q.strip().upper() for q in qpvs if q.strip()}
    created: list[int] = []
    left = 0
    async with write_transaction():
        stops = await RoundStop.select().where(RoundStop.round == ref.id).order_by(RoundStop.position)
        if not wanted:
            wanted = {s["qpv_code"] for s in stops if s["qpv_code"]}
        candidates = await (
            Household.select(Household.id, Household.qpv_code)
            .where(
                (Household.programme == ref.programme_id)
                & (Household.status == HouseholdStatus.APPROVED.value)
                & Household.qpv_code.is_in(sorted(wanted) or [""])
            )
            .order_by(Household.waiting_since)
            .order_by(Household.id)
        )
        reserved = await _reserved_devices([c["id"] for c in candidates])
        convoked = {
            r["household"]
            for chunk in chunked([c["id"] for c in candidates])
            for r in await Appointment.select(Appointment.household).where(
                Appointment.household.is_in(chunk) & (Appointment.status == AppointmentStatus.CONVOKED.value)
            )
        }
        free = {s["id"]: await _taken(s["id"]) for s in stops}
        rows = []
        for household in candidates:
            if household["id"] in convoked or not reserved.get(household["id"]):
                continue
            place = _free_place(stops, free, household["qpv_code"])
            if place is None:
                left += 1
                continue
            stop, slot = place
            free[stop["id"]][slot] += 1
            rows.append(Appointment(round=ref.id, stop=stop["id"], household=household["id"], slot=slot,
                                    created_by=principal.user_id))  # fmt: skip
        if rows:
            created = [r["id"] for r in await Appointment.insert(*rows).returning(Appointment.id)]
    outs = await _appointment_outs(await _appointment_rows(ids=created)) if created else []
    return FillOut(convoked=len(created), left_without_slot=left, appointments=outs)


def _free_place(
    stops: Sequence[Mapping[str, Any]], free: Mapping[int, Counter[str]], qpv: str | None
) -> tuple[Mapping[str, Any], str] | None:
    """The first free slot at a stop of the QPV, else at a stop of no QPV; `qpv` None: at any stop."""
    groups = [list(stops)] if qpv is None else [[s for s in stops if s["qpv_code"] == w] for w in (qpv, "")]
    for group in groups:
        for stop in group:
            for slot in slots(stop["starts_at"], stop["ends_at"], stop["slot_minutes"]):
                if free[stop["id"]][slot] < stop["slot_capacity"]:
                    return stop, slot
    return None


async def _appointment(appointment_id: int) -> dict[str, Any]:
    row = await Appointment.select().where(Appointment.id == appointment_id).first()
    if row is None:
        raise NotFound(N_("No appointment #{id} is known."), id=appointment_id)
    return row


async def _on_board(household_id: int) -> int:
    """How many of the household's reserved devices are loaded on a bus right now."""
    ids = (await _reserved_devices([household_id])).get(household_id, [])
    states = await devices.states_of(ids)
    return sum(1 for state in states.values() if state is State.DISPATCHED)


async def move_appointment(appointment_id: int, data: MoveIn, principal: Principal) -> AppointmentOut:
    """Convoke the household elsewhere; the old appointment stays, `moved`, pointing to the new one."""
    _manager(principal)
    target = await round_ref(data.round, principal)
    _plannable(target)
    async with write_transaction():
        old = await _appointment(appointment_id)
        if old["status"] not in (AppointmentStatus.CONVOKED.value, AppointmentStatus.ABSENT.value):
            raise Conflict(
                N_("Appointment #{id} is {status}: only a convocation still to honour is moved."),
                code="appointment_not_movable",
                id=appointment_id,
                status=AppointmentStatus(old["status"]),
            )
        if old["moved_to"] is not None:
            raise Conflict(
                N_("Appointment #{id} was already moved to #{other}."),
                code="appointment_not_movable", id=appointment_id, other=old["moved_to"],
            )  # fmt: skip
        if await _on_board(old["household"]):
            raise Conflict(
                N_("The household's devices are on the bus: unload them before moving its convocation."),
                code="devices_on_board",
            )
        stop = await _stop(target, data.stop)
        slot = _check_slot(stop, data.slot, await _taken(stop["id"]))
        changes: dict[Any, Any] = {Appointment.moved_to: None}
        if old["status"] == AppointmentStatus.CONVOKED.value:
            changes[Appointment.status] = AppointmentStatus.MOVED.value
        await Appointment.update(changes).where(Appointment.id == appointment_id)
        (row,) = await Appointment.insert(
            Appointment(round=target.id, stop=stop["id"], household=old["household"], slot=slot,
                        created_by=principal.user_id)
        ).returning(Appointment.id)  # fmt: skip
        await Appointment.update({Appointment.moved_to: row["id"]}).where(Appointment.id == appointment_id)
    return (await _appointment_outs(await _appointment_rows(ids=[row["id"]])))[0]


async def cancel_appointment(appointment_id: int, principal: Principal) -> AppointmentOut:
    """The household will not come on this round: the convocation is cancelled (kept in the history)."""
    _manager(principal)
    async with write_transaction():
        old = await _appointment(appointment_id)
        if old["status"] != AppointmentStatus.CONVOKED.value:
            raise Conflict(
                N_("Appointment #{id} is {status}: only a convocation still to honour is cancelled."),
                code="appointment_not_movable",
                id=appointment_id,
                status=AppointmentStatus(old["status"]),
            )
        if await _on_board(old["household"]):
            raise Conflict(
                N_("The household's devices are on the bus: unload them before moving its convocation."),
                code="devices_on_board",
            )
        await Appointment.update({Appointment.status: AppointmentStatus.CANCELLED.value}).where(
            Appointment.id == appointment_id
        )
    return (await _appointment_outs(await _appointment_rows(ids=[appointment_id])))[0]


_APPOINTMENT_COLUMNS = (
    Appointment.id,
    Appointment.household,
    Appointment.household.code,
    Appointment.household.qpv_code,
    Appointment.round.code,
    Appointment.stop,
    Appointment.stop.place,
    Appointment.stop.position,
    Appointment.slot,
    Appointment.status,
    Appointment.moved_to,
)


async def _appointment_rows(
    *, ids: Sequence[int] | None = None, round_id: int | None = None
) -> list[dict[str, Any]]:
    query = Appointment.select(*_APPOINTMENT_COLUMNS)
    if ids is not None:
        query = query.where(Appointment.id.is_in(list(ids) or [0]))
    if round_id is not None:
        query = query.where(Appointment.round == round_id)
    return await query.order_by(Appointment.stop.position).order_by(Appointment.slot).order_by(Appointment.id)


async def _appointment_outs(rows: Sequence[Mapping[str, Any]]) -> list[AppointmentOut]:
    reserved = await _reserved_devices([r["household"] for r in rows])
    codes = await devices.codes_of("device", [d for ds in reserved.values() for d in ds])
    return [
        AppointmentOut(
            id=r["id"],
            household=r["household.code"],
            display_code=parse_code(r["household.code"]).display,
            qpv_code=r["household.qpv_code"],
            round=r["round.code"],
            stop=r["stop"],
            place=r["stop.place"],
            slot=r["slot"],
            status=r["status"],
            moved_to=r["moved_to"],
            devices=[codes[d] for d in reserved.get(r["household"], []) if d in codes]
            if r["status"] == AppointmentStatus.CONVOKED.value
            else [],
        )
        for r in rows
    ]


async def convocation_of(household_code: str) -> tuple[RoundRef, str, str] | None:
    """Where a household is convoked now: its round, the stop's place and the slot (None: nowhere)."""
    row = (
        await Appointment.select(Appointment.round.code, Appointment.stop.place, Appointment.slot)
        .where(
            (Appointment.household.code == household_code)
            & (Appointment.status == AppointmentStatus.CONVOKED.value)
        )
        .first()
    )
    if row is None:
        return None
    return await round_ref(row["round.code"]), row["stop.place"], row["slot"]


async def household_appointments(household_id: int) -> list[AppointmentOut]:
    """A household's convocations, oldest first: where it was convoked, moved, served or absent."""
    rows = (
        await Appointment.select(*_APPOINTMENT_COLUMNS)
        .where(Appointment.household == household_id)
        .order_by(Appointment.id)
    )
    return await _appointment_outs(rows)


async def appointments(code_text: str, principal: Principal) -> list[AppointmentOut]:
    """The round's appointments, by stop and slot (moved and cancelled ones too: the history)."""
    ref = await round_ref(code_text, principal)
    return await _appointment_outs(await _appointment_rows(round_id=ref.id))


# --- status, progress, closing -------------------------------------------------


async def _move_round(ref: RoundRef, target: RoundStatus, changes: dict[Any, Any] | None = None) -> bool:
    check_round_move(ref.status, target)
    moved = (
        await Round.update({Round.status: target.value, Round.version: ref.version + 1, **(changes or {})})
        .where((Round.id == ref.id) & (Round.version == ref.version))
        .returning(Round.id)
    )
    return bool(moved)


async def set_status(code_text: str, target: str, principal: Principal) -> RoundOut:
    """Planned → loading → out (the same status again is a no-op); closing has its own route."""
    ref = await round_ref(code_text, principal)
    status = RoundStatus(target)
    if status is not ref.status:
        changes = {Round.departed_at: utcnow()} if status is RoundStatus.OUT else {}
        if not await _move_round(ref, status, changes):
            raise Conflict(
                N_("Round {ref} changed meanwhile: reload it."), code="round_changed", ref=ref.display
            )
    return await get_round(ref.code, principal)


async def start_loading(ref: RoundRef) -> RoundRef:
    """The first scan of a planned round at the loading station starts its loading."""
    if ref.status is RoundStatus.PLANNED:
        await _move_round(ref, RoundStatus.LOADING)
        return await round_ref(ref.code)
    return ref


async def _devices_by_household(round_id: int) -> tuple[list[dict[str, Any]], dict[int, list[int]]]:
    rows = await _appointment_rows(round_id=round_id)
    convoked = [r for r in rows if r["status"] == AppointmentStatus.CONVOKED.value]
    return rows, await _reserved_devices([r["household"] for r in convoked])


async def to_load(ref: RoundRef) -> list[tuple[str, int, int]]:
    """Per stop in order: its place, the devices loaded, the devices of its convoked households in all."""
    rows, reserved = await _devices_by_household(ref.id)
    states = await devices.states_of([d for ds in reserved.values() for d in ds])
    stops = (
        await RoundStop.select(RoundStop.id, RoundStop.place)
        .where(RoundStop.round == ref.id)
        .order_by(RoundStop.position)
    )
    loaded: Counter[int] = Counter()
    total: Counter[int] = Counter()
    for r in rows:
        if r["status"] != AppointmentStatus.CONVOKED.value:
            continue
        for device in reserved.get(r["household"], []):
            total[r["stop"]] += 1
            loaded[r["stop"]] += states.get(device) is State.DISPATCHED
    return [(s["place"], loaded[s["id"]], total[s["id"]]) for s in stops]


async def progress(code_text: str, principal: Principal) -> RoundProgress:
    """Per stop: households delivered / waiting / absent, devices to load / loaded / handed over."""
    ref = await round_ref(code_text, principal)
    rows, reserved = await _devices_by_household(ref.id)
    states = await devices.states_of([d for ds in reserved.values() for d in ds])
    handed = await Handover.select(Handover.id, Handover.device, Handover.household).where(
        Handover.round == ref.id
    )
    handed_by_household = Counter(h["household"] for h in handed)
    out = (await _round_outs([await Round.select().where(Round.id == ref.id).first()]))[0]
    by_stop: dict[int, StopProgress] = {
        s.id: StopProgress(stop=s.id, place=s.place, delivered=0, waiting=0, absent=0, to_load=0, loaded=0,
                           handed_over=0)
        for s in out.stops
    }  # fmt: skip
    for r in rows:
        line = by_stop[r["stop"]]
        status = r["status"]
        if status == AppointmentStatus.DELIVERED.value:
            line.delivered += 1
        elif status == AppointmentStatus.ABSENT.value:
            line.absent += 1
        elif status == AppointmentStatus.CONVOKED.value:
            line.waiting += 1
            for device in reserved.get(r["household"], []):
                if states.get(device) is State.DISPATCHED:
                    line.loaded += 1
                else:
                    line.to_load += 1
        if status in (AppointmentStatus.CONVOKED.value, AppointmentStatus.DELIVERED.value):
            line.handed_over += handed_by_household[r["household"]]
    conflicts = await SyncConflict.count().where(
        (SyncConflict.round == ref.id) & SyncConflict.resolved_at.is_null()
    )
    codes = await devices.codes_of("device", [h["device"] for h in handed])
    return RoundProgress(
        round=out,
        stops=list(by_stop.values()),
        conflicts=conflicts,
        receipts=[codes[h["device"]] for h in handed],
    )


async def close_round(code_text: str, principal: Principal) -> RoundOut:
    """Close an `out` round once nothing is left on board; the convoked households not served are absent."""
    ref = await round_ref(code_text, principal)
    if ref.status is RoundStatus.CLOSED:
        return await get_round(ref.code, principal)
    async with write_transaction():
        rows, reserved = await _devices_by_household(ref.id)
        states = await devices.states_of([d for ds in reserved.values() for d in ds])
        on_board = sorted(d for d, state in states.items() if state is State.DISPATCHED)
        if on_board:
            codes = await devices.codes_of("device", on_board)
            raise Conflict(
                N_("{count} devices are still on board ({codes}): unload them, or sync the tablets, first."),
                code="devices_on_board",
                count=len(on_board),
                codes=", ".join(parse_code(codes[d]).display for d in on_board[:10]),
            )
        absent = [r for r in rows if r["status"] == AppointmentStatus.CONVOKED.value]
        delivered = sum(1 for r in rows if r["status"] == AppointmentStatus.DELIVERED.value)
        handed = await Handover.count().where(Handover.round == ref.id)
        if absent:
            await Appointment.update({Appointment.status: AppointmentStatus.ABSENT.value}).where(
                Appointment.id.is_in([r["id"] for r in absent])
            )
        following = await _next_round(ref)
        report = RoundReport(
            delivered=delivered,
            devices_handed_over=handed,
            absent=len(absent),
            devices_back=sum(len(reserved.get(r["household"], [])) for r in absent),
            absent_households=[r["household.code"] for r in absent],
            next_round=following.code if following else None,
        )
        if not await _move_round(
            ref, RoundStatus.CLOSED, {Round.closed_at: utcnow(), Round.report: report.model_dump()}
        ):
            raise Conflict(
                N_("Round {ref} changed meanwhile: reload it."), code="round_changed", ref=ref.display
            )
    return await get_round(ref.code, principal)


async def _next_round(ref: RoundRef) -> RoundRef | None:
    row = (
        await Round.select(*_REF_COLUMNS)
        .where(
            (Round.programme == ref.programme_id)
            & (Round.held_on >= ref.held_on)
            & (Round.id != ref.id)
            & Round.status.is_in([s.value for s in LOADABLE])
        )
        .order_by(Round.held_on)
        .order_by(Round.id)
        .first()
    )
    return RoundRef(row) if row else None


async def reconvoke_absent(code_text: str, target_text: str, principal: Principal) -> FillOut:
    """Offer the absent households of a closed round a slot on another round (with room, by their QPV)."""
    ref = await round_ref(code_text, principal)
    _manager(principal)
    target = await round_ref(target_text, principal)
    _plannable(target)
    if target.programme_id != ref.programme_id:
        raise BadInput(N_("Round {ref} is of another programme."), code="other_programme", ref=target.display)
    created: list[int] = []
    left = 0
    async with write_transaction():
        absent = await Appointment.select(
            Appointment.id, Appointment.household, Appointment.household.qpv_code
        ).where(
            (Appointment.round == ref.id)
            & (Appointment.status == AppointmentStatus.ABSENT.value)
            & Appointment.moved_to.is_null()
        )
        stops = await RoundStop.select().where(RoundStop.round == target.id).order_by(RoundStop.position)
        free = {s["id"]: await _taken(s["id"]) for s in stops}
        for row in absent:
            if await _convoked_on(row["household"]) is not None:
                continue
            place = _free_place(stops, free, row["household.qpv_code"]) or _free_place(stops, free, None)
            if place is None:
                left += 1
                continue
            stop, slot = place
            free[stop["id"]][slot] += 1
            (new,) = await Appointment.insert(
                Appointment(round=target.id, stop=stop["id"], household=row["household"], slot=slot,
                            created_by=principal.user_id)
            ).returning(Appointment.id)  # fmt: skip
            await Appointment.update({Appointment.moved_to: new["id"]}).where(Appointment.id == row["id"])
            created.append(new["id"])
    outs = await _appointment_outs(await _appointment_rows(ids=created)) if created else []
    return FillOut(convoked=len(created), left_without_slot=left, appointments=outs)
