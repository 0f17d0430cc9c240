"""Reconciliation of a batch, and closing it.

Per kind: announced, declared, collected, received, not in manifest, missing.
Closing turns the devices never received into `missing` and freezes the numbers.
"""

from __future__ import annotations

from collections import defaultdict

from refurb.core.errors import Forbidden
from refurb.core.i18n import N_
from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import State
from refurb.core.principal import Principal
from refurb.core.roles import SUPERVISION
from refurb.db import fetch, is_sqlite, write_transaction
from refurb.devices import service as devices
from refurb.intake import service as batches
from refurb.intake.schemas import BatchOut, BatchState, ReconciliationOut, ReconciliationRow
from refurb.intake.tables import Batch

__all__ = ("CLOSERS", "close_batch", "reconciliation")

CLOSERS = SUPERVISION
_NUMBERS = ("announced", "declared", "collected", "received", "not_in_manifest", "missing", "awaiting")
# Declared devices that never reached the workshop.
_NOT_ARRIVED = {State.DECLARED.value, State.COLLECTED.value}


async def _compute(batch: BatchOut) -> ReconciliationOut:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(_NUMBERS, 0))
    for kind, count in batch.declared.items():
        counts[kind]["announced"] += count
    for kind, count in (batch.collection.get("counts") or {}).items():
        counts[kind]["collected"] += count
    for row in await devices.batch_census(batch.id):
        numbers = counts[row["kind"]]
        if row["in_manifest"]:
            numbers["declared"] += row["count"]
        else:
            numbers["not_in_manifest"] += row["count"]
        if row["received"]:
            numbers["received"] += row["count"]
        elif row["state"] == State.MISSING.value:
            numbers["missing"] += row["count"]
        elif row["state"] in _NOT_ARRIVED:
            numbers["awaiting"] += row["count"]
    order = [k.value for k in DeviceKind]
    rows = [
        ReconciliationRow(kind=kind, **counts[kind])
        for kind in sorted(counts, key=lambda k: order.index(k) if k in order else len(order))
    ]
    total = ReconciliationRow(kind="total", **{n: sum(getattr(r, n) for r in rows) for n in _NUMBERS})
    return ReconciliationOut(batch=batch.code, state=batch.state, frozen=False, rows=rows, total=total)


async def reconciliation(batch_code: str, principal: Principal) -> ReconciliationOut:
    """The batch's numbers: live until it is closed, then as they were at closing."""
    batch = await batches.get_batch(batch_code, principal)
    if batch.state is BatchState.CLOSED:
        row = await Batch.select(Batch.reconciliation).where(Batch.id == batch.id).first()
        frozen = row["reconciliation"] if row else None
        if isinstance(frozen, str):
            return ReconciliationOut.model_validate_json(frozen)
        if frozen:
            return ReconciliationOut.model_validate(frozen)
    return await _compute(batch)


async def close_batch(batch_code: str, reason: str, principal: Principal) -> ReconciliationOut:
    """Close the batch: devices never received become missing (with the reason); numbers freeze."""
    if principal.role not in CLOSERS:
        raise Forbidden(N_("A {role} may not close a batch."), role=principal.role)
    batch = await batches.get_batch(batch_code, principal)
    if batch.state is BatchState.CLOSED:
        return await reconciliation(batch_code, principal)
    async with write_transaction():
        lock = "" if is_sqlite() else " FOR UPDATE"
        await fetch(f"SELECT id FROM batch WHERE id = {{}}{lock}", batch.id)  # noqa: S608
        current = await batches.get_batch(batch_code, principal)
        if current.state is BatchState.CLOSED:
            return await reconciliation(batch_code, principal)
        await devices.transition_batch(
            batch.id,
            "mark_missing",
            {"reason": reason, "batch": batch.code},
            principal,
            only=(State.DECLARED, State.COLLECTED),
        )
        frozen = await _compute(current.model_copy(update={"state": BatchState.CLOSED}))
        frozen = frozen.model_copy(update={"frozen": True})
        await batches.move(
            batch.id,
            BatchState.CLOSED,
            [s for s in BatchState if s is not BatchState.CLOSED],
            {Batch.reconciliation: frozen.model_dump(mode="json")},
        )
    return frozen
