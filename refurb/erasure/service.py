"""Data-bearing media (the erasure issue adds erasure records, tool reports and certificates)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from refurb.db import chunked, insert_many, write_transaction
from refurb.erasure.kinds import decide_kind, declared_kind
from refurb.erasure.tables import Medium
from refurb.timestamps import utcnow

__all__ = ("DeclaredMedia", "add_declared_media", "declare_media", "declared_media_count")

DECLARED = "declared"
_COLUMNS = ("device", "kind", "declared_kind", "kind_basis", "interface", "manufacturer", "model", "serial",
            "capacity_bytes", "source", "created_at", "updated_at")  # fmt: skip


@dataclass(frozen=True, slots=True)
class DeclaredMedia:
    """The disks a donor's manifest lists for one device."""

    device_id: int
    count: int | None
    serials: Sequence[str] = ()
    storage: str = ""  # the manifest's storage text ("SSD 256 Go"): the declared kind, when it names one


async def add_declared_media(declared: Sequence[DeclaredMedia]) -> int:
    """Record the media the donor declared for new devices; how many rows were added.

    One `Medium` per declared disk, with its serial when the manifest gives
    one. Erasure compares them with what the wiping tool detects.
    """
    now = utcnow()
    rows = []
    for item in declared:
        count = max(item.count or 0, len(item.serials))
        serials = list(item.serials) + [None] * (count - len(item.serials))
        declared = declared_kind(item.storage)
        decided = decide_kind(declared=declared)
        rows += [
            (item.device_id, decided.kind, declared, decided.basis, "", "", "", s, None, DECLARED, now, now)
            for s in serials
        ]
    if not rows:
        return 0
    async with write_transaction():
        await insert_many("medium", _COLUMNS, rows)
    return len(rows)


async def declare_media(declared: Sequence[DeclaredMedia]) -> int:
    """Replace what the donor declared for known devices (a corrected manifest)."""
    if not declared:
        return 0
    ids = [item.device_id for item in declared]
    async with write_transaction():
        for chunk in chunked(ids):
            await Medium.delete().where(Medium.device.is_in(chunk) & (Medium.source == DECLARED))
        return await add_declared_media(declared)


async def declared_media_count(device_ids: Sequence[int]) -> int:
    """How many media the donor declared for these devices."""
    if not device_ids:
        return 0
    return await Medium.count().where(Medium.device.is_in(list(device_ids)) & (Medium.source == DECLARED))
