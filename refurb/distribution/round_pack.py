"""The round pack: what a tablet keeps for one round, to load and hand over without a network.

Only the round's own staff and coordinators get it; it names the families by the
name staff greet them with (no address, phone or e-mail), and each read is logged
in `PersonalDataAccess` like any other read of personal data.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any

from refurb.core.codes import parse_code
from refurb.core.i18n import fill
from refurb.core.principal import Principal
from refurb.core.roles import Role
from refurb.db import chunked, single_write
from refurb.devices import service as devices
from refurb.distribution.bus import TERMS_VERSION, AppointmentStatus, terms_for
from refurb.distribution.handover import support_text
from refurb.distribution.model import AllocationStatus
from refurb.distribution.round_schemas import PackAppointment, PackDevice, RoundPack
from refurb.distribution.rounds import get_round, round_ref
from refurb.distribution.tables import (
    Allocation,
    Appointment,
    HouseholdPerson,
    PersonalDataAccess,
    Programme,
)
from refurb.timestamps import utcnow
from refurb.web.i18n import gettext, local_today

__all__ = ("PACK_HOURS", "round_pack")

#: A pack left on a tablet is wiped after this long, whatever happens to the round.
PACK_HOURS = 24


def _greets(principal: Principal, staff: list[int]) -> bool:
    return principal.role is Role.COORDINATOR or (
        principal.role is Role.BUS_STAFF and principal.user_id in staff
    )


async def round_pack(code_text: str, principal: Principal, route: str = "") -> RoundPack:
    """The day's appointments with their devices, terms and support resource, for the tablet."""
    ref = await round_ref(code_text, principal)
    out = await get_round(ref.code, principal)
    rows = await (
        Appointment.select(
            Appointment.household, Appointment.household.code, Appointment.household.qpv_code,
            Appointment.stop, Appointment.slot, Appointment.status,
        )
        .where((Appointment.round == ref.id) & Appointment.status.is_in(
            [AppointmentStatus.CONVOKED.value, AppointmentStatus.DELIVERED.value]))
        .order_by(Appointment.stop.position).order_by(Appointment.slot).order_by(Appointment.id)
    )  # fmt: skip
    household_ids = [r["household"] for r in rows]
    lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    names: dict[int, str] = {}
    greets = _greets(principal, ref.staff)
    for chunk in chunked(household_ids):
        for line in await Allocation.select(
            Allocation.id, Allocation.household, Allocation.device, Allocation.mode, Allocation.status
        ).where(
            Allocation.household.is_in(chunk)
            & Allocation.status.is_in([AllocationStatus.RESERVED.value, AllocationStatus.HANDED_OVER.value])
            & Allocation.device.is_not_null()
        ).order_by(Allocation.id):  # fmt: skip
            lines[line["household"]].append(line)
        if greets:
            for person in await HouseholdPerson.select(
                HouseholdPerson.household, HouseholdPerson.first_name, HouseholdPerson.last_name
            ).where(HouseholdPerson.household.is_in(chunk)):
                names[person["household"]] = " ".join(
                    p for p in (person["first_name"].strip(), person["last_name"].strip().upper()) if p
                )
    device_ids = [line["device"] for ls in lines.values() for line in ls]
    codes = await devices.codes_of("device", device_ids)
    by_code = {d.code: d for d in await devices.outs_by_id(device_ids)} if device_ids else {}
    outs = {device_id: by_code[code] for device_id, code in codes.items() if code in by_code}
    programme = await Programme.select(
        Programme.loan_months, Programme.rental_monthly_cents, Programme.rental_programme_share
    ).where(Programme.id == ref.programme_id).first()  # fmt: skip
    day = max(ref.held_on, local_today())
    support: dict[str, str] = {}
    appointments = []
    for r in rows:
        qpv = r["household.qpv_code"]
        if qpv not in support:
            support[qpv] = (await support_text(ref.programme_id, qpv))[1]
        household_lines = lines.get(r["household"], [])
        mode = household_lines[0]["mode"] if household_lines else "donation"
        terms = terms_for(
            mode,
            day,
            loan_months=programme["loan_months"] if programme else None,
            rental_monthly_cents=programme["rental_monthly_cents"] if programme else None,
            rental_programme_share=programme["rental_programme_share"] if programme else None,
        )
        pack_devices = []
        for line in household_lines:
            device = outs.get(line["device"])
            if device is None:
                continue
            description = " ".join(
                p for p in (gettext(device.kind.label), device.manufacturer, device.model) if p
            )
            pack_devices.append(
                PackDevice(
                    code=device.code,
                    display_code=device.display_code,
                    kind=device.kind.value,
                    description=description,
                    serial=device.serial or "",
                    state=device.state.value,
                    allocation=line["id"],
                    mode=line["mode"],
                )
            )
        appointments.append(
            PackAppointment(
                household=r["household.code"],
                display_code=parse_code(r["household.code"]).display,
                greet_name=names.get(r["household"], ""),
                stop=r["stop"],
                slot=r["slot"],
                status=r["status"],
                mode=mode,
                terms=[fill(line, terms.params, gettext) for line in terms.lines],
                terms_figures=terms.figures(),
                support=support[qpv],
                devices=pack_devices,
            )
        )
    if greets and names:
        async with single_write():
            await PersonalDataAccess.insert(
                *[
                    PersonalDataAccess(household=h, user=principal.user_id, actor_name=principal.name[:80],
                                       purpose="round_pack", route=route[:200])
                    for h in sorted(names)
                ]
            )  # fmt: skip
    return RoundPack(
        round=out,
        terms_version=TERMS_VERSION,
        expires_at=utcnow() + datetime.timedelta(hours=PACK_HOURS),
        appointments=appointments,
        training_sessions=[],
    )
