"""Donor batches (the intake issue adds agreements, manifests, collection, reception)."""

from __future__ import annotations

from pydantic import BaseModel

from refurb.codes.service import mint
from refurb.core.codes import CodeType, parse_code
from refurb.core.errors import NotFound
from refurb.core.i18n import N_
from refurb.core.principal import Principal
from refurb.db import write_transaction
from refurb.intake.tables import Batch

__all__ = ("BatchOut", "create_batch", "find_batch", "get_batch")


class BatchOut(BaseModel):
    """A batch as other areas and the API see it."""

    id: int
    code: str
    display_code: str
    donor: str
    donor_id: int
    reference: str | None
    state: str


async def create_batch(donor_id: int, reference: str | None = None) -> BatchOut:
    """Open a batch for a donor organisation, with a fresh B code."""
    async with write_transaction():
        (code,) = await mint(CodeType.BATCH, 1)
        await Batch.insert(Batch(code=code.compact, donor=donor_id, reference=reference))
    return await get_batch(code.compact, None)


async def find_batch(donor_id: int, reference: str) -> BatchOut | None:
    """The batch a donor filed under `reference`, if any."""
    row = (
        await Batch.select(Batch.code)
        .where((Batch.donor == donor_id) & (Batch.reference == reference))
        .first()
    )
    return await get_batch(row["code"], None) if row else None


async def get_batch(code_text: str, principal: Principal | None) -> BatchOut:
    """A batch by code; a donor asking for another organisation's batch gets NotFound."""
    code = parse_code(code_text, expected=CodeType.BATCH)
    where = Batch.code == code.compact
    if principal is not None and principal.scoped_to_organisation:
        where &= Batch.donor == principal.organisation_id
    row = (
        await Batch.select(
            Batch.id, Batch.code, Batch.donor.name, Batch.donor.id, Batch.reference, Batch.state
        )
        .where(where)
        .first()
    )
    if row is None:
        raise NotFound(N_("No batch {ref} is known."), ref=code.display)
    return BatchOut(
        id=row["id"],
        code=code.compact,
        display_code=code.display,
        donor=row["donor.name"],
        donor_id=row["donor.id"],
        reference=row["reference"],
        state=row["state"],
    )
