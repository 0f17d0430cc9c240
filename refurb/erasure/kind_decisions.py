"""A person's decision on what a medium is, and a supervisor's review of it.

When nothing proves whether a drive spins (no tool flag, a model nobody knows),
the kind is `unknown` and an overwrite does not pass. A technician who looks at
the drive can say "it is a rotational hard disk"; that decision is recorded with
who and when (append-only), counts at once, and waits on the supervision desk
until a supervisor approves or revokes it. Nobody can call a drive rotational
against the tool's flag, the bus or a known SSD model (`erasure.kinds`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from refurb.core.codes import parse_code
from refurb.core.errors import Conflict, Forbidden, NotFound
from refurb.core.i18n import N_
from refurb.core.principal import Principal
from refurb.core.roles import SUPERVISION, WORKSHOP, Role
from refurb.db import chunked, write_transaction
from refurb.devices import service as devices
from refurb.erasure.custody import require_erasure_stage
from refurb.erasure.kinds import KindDecision, can_confirm_rotational, decide_kind
from refurb.erasure.schemas import KindDecisionIn, KindDecisionOut, KindReviewIn
from refurb.erasure.tables import Medium, MediumKindDecision

__all__ = (
    "PendingKindDecision",
    "confirm_kind",
    "decide",
    "decisions_of",
    "kind_of",
    "pending_kind_decisions",
    "record_decision",
    "review_kind",
)

_FLASH_BY_TOOL = N_(
    "{medium} is flash memory ({kind}): the wiping tool or the bus says so, and nobody can record it "
    "as a spinning disk. Purge it (the drive's sanitize or crypto erase) or destroy it."
)
_FLASH_BY_MODEL = N_(
    "{medium} is flash memory ({kind}): its model is a known SSD family, and nobody can record it "
    "as a spinning disk. Purge it (the drive's sanitize or crypto erase) or destroy it."
)


def kind_of(row: Mapping[str, Any]) -> KindDecision:
    """The kind of a stored medium, decided from what each source said."""
    return decide_kind(
        tool=row.get("tool_kind") or "",
        model=row.get("model") or "",
        declared=row.get("declared_kind") or "",
        confirmed=row.get("confirmed_kind") or "",
    )


async def record_decision(
    medium_id: int, kind: str, principal: Principal, *, note: str = "", reviews: int | None = None
) -> int:
    """Append one decision row (in the caller's transaction)."""
    inserted = await MediumKindDecision.insert(
        MediumKindDecision(
            medium=medium_id,
            kind=kind,
            reviews=reviews,
            note=note.strip(),
            decided_by=principal.user_id,
            decider_name=principal.name,
            decider_role=principal.role.value,
        )
    )
    return inserted[0]["id"]


async def decide(
    medium: Mapping[str, Any],
    kind: str,
    principal: Principal,
    *,
    note: str = "",
    reviews: int | None = None,
) -> KindDecision:
    """Record a person's decision and apply it to the medium (in the caller's transaction)."""
    await record_decision(medium["id"], kind, principal, note=note, reviews=reviews)
    decided = kind_of({**medium, "confirmed_kind": kind})
    await Medium.update(
        {Medium.confirmed_kind: kind, Medium.kind: decided.kind, Medium.kind_basis: decided.basis}
    ).where(Medium.id == medium["id"])
    return decided


async def confirm_kind(code_text: str, medium_id: int, data: KindDecisionIn, principal: Principal) -> bool:
    """A technician's "this drive is a …" for a medium of a received device; False when already so.

    The one decision that unlocks anything is "hdd" (an overwrite then passes):
    it is refused where the bus, the tool's flag or the model proves flash.
    Technicians decide while the device is received; a supervisor at any time
    (a device sanitized before the type rule, whose certificate now waits).
    """
    if principal.role not in WORKSHOP:
        raise Forbidden(N_("Only workshop staff decide what a medium is."))
    async with write_transaction():
        device = await devices.device_ref(code_text, principal, lock=True)
        if principal.role not in SUPERVISION:  # a supervisor may settle a device that already moved on
            require_erasure_stage(device)
        medium = await Medium.select().where((Medium.id == medium_id) & (Medium.device == device.id)).first()
        if medium is None or medium["absent_reason"] is not None:
            raise NotFound(
                N_("{ref} has no medium #{medium}."), ref=parse_code(device.code).display, medium=medium_id
            )
        if data.kind == "hdd" and not can_confirm_rotational(medium["tool_kind"], medium["model"]):
            flash = kind_of(medium)
            raise Conflict(
                _FLASH_BY_TOOL if flash.basis == "tool" else _FLASH_BY_MODEL,
                code="medium_is_flash",
                medium=medium["serial"] or medium["model"] or f"#{medium_id}",
                kind=flash.kind.upper(),
            )
        if medium["confirmed_kind"] == data.kind:
            return False
        await decide(medium, data.kind, principal, note=data.note)
    return True


async def review_kind(decision_id: int, data: KindReviewIn, principal: Principal) -> str:
    """A supervisor approves or revokes a technician's decision; the device's code."""
    if principal.role not in SUPERVISION:
        raise Forbidden(N_("Only a supervisor reviews decisions on media."))
    async with write_transaction():
        row = await MediumKindDecision.select().where(MediumKindDecision.id == decision_id).first()
        if row is None or row["reviews"] is not None or not row["kind"]:
            raise NotFound(N_("There is no decision #{decision} to review."), decision=decision_id)
        if await MediumKindDecision.exists().where(MediumKindDecision.reviews == decision_id):
            raise Conflict(
                N_("Decision #{decision} was already reviewed."),
                code="already_reviewed",
                decision=decision_id,
            )
        medium = await Medium.select().where(Medium.id == row["medium"]).first()
        code = (await devices.device_refs([medium["device"]]))[medium["device"]][0].code
        await devices.device_ref(code, principal, lock=True)
        if data.decision == "approved":
            await record_decision(medium["id"], row["kind"], principal, note=data.note, reviews=decision_id)
        else:
            await decide(medium, "", principal, note=data.note, reviews=decision_id)
    return code


async def decisions_of(medium_ids: Sequence[int]) -> dict[int, list[KindDecisionOut]]:
    """Every decision on these media, oldest first."""
    found: dict[int, list[KindDecisionOut]] = {i: [] for i in medium_ids}
    for chunk in chunked(list(medium_ids)):
        rows = (
            await MediumKindDecision.select()
            .where(MediumKindDecision.medium.is_in(chunk))
            .order_by(MediumKindDecision.id)
        )
        for row in rows:
            found[row["medium"]].append(_out(row))
    return found


def _out(row: Mapping[str, Any]) -> KindDecisionOut:
    return KindDecisionOut(
        id=row["id"],
        kind=row["kind"],
        reviews=row["reviews"],
        note=row["note"],
        by=row["decider_name"],
        role=row["decider_role"],
        at=row["created_at"],
    )


class PendingKindDecision(BaseModel):
    """A technician's decision on a medium that no supervisor has reviewed yet."""

    decision: KindDecisionOut
    medium_id: int
    model: str
    serial: str | None
    device: str


async def pending_kind_decisions(limit: int = 100) -> list[PendingKindDecision]:
    """Technicians' decisions without a review, oldest first."""
    reviewed = MediumKindDecision.select(MediumKindDecision.reviews).where(
        MediumKindDecision.reviews.is_not_null()
    )
    rows = (
        await MediumKindDecision.select(
            MediumKindDecision.all_columns(),
            MediumKindDecision.medium.model.as_alias("model"),
            MediumKindDecision.medium.serial.as_alias("serial"),
            MediumKindDecision.medium.device.as_alias("device"),
        )
        .where(
            (MediumKindDecision.decider_role == Role.TECHNICIAN.value)
            & (MediumKindDecision.kind != "")
            & MediumKindDecision.reviews.is_null()
            & MediumKindDecision.id.not_in(reviewed)
        )
        .order_by(MediumKindDecision.id)
        .limit(limit)
    )
    refs = await devices.device_refs(sorted({row["device"] for row in rows}))
    return [
        PendingKindDecision(
            decision=_out(row),
            medium_id=row["medium"],
            model=row["model"],
            serial=row["serial"],
            device=refs[row["device"]][0].code,
        )
        for row in rows
    ]
