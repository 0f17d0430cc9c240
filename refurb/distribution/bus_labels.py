"""The bus's labels: a household's convocation card (F), the round manifest (R), the hand-over receipt (D).

The family's name goes on a convocation only when the deployment prints names
(`REFURB_PRINT_HOUSEHOLD_NAMES`; printing blanks it otherwise); the manifest and
the receipt name a household by its F code only.
"""

from __future__ import annotations

import datetime
from typing import Any

from pydantic import BaseModel

from refurb.core.codes import Code, parse_code
from refurb.core.errors import Conflict, NotFound
from refurb.core.i18n import N_, fill
from refurb.core.principal import Principal
from refurb.devices import service as devices
from refurb.distribution.bus import AppointmentStatus, add_months, terms_for
from refurb.distribution.handover import support_text
from refurb.distribution.model import AllocationStatus, AttributionMode
from refurb.distribution.rounds import RoundRef, round_ref
from refurb.distribution.service import household_ref
from refurb.distribution.tables import (
    Allocation,
    Appointment,
    Handover,
    HouseholdPerson,
    Programme,
    Round,
    RoundStop,
)
from refurb.printing.kinds import ConvocationCard, LabelKind, ManifestLine, ReceiptLabel, RoundManifest
from refurb.printing.service import LabelContext, register_provider
from refurb.web.i18n import format_date, gettext

__all__ = ("WARRANTY_MONTHS", "convocation_cards", "register")

#: How long a refurbished device is under the programme's warranty after its hand-over.
WARRANTY_MONTHS = 12
BRING = N_("this card, an identity document and, if you have one, a proof of address")


def _end_of_slot(slot: str, minutes: int) -> str:
    hours, mins = (int(p) for p in slot.split(":"))
    total = hours * 60 + mins + minutes
    return f"{total // 60:02d}:{total % 60:02d}"


def _description(device: Any) -> str:
    return " ".join(p for p in (gettext(device.kind.label), device.manufacturer, device.model) if p)


async def _cards(rows: list[dict[str, Any]], ref: RoundRef, context: LabelContext) -> list[BaseModel]:
    names: dict[int, str] = {}
    if context.household_names:
        ids = [r["household"] for r in rows]
        for person in await HouseholdPerson.select(
            HouseholdPerson.household, HouseholdPerson.first_name, HouseholdPerson.last_name
        ).where(HouseholdPerson.household.is_in(ids or [0])):
            names[person["household"]] = " ".join(
                p for p in (person["first_name"].strip(), person["last_name"].strip().upper()) if p
            )
    return [
        ConvocationCard(
            code=r["household.code"],
            display_code=parse_code(r["household.code"]).display,
            round=ref.display,
            stop=" — ".join(p for p in (r["stop.place"], r["stop.partner"]) if p),
            date=format_date(ref.held_on, "full"),
            time_window=f"{r['slot']} – {_end_of_slot(r['slot'], r['stop.slot_minutes'])}",
            name=names.get(r["household"], ""),
            bring=gettext(BRING),
        )
        for r in rows
    ]


_CARD_COLUMNS = (
    Appointment.household,
    Appointment.household.code,
    Appointment.round.code,
    Appointment.stop.place,
    Appointment.stop.partner,
    Appointment.stop.slot_minutes,
    Appointment.slot,
)


async def _convocation(code: Code, principal: Principal, context: LabelContext) -> list[BaseModel]:
    """The card of a household convoked on a round."""
    household = await household_ref(code.compact)
    row = await (
        Appointment.select(*_CARD_COLUMNS)
        .where(
            (Appointment.household == household.id) & (Appointment.status == AppointmentStatus.CONVOKED.value)
        )
        .first()
    )
    if row is None:
        raise Conflict(
            N_("Household {ref} is not convoked on any round: no convocation to print."),
            code="not_convoked",
            ref=code.display,
        )
    return await _cards([row], await round_ref(row["round.code"]), context)


async def convocation_cards(code_text: str, principal: Principal, context: LabelContext) -> list[BaseModel]:
    """Every convocation card of a round, by stop and slot (the round's staff and coordinators)."""
    ref = await round_ref(code_text, principal)
    rows = await (
        Appointment.select(*_CARD_COLUMNS)
        .where((Appointment.round == ref.id) & (Appointment.status == AppointmentStatus.CONVOKED.value))
        .order_by(Appointment.stop.position)
        .order_by(Appointment.slot)
        .order_by(Appointment.id)
    )
    return await _cards(rows, ref, context)


async def _manifest(code: Code, principal: Principal, context: LabelContext) -> list[BaseModel]:
    """The round's sheet: each device reserved for a household convoked on it, by stop and slot."""
    ref = await round_ref(code.compact)
    rows = await (
        Appointment.select(
            Appointment.household, Appointment.household.code, Appointment.stop.place, Appointment.slot
        )
        .where((Appointment.round == ref.id) & (Appointment.status == AppointmentStatus.CONVOKED.value))
        .order_by(Appointment.stop.position)
        .order_by(Appointment.slot)
        .order_by(Appointment.id)
    )
    lines_of: dict[int, list[int]] = {}
    for line in await Allocation.select(Allocation.household, Allocation.device).where(
        Allocation.household.is_in([r["household"] for r in rows] or [0])
        & (Allocation.status == AllocationStatus.RESERVED.value)
    ).order_by(Allocation.id):  # fmt: skip
        lines_of.setdefault(line["household"], []).append(line["device"])
    ids = [d for ds in lines_of.values() for d in ds]
    codes = await devices.codes_of("device", ids)
    outs = {d.code: d for d in await devices.outs_by_id(ids)} if ids else {}
    lines = []
    for r in rows:
        for device_id in lines_of.get(r["household"], []):
            device = outs[codes[device_id]]
            lines.append(
                ManifestLine(
                    code=device.code,
                    display_code=device.display_code,
                    device=_description(device),
                    household=parse_code(r["household.code"]).display,
                    stop=f"{r['stop.place']} {r['slot']}",
                )
            )
    round_row = await Round.select(Round.vehicle).where(Round.id == ref.id).first()
    stops = await RoundStop.count().where(RoundStop.round == ref.id)
    name = fill(N_("{vehicle} · {stops} stops · {count} devices"),
                {"vehicle": round_row["vehicle"] if round_row else "", "stops": stops, "count": len(lines)},
                gettext)  # fmt: skip
    return [
        RoundManifest(
            code=ref.code, display_code=ref.display, name=name, date=format_date(ref.held_on), lines=lines
        )
    ]


async def _receipt(code: Code, principal: Principal, context: LabelContext) -> list[BaseModel]:
    """The receipt of a device's last hand-over: what, how, until when, where to get help."""
    device = await devices.get(code.compact, principal)
    row = await (
        Handover.select(
            Handover.household, Handover.household.code, Handover.household.qpv_code, Handover.mode,
            Handover.created_at, Handover.allocation.programme,
        )
        .where(Handover.device.code == code.compact)
        .order_by(Handover.id, ascending=False)
        .first()
    )  # fmt: skip
    if row is None:
        raise NotFound(N_("{ref} was never handed over."), ref=code.display)
    handed_on: datetime.date = row["created_at"].date()
    programme = await Programme.select(
        Programme.loan_months, Programme.rental_monthly_cents, Programme.rental_programme_share
    ).where(Programme.id == row["allocation.programme"]).first()  # fmt: skip
    terms = terms_for(
        row["mode"],
        handed_on,
        loan_months=programme["loan_months"] if programme else None,
        rental_monthly_cents=programme["rental_monthly_cents"] if programme else None,
        rental_programme_share=programme["rental_programme_share"] if programme else None,
    )
    _, support = await support_text(row["allocation.programme"], row["household.qpv_code"])
    household = parse_code(row["household.code"])
    return [
        ReceiptLabel(
            code=device.code,
            display_code=device.display_code,
            household=household.display,
            household_code=household.compact,
            device=_description(device),
            serial=device.serial or "—",
            mode=gettext(AttributionMode(row["mode"]).label),
            date=format_date(handed_on),
            warranty_end=format_date(add_months(handed_on, WARRANTY_MONTHS)),
            support_contact=support or "—",
            terms=" ".join(fill(line, terms.params, gettext) for line in terms.lines),
        )
    ]


def register() -> None:
    """Declare the label kinds this area fills."""
    register_provider(LabelKind.CONVOCATION, _convocation)
    register_provider(LabelKind.MANIFEST, _manifest)
    register_provider(LabelKind.RECEIPT, _receipt)
