"""Devices: registering, reading, and the ONE place a device changes state.

A transition is a compare-and-set on (id, state, version) plus one event row in
the same write transaction. A repeated scan of a step already done answers
"already recorded" without a second event; concurrent identical requests give
one event and one state change.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from piccolo.query.functions.aggregate import Count

from refurb.codes.service import mint
from refurb.core.aliases import normal_asset_tag, normal_serial
from refurb.core.codes import Code, CodeType, parse_code
from refurb.core.errors import BadInput, Conflict, GuardNotAvailable, NotFound
from refurb.core.i18n import N_
from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import (
    ENDS_CUSTODY,
    TAKES_CUSTODY,
    TRANSITIONS,
    Action,
    Check,
    State,
    Transition,
    clean_reason,
    parse_action,
    plan,
)
from refurb.core.principal import Principal
from refurb.db import (
    UNIQUE_VIOLATIONS,
    chunked,
    insert_many,
    is_sqlite,
    json_value,
    update_many,
    write_transaction,
)
from refurb.devices.schemas import DeviceOut, DevicePage, EventOut, TransitionOut
from refurb.devices.tables import Device, DeviceEvent
from refurb.stock import service as stock
from refurb.timestamps import utcnow

__all__ = (
    "Actor",
    "CheckContext",
    "DonorDevice",
    "NewDevice",
    "at_location",
    "batch_census",
    "batch_devices",
    "bulk_transition",
    "count_at",
    "counts_by_state",
    "device_ref",
    "device_refs",
    "donor_devices",
    "events",
    "find_by_alias",
    "find_by_serials",
    "find_in_batch",
    "get",
    "last_action_at",
    "list_devices",
    "move",
    "register",
    "register_check",
    "register_effect",
    "register_many",
    "set_hardware",
    "stock_levels",
    "transition",
    "transition_many",
    "update_descriptions",
)

MAX_CAS_ATTEMPTS = 5
PLACES = frozenset({Action.STOCK})  # actions that also set the device's location (payload "location")
MOVE = "move"  # a note in the history: the device changed location, not state
MAX_PAGE_SIZE = 200
MAX_PAGE = 100_000
MAX_PAYLOAD_BYTES = 16_384
MAX_ACTOR_NAME = 80  # DeviceEvent.actor_name
DECLARE = "declare"
IMPORT = "import"
LABEL_PRINTED = "label_printed"  # a note in the history: the state does not change


@dataclass(frozen=True, slots=True)
class Actor:
    """Who an event is attributed to; the demo and imports act as a named system."""

    user_id: int | None
    name: str
    organisation_id: int | None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        """The actor of a logged-in user."""
        return cls(principal.user_id, principal.name, principal.organisation_id)


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """The columns a transition and its checks look at."""

    id: int
    code: str
    kind: DeviceKind
    state: State
    version: int
    batch_id: int | None
    donor_id: int | None
    location_id: int | None


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What a guard check gets to decide on."""

    device: DeviceRow
    transition: Transition
    payload: Mapping[str, Any]
    principal: Principal
    station_id: int | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)


CheckFn = Callable[[CheckContext], Awaitable[None]]
_checks: dict[Check, CheckFn] = {}


def register_check(check: Check, fn: CheckFn) -> None:
    """An area declares it can verify `check`; it raises `GuardRefused` to say no."""
    _checks[check] = fn


EffectFn = Callable[[CheckContext], Awaitable[None]]
_effects: dict[Action, list[EffectFn]] = {}


def register_effect(action: Action, fn: EffectFn) -> None:
    """An area follows up `action` on a device (e.g. a reject frees its licence).

    The effect runs once the compare-and-set has won, inside the same write
    transaction: if it raises, the transition is rolled back with it.
    """
    _effects.setdefault(action, []).append(fn)


async def _run_effects(action: Action, contexts: Sequence[CheckContext]) -> None:
    for fn in _effects.get(action, ()):
        for context in contexts:
            await fn(context)


async def _run_check(check: Check, context: CheckContext) -> None:
    fn = _checks.get(check)
    if fn is None:
        raise GuardNotAvailable(
            N_("Refused: Refurb cannot verify yet that {check} (this check comes with the {area} area)."),
            check=check,
            area=check.area,
        )
    await fn(context)


# --- reading -----------------------------------------------------------------

_OUT_COLUMNS = (
    Device.id,
    Device.code,
    Device.kind,
    Device.manufacturer,
    Device.model,
    Device.serial,
    Device.asset_tag,
    Device.batch.as_alias("batch_id"),
    Device.batch.code.as_alias("batch_code"),
    Device.batch.donor.as_alias("donor_id"),
    Device.custodian.as_alias("custodian_id"),
    Device.custodian.name.as_alias("custodian_name"),
    Device.location.as_alias("location_id"),
    Device.location.code.as_alias("location_code"),
    Device.state,
    Device.version,
    Device.in_manifest,
    Device.cpu,
    Device.ram,
    Device.storage,
    Device.grade,
    Device.os,
    Device.created_at,
    Device.updated_at,
)

# The hot path (every scan) reads and writes with plain SQL: Piccolo's query
# builder costs more CPU than the database round trip itself.
_DEVICE_SQL = """
SELECT d.id, d.code, d.kind, d.manufacturer, d.model, d.serial, d.asset_tag, d.state, d.version,
       d.in_manifest, d.cpu, d.ram, d.storage, d.grade, d.os, d.created_at, d.updated_at,
       d.batch AS batch_id, b.code AS batch_code,
       b.donor AS donor_id,
       d.custodian AS custodian_id, o.name AS custodian_name,
       d.location AS location_id, l.code AS location_code
FROM device d
LEFT JOIN batch b ON b.id = d.batch
LEFT JOIN organisation o ON o.id = d.custodian
LEFT JOIN location l ON l.id = d.location
WHERE d.code = {}"""
_DEVICE_SQL_SCOPED = _DEVICE_SQL + " AND b.donor = {}"
_EVENT_SQL = """
SELECT e.id, e.action, e.from_state, e.to_state, e.actor_name, o.name AS organisation_name,
       s.code AS station_code, e.payload, e.request_id, e.created_at
FROM device_event e
LEFT JOIN organisation o ON o.id = e.organisation
LEFT JOIN station s ON s.id = e.station
WHERE e.device = {}"""
_LAST_EVENT_SQL = _EVENT_SQL + " AND e.action <> 'label_printed' ORDER BY e.id DESC LIMIT 1"
_KEYED_EVENT_SQL = _EVENT_SQL + " AND e.actor = {} AND e.idempotency_key = {} ORDER BY e.id DESC LIMIT 1"
# PostgreSQL: the compare-and-set and the event in ONE statement, atomic by itself
# (or inside the caller's transaction): no event row unless the update won.
_CAS_AND_EVENT_SQL = """
WITH moved AS (
  UPDATE device SET state = {}, version = {}, custodian = {}, updated_at = {}
  WHERE id = {} AND version = {}
  RETURNING id
)
INSERT INTO device_event (device, action, from_state, to_state, actor, actor_name, organisation, station,
                          payload, request_id, idempotency_key, created_at, updated_at)
SELECT moved.id, {}::varchar, {}::varchar, {}::varchar, {}::integer, {}::varchar, {}::integer, {}::integer,
       {}::json, {}::varchar, {}::varchar, {}::timestamptz, {}::timestamptz
FROM moved
RETURNING id"""
# SQLite (no UPDATE inside WITH): the same two writes inside an IMMEDIATE transaction.
_CAS_SQL = """
UPDATE device SET state = {}, version = {}, custodian = {}, updated_at = {}
WHERE id = {} AND version = {}
RETURNING id"""
_EVENT_INSERT_SQL = """
INSERT INTO device_event (device, action, from_state, to_state, actor, actor_name, organisation, station,
                          payload, request_id, idempotency_key, created_at, updated_at)
VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
RETURNING id"""


def _visible(principal: Principal) -> Any:
    """The where-clause limiting a principal to the devices they may know about."""
    if principal.scoped_to_organisation:
        return Device.batch.donor == principal.organisation_id
    return None


def _device_out(row: Mapping[str, Any]) -> DeviceOut:
    code = parse_code(row["code"])
    return DeviceOut(
        code=code.compact,
        display_code=code.display,
        kind=row["kind"],
        manufacturer=row["manufacturer"],
        model=row["model"],
        serial=row["serial"],
        asset_tag=row["asset_tag"],
        batch=row["batch_code"],
        custodian=row["custodian_name"],
        location=row["location_code"],
        state=row["state"],
        version=row["version"],
        cpu=row.get("cpu") or "",
        ram=row.get("ram") or "",
        storage=row.get("storage") or "",
        grade=row.get("grade"),
        os=row.get("os") or "",
        in_manifest=bool(row["in_manifest"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _device_row(row: Mapping[str, Any]) -> DeviceRow:
    return DeviceRow(
        id=row["id"],
        code=row["code"],
        kind=DeviceKind(row["kind"]),
        state=State(row["state"]),
        version=row["version"],
        batch_id=row["batch_id"],
        donor_id=row["donor_id"],
        location_id=row["location_id"],
    )


async def _select_one(code: Code, principal: Principal, *, lock: bool = False) -> Mapping[str, Any]:
    """The device row; `lock` holds it to the end of the transaction (SQLite: IMMEDIATE already does)."""
    suffix = " FOR UPDATE OF d" if lock and not is_sqlite() else ""
    if principal.scoped_to_organisation:
        rows = await Device.raw(_DEVICE_SQL_SCOPED + suffix, code.compact, principal.organisation_id)
    else:
        rows = await Device.raw(_DEVICE_SQL + suffix, code.compact)
    row = rows[0] if rows else None
    if row is None:
        raise NotFound(N_("No device {ref} is known."), ref=code.display)
    return row


async def device_ref(code_text: str, principal: Principal, *, lock: bool = False) -> DeviceRow:
    """The ids other areas key their evidence on; unknown or not visible is NotFound."""
    return _device_row(
        await _select_one(parse_code(code_text, expected=CodeType.DEVICE), principal, lock=lock)
    )


async def device_refs(ids: Sequence[int]) -> dict[int, tuple[DeviceRow, str]]:
    """Devices by id with their batch code, for listings built by other areas."""
    if not ids:
        return {}
    rows = await Device.raw(
        "SELECT d.id, d.code, d.kind, d.state, d.version, d.batch AS batch_id, b.donor AS donor_id, "  # noqa: S608 - placeholders only
        "d.location AS location_id, b.code AS batch_code FROM device d LEFT JOIN batch b ON b.id = d.batch "
        f"WHERE d.id IN ({', '.join('{}' for _ in ids)})",
        *ids,
    )
    return {row["id"]: (_device_row(row), row["batch_code"]) for row in rows}


async def get(code_text: str, principal: Principal) -> DeviceOut:
    """One device by its code (any accepted form); unknown or not visible is NotFound."""
    return _device_out(await _select_one(parse_code(code_text, expected=CodeType.DEVICE), principal))


async def find_by_alias(text: str, principal: Principal, *, batch_id: int | None = None) -> DeviceOut:
    """A device by the donor's asset tag or the manufacturer's serial (within a batch, if given)."""
    where = (Device.asset_tag == normal_asset_tag(text)) | (Device.serial == normal_serial(text))
    if batch_id is not None:
        where = where & (Device.batch == batch_id)
    visible = _visible(principal)
    if visible is not None:
        where = where & visible
    rows = await Device.select(*_OUT_COLUMNS).where(where).limit(2)
    if not rows:
        raise NotFound(N_("Nothing is known by '{text}'."), text=text[:60])
    if len(rows) > 1:
        raise Conflict(
            N_("Several devices carry '{text}': scan their D code instead."),
            code="ambiguous_alias",
            text=text[:60],
        )
    return _device_out(rows[0])


async def list_devices(
    principal: Principal,
    *,
    state: State | None = None,
    kind: DeviceKind | None = None,
    batch: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> DevicePage:
    """Devices the principal may see, filtered, oldest first."""
    page = min(max(page, 1), MAX_PAGE)
    page_size = min(max(page_size, 1), MAX_PAGE_SIZE)
    clauses = [c for c in (_visible(principal),) if c is not None]
    if state is not None:
        clauses.append(Device.state == state.value)
    if kind is not None:
        clauses.append(Device.kind == kind.value)
    if batch is not None:
        clauses.append(Device.batch.code == parse_code(batch, expected=CodeType.BATCH).compact)
    rows_query = (
        Device.select(*_OUT_COLUMNS).order_by(Device.id).limit(page_size).offset((page - 1) * page_size)
    )
    count_query = Device.count()
    for clause in clauses:
        rows_query = rows_query.where(clause)
        count_query = count_query.where(clause)
    rows = await rows_query
    total = await count_query
    return DevicePage(items=[_device_out(r) for r in rows], total=total, page=page, page_size=page_size)


async def count_in_states(states: Sequence[State]) -> dict[State, int]:
    """How many devices (of every organisation) are in each of these states."""
    rows = (
        await Device.select(Device.state, Count(alias="count"))
        .where(Device.state.is_in([s.value for s in states]))
        .group_by(Device.state)
    )
    return {State(r["state"]): r["count"] for r in rows}


async def counts_by_state(principal: Principal) -> dict[State, int]:
    """How many visible devices are in each state (every state listed, zeros included)."""
    query = Device.select(Device.state, Count(alias="count")).group_by(Device.state)
    visible = _visible(principal)
    if visible is not None:
        query = query.where(visible)
    counts = {State(r["state"]): r["count"] for r in await query}
    return {state: counts.get(state, 0) for state in State}


_EVENT_COLUMNS = (
    DeviceEvent.id,
    DeviceEvent.action,
    DeviceEvent.from_state,
    DeviceEvent.to_state,
    DeviceEvent.actor_name,
    DeviceEvent.organisation.name.as_alias("organisation_name"),
    DeviceEvent.station.code.as_alias("station_code"),
    DeviceEvent.payload,
    DeviceEvent.request_id,
    DeviceEvent.created_at,
)


def _event_out(row: Mapping[str, Any]) -> EventOut:
    payload = row["payload"]
    if isinstance(payload, str):
        payload = json.loads(payload)
    return EventOut(
        id=row["id"],
        action=row["action"],
        from_state=row["from_state"],
        to_state=row["to_state"],
        actor=row["actor_name"],
        organisation=row["organisation_name"],
        station=row["station_code"],
        payload=payload,
        request_id=row["request_id"],
        at=row["created_at"],
    )


async def events(code_text: str, principal: Principal) -> list[EventOut]:
    """The history of a device, oldest first (without names and notes for donors)."""
    row = await _select_one(parse_code(code_text, expected=CodeType.DEVICE), principal)
    rows = (
        await DeviceEvent.select(*_EVENT_COLUMNS)
        .where(DeviceEvent.device == row["id"])
        .order_by(DeviceEvent.id)
    )
    events_out = [_event_out(r) for r in rows]
    if principal.scoped_to_organisation:
        # A donor follows its devices, not the people handling them: workshop staff
        # (often insertion workers) stay unnamed and free-text notes stay inside.
        return [e.model_copy(update={"actor": e.organisation or "", "payload": {}}) for e in events_out]
    return events_out


async def _event_where(clause: Any) -> Mapping[str, Any] | None:
    return (
        await DeviceEvent.select(*_EVENT_COLUMNS)
        .where(clause)
        .order_by(DeviceEvent.id, ascending=False)
        .first()
    )


# --- writing -----------------------------------------------------------------


def _clean_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(payload, Mapping):
        raise BadInput(N_("The action payload must be a JSON object."), code="bad_payload")
    cleaned = dict(payload)
    reason = clean_reason(cleaned)
    if reason is None:
        cleaned.pop("reason", None)
    else:
        cleaned["reason"] = reason
    if len(json.dumps(cleaned, default=str)) > MAX_PAYLOAD_BYTES:
        raise BadInput(
            N_("The action payload is too large (at most {limit} bytes)."),
            code="bad_payload",
            limit=MAX_PAYLOAD_BYTES,
        )
    return cleaned


async def register(
    *,
    kind: DeviceKind | str,
    actor: Actor,
    manufacturer: str = "",
    model: str = "",
    serial: str | None = None,
    asset_tag: str | None = None,
    batch_id: int | None = None,
    custodian_id: int | None = None,
    location_id: int | None = None,
    state: State = State.DECLARED,
    reason: str | None = None,
    request_id: str | None = None,
    in_manifest: bool = True,
) -> DeviceOut:
    """Record a device and mint its D code, with its first event.

    A device normally starts `declared`. Placing it directly in a later state
    (bringing in devices tracked before Refurb, or demo data) needs a reason,
    and its history says so: the first event is an `import`, not a transition.
    """
    try:
        kind = DeviceKind(kind)
    except ValueError:
        raise BadInput(N_("'{kind}' is not a kind of device."), code="bad_kind", kind=kind) from None
    if state is not State.DECLARED and not (reason and reason.strip()):
        raise BadInput(N_("Importing a device in a later state needs a reason."), code="reason_required")
    payload: dict[str, Any] = {"reason": reason.strip()} if reason and reason.strip() else {}
    if not in_manifest:
        payload["in_manifest"] = False
    async with write_transaction():
        (code,) = await mint(CodeType.DEVICE, 1)
        rows = await Device.insert(
            Device(
                code=code.compact,
                kind=kind.value,
                manufacturer=manufacturer.strip(),
                model=model.strip(),
                serial=normal_serial(serial) or None if serial else None,
                asset_tag=normal_asset_tag(asset_tag) or None if asset_tag else None,
                batch=batch_id,
                custodian=custodian_id,
                location=location_id,
                state=state.value,
                version=1,
                in_manifest=in_manifest,
            )
        ).returning(Device.id)
        await DeviceEvent.insert(
            DeviceEvent(
                device=rows[0]["id"],
                action=DECLARE if state is State.DECLARED else IMPORT,
                from_state=None,
                to_state=state.value,
                actor=actor.user_id,
                actor_name=actor.name[:MAX_ACTOR_NAME],
                organisation=actor.organisation_id,
                payload=payload,
                request_id=request_id,
            )
        )
        row = await Device.select(*_OUT_COLUMNS).where(Device.id == rows[0]["id"]).first()
    assert row is not None
    return _device_out(row)


async def counts_by_batch(batch_code: str) -> int:
    """How many devices a batch holds."""
    code = parse_code(batch_code, expected=CodeType.BATCH)
    return await Device.count().where(Device.batch.code == code.compact)


async def codes_in_batch(batch_code: str, principal: Principal) -> list[str]:
    """The D codes of a batch's devices the principal may see, in registration order."""
    code = parse_code(batch_code, expected=CodeType.BATCH)
    query = Device.select(Device.code).where(Device.batch.code == code.compact).order_by(Device.id)
    visible = _visible(principal)
    if visible is not None:
        query = query.where(visible)
    return [row["code"] for row in await query]


async def stock_levels(states: Sequence[State], *, older_than: Any) -> list[dict[str, Any]]:
    """Devices in these states per kind, grade, OS and location: how many, since when, how many are old."""
    marks = ", ".join("{}" for _ in states)
    return await Device.raw(
        "SELECT kind, grade, os, location AS location_id, COUNT(*) AS count, "  # noqa: S608
        "MIN(stocked_at) AS oldest, SUM(CASE WHEN stocked_at < {} THEN 1 ELSE 0 END) AS old "
        f"FROM device WHERE state IN ({marks}) GROUP BY kind, grade, os, location ORDER BY location, kind",
        older_than,
        *[s.value for s in states],
    )


async def at_location(location_id: int, states: Sequence[State]) -> list[str]:
    """The codes of the devices recorded at a location in these states."""
    rows = await Device.select(Device.code).where(
        (Device.location == location_id) & Device.state.is_in([s.value for s in states])
    )
    return sorted(row["code"] for row in rows)


async def count_at(location_id: int, states: Sequence[State]) -> int:
    """How many devices in these states sit at a location."""
    return await Device.count().where(
        (Device.location == location_id) & Device.state.is_in([s.value for s in states])
    )


async def move(
    code_text: str,
    location_id: int,
    principal: Principal,
    *,
    station_id: int | None = None,
    request_id: str | None = None,
) -> bool:
    """Put a device in stock somewhere else; its history says from where to where. False if already there.

    Call it inside the write transaction that checked the new location's room.
    """
    row = await _select_one(parse_code(code_text, expected=CodeType.DEVICE), principal, lock=True)
    if row["location_id"] == location_id:
        return False
    now = utcnow()
    await Device.raw(
        "UPDATE device SET location = {}, updated_at = {} WHERE id = {}", location_id, now, row["id"]
    )
    target = await Device.raw("SELECT code FROM location WHERE id = {}", location_id)
    payload = json.dumps({"from": row["location_code"], "to": target[0]["code"]})
    state = State(row["state"])
    event = _event_row(row["id"], MOVE, state, state, Actor.of(principal), payload, request_id, now)
    await insert_many("device_event", _EVENT_COLUMNS_SQL, [(*event[:7], station_id, *event[8:])])
    return True


async def note_labels_printed(
    codes: list[str],
    payload: Mapping[str, Any],
    principal: Principal,
    *,
    station_id: int | None = None,
    request_id: str | None = None,
) -> int:
    """Add "label printed" to the history of these devices (no state change); returns how many."""
    if not codes:
        return 0
    rows = await Device.select(Device.id, Device.state).where(Device.code.is_in(codes))
    now = utcnow()
    events = [
        DeviceEvent(
            device=row["id"],
            action=LABEL_PRINTED,
            from_state=row["state"],
            to_state=row["state"],
            actor=principal.user_id,
            actor_name=principal.name[:MAX_ACTOR_NAME],
            organisation=principal.organisation_id,
            station=station_id,
            payload=dict(payload),
            request_id=request_id,
            created_at=now,
            updated_at=now,
        )
        for row in rows
    ]
    async with write_transaction():
        for start in range(0, len(events), 500):
            await DeviceEvent.insert(*events[start : start + 500])
    return len(events)


@dataclass(frozen=True, slots=True)
class TransitionResult:
    """What a transition did, for the API and the station page."""

    outcome: Literal["recorded", "already_recorded"]
    device: DeviceOut
    event: EventOut

    def out(self) -> TransitionOut:
        """The API representation."""
        return TransitionOut(outcome=self.outcome, device=self.device, event=self.event)


async def transition(
    code_text: str,
    action_name: str,
    payload: Mapping[str, Any],
    principal: Principal,
    *,
    station_id: int | None = None,
    station_code: str | None = None,
    request_id: str | None = None,
    idempotency_key: str | None = None,
    extras: Mapping[str, Any] | None = None,
) -> TransitionResult:
    """Apply a lifecycle action to a device, or refuse with a reason and change nothing."""
    code = parse_code(code_text, expected=CodeType.DEVICE)
    action = parse_action(action_name)
    payload = _clean_payload(payload)
    if principal.role not in TRANSITIONS[action].roles:
        plan(State.DECLARED, action, principal.role, payload)  # raises the role refusal
    payload_json = json.dumps(payload, default=str)
    guarded = bool(TRANSITIONS[action].checks) or action in _effects
    for _attempt in range(MAX_CAS_ATTEMPTS):
        try:
            async with _read_then_write(guarded):
                row = await _select_one(code, principal, lock=guarded)
                device = _device_row(row)
                done = await _already_done(device, action, payload, principal, idempotency_key)
                if done is not None:
                    return TransitionResult("already_recorded", _device_out(row), _event_out(done))
                step = plan(device.state, action, principal.role, payload)
                context = CheckContext(device, step, payload, principal, station_id, extras or {})
                for check in step.checks:
                    await _run_check(check, context)
                custodian_id, custodian_name = row["custodian_id"], row["custodian_name"]
                if action in TAKES_CUSTODY:
                    custodian_id, custodian_name = principal.organisation_id, principal.organisation_name
                elif action in ENDS_CUSTODY:
                    custodian_id, custodian_name = None, None
                now = utcnow()
                cas = (step.target.value, device.version + 1, custodian_id, now, device.id, device.version)
                event_values = (
                    action.value,
                    device.state.value,
                    step.target.value,
                    principal.user_id,
                    principal.name[:MAX_ACTOR_NAME],
                    principal.organisation_id,
                    station_id,
                    payload_json,
                    request_id,
                    idempotency_key,
                    now,
                    now,
                )
                inserted = await _compare_and_set(device.id, cas, event_values)
                if not inserted:
                    continue
                await _run_effects(action, [context])
                if action in PLACES:  # put away: the device is where the scanned location says
                    location = await stock.get_location(str(payload.get("location", "")))
                    await Device.raw(
                        "UPDATE device SET location = {}, stocked_at = {} WHERE id = {}",
                        location.id,
                        now,
                        device.id,
                    )
                    row = {**row, "location_id": location.id, "location_code": location.code}
        except UNIQUE_VIOLATIONS as error:
            if "unique" not in str(error).lower():
                raise
            continue  # a concurrent request with the same key won (its transaction rolled ours back)
        fresh = {
            **row,
            "state": step.target.value,
            "version": device.version + 1,
            "custodian_name": custodian_name,
            "updated_at": now,
        }
        event = EventOut(
            id=inserted,
            action=action.value,
            from_state=device.state,
            to_state=step.target,
            actor=principal.name[:MAX_ACTOR_NAME],
            organisation=principal.organisation_name,
            station=station_code,
            payload=payload,
            request_id=request_id,
            at=now,
        )
        return TransitionResult("recorded", _device_out(fresh), event)
    raise Conflict(
        N_("{ref} is being changed by someone else right now; scan it again."),
        code="device_busy",
        ref=code.display,
    )


def _read_then_write(guarded: bool) -> Any:
    """The transaction a transition runs in.

    SQLite: always one IMMEDIATE transaction. PostgreSQL: a transaction (with
    the device row locked) when checks run, so they see and lock their evidence
    consistently with the write; otherwise none is needed, as the
    compare-and-set and the event are one atomic statement.
    """
    return write_transaction() if is_sqlite() or guarded else contextlib.nullcontext()


async def _compare_and_set(device_id: int, cas: tuple[Any, ...], event: tuple[Any, ...]) -> int | None:
    """Move the device if its version is unchanged and record the event; the event id, or None if it lost."""
    if is_sqlite():
        if not await Device.raw(_CAS_SQL, *cas):
            return None
        rows = await DeviceEvent.raw(_EVENT_INSERT_SQL, device_id, *event)
    else:
        rows = await DeviceEvent.raw(_CAS_AND_EVENT_SQL, *cas, *event)
    return rows[0]["id"] if rows else None


async def _already_done(
    device: DeviceRow,
    action: Action,
    payload: Mapping[str, Any],
    principal: Principal,
    idempotency_key: str | None,
) -> Mapping[str, Any] | None:
    """The event that already did this, if the request repeats a done step.

    A device brought in directly in this state (an `import`) has the step done too.
    """
    if idempotency_key is not None:
        found = await DeviceEvent.raw(_KEYED_EVENT_SQL, device.id, principal.user_id, idempotency_key)
        prior = found[0] if found else None
        if prior is not None:
            if prior["action"] != action.value or _event_out(prior).payload != payload:
                raise BadInput(
                    N_("This Idempotency-Key was already used for a different request."),
                    code="idempotency_key_reused",
                )
            return prior
    if device.state is TRANSITIONS[action].target:
        found = await DeviceEvent.raw(_LAST_EVENT_SQL, device.id)
        last = found[0] if found else None
        if last is not None and last["action"] in (action.value, IMPORT):
            return last
    return None


# --- many devices at once (manifest imports, collection, closing a batch) ----------

_DEVICE_COLUMNS = (
    "code", "kind", "manufacturer", "model", "serial", "asset_tag", "batch", "custodian", "location",
    "state", "version", "in_manifest", "cpu", "ram", "storage", "created_at", "updated_at",
)  # fmt: skip
_EVENT_COLUMNS_SQL = (
    "device", "action", "from_state", "to_state", "actor", "actor_name", "organisation", "station",
    "payload", "request_id", "idempotency_key", "created_at", "updated_at",
)  # fmt: skip
_DESCRIBED = ("kind", "manufacturer", "model", "serial", "asset_tag", "cpu", "ram", "storage")
MAX_IDS_PER_STATEMENT = 900


@dataclass(frozen=True, slots=True)
class NewDevice:
    """What a manifest line (or an unexpected arrival) tells about a device."""

    kind: DeviceKind
    manufacturer: str = ""
    model: str = ""
    serial: str | None = None
    asset_tag: str | None = None
    cpu: str = ""
    ram: str = ""
    storage: str = ""
    in_manifest: bool = True


@dataclass(frozen=True, slots=True)
class DonorDevice:
    """A donor's device as an import matches it against a new file."""

    id: int
    code: str
    serial: str | None
    asset_tag: str | None
    batch_id: int
    state: State


def _event_row(device_id: int, action: str, source: State | None, target: State, actor: Actor,
               payload_json: str, request_id: str | None, now: Any) -> tuple[Any, ...]:  # fmt: skip
    return (
        device_id, action, source.value if source else None, target.value, actor.user_id,
        actor.name[:MAX_ACTOR_NAME], actor.organisation_id, None, payload_json, request_id, None, now, now,
    )  # fmt: skip


async def register_many(
    items: Sequence[NewDevice], *, batch_id: int, actor: Actor, request_id: str | None = None
) -> list[tuple[int, str]]:
    """Record declared devices and mint their D codes, one `declare` event each; (id, code) in order."""
    if not items:
        return []
    now = utcnow()
    async with write_transaction():
        codes = [code.compact for code in await mint(CodeType.DEVICE, len(items))]
        values = [
            (
                code,
                item.kind.value,
                item.manufacturer,
                item.model,
                normal_serial(item.serial or "") or None,
                normal_asset_tag(item.asset_tag or "") or None,
                batch_id,
                None,
                None,
                State.DECLARED.value,
                1,
                item.in_manifest,
                item.cpu,
                item.ram,
                item.storage,
                now,
                now,
            )
            for code, item in zip(codes, items, strict=True)
        ]
        inserted = await insert_many("device", _DEVICE_COLUMNS, values, returning="id, code")
        ids = {row["code"]: row["id"] for row in inserted}
        event = json.dumps({})
        await insert_many(
            "device_event",
            _EVENT_COLUMNS_SQL,
            [
                _event_row(ids[code], DECLARE, None, State.DECLARED, actor, event, request_id, now)
                for code in codes
            ],
        )
    return [(ids[code], code) for code in codes]


async def update_descriptions(updates: Sequence[tuple[int, NewDevice]]) -> int:
    """Rewrite what the donor says of devices (a corrected manifest); their state and history stay."""
    if not updates:
        return 0
    now = utcnow()
    cast = "CAST({} AS INTEGER), " + ", ".join(["CAST({} AS VARCHAR)"] * len(_DESCRIBED))
    plain = ", ".join(["{}"] * (len(_DESCRIBED) + 1))
    assignments = ", ".join(f"{name} = v.column{index + 2}" for index, name in enumerate(_DESCRIBED))
    per_statement = MAX_IDS_PER_STATEMENT // 3
    async with write_transaction():
        for start in range(0, len(updates), per_statement):
            chunk = updates[start : start + per_statement]
            rows = ", ".join([f"({cast})"] + [f"({plain})"] * (len(chunk) - 1))
            values: list[Any] = []
            for device_id, item in chunk:
                values += [
                    device_id, item.kind.value, item.manufacturer, item.model,
                    normal_serial(item.serial or "") or None, normal_asset_tag(item.asset_tag or "") or None,
                    item.cpu, item.ram, item.storage,
                ]  # fmt: skip
            await Device.raw(
                f"UPDATE device SET {assignments}, updated_at = {{}} FROM (VALUES {rows}) AS v "  # noqa: S608 - placeholders only
                "WHERE device.id = v.column1",
                now,
                *values,
            )
    return len(updates)


async def batch_devices(batch_id: int) -> list[DeviceRow]:
    """Every device of a batch, for work that covers all of them (certificates)."""
    rows = await Device.raw(
        "SELECT d.id, d.code, d.kind, d.state, d.version, d.batch AS batch_id, b.donor AS donor_id, "
        "d.location AS location_id FROM device d JOIN batch b ON b.id = d.batch "
        "WHERE d.batch = {} ORDER BY d.id",
        batch_id,
    )
    return [_device_row(row) for row in rows]


async def set_hardware(rows: Sequence[tuple[int, str, str, str]]) -> None:
    """What an inventory tool measured, `(device id, cpu, ram, storage)`, replaces what the donor declared.

    Empty values keep what was there. Runs inside the caller's write transaction.
    """
    rows = [
        (i, cpu[:200], ram[:100], storage[:200]) for i, cpu, ram, storage in rows if cpu or ram or storage
    ]
    await update_many("device", "id", ("cpu", "ram", "storage"), rows, keep_empty=True)


_FACTS = {"grade": 1, "os": 100, "cpu": 200, "ram": 100, "storage": 200}


async def set_facts(device_id: int, **facts: str | None) -> None:
    """What the workshop found or installed (grade, OS, specs): shown on labels and in stock levels.

    Only the facts given change. Runs inside the caller's write transaction.
    """
    unknown = set(facts) - set(_FACTS)
    if unknown:
        raise ValueError(f"not a device fact: {sorted(unknown)}")
    if not facts:
        return
    names = sorted(facts)
    values = [None if facts[n] is None else str(facts[n])[: _FACTS[n]] for n in names]
    assignments = ", ".join(f"{name} = {{}}" for name in names)
    await Device.raw(
        f"UPDATE device SET {assignments}, updated_at = {{}} WHERE id = {{}}",  # noqa: S608 - fixed names
        *values,
        utcnow(),
        device_id,
    )


async def get_facts(device_id: int) -> dict[str, str | None]:
    """What the workshop recorded of a device (grade, OS, specs), e.g. to preselect its licence."""
    rows = await Device.raw(
        f"SELECT {', '.join(sorted(_FACTS))} FROM device WHERE id = {{}}",  # noqa: S608 - fixed names
        device_id,
    )
    return dict(rows[0]) if rows else {}


async def events_since(action: str, since: Any) -> list[dict[str, Any]]:
    """Every `action` event since a moment, oldest first: device id and code, when, payload."""
    rows = await DeviceEvent.raw(
        "SELECT e.device AS device_id, d.code, e.created_at AS at, e.payload FROM device_event e "
        "JOIN device d ON d.id = e.device WHERE e.action = {} AND e.created_at >= {} ORDER BY e.id",
        action,
        since,
    )
    return [{**row, "payload": json_value(row["payload"])} for row in rows]


async def last_action_at(ids: Sequence[int], action: str) -> dict[int, Any]:
    """When each device last went through `action` (devices that never did are left out)."""
    found: dict[int, Any] = {}
    for chunk in chunked(ids):
        rows = await DeviceEvent.raw(
            "SELECT device, MAX(created_at) AS at FROM device_event "  # noqa: S608 - placeholders only
            f"WHERE action = {{}} AND device IN ({', '.join('{}' for _ in chunk)}) GROUP BY device",
            action,
            *chunk,
        )
        found.update({row["device"]: row["at"] for row in rows})
    return found


async def events_of(ids: Sequence[int], action: str) -> dict[int, list[tuple[Any, dict[str, Any]]]]:
    """Every `action` event of these devices, oldest first: when, and the payload."""
    found: dict[int, list[tuple[Any, dict[str, Any]]]] = {}
    for chunk in chunked(ids):
        rows = await DeviceEvent.raw(
            "SELECT device, created_at, payload FROM device_event "  # noqa: S608 - placeholders only
            f"WHERE action = {{}} AND device IN ({', '.join('{}' for _ in chunk)}) ORDER BY id",
            action,
            *chunk,
        )
        for row in rows:
            found.setdefault(row["device"], []).append((row["created_at"], json_value(row["payload"], {})))
    return found


async def find_by_serials(serials: Sequence[str], *, lock: bool = False) -> dict[str, DeviceRow]:
    """Devices by their manufacturer serial (normalised); a serial two devices share is left out.

    `lock` holds the rows until the caller's transaction ends.
    """
    suffix = " FOR UPDATE OF d" if lock and not is_sqlite() else ""
    wanted = sorted({normal_serial(s) for s in serials if s})
    found: dict[str, list[Mapping[str, Any]]] = {}
    for chunk in chunked(wanted):
        rows = await Device.raw(
            "SELECT d.id, d.code, d.kind, d.state, d.version, d.batch AS batch_id, b.donor AS donor_id, "  # noqa: S608
            "d.location AS location_id, d.serial FROM device d LEFT JOIN batch b ON b.id = d.batch "
            f"WHERE d.serial IN ({', '.join('{}' for _ in chunk)}) ORDER BY d.id{suffix}",
            *chunk,
        )
        for row in rows:
            found.setdefault(row["serial"], []).append(row)
    return {serial: _device_row(rows[0]) for serial, rows in found.items() if len(rows) == 1}


Admit = Callable[[list[DeviceRow]], Awaitable[Sequence[int]]]


async def transition_many(
    codes: Sequence[str],
    action_name: str,
    principal: Principal,
    *,
    admit: Admit,
    station_id: int | None = None,
    request_id: str | None = None,
) -> list[str]:
    """Apply one action to many devices at once; the codes that moved.

    For evidence that arrives in bulk (a folder of wiping reports): the devices
    in a source state are locked, `admit` — the area that owns the action's
    evidence, judging them all with a few queries in this same transaction —
    says which may move, and each of those gets its own event.
    """
    action = parse_action(action_name)
    rule = TRANSITIONS[action]
    plan(next(iter(rule.sources)), action, principal.role, {})
    actor = Actor.of(principal)
    now = utcnow()
    wanted = sorted({parse_code(c, expected=CodeType.DEVICE).compact for c in codes})
    moved: list[str] = []
    async with write_transaction():
        lock = "" if is_sqlite() else " FOR UPDATE OF d"
        states = [s.value for s in rule.sources]
        rows: list[Mapping[str, Any]] = []
        for chunk in chunked(wanted):
            rows += await Device.raw(
                "SELECT d.id, d.code, d.kind, d.state, d.version, d.batch AS batch_id, b.donor AS donor_id, "  # noqa: S608
                "d.location AS location_id FROM device d LEFT JOIN batch b ON b.id = d.batch "
                f"WHERE d.code IN ({', '.join('{}' for _ in chunk)}) "
                f"AND d.state IN ({', '.join('{}' for _ in states)}) ORDER BY d.id{lock}",
                *chunk,
                *states,
            )
        candidates = [_device_row(row) for row in rows]
        if principal.scoped_to_organisation:
            candidates = [d for d in candidates if d.donor_id == principal.organisation_id]
        admitted = set(await admit(candidates)) if candidates else set()
        events: list[tuple[Any, ...]] = []
        for source in rule.sources:
            ids = [d.id for d in candidates if d.id in admitted and d.state is source]
            for chunk in chunked(ids):
                changed = await Device.raw(
                    "UPDATE device SET state = {}, version = version + 1, updated_at = {} "  # noqa: S608
                    f"WHERE state = {{}} AND id IN ({', '.join('{}' for _ in chunk)}) RETURNING id, code",
                    rule.target.value,
                    now,
                    source.value,
                    *chunk,
                )
                for row in changed:
                    event = list(
                        _event_row(row["id"], action.value, source, rule.target, actor, "{}", request_id, now)
                    )
                    event[7] = station_id
                    events.append(tuple(event))
                    moved.append(row["code"])
        await insert_many("device_event", _EVENT_COLUMNS_SQL, events)
        moved_codes = set(moved)
        await _run_effects(
            action,
            [CheckContext(d, rule, {}, principal, station_id) for d in candidates if d.code in moved_codes],
        )
    return sorted(moved)


async def donor_devices(donor_id: int) -> list[DonorDevice]:
    """Every device a donor gave, as keys to match a manifest against."""
    rows = await Device.raw(
        "SELECT d.id, d.code, d.serial, d.asset_tag, d.batch, d.state FROM device d "
        "JOIN batch b ON b.id = d.batch WHERE b.donor = {}",
        donor_id,
    )
    return [
        DonorDevice(r["id"], r["code"], r["serial"], r["asset_tag"], r["batch"], State(r["state"]))
        for r in rows
    ]


async def find_in_batch(text: str, batch_id: int, principal: Principal) -> DeviceOut | None:
    """The batch's device carrying this asset tag or serial, or None."""
    try:
        return await find_by_alias(text, principal, batch_id=batch_id)
    except NotFound:
        return None


async def batch_census(batch_id: int) -> list[dict[str, Any]]:
    """Devices of a batch counted by kind, manifest flag, state and whether they were ever received."""
    rows = await Device.raw(
        "SELECT d.kind, d.in_manifest, d.state, "
        "EXISTS (SELECT 1 FROM device_event e WHERE e.device = d.id AND e.action = 'receive') AS received, "
        "COUNT(*) AS count FROM device d WHERE d.batch = {} "
        "GROUP BY d.kind, d.in_manifest, d.state, received",
        batch_id,
    )
    return [
        {**row, "in_manifest": bool(row["in_manifest"]), "received": bool(row["received"])} for row in rows
    ]


async def bulk_transition(
    batch_id: int,
    action_name: str,
    payload: Mapping[str, Any],
    principal: Principal,
    *,
    only: Sequence[str] | frozenset[str] | set[str] | None = None,
    request_id: str | None = None,
) -> int:
    """Apply an action to every device of a batch it applies to (in the `only` states); how many moved.

    For the steps that concern a batch as a whole (collecting it, closing it):
    each device gets its own event. The action's checks must depend on the
    batch only; they run once. Call it inside the caller's write transaction
    to tie it to the batch's own change.
    """
    action = parse_action(action_name)
    payload = _clean_payload(payload)
    rule = TRANSITIONS[action]
    plan(next(iter(rule.sources)), action, principal.role, payload)  # role and reason
    actor = Actor.of(principal)
    now = utcnow()
    payload_json = json.dumps(payload, default=str)
    moved = 0
    async with write_transaction():
        lock = "" if is_sqlite() else " FOR UPDATE OF d"
        sources = [s for s in rule.sources if only is None or s.value in only]
        states = [s.value for s in sources]
        if not states:
            return 0
        placeholders = ", ".join(["{}"] * len(states))
        rows = await Device.raw(
            "SELECT d.id, d.code, d.kind, d.state, d.version, d.batch AS batch_id, b.donor AS donor_id, "  # noqa: S608
            f"d.location AS location_id FROM device d JOIN batch b ON b.id = d.batch "
            f"WHERE d.batch = {{}} AND d.state IN ({placeholders}) ORDER BY d.id{lock}",
            batch_id,
            *states,
        )
        if not rows:
            return 0
        first = _device_row(rows[0])
        step = plan(first.state, action, principal.role, payload)
        for check in step.checks:
            await _run_check(check, CheckContext(first, step, payload, principal))
        custody = "custodian = {}, " if action in TAKES_CUSTODY | ENDS_CUSTODY else ""
        custodian = [principal.organisation_id if action in TAKES_CUSTODY else None] if custody else []
        events: list[tuple[Any, ...]] = []
        for source in sources:
            ids = [r["id"] for r in rows if r["state"] == source.value]
            for start in range(0, len(ids), MAX_IDS_PER_STATEMENT):
                chunk = ids[start : start + MAX_IDS_PER_STATEMENT]
                marks = ", ".join(["{}"] * len(chunk))
                changed = await Device.raw(
                    f"UPDATE device SET state = {{}}, version = version + 1, {custody}updated_at = {{}} "  # noqa: S608
                    f"WHERE state = {{}} AND id IN ({marks}) RETURNING id",
                    rule.target.value,
                    *custodian,
                    now,
                    source.value,
                    *chunk,
                )
                events += [
                    _event_row(
                        r["id"], action.value, source, rule.target, actor, payload_json, request_id, now
                    )
                    for r in changed
                ]
        await insert_many("device_event", _EVENT_COLUMNS_SQL, events)
        moved_ids = {event[0] for event in events}
        await _run_effects(
            action,
            [CheckContext(_device_row(r), step, payload, principal) for r in rows if r["id"] in moved_ids],
        )
        moved = len(events)
    return moved
