"""The ONE writer of device state: compare-and-set plus one event per device, for one device or many.

Every state change goes through `_write`: the lifecycle plans each device
(role, source state, reason), every check of the action runs for every device
(an area's bulk form judges many at once), the compare-and-set moves the
devices that passed, each gets its own event row, and the action's effects
follow — all in the caller's transaction. Four doors lead to it:
- `transition`: one device (a scan, an API call), with idempotency and retries;
- `transition_many`: devices whose evidence arrived in bulk (a folder of
  wiping reports); those a check refuses simply stay where they are;
- `transition_batch`: a batch as a whole (collecting, closing); one refusal
  refuses them all;
- `transition_each`: many devices, each with its own payload (a coordinator's
  "match all" reserves each device for its own allocation); those a check
  refuses stay where they are.
A repeated request for a done step answers "already recorded", not an error
and not a second event.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from refurb.core.codes import CodeType, parse_code
from refurb.core.errors import BadInput, Conflict, DomainError
from refurb.core.i18n import N_
from refurb.core.lifecycle import (
    ENDS_CUSTODY,
    TAKES_CUSTODY,
    TRANSITIONS,
    Action,
    State,
    clean_reason,
    parse_action,
    plan,
    require_role,
)
from refurb.core.principal import Principal
from refurb.db import UNIQUE_VIOLATIONS, chunked, fetch, insert_many, is_sqlite, write_transaction
from refurb.devices.model import Actor, CheckContext, DeviceRow, TransitionResult
from refurb.devices.queries import (
    DEVICE_COLUMNS,
    IMPORT,
    KEYED_EVENT_SQL,
    LAST_EVENT_SQL,
    ROW_COLUMNS,
    device_outs,
    device_row,
    event_outs,
    select_one,
)
from refurb.devices.records import EVENT_COLUMNS, event_values
from refurb.devices.registry import has_effects, refusals, run_effects
from refurb.devices.schemas import EventOut
from refurb.timestamps import utcnow

__all__ = ("clean_payload", "transition", "transition_batch", "transition_each", "transition_many")

MAX_CAS_ATTEMPTS = 5
MAX_PAYLOAD_BYTES = 16_384

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
# PostgreSQL, an action without checks: find the device by its code in a source
# state, move it on its version, record the event and read the row back, in ONE statement.
# The final SELECT sees the row as it was (a statement's snapshot): the caller applies the move.
# No row: unknown, another state, already done or a concurrent change — the careful path says which.
_FIND_MOVE_AND_EVENT_SQL = """
WITH found AS (
  SELECT id, state, version FROM device WHERE code = {{}} AND state IN ({sources})
), moved AS (
  UPDATE device SET state = {{}}, version = device.version + 1, custodian = {custodian}, updated_at = {{}}
  FROM found WHERE device.id = found.id AND device.version = found.version
  RETURNING device.id, found.state
), event AS (
  INSERT INTO device_event (device, action, from_state, to_state, actor, actor_name, organisation, station,
                            payload, request_id, idempotency_key, created_at, updated_at)
  SELECT moved.id, {{}}::varchar, moved.state, {{}}::varchar, {{}}::integer, {{}}::varchar, {{}}::integer,
         {{}}::integer, {{}}::json, {{}}::varchar, {{}}::varchar, {{}}::timestamptz, {{}}::timestamptz
  FROM moved
  RETURNING id, device
)
SELECT {columns}, event.id AS event_id
FROM device d
JOIN event ON event.device = d.id
LEFT JOIN organisation o ON o.id = d.custodian"""
# SQLite (no UPDATE inside WITH): the same two writes inside an IMMEDIATE transaction.
_CAS_SQL = """
UPDATE device SET state = {}, version = {}, custodian = {}, updated_at = {}
WHERE id = {} AND version = {}
RETURNING id"""
_EVENT_INSERT_SQL = f"""
INSERT INTO device_event ({", ".join(EVENT_COLUMNS)})
VALUES ({", ".join("{}" for _ in EVENT_COLUMNS)})
RETURNING id"""  # noqa: S608 - fixed columns


def clean_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload as stored: a JSON object, its reason stripped, not too large."""
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


@dataclass(frozen=True, slots=True)
class _Moved:
    """A device the writer moved: its row before, its event, what its effects changed."""

    row: Mapping[str, Any]
    device: DeviceRow
    event_id: int | None
    custodian_id: int | None
    changes: Mapping[str, Any]


def _custodian(action: Action, principal: Principal, current: int | None) -> int | None:
    if action in TAKES_CUSTODY:
        return principal.organisation_id
    if action in ENDS_CUSTODY:
        return None
    return current


async def _write(
    rows: Sequence[Mapping[str, Any]],
    action: Action,
    payload: dict[str, Any],
    principal: Principal,
    *,
    all_or_nothing: bool,
    station_id: int | None = None,
    request_id: str | None = None,
    idempotency_key: str | None = None,
    extras: Mapping[str, Any] | None = None,
    payloads: Mapping[int, dict[str, Any]] | None = None,
) -> list[_Moved]:
    """Plan, check, compare-and-set and record each device, then run the effects; in the caller's transaction.

    `all_or_nothing`: the first refusal is raised; otherwise refused devices stay.
    `payloads`: a device's own payload (by device id) instead of the shared `payload`.
    One device is moved on its version (a concurrent change makes it lose:
    nothing returned, the caller retries); many are locked by the caller and
    moved per source state.
    """
    contexts = []
    for row in rows:
        device = device_row(row)
        own = payloads.get(device.id, payload) if payloads else payload
        step = plan(device.state, action, principal.role, own)
        contexts.append(CheckContext(device, step, own, principal, station_id, extras or {}))
    refused: dict[int, DomainError] = {}
    for check in TRANSITIONS[action].checks:
        pending = [c for c in contexts if c.device.id not in refused]
        if not pending:
            break
        found = await refusals(check, pending)
        if found and all_or_nothing:
            raise found[next(c.device.id for c in pending if c.device.id in found)]
        refused.update(found)
    admitted = [(row, c) for row, c in zip(rows, contexts, strict=True) if c.device.id not in refused]
    if not admitted:
        return []
    target = TRANSITIONS[action].target
    actor, now = Actor.of(principal), utcnow()
    payload_json = json.dumps(payload, default=str)

    def json_of(device_id: int) -> str:
        own = payloads.get(device_id) if payloads else None
        return payload_json if own is None else json.dumps(own, default=str)

    moved: list[_Moved] = []
    if len(admitted) == 1:
        row, context = admitted[0]
        device = context.device
        custodian = _custodian(action, principal, row.get("custodian_id"))
        cas = (target.value, device.version + 1, custodian, now, device.id, device.version)
        event = event_values(
            device.id, action.value, device.state, target, actor, json_of(device.id), now,
            station_id=station_id, request_id=request_id, idempotency_key=idempotency_key,
        )  # fmt: skip
        event_id = await _compare_and_set(cas, event)
        if event_id is None:
            return []
        moved.append(_Moved(row, device, event_id, custodian, {}))
    else:
        custody = action in TAKES_CUSTODY | ENDS_CUSTODY
        custodian = _custodian(action, principal, None)
        events = []
        by_id = {c.device.id: (row, c) for row, c in admitted}
        for source in sorted({c.device.state for _, c in admitted}):
            ids = [c.device.id for _, c in admitted if c.device.state is source]
            for chunk in chunked(ids):
                changed = await fetch(
                    "UPDATE device SET state = {}, version = version + 1, "  # noqa: S608 - placeholders only
                    + ("custodian = {}, " if custody else "")
                    + f"updated_at = {{}} WHERE state = {{}} AND id IN ({', '.join('{}' for _ in chunk)}) "
                    "RETURNING id",
                    target.value,
                    *([custodian] if custody else []),
                    now,
                    source.value,
                    *chunk,
                )
                for item in changed:
                    row, context = by_id[item["id"]]
                    kept = custodian if custody else row.get("custodian_id")
                    moved.append(_Moved(row, context.device, None, kept, {}))
                    events.append(
                        event_values(
                            item["id"],
                            action.value,
                            source,
                            target,
                            actor,
                            json_of(item["id"]),
                            now,
                            station_id=station_id,
                            request_id=request_id,
                        )
                    )
        await insert_many("device_event", EVENT_COLUMNS, events)
    moved_ids = {m.device.id for m in moved}
    changes = await run_effects(action, [c for _, c in admitted if c.device.id in moved_ids])
    return [_Moved(m.row, m.device, m.event_id, m.custodian_id, changes.get(m.device.id, {})) for m in moved]


async def _compare_and_set(cas: tuple[Any, ...], event: tuple[Any, ...]) -> int | None:
    """Move one device if its version is unchanged and record the event; the event id, or None if it lost."""
    if is_sqlite():
        if not await fetch(_CAS_SQL, *cas):
            return None
        rows = await fetch(_EVENT_INSERT_SQL, *event)
    else:
        rows = await fetch(_CAS_AND_EVENT_SQL, *cas, *event[1:])
    return rows[0]["id"] if rows else None


def _find_move_and_event_sql(action: Action) -> str:
    if action in TAKES_CUSTODY:
        custodian = "{}"
    elif action in ENDS_CUSTODY:
        custodian = "NULL"
    else:
        custodian = "device.custodian"
    sources = ", ".join("{}" for _ in TRANSITIONS[action].sources)
    return _FIND_MOVE_AND_EVENT_SQL.format(sources=sources, custodian=custodian, columns=DEVICE_COLUMNS)


def _one_statement_will_do(
    action: Action, payload: Mapping[str, Any], principal: Principal, idempotency_key: str | None
) -> bool:
    """No check to ask, no key to compare, no donor scope, a reason if one is needed: PostgreSQL only."""
    if TRANSITIONS[action].checks or is_sqlite() or idempotency_key or principal.scoped_to_organisation:
        return False
    return not TRANSITIONS[action].reason_required or clean_reason(payload) is not None


async def _in_one_statement(
    code: str,
    action: Action,
    payload: dict[str, Any],
    principal: Principal,
    station_id: int | None,
    request_id: str | None,
    extras: Mapping[str, Any] | None,
) -> _Moved | None:
    """The device moved by one statement, then its effects (PostgreSQL, no checks); None: the careful path.

    The statement's UPDATE holds the row to the end of the caller's transaction, as the
    careful path's SELECT … FOR UPDATE does.
    """
    target = TRANSITIONS[action].target
    custodian = [principal.organisation_id] if action in TAKES_CUSTODY else []
    actor, now = Actor.of(principal), utcnow()
    event = event_values(
        0, action.value, None, target, actor, json.dumps(payload, default=str), now,
        station_id=station_id, request_id=request_id,
    )  # fmt: skip
    rows = await fetch(
        _find_move_and_event_sql(action),
        code,
        *(s.value for s in TRANSITIONS[action].sources),
        target.value,
        *custodian,
        now,
        event[1],
        *event[3:],
    )
    if not rows:
        return None
    row = rows[0]
    device = device_row(row)
    new_custodian = _custodian(action, principal, row["custodian_id"])
    changes: Mapping[str, Any] = {}
    if has_effects(action):
        step = plan(device.state, action, principal.role, payload)
        context = CheckContext(device, step, payload, principal, station_id, extras or {})
        changes = (await run_effects(action, [context])).get(device.id, {})
    return _Moved(row, device, row["event_id"], new_custodian, changes)


def _read_then_write(guarded: bool) -> Any:
    """The transaction a transition runs in.

    SQLite: always one IMMEDIATE transaction. PostgreSQL: a transaction (with
    the device row locked) when checks or effects run, so they see and lock
    their evidence consistently with the write; otherwise none is needed, as
    the compare-and-set and the event are one atomic statement.
    """
    return write_transaction() if is_sqlite() or guarded else contextlib.nullcontext()


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
    payload = clean_payload(payload)
    require_role(action, principal.role)
    guarded = bool(TRANSITIONS[action].checks) or has_effects(action)
    if _one_statement_will_do(action, payload, principal, idempotency_key):
        async with _read_then_write(guarded):  # effects share the move's transaction
            moved_now = await _in_one_statement(
                code.compact, action, payload, principal, station_id, request_id, extras
            )
        if moved_now is not None:
            return await _result(moved_now, action, payload, principal, station_code, request_id)
    for _attempt in range(MAX_CAS_ATTEMPTS):
        try:
            async with _read_then_write(guarded):
                row = await select_one(code, principal, lock=guarded)
                device = device_row(row)
                done = await _already_done(device, action, payload, principal, idempotency_key)
                if done is not None:
                    (out,) = await device_outs([row])
                    (event,) = await event_outs([done])
                    return TransitionResult("already_recorded", out, event)
                moved = await _write(
                    [row], action, payload, principal, all_or_nothing=True, station_id=station_id,
                    request_id=request_id, idempotency_key=idempotency_key, extras=extras,
                )  # fmt: skip
        except UNIQUE_VIOLATIONS as error:
            if "unique" not in str(error).lower():
                raise
            continue  # a concurrent request with the same key won (its transaction rolled ours back)
        if not moved:
            continue
        return await _result(moved[0], action, payload, principal, station_code, request_id)
    raise Conflict(
        N_("{ref} is being changed by someone else right now; scan it again."),
        code="device_busy",
        ref=code.display,
    )


async def _result(
    moved: _Moved,
    action: Action,
    payload: Mapping[str, Any],
    principal: Principal,
    station_code: str | None,
    request_id: str | None,
) -> TransitionResult:
    target = TRANSITIONS[action].target
    row = moved.row
    custodian_name = row["custodian_name"]
    if moved.custodian_id != row.get("custodian_id"):
        custodian_name = principal.organisation_name if moved.custodian_id is not None else None
    now = utcnow()
    fresh = {
        **row,
        **moved.changes,
        "state": target.value,
        "version": moved.device.version + 1,
        "custodian_id": moved.custodian_id,
        "custodian_name": custodian_name,
        "updated_at": now,
    }
    (out,) = await device_outs([fresh])
    event = EventOut(
        id=moved.event_id or 0,
        action=action.value,
        from_state=moved.device.state,
        to_state=target,
        actor=principal.name[:80],
        organisation=principal.organisation_name,
        station=station_code,
        payload=dict(payload),
        request_id=request_id,
        at=now,
    )
    return TransitionResult("recorded", out, event)


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
        found = await fetch(KEYED_EVENT_SQL, device.id, principal.user_id, idempotency_key)
        prior = found[0] if found else None
        if prior is not None:
            stored = prior["payload"]
            if isinstance(stored, str):
                stored = json.loads(stored)
            if prior["action"] != action.value or stored != payload:
                raise BadInput(
                    N_("This Idempotency-Key was already used for a different request."),
                    code="idempotency_key_reused",
                )
            return prior
    if device.state is TRANSITIONS[action].target:
        found = await fetch(LAST_EVENT_SQL, device.id)
        last = found[0] if found else None
        if last is not None and last["action"] in (action.value, IMPORT):
            return last
    return None


async def _locked_rows(where: str, *values: Any) -> list[Mapping[str, Any]]:
    lock = "" if is_sqlite() else " FOR UPDATE OF d"
    return await fetch(
        f"SELECT {ROW_COLUMNS}, d.custodian AS custodian_id FROM device d WHERE {where} ORDER BY d.id{lock}",  # noqa: S608
        *values,
    )


async def _movable(codes: Sequence[str], action: Action, principal: Principal) -> list[Mapping[str, Any]]:
    """The devices among `codes` (sorted) in a source state of `action` that `principal` may see, locked."""
    states = [s.value for s in TRANSITIONS[action].sources]
    rows: list[Mapping[str, Any]] = []
    for chunk in chunked(codes):
        codes_in = ", ".join("{}" for _ in chunk)
        states_in = ", ".join("{}" for _ in states)
        rows += await _locked_rows(f"d.code IN ({codes_in}) AND d.state IN ({states_in})", *chunk, *states)
    if principal.scoped_to_organisation:
        rows = [r for r in rows if r["donor_id"] == principal.organisation_id]
    return rows


async def transition_many(
    codes: Sequence[str],
    action_name: str,
    principal: Principal,
    *,
    payload: Mapping[str, Any] | None = None,
    station_id: int | None = None,
    request_id: str | None = None,
) -> list[str]:
    """Apply one action to the devices among `codes` it can move; the codes that moved.

    For evidence that arrives in bulk (a folder of wiping reports): devices in
    another state, or that a check refuses, stay as they are, silently — the
    caller shows each device's own status. Runs in the caller's transaction, if any.
    """
    action = parse_action(action_name)
    require_role(action, principal.role)
    cleaned = clean_payload(payload or {})
    wanted = sorted({parse_code(c, expected=CodeType.DEVICE).compact for c in codes})
    async with write_transaction():
        rows = await _movable(wanted, action, principal)
        moved = await _write(
            rows,
            action,
            cleaned,
            principal,
            all_or_nothing=False,
            station_id=station_id,
            request_id=request_id,
        )
    return sorted(m.device.code for m in moved)


async def transition_batch(
    batch_id: int,
    action_name: str,
    payload: Mapping[str, Any],
    principal: Principal,
    *,
    only: Sequence[State] | None = None,
    request_id: str | None = None,
) -> int:
    """Apply an action to every device of a batch in its source states (or `only` these); how many moved.

    For the steps that concern a batch as a whole (collecting it, closing it):
    each device is checked and gets its own event, and one refusal refuses
    all. Call it inside the caller's write transaction to tie it to the
    batch's own change.
    """
    action = parse_action(action_name)
    require_role(action, principal.role)
    cleaned = clean_payload(payload)
    states = [s.value for s in TRANSITIONS[action].sources if only is None or s in only]
    if not states:
        return 0
    async with write_transaction():
        rows = await _locked_rows(
            f"d.batch = {{}} AND d.state IN ({', '.join('{}' for _ in states)})", batch_id, *states
        )
        moved = await _write(rows, action, cleaned, principal, all_or_nothing=True, request_id=request_id)
    return len(moved)


async def transition_each(
    items: Sequence[tuple[str, Mapping[str, Any]]],
    action_name: str,
    principal: Principal,
    *,
    request_id: str | None = None,
) -> list[str]:
    """Apply one action to many devices, each with its own payload, in one transaction; the codes that moved.

    For evidence that differs per device (a "match all" reserves each device for
    its own allocation): the checks judge each device on its own payload, each
    moved device gets its own event with it, and devices in another state (taken
    meanwhile) or that a check refuses stay as they are — the caller finds out
    which from the codes returned. A device named twice is refused, nothing moved.
    """
    action = parse_action(action_name)
    require_role(action, principal.role)
    by_code: dict[str, dict[str, Any]] = {}
    for code_text, payload in items:
        code = parse_code(code_text, expected=CodeType.DEVICE)
        if code.compact in by_code:
            raise BadInput(N_("{ref} is named twice."), code="device_repeated", ref=code.display)
        by_code[code.compact] = clean_payload(payload)
    async with write_transaction():
        rows = await _movable(sorted(by_code), action, principal)
        moved = await _write(
            rows, action, {}, principal, all_or_nothing=False, request_id=request_id,
            payloads={row["id"]: by_code[row["code"]] for row in rows},
        )  # fmt: skip
    return sorted(m.device.code for m in moved)
