"""What is recorded of a device besides its state: registration, descriptions, facts, place, notes.

None of these change a device's state (only `transitions` does); those that
belong in its history add an event whose from and to states are the same.
Events are built in one place (`event_values`) for every writer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from refurb.codes.service import mint
from refurb.core.aliases import normal_asset_tag, normal_serial
from refurb.core.codes import CodeType, parse_code
from refurb.core.errors import BadInput
from refurb.core.i18n import N_
from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import State
from refurb.core.principal import Principal
from refurb.db import fetch, insert_many, update_many, write_transaction
from refurb.devices.model import Actor, NewDevice
from refurb.devices.queries import FACTS, IMPORT, outs_by_id, select_one
from refurb.devices.registry import codes_of
from refurb.devices.schemas import DeviceOut
from refurb.devices.tables import Device
from refurb.timestamps import utcnow

__all__ = (
    "DECLARE",
    "EVENT_COLUMNS",
    "LABEL_PRINTED",
    "MOVE",
    "event_values",
    "move",
    "note_labels_printed",
    "place",
    "register",
    "register_many",
    "set_facts",
    "set_hardware",
    "update_descriptions",
)

MAX_ACTOR_NAME = 80  # DeviceEvent.actor_name
DECLARE = "declare"
MOVE = "move"  # a note in the history: the device changed location, not state
LABEL_PRINTED = "label_printed"  # a note in the history: the state does not change
EVENT_COLUMNS = (
    "device", "action", "from_state", "to_state", "actor", "actor_name", "organisation", "station",
    "payload", "request_id", "idempotency_key", "created_at", "updated_at",
)  # fmt: skip
_DEVICE_COLUMNS = (
    "code", "kind", "manufacturer", "model", "serial", "asset_tag", "batch", "donor", "custodian",
    "location", "state", "version", "in_manifest", "cpu", "ram", "storage", "created_at", "updated_at",
)  # fmt: skip
_DESCRIBED = ("kind", "manufacturer", "model", "serial", "asset_tag", "cpu", "ram", "storage")
MAX_IDS_PER_STATEMENT = 900


def event_values(
    device_id: int,
    action: str,
    source: State | None,
    target: State,
    actor: Actor,
    payload_json: str,
    now: Any,
    *,
    station_id: int | None = None,
    request_id: str | None = None,
    idempotency_key: str | None = None,
) -> tuple[Any, ...]:
    """One `device_event` row in `EVENT_COLUMNS` order: every writer builds its events here."""
    return (
        device_id, action, source.value if source else None, target.value, actor.user_id,
        actor.name[:MAX_ACTOR_NAME], actor.organisation_id, station_id, payload_json, request_id,
        idempotency_key, now, now,
    )  # fmt: skip


async def register(
    *,
    kind: DeviceKind | str,
    actor: Actor,
    manufacturer: str = "",
    model: str = "",
    serial: str | None = None,
    asset_tag: str | None = None,
    batch_id: int | None = None,
    donor_id: int | None = None,
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
    now = utcnow()
    async with write_transaction():
        (code,) = await mint(CodeType.DEVICE, 1)
        values = (
            code.compact, kind.value, manufacturer.strip(), model.strip(),
            normal_serial(serial) or None if serial else None,
            normal_asset_tag(asset_tag) or None if asset_tag else None,
            batch_id, donor_id, custodian_id, location_id, state.value, 1, in_manifest, "", "", "", now, now,
        )  # fmt: skip
        (row,) = await insert_many("device", _DEVICE_COLUMNS, [values], returning="id")
        action = DECLARE if state is State.DECLARED else IMPORT
        event = event_values(
            row["id"], action, None, state, actor, json.dumps(payload), now, request_id=request_id
        )
        await insert_many("device_event", EVENT_COLUMNS, [event])
    return (await outs_by_id([row["id"]]))[0]


async def register_many(
    items: Sequence[NewDevice],
    *,
    batch_id: int,
    donor_id: int | None,
    actor: Actor,
    request_id: str | None = None,
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
                donor_id,
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
        await insert_many(
            "device_event",
            EVENT_COLUMNS,
            [
                event_values(
                    ids[code], DECLARE, None, State.DECLARED, actor, "{}", now, request_id=request_id
                )
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
            await fetch(
                f"UPDATE device SET {assignments}, updated_at = {{}} FROM (VALUES {rows}) AS v "  # noqa: S608 - placeholders only
                "WHERE device.id = v.column1",
                now,
                *values,
            )
    return len(updates)


async def set_hardware(rows: Sequence[tuple[int, str, str, str]]) -> None:
    """What an inventory tool measured, `(device id, cpu, ram, storage)`, replaces what the donor declared.

    Empty values keep what was there. Runs inside the caller's write transaction.
    """
    rows = [
        (i, cpu[:200], ram[:100], storage[:200]) for i, cpu, ram, storage in rows if cpu or ram or storage
    ]
    await update_many("device", "id", ("cpu", "ram", "storage"), rows, keep_empty=True)


async def set_facts(device_id: int, **facts: str | None) -> None:
    """What the workshop found or installed (grade, OS, specs): shown on labels and in stock levels.

    Only the facts given change. Runs inside the caller's write transaction.
    """
    unknown = set(facts) - set(FACTS)
    if unknown:
        raise ValueError(f"not a device fact: {sorted(unknown)}")
    if not facts:
        return
    names = sorted(facts)
    values = [None if facts[n] is None else str(facts[n])[: FACTS[n]] for n in names]
    assignments = ", ".join(f"{name} = {{}}" for name in names)
    await fetch(
        f"UPDATE device SET {assignments}, updated_at = {{}} WHERE id = {{}}",  # noqa: S608 - fixed names
        *values,
        utcnow(),
        device_id,
    )


async def place(device_id: int, location_id: int, *, stocked_at: Any) -> None:
    """Where a device sits in stock from now on (the stock area's put-away, in its transaction)."""
    await fetch(
        "UPDATE device SET location = {}, stocked_at = {} WHERE id = {}", location_id, stocked_at, device_id
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
    row = await select_one(parse_code(code_text, expected=CodeType.DEVICE), principal, lock=True)
    if row["location_id"] == location_id:
        return False
    now = utcnow()
    await fetch("UPDATE device SET location = {}, updated_at = {} WHERE id = {}", location_id, now, row["id"])
    codes = await codes_of("location", [row["location_id"], location_id])
    payload = json.dumps({"from": codes.get(row["location_id"]), "to": codes.get(location_id)})
    state = State(row["state"])
    event = event_values(
        row["id"],
        MOVE,
        state,
        state,
        Actor.of(principal),
        payload,
        now,
        station_id=station_id,
        request_id=request_id,
    )
    await insert_many("device_event", EVENT_COLUMNS, [event])
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
    actor, payload_json = Actor.of(principal), json.dumps(dict(payload), default=str)
    events = [
        event_values(
            row["id"],
            LABEL_PRINTED,
            State(row["state"]),
            State(row["state"]),
            actor,
            payload_json,
            now,
            station_id=station_id,
            request_id=request_id,
        )
        for row in rows
    ]
    async with write_transaction():
        await insert_many("device_event", EVENT_COLUMNS, events)
    return len(events)
