"""Donor batches: a donation from its draft to its closing.

A batch belongs to one donor organisation; a donor sees only its own (another
donor's batch is a 404). State changes are compare-and-set on the state, so
two clicks or two stations give one change.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from piccolo.query.functions.string import Lower

from refurb.accounts import service as accounts
from refurb.codes.service import mint
from refurb.core.aliases import normal_text
from refurb.core.codes import Code, CodeType, parse_code, read_scan
from refurb.core.errors import BadInput, Conflict, Forbidden, NotFound
from refurb.core.i18n import N_
from refurb.core.principal import Principal
from refurb.core.roles import Role
from refurb.db import json_value, write_transaction
from refurb.devices import service as devices
from refurb.intake.schemas import BatchIn, BatchOut, BatchPatch, BatchState
from refurb.intake.tables import Batch
from refurb.stations import service as stations
from refurb.stations.schemas import ThingOut
from refurb.timestamps import utcnow

__all__ = (
    "BATCH_EDITORS",
    "BatchOut",
    "batch_codes",
    "batch_id",
    "create_batch",
    "create_for",
    "find_batch",
    "get_batch",
    "get_batch_by_code_or_reference",
    "list_batches",
    "move",
    "refuse_state",
    "register",
    "schedule",
    "submit",
    "update_batch",
)

BATCH_EDITORS = frozenset({Role.DONOR, Role.COORDINATOR, Role.ADMIN})
SCHEDULERS = frozenset({Role.COORDINATOR, Role.SUPERVISOR, Role.ADMIN})
# States in which the donor may still change what it declares (form and manifest).
EDITABLE = frozenset({BatchState.DRAFT, BatchState.SUBMITTED, BatchState.SCHEDULED})
AMBIGUOUS_SHOWN = 5  # batch codes named when a reference is on several batches
_STAMPS = {
    BatchState.SUBMITTED: Batch.submitted_at,
    BatchState.SCHEDULED: Batch.scheduled_at,
    BatchState.COLLECTED: Batch.collected_at,
    BatchState.RECEIVED: Batch.received_at,
    BatchState.CLOSED: Batch.closed_at,
}
_COLUMNS = (
    Batch.id,
    Batch.code,
    Batch.donor.name,
    Batch.donor.id,
    Batch.reference,
    Batch.state,
    Batch.site_address,
    Batch.contact_name,
    Batch.contact_phone,
    Batch.declared,
    Batch.pickup_from,
    Batch.pickup_to,
    Batch.pickup_date,
    Batch.notes,
    Batch.collection,
    Batch.discrepancy,
    Batch.submitted_at,
    Batch.scheduled_at,
    Batch.collected_at,
    Batch.received_at,
    Batch.closed_at,
    Batch.created_at,
)


def _batch_out(row: Mapping[str, Any]) -> BatchOut:
    code = parse_code(row["code"])
    return BatchOut(
        id=row["id"],
        code=code.compact,
        display_code=code.display,
        donor=row["donor.name"],
        donor_id=row["donor.id"],
        reference=row["reference"],
        state=BatchState(row["state"]),
        site_address=row["site_address"],
        contact_name=row["contact_name"],
        contact_phone=row["contact_phone"],
        declared=json_value(row["declared"]) or {},
        pickup_from=row["pickup_from"],
        pickup_to=row["pickup_to"],
        pickup_date=row["pickup_date"],
        notes=row["notes"],
        collection=json_value(row["collection"]) or {},
        discrepancy=json_value(row["discrepancy"]) or {},
        submitted_at=row["submitted_at"],
        scheduled_at=row["scheduled_at"],
        collected_at=row["collected_at"],
        received_at=row["received_at"],
        closed_at=row["closed_at"],
        created_at=row["created_at"],
    )


def _values(patch: BatchPatch) -> dict[Any, Any]:
    """The columns a (partial) batch form sets."""
    given = patch.model_dump(exclude_unset=True, exclude={"donor"})
    values: dict[Any, Any] = {}
    for name, value in given.items():
        if name == "declared":
            value = {str(kind): count for kind, count in (value or {}).items()}
        elif isinstance(value, str):
            value = value.strip()
            if name == "reference":
                value = value or None
        elif value is None and name not in ("pickup_from", "pickup_to"):
            continue
        values[getattr(Batch, name)] = value
    return values


def may_edit(principal: Principal) -> None:
    """Donors and coordinators describe donations; the workshop does not."""
    if principal.role not in BATCH_EDITORS:
        raise Forbidden(N_("A {role} may not change a batch."), role=principal.role)


async def create_batch(
    donor_id: int,
    reference: str | None = None,
    *,
    details: BatchPatch | None = None,
    created_by: int | None = None,
) -> BatchOut:
    """Open a batch for a donor organisation, with a fresh B code."""
    values = _values(details) if details is not None else {}
    if reference is not None:
        values[Batch.reference] = reference.strip() or None
    row = Batch(code="", donor=donor_id, created_by=created_by)
    for column, value in values.items():
        setattr(row, column._meta.name, value)
    async with write_transaction():
        (code,) = await mint(CodeType.BATCH, 1)
        row.code = code.compact
        await Batch.insert(row)
    return await get_batch(code.compact, None)


async def create_for(data: BatchIn, principal: Principal) -> BatchOut:
    """A new draft batch: a donor's own, or staff's for the donor they name."""
    may_edit(principal)
    if principal.role is Role.DONOR:
        donor_id = principal.organisation_id
    elif data.donor:
        donor_id = await accounts.donor_organisation(data.donor)
    else:
        raise BadInput(N_("Name the donor organisation the batch is for."), code="donor_required")
    return await create_batch(donor_id, details=data, created_by=principal.user_id)


async def find_batch(donor_id: int, reference: str) -> BatchOut | None:
    """The batch a donor filed under `reference`, if any."""
    row = (
        await Batch.select(*_COLUMNS)
        .where((Batch.donor == donor_id) & (Batch.reference == reference))
        .first()
    )
    return _batch_out(row) if row else None


def _scope(where: Any, principal: Principal | None) -> Any:
    if principal is not None and principal.scoped_to_organisation:
        return where & (Batch.donor == principal.organisation_id)
    return where


async def get_batch(code_text: str, principal: Principal | None) -> BatchOut:
    """A batch by code; a donor asking for another organisation's batch gets NotFound."""
    code = parse_code(code_text, expected=CodeType.BATCH)
    row = await Batch.select(*_COLUMNS).where(_scope(Batch.code == code.compact, principal)).first()
    if row is None:
        raise NotFound(N_("No batch {ref} is known."), ref=code.display)
    return _batch_out(row)


async def get_batch_by_code_or_reference(text: str, principal: Principal | None) -> BatchOut:
    """A batch by its B code or by the donor's reference (what a driver has on paper).

    Text shaped like a Refurb code is a code and must pass its check digit. A
    reference matches without case; one filed on two batches names neither.
    """
    scanned = read_scan(text)
    if isinstance(scanned, Code):
        return await get_batch(scanned.compact, principal)
    reference = normal_text(scanned.text)
    rows = (
        await Batch.select(*_COLUMNS)
        .where(_scope(Lower(Batch.reference) == reference.lower(), principal))
        .order_by(Batch.id)
        .limit(AMBIGUOUS_SHOWN + 1)
    )
    if not rows:
        raise NotFound(N_("No batch has the code or the reference '{text}'."), text=reference[:60])
    if len(rows) > 1:
        codes = [parse_code(row["code"]).display for row in rows[:AMBIGUOUS_SHOWN]]
        raise Conflict(
            N_("The reference '{text}' is on several batches ({codes}): scan or type the batch's code."),
            code="batch_reference_ambiguous",
            text=reference[:60],
            codes=", ".join(codes) + (", …" if len(rows) > AMBIGUOUS_SHOWN else ""),
        )
    return _batch_out(rows[0])


async def list_batches(
    principal: Principal, *, states: Iterable[BatchState] | None = None, limit: int = 500
) -> list[BatchOut]:
    """Batches the principal may see, newest first."""
    query = Batch.select(*_COLUMNS).order_by(Batch.id, ascending=False).limit(limit)
    if principal.scoped_to_organisation:
        query = query.where(Batch.donor == principal.organisation_id)
    if states is not None:
        query = query.where(Batch.state.is_in([s.value for s in states]))
    return [_batch_out(r) for r in await query]


async def move(
    batch_id: int, to: BatchState, sources: Iterable[BatchState], values: Mapping[Any, Any] | None = None
) -> bool:
    """Compare-and-set the batch state (with more columns); False when it was not in `sources`."""
    now = utcnow()
    changes = {Batch.state: to.value, **(values or {})}
    if to in _STAMPS:
        changes.setdefault(_STAMPS[to], now)
    rows = await (
        Batch.update(changes)
        .where((Batch.id == batch_id) & Batch.state.is_in([s.value for s in sources]))
        .returning(Batch.id)
    )
    return bool(rows)


def refuse_state(batch: BatchOut, message: str) -> Conflict:
    """The refusal of a step the batch's state does not allow; `message` names {ref} and {state}."""
    return Conflict(message, code="batch_state", ref=batch.display_code, state=batch.state)


async def update_batch(code_text: str, patch: BatchPatch, principal: Principal) -> BatchOut:
    """Change what the batch form says, until the devices are collected."""
    may_edit(principal)
    batch = await get_batch(code_text, principal)
    values = _values(patch)
    if not values:
        return batch
    async with write_transaction():
        rows = await (
            Batch.update(values)
            .where((Batch.id == batch.id) & Batch.state.is_in([s.value for s in EDITABLE]))
            .returning(Batch.id)
        )
    if not rows:
        raise refuse_state(batch, N_("Batch {ref} is {state}: it can no longer be changed."))
    return await get_batch(code_text, principal)


async def submit(code_text: str, principal: Principal, device_count: int) -> BatchOut:
    """The donor hands the batch to the programme: an address and some devices are needed."""
    may_edit(principal)
    batch = await get_batch(code_text, principal)
    if batch.state is not BatchState.DRAFT:
        if batch.state in (BatchState.SUBMITTED, BatchState.SCHEDULED):
            return batch  # already submitted: a second click changes nothing
        raise refuse_state(batch, N_("Batch {ref} is {state}: it cannot be submitted again."))
    if not batch.site_address:
        raise BadInput(
            N_("Batch {ref} cannot be submitted yet: give the pickup address."),
            code="batch_incomplete",
            ref=batch.display_code,
        )
    if not batch.announced and not device_count:
        raise BadInput(
            N_("Batch {ref} cannot be submitted yet: give the devices (counts per kind or a manifest)."),
            code="batch_incomplete",
            ref=batch.display_code,
        )
    async with write_transaction():
        await move(batch.id, BatchState.SUBMITTED, [BatchState.DRAFT])
    return await get_batch(code_text, principal)


async def schedule(code_text: str, pickup_date: datetime.date, principal: Principal) -> BatchOut:
    """The operator sets (or moves) the pickup date of a submitted batch."""
    if principal.role not in SCHEDULERS:
        raise Forbidden(N_("A {role} may not schedule pickups."), role=principal.role)
    batch = await get_batch(code_text, principal)
    async with write_transaction():
        moved = await move(
            batch.id,
            BatchState.SCHEDULED,
            [BatchState.SUBMITTED, BatchState.SCHEDULED],
            {Batch.pickup_date: pickup_date},
        )
    if not moved:
        raise refuse_state(batch, N_("Batch {ref} is {state}: its pickup cannot be scheduled."))
    return await get_batch(code_text, principal)


async def batch_codes(ids: Sequence[int]) -> dict[int, str]:
    """Batches' codes by id (for the devices registry)."""
    if not ids:
        return {}
    rows = await Batch.select(Batch.id, Batch.code).where(Batch.id.is_in(list(ids)))
    return {row["id"]: row["code"] for row in rows}


async def batch_id(code_text: str) -> int | None:
    """A batch's id by its code, None when unknown."""
    code = parse_code(code_text, expected=CodeType.BATCH)
    row = await Batch.select(Batch.id).where(Batch.code == code.compact).first()
    return row["id"] if row else None


async def _resolve(code: Code, principal: Principal) -> ThingOut:
    batch = await get_batch(code.compact, principal)
    return ThingOut(
        type="batch",
        code=batch.code,
        display_code=batch.display_code,
        title=batch.donor + (f" — {batch.reference}" if batch.reference else ""),
        state=batch.state,
        url=f"/api/v1/devices?batch={batch.code}",
    )


def register() -> None:
    """What a batch's code means to the spine and the stations."""
    devices.register_reference("batch", batch_codes, batch_id)
    stations.register_resolver(CodeType.BATCH, _resolve)
