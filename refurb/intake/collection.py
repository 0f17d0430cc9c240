"""Collection at the donor's site: the driver counts, seals and gets a signature.

Every declared device of the batch moves to `collected` with its own event (the
chain of custody starts here). A count that differs from the manifest is a
discrepancy that stays on the batch.
"""

from __future__ import annotations

import datetime
from collections import Counter
from typing import Any, Literal

from refurb.core.errors import Conflict, Forbidden
from refurb.core.i18n import N_
from refurb.core.kinds import DeviceKind
from refurb.core.principal import Principal
from refurb.core.roles import Role
from refurb.db import fetch, is_sqlite, write_transaction
from refurb.devices import service as devices
from refurb.intake import agreements
from refurb.intake import service as batches
from refurb.intake.schemas import BatchOut, BatchState, CollectionIn
from refurb.intake.tables import Batch
from refurb.timestamps import utcnow

__all__ = ("COLLECTORS", "collectable", "expected_counts", "record_collection")

COLLECTORS = frozenset({Role.DRIVER, Role.SUPERVISOR, Role.ADMIN})
COLLECTABLE = (BatchState.SUBMITTED, BatchState.SCHEDULED)


async def expected_counts(batch: BatchOut) -> dict[str, int]:
    """What the driver should find per kind: the manifest lines, or the announced counts without one."""
    census = await devices.batch_census(batch.id)
    manifest: Counter[str] = Counter()
    for row in census:
        if row["in_manifest"]:
            manifest[row["kind"]] += row["count"]
    return dict(manifest) if manifest else {k: v for k, v in batch.declared.items() if v}


async def collectable(principal: Principal) -> list[BatchOut]:
    """Batches waiting for a pickup, soonest first."""
    found = await batches.list_batches(principal, states=COLLECTABLE)
    far = datetime.date.max
    return sorted(found, key=lambda b: (b.pickup_date or b.pickup_from or far, b.id))


def _same(recorded: dict[str, Any], data: CollectionIn) -> bool:
    counts = {str(k): v for k, v in data.counts.items()}
    return (
        recorded.get("counts") == counts
        and recorded.get("seals") == data.seals
        and recorded.get("signer_name") == data.signer_name
        and recorded.get("vehicle", "") == data.vehicle.strip()
    )


async def record_collection(
    batch_code: str, data: CollectionIn, principal: Principal, *, request_id: str | None = None
) -> tuple[Literal["recorded", "already_recorded"], BatchOut]:
    """Record the pickup; sending the same collection again changes nothing."""
    if principal.role not in COLLECTORS:
        raise Forbidden(N_("A {role} may not record a collection."), role=principal.role)
    batch = await batches.get_batch(batch_code, principal)
    if batch.state not in COLLECTABLE:
        if batch.collected_at is not None and _same(batch.collection, data):
            return "already_recorded", batch
        if batch.collected_at is not None:
            raise Conflict(
                N_("Batch {ref} was already collected by {driver}: its collection cannot be changed."),
                code="batch_already_collected",
                ref=batch.display_code,
                driver=batch.collection.get("driver", "?"),
            )
        raise batches.refuse_state(batch, N_("Batch {ref} is {state}: it cannot be collected yet."))
    await agreements.require_agreement(batch.donor_id, batch.display_code)
    expected = await expected_counts(batch)
    counted = {str(kind): n for kind, n in data.counts.items()}
    discrepancy = {
        kind.value: {"expected": expected.get(kind.value, 0), "counted": counted.get(kind.value, 0)}
        for kind in DeviceKind
        if expected.get(kind.value, 0) != counted.get(kind.value, 0)
    }
    at = data.collected_at or utcnow()
    async with write_transaction():
        lock = "" if is_sqlite() else " FOR UPDATE"
        rows = await fetch(f"SELECT state FROM batch WHERE id = {{}}{lock}", batch.id)  # noqa: S608
        if BatchState(rows[0]["state"]) not in COLLECTABLE:
            raise Conflict(
                N_("Batch {ref} is being collected by someone else right now; reload it."),
                code="batch_busy",
                ref=batch.display_code,
            )
        moved = await devices.transition_batch(
            batch.id, "collect", {"batch": batch.code}, principal, request_id=request_id
        )
        collection = {
            "counts": counted,
            "seals": data.seals,
            "signer_name": data.signer_name,
            "vehicle": data.vehicle.strip(),
            "at": at.isoformat(),
            "driver": principal.name,
            "devices_moved": moved,
        }
        await batches.move(
            batch.id,
            BatchState.COLLECTED,
            COLLECTABLE,
            {Batch.collection: collection, Batch.discrepancy: discrepancy, Batch.collected_at: at},
        )
    return "recorded", await batches.get_batch(batch_code, principal)
