"""Licences: pools, encrypted keys imported from CSV, assigning one to a device, the report.

A key is readable in clear exactly once: when it is assigned (the technician
types it into the machine). It is stored as a Fernet token with an HMAC
fingerprint, and never appears in a listing, a label, a log or an error.
Assigning takes the key, records the assignment, sets the device's OS and
moves the device to `licensed` in ONE write transaction: a refused transition
gives the key back. A reject frees the device's licence (its key is available again).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from refurb.core.codes import parse_code
from refurb.core.errors import BadInput, Conflict, GuardRefused, NotFound
from refurb.core.i18n import N_, Np_, fill
from refurb.core.lifecycle import Action, Check, State, clean_reason
from refurb.core.principal import Principal
from refurb.db import UNIQUE_VIOLATIONS, chunked, fetch, is_sqlite, write_transaction
from refurb.devices import service as devices
from refurb.devices.service import CheckContext, TransitionResult
from refurb.timestamps import as_utc, utcnow
from refurb.web.i18n import gettext
from refurb.workshop import key_files
from refurb.workshop.licence_keys import cipher
from refurb.workshop.licence_schemas import (
    KeyImportOut,
    KeyProblem,
    LicenceOut,
    PoolIn,
    PoolOut,
    PoolPatch,
    ReportRow,
)
from refurb.workshop.tables import LicenceAssignment, LicenceKey, LicencePool

__all__ = (
    "Assigned",
    "LicenceImportRefused",
    "assign",
    "create_pool",
    "get_pool",
    "import_keys",
    "list_pools",
    "live_assignment",
    "register",
    "report",
    "unassign",
    "update_pool",
)

log = logging.getLogger(__name__)
INSERT_CHUNK = 500
MAX_COA = 60


class LicenceImportRefused(BadInput):
    """Rows of the key file are wrong: nothing was imported (the rows are listed by number)."""

    code = "licence_import_has_errors"


@dataclass(frozen=True, slots=True)
class PoolRow:
    """A pool as assigning needs it."""

    id: int
    name: str
    os: str
    licence_type: str
    needs_key: bool
    active: bool
    expires_on: datetime.date | None
    quantity: int | None


def _pool_row(row: Mapping[str, Any]) -> PoolRow:
    return PoolRow(
        row["id"],
        row["name"],
        row["os"],
        row["licence_type"],
        bool(row["needs_key"]),
        bool(row["active"]),
        row["expires_on"],
        row["quantity"],
    )


def _expired(expires_on: datetime.date | None, today: datetime.date | None = None) -> bool:
    return expires_on is not None and expires_on < (today or datetime.date.today())


# --- pools -------------------------------------------------------------------


async def _counts() -> dict[int, dict[str, int]]:
    """Per pool: keys by status, and devices holding a licence now."""
    counts: dict[int, dict[str, int]] = {}
    for row in await fetch("SELECT pool, status, COUNT(*) AS n FROM licence_key GROUP BY pool, status"):
        counts.setdefault(row["pool"], {})[row["status"]] = row["n"]
    for row in await fetch(
        "SELECT pool, COUNT(*) AS n FROM licence_assignment WHERE unassigned_at IS NULL GROUP BY pool"
    ):
        counts.setdefault(row["pool"], {})["live"] = row["n"]
    return counts


def _pool_out(row: Mapping[str, Any], counts: Mapping[str, int]) -> PoolOut:
    available = counts.get("available", 0)
    needs_key = bool(row["needs_key"])
    return PoolOut(
        id=row["id"],
        name=row["name"],
        os=row["os"],
        licence_type=row["licence_type"],
        programme=row["programme"],
        supplier=row["supplier"],
        unit_cost_cents=row["unit_cost_cents"],
        quantity=row["quantity"],
        expires_on=row["expires_on"],
        needs_key=needs_key,
        low_stock=row["low_stock"],
        active=bool(row["active"]),
        available=available,
        assigned=counts.get("live", 0),
        keys=sum(n for status, n in counts.items() if status != "live"),
        low=needs_key and available < row["low_stock"],
        expired=_expired(row["expires_on"]),
    )


async def list_pools(*, usable_only: bool = False) -> list[PoolOut]:
    """Every pool with its counts, by name; `usable_only`: active, not expired."""
    rows = await LicencePool.select().order_by(LicencePool.name)
    counts = await _counts()
    pools = [_pool_out(row, counts.get(row["id"], {})) for row in rows]
    if usable_only:
        pools = [p for p in pools if p.active and not p.expired]
    return pools


async def _find_pool(ref: int | str) -> Mapping[str, Any]:
    text = str(ref).strip()
    query = LicencePool.select()
    if isinstance(ref, int) or (text.isascii() and text.isdigit()):
        number = int(text)
        row = await query.where(LicencePool.id == number).first() if number < 2**31 else None
    else:
        row = await query.where(LicencePool.name == text).first()
    if row is None:
        raise NotFound(N_("No licence pool '{ref}' is known."), code="pool_not_found", ref=text[:120])
    return row


async def get_pool(ref: int | str) -> PoolOut:
    """A pool by id or name, with its counts."""
    row = await _find_pool(ref)
    return _pool_out(row, (await _counts()).get(row["id"], {}))


def _taken(name: str) -> Conflict:
    return Conflict(N_("A licence pool is already called '{name}'."), code="pool_name_taken", name=name)


async def create_pool(data: PoolIn) -> PoolOut:
    """A new pool; a free OS has `needs_key` false (and usually no cost and no quantity)."""
    name = data.name.strip()
    if not name or not data.os.strip() or not data.licence_type.strip():
        raise BadInput(N_("A pool needs a name, an OS and a licence type."), code="bad_pool")
    values = data.model_dump()
    values.update(name=name, os=data.os.strip(), licence_type=data.licence_type.strip())
    try:
        async with write_transaction():
            rows = await LicencePool.insert(LicencePool(**values)).returning(LicencePool.id)
    except UNIQUE_VIOLATIONS as error:
        if "unique" not in str(error).lower():
            raise
        raise _taken(name) from None
    return await get_pool(rows[0]["id"])


async def update_pool(pool_id: int, patch: PoolPatch) -> PoolOut:
    """Change what is given; `needs_key` cannot change once the pool exists."""
    row = await _find_pool(pool_id)
    changes = {
        k: (v.strip() if isinstance(v, str) else v) for k, v in patch.model_dump(exclude_unset=True).items()
    }
    for required in ("name", "os", "licence_type"):
        if required in changes and not changes[required]:
            raise BadInput(N_("A pool needs a name, an OS and a licence type."), code="bad_pool")
    if changes:
        try:
            async with write_transaction():
                await LicencePool.update(
                    {getattr(LicencePool, k): v for k, v in changes.items()}
                    | {LicencePool.updated_at: utcnow()}
                ).where(LicencePool.id == row["id"])
        except UNIQUE_VIOLATIONS as error:
            if "unique" not in str(error).lower():
                raise
            raise _taken(str(changes.get("name", ""))) from None
    return await get_pool(row["id"])


# --- importing keys ------------------------------------------------------------


def _problem(row: int, code: str, message: str, **params: Any) -> KeyProblem:
    return KeyProblem(
        row=row,
        code=code,
        message=fill(message, {"row": row, **params}, gettext),
        first_row=params.get("first"),
    )


async def import_keys(pool_ref: int | str, content: bytes, *, dry_run: bool = False) -> KeyImportOut:
    """Read a CSV of keys into a keyed pool: all of it, or nothing if any row is wrong.

    Rows are reported by number only (the header is row 1): a key is never echoed.
    """
    row = await _find_pool(pool_ref)
    pool = _pool_row(row)
    if not pool.needs_key:
        raise BadInput(
            N_("{name} is a free OS: it has no keys to import."), code="pool_has_no_keys", name=pool.name
        )
    keys = cipher()
    read = key_files.read_keys(content)
    problems = [_problem(p.row, p.code, p.message, **p.params) for p in read.problems]
    first_seen: dict[str, int] = {}
    fingerprints: list[tuple[int, str, str]] = []
    for number, key in read.keys:
        fingerprint = keys.fingerprint(key)
        if fingerprint in first_seen:
            problems.append(
                _problem(
                    number,
                    "duplicate_in_file",
                    N_("Row {row}: the same key as row {first}."),
                    first=first_seen[fingerprint],
                )
            )
            continue
        first_seen[fingerprint] = number
        fingerprints.append((number, key, fingerprint))
    known: set[str] = set()
    for chunk in chunked([f for _, _, f in fingerprints]):
        found = await LicenceKey.select(LicenceKey.fingerprint).where(LicenceKey.fingerprint.is_in(chunk))
        known.update(r["fingerprint"] for r in found)
    problems += [
        _problem(number, "duplicate_in_database", N_("Row {row}: this key was already imported."))
        for number, _, fingerprint in fingerprints
        if fingerprint in known
    ]
    problems.sort(key=lambda p: p.row)
    report = KeyImportOut(pool=pool.id, rows=len(read.keys), imported=0, dry_run=dry_run, errors=problems)
    if problems:
        raise LicenceImportRefused(
            Np_(
                "{count} row of the key file has errors: nothing was imported.",
                "{count} rows of the key file have errors: nothing was imported.",
            ),
            count=len({p.row for p in problems}),
            extra={"report": report.model_dump(mode="json")},
        )
    if not fingerprints:
        raise key_files.KeyFileRefused(N_("The file holds no key."), code="key_file_empty")
    if pool.quantity is not None:
        held = await LicenceKey.count().where(LicenceKey.pool == pool.id)
        if held + len(fingerprints) > pool.quantity:
            raise key_files.KeyFileRefused(
                N_(
                    "{name} was bought for {quantity} keys; it holds {held} and the file adds {adding}. "
                    "Raise the pool's quantity first."
                ),
                code="pool_quantity_exceeded",
                name=pool.name,
                quantity=pool.quantity,
                held=held,
                adding=len(fingerprints),
            )
    if dry_run:
        return report
    now = utcnow()
    records = [
        LicenceKey(
            pool=pool.id,
            secret=keys.encrypt(key),
            fingerprint=fingerprint,
            status="available",
            created_at=now,
            updated_at=now,
        )
        for _, key, fingerprint in fingerprints
    ]
    try:
        async with write_transaction():
            for chunk in chunked(records, INSERT_CHUNK):
                await LicenceKey.insert(*chunk)
    except UNIQUE_VIOLATIONS as error:
        if "unique" not in str(error).lower():
            raise
        raise Conflict(
            N_("Another import added some of these keys just now: import the file again to see which rows."),
            code="keys_imported_concurrently",
        ) from None
    log.info("imported %d licence keys into pool %d", len(records), pool.id)
    return report.model_copy(update={"imported": len(records)})


# --- assigning -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Assigned:
    """A licence given (or kept), with the device's transition; `licence.key` is the one-time reveal."""

    licence: LicenceOut
    transition: TransitionResult


async def live_assignment(device_id: int) -> Mapping[str, Any] | None:
    """The device's current licence (pool columns included), if any."""
    return (
        await LicenceAssignment.select(
            LicenceAssignment.id,
            LicenceAssignment.key,
            LicenceAssignment.coa,
            LicenceAssignment.created_at,
            LicenceAssignment.pool.as_alias("pool_id"),
            LicenceAssignment.pool.name.as_alias("pool_name"),
            LicenceAssignment.pool.os.as_alias("os"),
            LicenceAssignment.pool.licence_type.as_alias("licence_type"),
        )
        .where((LicenceAssignment.device == device_id) & LicenceAssignment.unassigned_at.is_null())
        .first()
    )


def _usable(pool: PoolRow) -> None:
    if not pool.active:
        raise Conflict(N_("The pool {name} is not active."), code="pool_inactive", name=pool.name)
    if _expired(pool.expires_on):
        raise Conflict(
            N_("The pool {name} expired on {date}."),
            code="pool_expired",
            name=pool.name,
            date=pool.expires_on,
        )


def _clean_coa(coa: str | None) -> str | None:
    text = " ".join((coa or "").split())
    if len(text) > MAX_COA:
        raise BadInput(N_("The COA number is at most {limit} characters."), code="bad_coa", limit=MAX_COA)
    return text or None


async def _take_key(pool: PoolRow) -> tuple[int, str]:
    """The next available key of the pool, marked assigned; concurrent stations never get the same one.

    PostgreSQL skips keys another transaction is taking; SQLite has one writer at a time.
    """
    lock = "" if is_sqlite() else " FOR UPDATE SKIP LOCKED"
    rows = await fetch(
        "SELECT id, secret FROM licence_key WHERE pool = {} AND status = 'available' "  # noqa: S608 - fixed text
        f"ORDER BY id LIMIT 1{lock}",
        pool.id,
    )
    if not rows:
        raise Conflict(
            N_("The pool {name} has no key left: import more keys, or choose another pool."),
            code="pool_empty",
            name=pool.name,
        )
    await fetch(
        "UPDATE licence_key SET status = 'assigned', updated_at = {} WHERE id = {}", utcnow(), rows[0]["id"]
    )
    return rows[0]["id"], rows[0]["secret"]


async def assign(
    device_code: str,
    pool_ref: int | str,
    coa: str | None,
    principal: Principal,
    *,
    station_id: int | None = None,
    station_code: str | None = None,
    request_id: str | None = None,
    idempotency_key: str | None = None,
) -> Assigned:
    """Give the device a licence from the pool and move it to `licensed`; the key is returned this once.

    A device that already holds a licence keeps it: licensing it again (a returned
    device back through the workshop) reuses that licence and reveals nothing; asking
    for another pool is refused (`licence_already_assigned`) until a supervisor unassigns it.
    """
    pool = _pool_row(await _find_pool(pool_ref))
    coa = _clean_coa(coa)
    code = parse_code(device_code).compact
    async with write_transaction():
        device = await devices.device_ref(code, principal, lock=True)
        live = await live_assignment(device.id)
        key: str | None = None
        relicense = device.state is State.LICENSED and live is None  # its lost key was voided
        if device.state is not State.REFURBISHED and not relicense:
            # Already licensed (a retry) answers "already recorded", whatever it asked; others are refused.
            result = await _license(code, {}, principal, station_id, station_code, request_id, None)
            return Assigned(_licence_out(code, live, result, None, reused=live is not None), result)
        if live is not None:
            if live["pool_id"] != pool.id:
                raise Conflict(
                    N_("{ref} already holds a licence from {pool}: a supervisor unassigns it first."),
                    code="licence_already_assigned",
                    ref=parse_code(code).display,
                    pool=live["pool_name"],
                )
            reuse = {"pool": live["pool_name"], "coa": live["coa"], "reused": True}
            result = await _license(
                code, reuse, principal, station_id, station_code, request_id, idempotency_key
            )
            return Assigned(_licence_out(code, live, result, None, reused=True), result)
        _usable(pool)
        key_id: int | None = None
        if pool.needs_key:
            keys = cipher()
            key_id, secret = await _take_key(pool)
            key = keys.decrypt(secret)
        await LicenceAssignment.insert(
            LicenceAssignment(
                device=device.id,
                pool=pool.id,
                key=key_id,
                coa=coa,
                assigned_by=principal.user_id,
                assigned_by_name=principal.name[:80],
                station=station_id,
            )
        )
        await devices.set_facts(device.id, os=pool.os)
        result = await _license(code, {"pool": pool.name, "coa": coa}, principal, station_id, station_code,
                                request_id, idempotency_key)  # fmt: skip
        live = await live_assignment(device.id)
    return Assigned(_licence_out(code, live, result, key), result)


async def _license(
    code: str,
    payload: dict[str, Any],
    principal: Principal,
    station_id: int | None,
    station_code: str | None,
    request_id: str | None,
    idempotency_key: str | None,
) -> TransitionResult:
    return await devices.transition(
        code,
        Action.LICENSE.value,
        payload,
        principal,
        station_id=station_id,
        station_code=station_code,
        request_id=request_id,
        idempotency_key=idempotency_key,
    )


def _licence_out(
    code: str,
    live: Mapping[str, Any] | None,
    result: TransitionResult,
    key: str | None,
    *,
    reused: bool = False,
) -> LicenceOut:
    device = result.device
    return LicenceOut(
        device=device.code,
        display_code=device.display_code,
        pool=live["pool_name"] if live else "",
        os=live["os"] if live else "",
        licence_type=live["licence_type"] if live else "",
        coa=live["coa"] if live else None,
        assigned_at=live["created_at"] if live else result.event.at,
        state=device.state.value,
        key=key,
        reused=reused,
    )


async def _unassign(device_id: int, reason: str, *, void: bool = False) -> bool:
    """Close the device's live licence; its key goes back to the pool (or is burned). False if none."""
    now = utcnow()
    # One statement when there is nothing to close — every reject asks (a returned device may hold one).
    closed = await fetch(
        "UPDATE licence_assignment SET unassigned_at = {}, unassign_reason = {}, updated_at = {} "
        "WHERE device = {} AND unassigned_at IS NULL RETURNING key",
        now,
        reason[:500],
        now,
        device_id,
    )
    if not closed:
        return False
    if closed[0]["key"] is not None:
        await LicenceKey.update(
            {LicenceKey.status: "void" if void else "available", LicenceKey.updated_at: now}
        ).where(LicenceKey.id == closed[0]["key"])
    return True


#: States in which the device's licence is activated on it (between licensing and a return).
IN_USE = frozenset({State.LICENSED, State.IN_STOCK, State.RESERVED, State.DISPATCHED, State.HANDED_OVER})


async def unassign(device_code: str, reason: str, principal: Principal, *, void: bool = False) -> None:
    """A supervisor takes a device's licence back; the key is available again unless `void`."""
    cleaned = clean_reason({"reason": reason})
    if cleaned is None:
        raise BadInput(N_("Say why the licence is taken back."), code="reason_required")
    async with write_transaction():
        device = await devices.device_ref(device_code, principal, lock=True)
        if device.state in IN_USE and not void:
            # its key is activated on the machine: back in the pool it would be given out twice
            raise Conflict(
                N_(
                    "{ref} is {state}: its key is in use on the machine. Take the device back or "
                    "reject it first, or void the key (it never goes back to the pool)."
                ),
                code="licence_in_use",
                ref=parse_code(device.code).display,
                state=device.state,
            )
        if not await _unassign(device.id, cleaned, void=void):
            raise NotFound(
                N_("{ref} holds no licence."),
                code="licence_not_assigned",
                ref=parse_code(device.code).display,
            )


# --- the lifecycle's check and effect ------------------------------------------------


async def _licence_assigned(context: CheckContext) -> None:
    """LICENCE_ASSIGNED: the device holds a licence (a key or a free OS)."""
    if await live_assignment(context.device.id) is None:
        raise GuardRefused(
            N_("{ref} has no licence: choose its pool at the licensing station."),
            code="licence_not_assigned",
            ref=parse_code(context.device.code).display,
        )


async def _free_on_reject(context: CheckContext) -> None:
    """A rejected device gives its licence back: the key can go into another machine."""
    reason = str(context.payload.get("reason") or "").strip()
    await _unassign(context.device.id, f"rejected: {reason}" if reason else "rejected")


# --- the report ------------------------------------------------------------------------


async def report(*, pool_id: int | None = None) -> list[ReportRow]:
    """Every licence given, oldest first: what refurbisher programmes ask to see."""
    query = LicenceAssignment.select(
        LicenceAssignment.device.as_alias("device_id"),
        LicenceAssignment.coa,
        LicenceAssignment.created_at,
        LicenceAssignment.unassigned_at,
        LicenceAssignment.unassign_reason,
        LicenceAssignment.pool.name.as_alias("pool_name"),
        LicenceAssignment.pool.os.as_alias("os"),
        LicenceAssignment.pool.licence_type.as_alias("licence_type"),
        LicenceAssignment.pool.programme.as_alias("programme"),
    ).order_by(LicenceAssignment.id)
    if pool_id is not None:
        query = query.where(LicenceAssignment.pool == (pool_id if 0 <= pool_id < 2**31 else 0))
    rows = await query
    ids = sorted({r["device_id"] for r in rows})
    refs = await devices.device_refs(ids)
    handed = await devices.events_of(ids, Action.HAND_OVER.value)
    return [
        _report_row(r, refs[r["device_id"]][0].code, _handed_under(r, handed.get(r["device_id"], [])))
        for r in rows
    ]


def _handed_under(
    row: Mapping[str, Any], events: list[tuple[Any, dict[str, Any]]]
) -> tuple[Any, dict[str, Any]] | None:
    """The first hand-over while this licence was on the device (a device handed over twice has two)."""
    start = as_utc(row["created_at"])
    end = as_utc(row["unassigned_at"]) if row["unassigned_at"] is not None else None
    return next((e for e in events if as_utc(e[0]) >= start and (end is None or as_utc(e[0]) < end)), None)


def _report_row(row: Mapping[str, Any], code: str, hand_over: tuple[Any, dict[str, Any]] | None) -> ReportRow:
    household = ""
    if hand_over is not None:
        value = hand_over[1].get("household")
        household = str(value) if isinstance(value, str) else ""
    return ReportRow(
        device=code,
        display_code=parse_code(code).display,
        pool=row["pool_name"],
        os=row["os"],
        licence_type=row["licence_type"],
        programme=row["programme"],
        coa=row["coa"],
        assigned_at=row["created_at"],
        handed_over_at=hand_over[0] if hand_over else None,
        household=household,
        unassigned_at=row["unassigned_at"],
        unassign_reason=row["unassign_reason"],
    )


def register() -> None:
    """The licence check and the reject effect (the station registers itself: `licence_station`)."""
    devices.register_check(Check.LICENCE_ASSIGNED, _licence_assigned)
    devices.register_effect(Action.REJECT, _free_on_reject)


def assigned_pools(rows: Sequence[PoolOut], os: str) -> list[PoolOut]:
    """Pools for the station's choice: the one installing the device's OS first."""
    return sorted(rows, key=lambda p: (p.os != os, p.name))
