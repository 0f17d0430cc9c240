"""Reading devices and their history, for the areas, the API and the pages.

The hot path (every scan) reads with plain SQL: Piccolo's query builder costs
more CPU than the database round trip itself. The spine joins only its own
tables and the accounts' organisations; the codes of a device's batch and
location and of an event's station come from the areas that own them
(`registry.codes_of`, cached).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from piccolo.query.functions.aggregate import Count

from refurb.core.aliases import normal_asset_tag, normal_serial
from refurb.core.codes import Code, CodeType, parse_code
from refurb.core.errors import Conflict, DomainError, NotFound
from refurb.core.i18n import N_
from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import State
from refurb.core.principal import Principal
from refurb.db import chunked, fetch, is_sqlite, json_value
from refurb.devices.model import DeviceRow, DonorDevice
from refurb.devices.registry import codes_of, id_of
from refurb.devices.schemas import DeviceOut, DevicePage, EventOut
from refurb.devices.tables import Device

__all__ = (
    "DEFAULT_PAGE_SIZE",
    "IMPORT",
    "MAX_PAGE",
    "MAX_PAGE_SIZE",
    "MAX_SEARCH",
    "batch_census",
    "batch_devices",
    "codes_in_batch",
    "count_in_states",
    "counts_by_batch",
    "counts_by_state",
    "device_out",
    "device_outs",
    "device_ref",
    "device_refs",
    "device_row",
    "donor_devices",
    "event_out",
    "events",
    "events_of",
    "events_since",
    "find_by_alias",
    "find_by_serials",
    "find_in_batch",
    "get",
    "get_facts",
    "last_action_at",
    "list_devices",
    "outs_by_id",
    "select_one",
    "states_of",
    "visible",
)

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
MAX_PAGE = 100_000
IMPORT = "import"
FACTS = {"grade": 1, "os": 100, "cpu": 200, "ram": 100, "storage": 200}

#: The keys of a device, as `DeviceRow` needs them (prefix `d`).
ROW_COLUMNS = (
    "d.id, d.code, d.kind, d.state, d.version, d.batch AS batch_id, d.donor AS donor_id, "
    "d.location AS location_id"
)
#: A device row as the services read it (`d` the device, `o` its custodian organisation).
DEVICE_COLUMNS = f"""{ROW_COLUMNS}, d.manufacturer, d.model, d.serial, d.asset_tag, d.in_manifest,
       d.cpu, d.ram,
       d.storage, d.grade, d.os, d.created_at, d.updated_at,
       d.custodian AS custodian_id, o.name AS custodian_name"""
_DEVICE_SQL = f"""
SELECT {DEVICE_COLUMNS}
FROM device d
LEFT JOIN organisation o ON o.id = d.custodian
WHERE d.code = {{}}"""  # noqa: S608 - fixed columns
_DEVICE_SQL_SCOPED = _DEVICE_SQL + " AND d.donor = {}"
_EVENT_SQL = """
SELECT e.id, e.action, e.from_state, e.to_state, e.actor_name, o.name AS organisation_name,
       e.station AS station_id, e.payload, e.request_id, e.created_at
FROM device_event e
LEFT JOIN organisation o ON o.id = e.organisation
WHERE e.device = {}"""
LAST_EVENT_SQL = _EVENT_SQL + " AND e.action <> 'label_printed' ORDER BY e.id DESC LIMIT 1"
KEYED_EVENT_SQL = _EVENT_SQL + " AND e.actor = {} AND e.idempotency_key = {} ORDER BY e.id DESC LIMIT 1"

_OUT_COLUMNS = (
    Device.id,
    Device.code,
    Device.kind,
    Device.manufacturer,
    Device.model,
    Device.serial,
    Device.asset_tag,
    Device.batch.as_alias("batch_id"),
    Device.donor.as_alias("donor_id"),
    Device.custodian.as_alias("custodian_id"),
    Device.custodian.name.as_alias("custodian_name"),
    Device.location.as_alias("location_id"),
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


def visible(principal: Principal) -> Any:
    """The where-clause limiting a principal to the devices they may know about."""
    if principal.scoped_to_organisation:
        return Device.donor == principal.organisation_id
    return None


def device_row(row: Mapping[str, Any]) -> DeviceRow:
    """The keys of a device row read with `ROW_COLUMNS`."""
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


def device_out(row: Mapping[str, Any], batches: Mapping[int, str], locations: Mapping[int, str]) -> DeviceOut:
    """The API form of a device row, with the codes of its batch and location."""
    code = parse_code(row["code"])
    return DeviceOut(
        code=code.compact,
        display_code=code.display,
        kind=row["kind"],
        manufacturer=row["manufacturer"],
        model=row["model"],
        serial=row["serial"],
        asset_tag=row["asset_tag"],
        batch=batches.get(row["batch_id"]) if row["batch_id"] is not None else None,
        custodian=row["custodian_name"],
        location=locations.get(row["location_id"]) if row["location_id"] is not None else None,
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


async def device_outs(rows: Sequence[Mapping[str, Any]]) -> list[DeviceOut]:
    """Many device rows in API form, their batch and location codes read at once."""
    batches = await codes_of("batch", [r["batch_id"] for r in rows])
    locations = await codes_of("location", [r["location_id"] for r in rows])
    return [device_out(row, batches, locations) for row in rows]


async def select_one(code: Code, principal: Principal, *, lock: bool = False) -> Mapping[str, Any]:
    """The device row; `lock` holds it to the end of the transaction (SQLite: IMMEDIATE already does)."""
    suffix = " FOR UPDATE OF d" if lock and not is_sqlite() else ""
    if principal.scoped_to_organisation:
        rows = await fetch(_DEVICE_SQL_SCOPED + suffix, code.compact, principal.organisation_id)
    else:
        rows = await fetch(_DEVICE_SQL + suffix, code.compact)
    if not rows:
        raise NotFound(N_("No device {ref} is known."), ref=code.display)
    return rows[0]


async def device_ref(code_text: str, principal: Principal, *, lock: bool = False) -> DeviceRow:
    """The ids other areas key their evidence on; unknown or not visible is NotFound."""
    return device_row(await select_one(parse_code(code_text, expected=CodeType.DEVICE), principal, lock=lock))


async def device_refs(ids: Sequence[int]) -> dict[int, tuple[DeviceRow, str | None]]:
    """Devices by id with their batch code, for listings built by other areas."""
    found: dict[int, tuple[DeviceRow, str | None]] = {}
    for chunk in chunked(sorted(set(ids))):
        rows = await fetch(
            f"SELECT {ROW_COLUMNS} FROM device d WHERE d.id IN ({', '.join('{}' for _ in chunk)})",  # noqa: S608
            *chunk,
        )
        batches = await codes_of("batch", [r["batch_id"] for r in rows])
        found.update({r["id"]: (device_row(r), batches.get(r["batch_id"])) for r in rows})
    return found


async def states_of(ids: Sequence[int]) -> dict[int, State]:
    """Devices' states by id, for another area's progress views."""
    found: dict[int, State] = {}
    for chunk in chunked(sorted({i for i in ids if i is not None})):
        rows = await Device.select(Device.id, Device.state).where(Device.id.is_in(chunk))
        found.update((r["id"], State(r["state"])) for r in rows)
    return found


async def outs_by_id(ids: Sequence[int]) -> list[DeviceOut]:
    """Devices by id in API form (any organisation's: for the writer that just made them)."""
    return await device_outs(
        await Device.select(*_OUT_COLUMNS).where(Device.id.is_in(list(ids))).order_by(Device.id)
    )


async def get(code_text: str, principal: Principal) -> DeviceOut:
    """One device by its code (any accepted form); unknown or not visible is NotFound."""
    row = await select_one(parse_code(code_text, expected=CodeType.DEVICE), principal)
    return (await device_outs([row]))[0]


async def find_by_alias(text: str, principal: Principal, *, batch_id: int | None = None) -> DeviceOut:
    """A device by the donor's asset tag or the manufacturer's serial (within a batch, if given)."""
    where = (Device.asset_tag == normal_asset_tag(text)) | (Device.serial == normal_serial(text))
    if batch_id is not None:
        where = where & (Device.batch == batch_id)
    scope = visible(principal)
    if scope is not None:
        where = where & scope
    rows = await Device.select(*_OUT_COLUMNS).where(where).limit(2)
    if not rows:
        raise NotFound(N_("Nothing is known by '{text}'."), text=text[:60])
    if len(rows) > 1:
        raise Conflict(
            N_("Several devices carry '{text}': scan their D code instead."),
            code="ambiguous_alias",
            text=text[:60],
        )
    return (await device_outs(rows))[0]


async def find_in_batch(text: str, batch_id: int, principal: Principal) -> DeviceOut | None:
    """The batch's device carrying this asset tag or serial, or None."""
    try:
        return await find_by_alias(text, principal, batch_id=batch_id)
    except NotFound:
        return None


#: The longest search text: a serial or an asset tag is at most 100 characters.
MAX_SEARCH = 100
_SEARCHED_CODES: dict[CodeType, Any] = {
    CodeType.BATCH: ("batch", Device.batch),
    CodeType.LOCATION: ("location", Device.location),
}


async def _search_clause(text: str) -> Any:
    """What `text` names: a device code, a batch or location code, else a serial or asset tag.

    A code is read in any accepted form (compact, display, lower case, a QR URL);
    text that is not a valid code (a wrong check digit included) is looked up as
    the manufacturer's serial or the donor's asset tag, compared the way they are
    stored (upper case, spaces normalised).
    """
    try:
        code = parse_code(text)
    except DomainError:
        code = None
    if code is not None and code.type is CodeType.DEVICE:
        return Device.code == code.compact
    if code is not None and code.type in _SEARCHED_CODES:
        reference, column = _SEARCHED_CODES[code.type]
        found = await id_of(reference, code.compact)
        return column == (found if found is not None else -1)
    return (Device.serial == normal_serial(text)) | (Device.asset_tag == normal_asset_tag(text))


async def list_devices(
    principal: Principal,
    *,
    state: State | None = None,
    kind: DeviceKind | None = None,
    batch: str | None = None,
    search: str | None = None,
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> DevicePage:
    """Devices the principal may see, filtered and searched, oldest first."""
    page = min(max(page, 1), MAX_PAGE)
    page_size = min(max(page_size, 1), MAX_PAGE_SIZE)
    clauses = [c for c in (visible(principal),) if c is not None]
    text = (search or "").strip()[:MAX_SEARCH]
    if text:
        clauses.append(await _search_clause(text))
    if state is not None:
        clauses.append(Device.state == state.value)
    if kind is not None:
        clauses.append(Device.kind == kind.value)
    if batch is not None:
        batch_id = await id_of("batch", parse_code(batch, expected=CodeType.BATCH).compact)
        clauses.append(Device.batch == (batch_id if batch_id is not None else -1))
    rows_query = (
        Device.select(*_OUT_COLUMNS).order_by(Device.id).limit(page_size).offset((page - 1) * page_size)
    )
    count_query = Device.count()
    for clause in clauses:
        rows_query = rows_query.where(clause)
        count_query = count_query.where(clause)
    rows = await rows_query
    total = await count_query
    return DevicePage(items=await device_outs(rows), total=total, page=page, page_size=page_size)


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
    scope = visible(principal)
    if scope is not None:
        query = query.where(scope)
    counts = {State(r["state"]): r["count"] for r in await query}
    return {state: counts.get(state, 0) for state in State}


def event_out(row: Mapping[str, Any], stations: Mapping[int, str]) -> EventOut:
    """The API form of an event row (read with the events SQL)."""
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
        station=stations.get(row["station_id"]) if row["station_id"] is not None else None,
        payload=payload,
        request_id=row["request_id"],
        at=row["created_at"],
    )


async def event_outs(rows: Sequence[Mapping[str, Any]]) -> list[EventOut]:
    """Event rows in API form, their stations' codes read at once."""
    stations = await codes_of("station", [r["station_id"] for r in rows])
    return [event_out(row, stations) for row in rows]


async def events(code_text: str, principal: Principal) -> list[EventOut]:
    """The history of a device, oldest first (without names and notes for donors)."""
    row = await select_one(parse_code(code_text, expected=CodeType.DEVICE), principal)
    events_out = await event_outs(await fetch(_EVENT_SQL + " ORDER BY e.id", row["id"]))
    if principal.scoped_to_organisation:
        # A donor follows its devices, not the people handling them: workshop staff
        # (often insertion workers) stay unnamed and free-text notes stay inside.
        return [e.model_copy(update={"actor": e.organisation or "", "payload": {}}) for e in events_out]
    return events_out


async def counts_by_batch(batch_id: int) -> int:
    """How many devices a batch holds."""
    return await Device.count().where(Device.batch == batch_id)


async def codes_in_batch(batch_id: int, principal: Principal) -> list[str]:
    """The D codes of a batch's devices the principal may see, in registration order."""
    query = Device.select(Device.code).where(Device.batch == batch_id).order_by(Device.id)
    scope = visible(principal)
    if scope is not None:
        query = query.where(scope)
    return [row["code"] for row in await query]


async def batch_devices(batch_id: int) -> list[DeviceRow]:
    """Every device of a batch, for work that covers all of them (certificates)."""
    rows = await fetch(
        f"SELECT {ROW_COLUMNS} FROM device d WHERE d.batch = {{}} ORDER BY d.id",  # noqa: S608 - fixed columns
        batch_id,
    )
    return [device_row(row) for row in rows]


async def batch_census(batch_id: int) -> list[dict[str, Any]]:
    """Devices of a batch counted by kind, manifest flag, state and whether they were ever received."""
    rows = await fetch(
        "SELECT d.kind, d.in_manifest, d.state, "
        "EXISTS (SELECT 1 FROM device_event e WHERE e.device = d.id AND e.action = 'receive') AS received, "
        "COUNT(*) AS count FROM device d WHERE d.batch = {} "
        "GROUP BY d.kind, d.in_manifest, d.state, received",
        batch_id,
    )
    return [
        {**row, "in_manifest": bool(row["in_manifest"]), "received": bool(row["received"])} for row in rows
    ]


async def donor_devices(donor_id: int) -> list[DonorDevice]:
    """Every device a donor gave, as keys to match a manifest against."""
    rows = await fetch(
        "SELECT id, code, serial, asset_tag, batch, state FROM device WHERE donor = {}", donor_id
    )
    return [
        DonorDevice(r["id"], r["code"], r["serial"], r["asset_tag"], r["batch"], State(r["state"]))
        for r in rows
    ]


async def find_by_serials(serials: Sequence[str], *, lock: bool = False) -> dict[str, DeviceRow]:
    """Devices by their manufacturer serial (normalised); a serial two devices share is left out.

    `lock` holds the rows until the caller's transaction ends.
    """
    suffix = " FOR UPDATE OF d" if lock and not is_sqlite() else ""
    wanted = sorted({normal_serial(s) for s in serials if s})
    found: dict[str, list[Mapping[str, Any]]] = {}
    for chunk in chunked(wanted):
        rows = await fetch(
            f"SELECT {ROW_COLUMNS}, d.serial FROM device d "  # noqa: S608 - placeholders only
            f"WHERE d.serial IN ({', '.join('{}' for _ in chunk)}) ORDER BY d.id{suffix}",
            *chunk,
        )
        for row in rows:
            found.setdefault(row["serial"], []).append(row)
    return {serial: device_row(rows[0]) for serial, rows in found.items() if len(rows) == 1}


async def get_facts(device_id: int) -> dict[str, str | None]:
    """What the workshop recorded of a device (grade, OS, specs), e.g. to preselect its licence."""
    rows = await fetch(
        f"SELECT {', '.join(sorted(FACTS))} FROM device WHERE id = {{}}",  # noqa: S608 - fixed names
        device_id,
    )
    return dict(rows[0]) if rows else {}


async def events_since(action: str, since: Any) -> list[dict[str, Any]]:
    """Every `action` event since a moment, oldest first: device id and code, when, payload."""
    rows = await fetch(
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
        rows = await fetch(
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
        rows = await fetch(
            "SELECT device, created_at, payload FROM device_event "  # noqa: S608 - placeholders only
            f"WHERE action = {{}} AND device IN ({', '.join('{}' for _ in chunk)}) ORDER BY id",
            action,
            *chunk,
        )
        for row in rows:
            found.setdefault(row["device"], []).append((row["created_at"], json_value(row["payload"], {})))
    return found
