"""Rejects to D3E recycling: lots (pallets) of rejected devices handed to a recycler, and the waste register.

A lot collects rejected devices; its handover records what the French
chronological register of outgoing waste needs (arrêté du 31 mai 2021) and
sends every device on it to `recycled` through the devices service, in one
write transaction: a single device still holding an unsanitized medium refuses
the whole handover, and nothing changes.
"""

from __future__ import annotations

import datetime
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, Field
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siret as siret_number

from refurb.core.codes import Code, CodeType, parse_code, read_scan
from refurb.core.errors import BadInput, Conflict, DomainError, GuardRefused, NotFound
from refurb.core.i18n import N_
from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import Action, Check, State
from refurb.core.principal import Principal
from refurb.db import UNIQUE_VIOLATIONS, chunked, fetch, is_sqlite, write_transaction
from refurb.devices import service as devices
from refurb.devices.service import CheckContext, DeviceRow, register_check
from refurb.web.i18n import gettext
from refurb.web.spreadsheet import csv_bytes
from refurb.workshop.tables import RecyclingLot, RecyclingLotDevice

__all__ = (
    "HAZARDOUS_MARK",
    "WASTE_CODES",
    "AddOut",
    "HandoverIn",
    "LotDetail",
    "LotDeviceOut",
    "LotOut",
    "RegisterRow",
    "add_device",
    "create_lot",
    "get_lot",
    "hand_over",
    "list_lots",
    "register",
    "register_csv",
    "remove_device",
    "waste_register",
)

OPEN = "open"
HANDED_OVER = "handed_over"
HAZARDOUS_MARK = "*"
MAX_REFERENCE_ATTEMPTS = 10
MAX_WEIGHT_KG = Decimal("99999999.9")
TENTH = Decimal("0.1")

#: European waste list codes for what leaves a refurbishing workshop; a `*` marks hazardous waste.
WASTE_CODES: Mapping[str, str] = {
    "16 02 14": N_("equipment without hazardous components"),
    "16 02 13*": N_("equipment containing hazardous components (CRT, batteries…)"),
    "20 01 36": N_("discarded electrical and electronic equipment (municipal waste)"),
    "20 01 35*": N_(
        "discarded electrical and electronic equipment with hazardous components (municipal waste)"
    ),
    "16 06 01*": N_("lead batteries"),
    "16 06 05": N_("other batteries and accumulators"),
}
#: Recovery (R1–R13) and disposal (D1–D15) operations of the Waste Framework Directive.
_TREATMENT = re.compile(r"(R(1[0-3]|[1-9])|D(1[0-5]|[1-9]))")

#: The register is a French legal document: its wording stays French whatever the reader's language.
WASTE_DESCRIPTION = "Déchets d'équipements électriques et électroniques (DEEE)"
_KIND_NOUNS: Mapping[DeviceKind, tuple[str, str]] = {
    DeviceKind.DESKTOP: ("ordinateur fixe", "ordinateurs fixes"),
    DeviceKind.LAPTOP: ("ordinateur portable", "ordinateurs portables"),
    DeviceKind.TABLET: ("tablette", "tablettes"),
    DeviceKind.MONITOR: ("écran", "écrans"),
    DeviceKind.PRINTER: ("imprimante", "imprimantes"),
    DeviceKind.PHONE: ("téléphone", "téléphones"),
    DeviceKind.CONNECTIVITY: ("box ou clé 4G", "box ou clés 4G"),
    DeviceKind.OTHER: ("autre appareil", "autres appareils"),
}
REGISTER_HEADER = (
    "Date d'expédition",
    "Référence du lot",
    "Dénomination du déchet",
    "Code déchet",
    "Déchet dangereux",
    "Quantité (kg)",
    "Nombre d'appareils",
    "Destinataire",
    "SIRET du destinataire",
    "Éco-organisme",
    "Transporteur",
    "Code de traitement",
    "Numéro de bordereau (BSD)",
)


# --- schemas ------------------------------------------------------------------------------------


class LotDeviceOut(BaseModel):
    """A device on a lot."""

    code: str
    display_code: str
    kind: str
    state: str
    batch: str | None


class LotOut(BaseModel):
    """A recycling lot and, once handed over, its line of the waste register."""

    reference: str
    status: Literal["open", "handed_over"]
    recycler: str
    recycler_siret: str
    eco_organism: str
    carrier: str
    handed_over_on: datetime.date | None
    weight_kg: float | None
    waste_code: str
    hazardous: bool
    treatment_code: str
    bsd: str
    created_by: str
    created_at: datetime.datetime
    device_count: int
    kinds: dict[str, int]


class LotDetail(LotOut):
    """A lot with its devices."""

    devices: list[LotDeviceOut]


class AddOut(BaseModel):
    """What a scan on a lot did."""

    outcome: Literal["added", "already_on_lot"]
    lot: str
    device: LotDeviceOut
    device_count: int


class HandoverIn(BaseModel):
    """What the recycler's pickup records; the date defaults to today."""

    recycler: str = Field(default="", max_length=200)
    recycler_siret: str | None = Field(default=None, max_length=40)
    eco_organism: str | None = Field(default=None, max_length=100)
    carrier: str | None = Field(default=None, max_length=200)
    handed_over_on: datetime.date | None = None
    weight_kg: Decimal | None = None
    waste_code: str = Field(default="", max_length=20)
    treatment_code: str | None = Field(default=None, max_length=10)
    bsd: str | None = Field(default=None, max_length=40)


class RegisterRow(BaseModel):
    """One line of the chronological register of outgoing waste: one handed-over lot."""

    shipped_on: datetime.date
    lot: str
    description: str
    waste_code: str
    hazardous: bool
    weight_kg: float
    devices: int
    recycler: str
    recycler_siret: str
    eco_organism: str
    carrier: str
    treatment_code: str
    bsd: str


# --- reading ------------------------------------------------------------------------------------

_LOT_SQL = "SELECT * FROM recycling_lot WHERE reference = {}"


def is_hazardous(waste_code: str) -> bool:
    """Hazardous waste carries a `*` in the European list (and then needs a BSD)."""
    return waste_code.endswith(HAZARDOUS_MARK)


def _normal_reference(text: str) -> str:
    return text.strip().upper()


async def _lot_row(reference: str, *, lock: bool = False) -> dict[str, Any]:
    suffix = " FOR UPDATE" if lock and not is_sqlite() else ""
    rows = await fetch(_LOT_SQL + suffix, _normal_reference(reference)[:30])
    if not rows:
        raise NotFound(N_("No recycling lot {reference} is known."), reference=reference.strip()[:30])
    return rows[0]


async def _members(lot_ids: Sequence[int]) -> dict[int, list[LotDeviceOut]]:
    """The devices on each lot, in the order they were scanned (read through the devices service)."""
    found: dict[int, list[LotDeviceOut]] = {i: [] for i in lot_ids}
    pairs: list[tuple[int, int]] = []
    for chunk in chunked(list(lot_ids)):
        rows = await fetch(
            "SELECT lot, device FROM recycling_lot_device "  # noqa: S608 - placeholders only
            f"WHERE lot IN ({', '.join('{}' for _ in chunk)}) ORDER BY id",
            *chunk,
        )
        pairs += [(row["lot"], row["device"]) for row in rows]
    refs: dict[int, tuple[DeviceRow, str]] = {}
    for chunk in chunked([device for _, device in pairs]):
        refs.update(await devices.device_refs(chunk))
    for lot_id, device_id in pairs:
        found[lot_id].append(_device_out(*refs[device_id]))
    return found


def _device_out(device: DeviceRow, batch: str | None) -> LotDeviceOut:
    return LotDeviceOut(
        code=device.code,
        display_code=parse_code(device.code).display,
        kind=device.kind.value,
        state=device.state.value,
        batch=batch,
    )


def _kinds(members: Sequence[LotDeviceOut]) -> dict[str, int]:
    """How many devices of each kind, in the usual order of kinds."""
    counts = Counter(d.kind for d in members)
    return {kind.value: counts[kind.value] for kind in DeviceKind if counts[kind.value]}


def _weight(value: Any) -> float | None:
    return None if value is None else float(Decimal(str(value)).quantize(TENTH))


def _lot_out(row: Mapping[str, Any], kinds: dict[str, int]) -> LotOut:
    return LotOut(
        reference=row["reference"],
        status=row["status"],
        recycler=row["recycler"],
        recycler_siret=row["recycler_siret"],
        eco_organism=row["eco_organism"],
        carrier=row["carrier"],
        handed_over_on=_date(row["handed_over_on"]),
        weight_kg=_weight(row["weight_kg"]),
        waste_code=row["waste_code"],
        hazardous=is_hazardous(row["waste_code"]),
        treatment_code=row["treatment_code"],
        bsd=row["bsd"],
        created_by=row["created_by_name"],
        created_at=row["created_at"],
        device_count=sum(kinds.values()),
        kinds=kinds,
    )


def _date(value: Any) -> datetime.date | None:
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


async def list_lots(status: str | None = None) -> list[LotOut]:
    """Open lots first, then the handed-over ones, newest first."""
    query = "SELECT * FROM recycling_lot"
    params: list[Any] = []
    if status in (OPEN, HANDED_OVER):
        query += " WHERE status = {}"
        params.append(status)
    rows = await fetch(query + " ORDER BY CASE WHEN status = 'open' THEN 0 ELSE 1 END, id DESC", *params)
    members = await _members([r["id"] for r in rows])
    return [_lot_out(row, _kinds(members[row["id"]])) for row in rows]


async def get_lot(reference: str) -> LotDetail:
    """A lot with its devices, their kinds and states."""
    row = await _lot_row(reference)
    members = (await _members([row["id"]]))[row["id"]]
    return LotDetail(**_lot_out(row, _kinds(members)).model_dump(), devices=members)


# --- writing ------------------------------------------------------------------------------------


def _require_open(lot: Mapping[str, Any]) -> None:
    if lot["status"] != OPEN:
        raise Conflict(
            N_("Lot {reference} was handed over to the recycler: it cannot change any more."),
            code="lot_closed",
            reference=lot["reference"],
        )


async def create_lot(principal: Principal, *, today: datetime.date) -> LotDetail:
    """A new open lot, `LOT-<year>-<nnnn>` numbered in sequence within the year.

    Two supervisors creating a lot at once may pick the same number: the unique
    reference refuses the second, which takes the next one.
    """
    prefix = f"LOT-{today.year}-"
    for _attempt in range(MAX_REFERENCE_ATTEMPTS):
        try:
            async with write_transaction():
                rows = await fetch(  # the longest, then highest: 10000 comes after 9999
                    "SELECT reference AS last FROM recycling_lot WHERE reference LIKE {} "
                    "ORDER BY LENGTH(reference) DESC, reference DESC LIMIT 1",
                    prefix + "%",
                )
                last = rows[0]["last"] if rows else None
                number = int(last[len(prefix) :]) + 1 if last else 1
                reference = f"{prefix}{number:04d}"
                await RecyclingLot.insert(
                    RecyclingLot(
                        reference=reference,
                        organisation=principal.organisation_id,
                        status=OPEN,
                        created_by_name=principal.name[:80],
                    )
                )
        except UNIQUE_VIOLATIONS as error:
            if "unique" not in str(error).lower():
                raise
            continue
        return await get_lot(reference)
    raise Conflict(N_("Another lot was being created at the same time: try again."), code="lot_busy")


async def _find_device(text: str, principal: Principal) -> DeviceRow:
    """The device a scan designates: its D code (checked), the donor's asset tag or its serial."""
    read = read_scan(text)
    if isinstance(read, Code):
        if read.type is not CodeType.DEVICE:
            raise BadInput(
                N_("{ref} is not a device: scan the device's D code, serial or asset tag."),
                code="not_a_device",
                ref=read.display,
            )
        return await devices.device_ref(read.compact, principal, lock=True)
    found = await devices.find_by_alias(read.text, principal)
    return await devices.device_ref(found.code, principal, lock=True)


async def _device_lot(device_id: int) -> Mapping[str, Any] | None:
    rows = await fetch(
        "SELECT l.id, l.reference, l.status FROM recycling_lot_device ld "
        "JOIN recycling_lot l ON l.id = ld.lot WHERE ld.device = {}",
        device_id,
    )
    return rows[0] if rows else None


async def _count(lot_id: int) -> int:
    return await RecyclingLotDevice.count().where(RecyclingLotDevice.lot == lot_id)


async def add_device(reference: str, text: str, principal: Principal) -> AddOut:
    """Put a scanned rejected device on an open lot; scanning it again says so and changes nothing."""
    async with write_transaction():
        lot = await _lot_row(reference, lock=True)
        _require_open(lot)
        device = await _find_device(text, principal)
        display = parse_code(device.code).display
        current = await _device_lot(device.id)
        if current is not None and current["id"] == lot["id"]:
            outcome: Literal["added", "already_on_lot"] = "already_on_lot"
        elif current is not None:
            raise Conflict(
                N_("{ref} is already on lot {lot}."),
                code="device_on_another_lot",
                ref=display,
                lot=current["reference"],
                extra={"lot": current["reference"]},
            )
        elif device.state is not State.REJECTED:
            raise Conflict(
                N_("{ref} is {state}: only rejected devices go to recycling."),
                code="device_not_rejected",
                ref=display,
                state=device.state,
                extra={"state": device.state.value},
            )
        else:
            outcome = "added"
            await RecyclingLotDevice.insert(RecyclingLotDevice(lot=lot["id"], device=device.id))
        fresh, batch = (await devices.device_refs([device.id]))[device.id]
        return AddOut(
            outcome=outcome,
            lot=lot["reference"],
            device=_device_out(fresh, batch),
            device_count=await _count(lot["id"]),
        )


async def remove_device(reference: str, code_text: str, principal: Principal) -> None:
    """Take a device off an open lot (put on the wrong pallet, or repaired after all)."""
    code = parse_code(code_text, expected=CodeType.DEVICE)
    async with write_transaction():
        lot = await _lot_row(reference, lock=True)
        _require_open(lot)
        device = await devices.device_ref(code.compact, principal)
        removed = (
            await RecyclingLotDevice.delete()
            .where((RecyclingLotDevice.lot == lot["id"]) & (RecyclingLotDevice.device == device.id))
            .returning(RecyclingLotDevice.id)
        )
        if not removed:
            raise NotFound(
                N_("{ref} is not on lot {lot}."), code="not_on_lot", ref=code.display, lot=lot["reference"]
            )


def _text(value: str | None) -> str:
    return (value or "").strip()


def _handover_values(data: HandoverIn, today: datetime.date) -> dict[Any, Any]:
    """The lot's columns from the form, or a refusal naming the first wrong field."""
    recycler = _text(data.recycler)
    if not recycler:
        raise BadInput(N_("Name the recycler that takes the lot."), code="recycler_required")
    siret = _text(data.recycler_siret).replace(" ", "")
    if siret:
        try:
            siret = siret_number.validate(siret)
        except StdnumError:
            raise BadInput(
                N_("'{siret}' is not a valid SIRET."), code="bad_siret", siret=_text(data.recycler_siret)
            ) from None
    shipped = data.handed_over_on or today
    if shipped > today:
        raise BadInput(
            N_("The handover date {date} is in the future."),
            code="bad_handover_date",
            date=shipped.isoformat(),
        )
    if data.weight_kg is None:
        raise BadInput(N_("Weigh the lot: its weight in kg is required."), code="weight_required")
    try:
        weight = Decimal(data.weight_kg).quantize(TENTH, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        weight = Decimal(0)
    if not Decimal(0) < weight <= MAX_WEIGHT_KG:
        raise BadInput(
            N_("The weight must be more than 0 kg (to the tenth of a kilogram)."), code="bad_weight"
        )
    waste_code = " ".join(_text(data.waste_code).split())
    if waste_code not in WASTE_CODES:
        raise BadInput(
            N_("'{waste_code}' is not one of the waste codes Refurb knows ({known})."),
            code="bad_waste_code",
            extra={"known": list(WASTE_CODES)},
            waste_code=waste_code[:20],
            known=", ".join(WASTE_CODES),
        )
    bsd = _text(data.bsd)
    if is_hazardous(waste_code) and not bsd:
        raise BadInput(
            N_("Waste code {waste_code} is hazardous: the tracking slip (BSD) reference is required."),
            code="bsd_required",
            waste_code=waste_code,
        )
    treatment = _text(data.treatment_code).upper().replace(" ", "")
    if treatment and not _TREATMENT.fullmatch(treatment):
        raise BadInput(
            N_("'{treatment}' is not a treatment code (R1 to R13, D1 to D15)."),
            code="bad_treatment_code",
            treatment=_text(data.treatment_code)[:10],
        )
    return {
        RecyclingLot.status: HANDED_OVER,
        RecyclingLot.recycler: recycler,
        RecyclingLot.recycler_siret: siret,
        RecyclingLot.eco_organism: _text(data.eco_organism),
        RecyclingLot.carrier: _text(data.carrier),
        RecyclingLot.handed_over_on: shipped,
        RecyclingLot.weight_kg: weight,
        RecyclingLot.waste_code: waste_code,
        RecyclingLot.treatment_code: treatment,
        RecyclingLot.bsd: bsd,
    }


async def hand_over(
    reference: str,
    data: HandoverIn,
    principal: Principal,
    *,
    today: datetime.date,
    request_id: str | None = None,
) -> LotDetail:
    """Record the recycler's pickup and send every device on the lot to `recycled`, all or nothing.

    Each device goes through the devices service, so its medium check and the
    D3E check run; the refusals of every device are collected before the whole
    handover is rolled back, so the supervisor sees at once what to fix.
    """
    values = _handover_values(data, today)
    async with write_transaction():
        lot = await _lot_row(reference, lock=True)
        _require_open(lot)
        codes = [d.code for d in (await _members([lot["id"]]))[lot["id"]]]
        if not codes:
            raise BadInput(
                N_("Lot {reference} is empty: scan its devices first."),
                code="lot_empty",
                reference=lot["reference"],
            )
        await RecyclingLot.update(values).where(RecyclingLot.id == lot["id"])
        refused: list[dict[str, str]] = []
        for code in codes:
            try:
                await devices.transition(
                    code, Action.RECYCLE.value, {"lot": lot["reference"]}, principal, request_id=request_id
                )
            except DomainError as error:
                refused.append(
                    {"device": code, "display_code": parse_code(code).display, "code": error.code,
                     "reason": error.render(gettext)}
                )  # fmt: skip
        if refused:
            raise Conflict(
                N_("Lot {reference} cannot be handed over; devices refused: {devices}."),
                code="lot_not_ready",
                reference=lot["reference"],
                devices=", ".join(r["display_code"] for r in refused),
                extra={"refused": refused},
            )
    return await get_lot(reference)


# --- the waste register -------------------------------------------------------------------------


def describe(kinds: Mapping[str, int]) -> str:
    """The waste's name in the register, with what it is made of: "… (DEEE) : 12 ordinateurs portables"."""
    parts = []
    for kind in DeviceKind:
        count = kinds.get(kind.value, 0)
        if count:
            singular, plural = _KIND_NOUNS[kind]
            parts.append(f"{count} {singular if count == 1 else plural}")
    return f"{WASTE_DESCRIPTION} : {', '.join(parts)}" if parts else WASTE_DESCRIPTION


async def waste_register(
    start: datetime.date | None = None, end: datetime.date | None = None
) -> list[RegisterRow]:
    """Handed-over lots in shipping order, between two dates (both included)."""
    query = "SELECT * FROM recycling_lot WHERE status = {}"
    params: list[Any] = [HANDED_OVER]
    if start is not None:
        query += " AND handed_over_on >= {}"
        params.append(start)
    if end is not None:
        query += " AND handed_over_on <= {}"
        params.append(end)
    rows = await fetch(query + " ORDER BY handed_over_on, reference", *params)
    members = await _members([r["id"] for r in rows])
    kinds = {lot_id: _kinds(found) for lot_id, found in members.items()}
    return [
        RegisterRow(
            shipped_on=_date(row["handed_over_on"]) or datetime.date.min,
            lot=row["reference"],
            description=describe(kinds[row["id"]]),
            waste_code=row["waste_code"],
            hazardous=is_hazardous(row["waste_code"]),
            weight_kg=_weight(row["weight_kg"]) or 0.0,
            devices=sum(kinds[row["id"]].values()),
            recycler=row["recycler"],
            recycler_siret=row["recycler_siret"],
            eco_organism=row["eco_organism"],
            carrier=row["carrier"],
            treatment_code=row["treatment_code"],
            bsd=row["bsd"],
        )
        for row in rows
    ]


def _decimal_comma(weight: float) -> str:
    return f"{Decimal(str(weight)).quantize(TENTH)}".replace(".", ",")


def register_csv(rows: Sequence[RegisterRow]) -> bytes:
    """The register as a spreadsheet opens it in France: `;`, UTF-8 with BOM, decimal comma, ISO dates."""
    return csv_bytes(
        REGISTER_HEADER,
        (
            (
                row.shipped_on.isoformat(),
                row.lot,
                row.description,
                row.waste_code,
                "oui" if row.hazardous else "non",
                _decimal_comma(row.weight_kg),
                row.devices,
                row.recycler,
                row.recycler_siret,
                row.eco_organism,
                row.carrier,
                row.treatment_code,
                row.bsd,
            )
            for row in rows
        ),
    )


# --- the lifecycle check ------------------------------------------------------------------------


async def _d3e_recorded(context: CheckContext) -> None:
    """The check of `recycle`: the device is on a lot whose handover to a recycler is recorded."""
    rows = await fetch(
        "SELECT l.reference, l.recycler, l.handed_over_on, l.weight_kg, l.waste_code "
        "FROM recycling_lot_device ld JOIN recycling_lot l ON l.id = ld.lot WHERE ld.device = {}",
        context.device.id,
    )
    ref = parse_code(context.device.code).display
    if not rows:
        raise GuardRefused(
            N_("{ref} is on no recycling lot: put it on a lot and record the lot's handover."),
            code="d3e_not_recorded",
            ref=ref,
        )
    lot = rows[0]
    if not (lot["recycler"] and lot["handed_over_on"] and lot["weight_kg"] is not None and lot["waste_code"]):
        raise GuardRefused(
            N_("{ref} is on lot {lot}, whose handover (recycler, date, weight, waste code) is not recorded."),
            code="d3e_not_recorded",
            ref=ref,
            lot=lot["reference"],
        )


def register() -> None:
    """Declare the check this module answers."""
    register_check(Check.D3E_RECORDED, _d3e_recorded)
