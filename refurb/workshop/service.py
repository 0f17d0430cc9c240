"""Reconditioning: a pass over the bench is recorded with its outcome in one transaction.

A passing pass makes the device `refurbished` (the `tests_recorded` check reads
the pass); a failing one rejects it with the reason. Parts are costed; a new
disk becomes a medium "new, no prior data".
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from refurb.core.choices import parse_choice
from refurb.core.codes import Alias, CodeType, parse_code, read_scan
from refurb.core.errors import BadInput, Forbidden, GuardRefused
from refurb.core.i18n import N_, fill
from refurb.core.lifecycle import TRANSITIONS, Action, Check, State
from refurb.core.principal import Principal
from refurb.db import json_value, write_transaction
from refurb.devices import service as devices
from refurb.devices.service import CheckContext, register_check
from refurb.erasure import media
from refurb.timestamps import as_utc, utcnow
from refurb.web.i18n import gettext
from refurb.workshop import checklists, choices
from refurb.workshop.schemas import (
    ChecklistOut,
    FunctionOut,
    GradeOut,
    PartOut,
    ReconditioningIn,
    ReconditioningOut,
    RecordedOut,
)
from refurb.workshop.tables import Part, Reconditioning

__all__ = ("checklist", "device_code", "history", "latest_pass", "record", "register")

REJECT_REASONS = {"parts_harvest": N_("kept for parts"), "recycling": N_("to recycling")}


async def checklist(kind: str) -> ChecklistOut:
    """What a bench tests on a device of `kind`, the grades and the lists to pick from."""
    from refurb.core.kinds import DeviceKind

    device_kind = parse_choice(
        DeviceKind,
        kind,
        N_("'{kind}' is not a kind of device (known: {known})."),
        code="bad_kind",
        field="kind",
    )
    lists = await choices.active()
    return ChecklistOut(
        kind=device_kind,
        functions=[
            FunctionOut(name=f.name, label=gettext(f.label), optional=f.optional)
            for f in checklists.CHECKLISTS[device_kind]
        ],
        battery=device_kind in checklists.BATTERY_KINDS,
        needs_os=checklists.needs_os(device_kind),
        grades=[
            GradeOut(grade=g.value, definition=gettext(rule.definition), min_battery=rule.min_battery)
            for g, rule in checklists.GRADES.items()
        ],
        os_images=lists["os_image"],
        software_profiles=lists["software_profile"],
    )


async def device_code(text: str, principal: Principal) -> str:
    """The D code of a scanned code, serial or asset tag."""
    read = read_scan(text)
    if isinstance(read, Alias):
        return (await devices.find_by_alias(read.text, principal)).code
    return parse_code(read.compact, expected=CodeType.DEVICE).compact


def euros(cents: int) -> Decimal:
    """Cents as an amount in euros with two decimals."""
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def _refuse(problems: list[checklists.Problem], ref: str) -> BadInput:
    details = [
        {"code": p.code, "message": fill(p.message, p.params, gettext), "fields": list(p.fields)}
        for p in problems
    ]
    fields = list(dict.fromkeys(field for p in problems for field in p.fields))
    return BadInput(
        N_("{ref} cannot pass yet: {reasons}"),
        code="reconditioning_incomplete",
        extra={"problems": details, "fields": fields},
        ref=ref,
        reasons=" ".join(d["message"] for d in details),
    )


def _out(row: Mapping[str, Any], parts: list[Mapping[str, Any]], code: str) -> ReconditioningOut:
    return ReconditioningOut(
        id=row["id"],
        device=code,
        kind=row["kind"],
        technician=row["technician_name"],
        checks=dict(json_value(row["checks"], {})),
        battery_health=row["battery_health"],
        battery_cycles=row["battery_cycles"],
        cpu=row["cpu"],
        ram=row["ram"],
        storage=row["storage"],
        specs_source=row["specs_source"],
        os_image=row["os_image"],
        software_profile=row["software_profile"],
        grade=row["grade"],
        minutes=row["minutes"],
        outcome=row["outcome"],
        reason=row["reason"],
        note=row["note"],
        parts=[
            PartOut(
                kind=p["kind"],
                description=p["description"],
                cost=euros(p["cost_cents"]),
                serial=p["serial"],
            )
            for p in parts
        ],
        parts_cost=euros(row["parts_cost_cents"]),
        at=row["created_at"],
    )


async def history(code_text: str, principal: Principal) -> list[ReconditioningOut]:
    """Every pass of a device, newest first."""
    device = await devices.device_ref(code_text, principal)
    rows = (
        await Reconditioning.select()
        .where(Reconditioning.device == device.id)
        .order_by(Reconditioning.id, ascending=False)
    )
    parts = await Part.select().where(Part.device == device.id).order_by(Part.id)
    return [_out(r, [p for p in parts if p["reconditioning"] == r["id"]], device.code) for r in rows]


async def latest_pass(device_id: int) -> Mapping[str, Any] | None:
    """The device's last pass over the bench."""
    return (
        await Reconditioning.select()
        .where(Reconditioning.device == device_id)
        .order_by(Reconditioning.id, ascending=False)
        .first()
    )


async def _current_pass(device_id: int) -> Mapping[str, Any] | None:
    """The last pass, if it was made since the device was last certified wiped."""
    row = await latest_pass(device_id)
    if row is None:
        return None
    wiped = (await devices.last_action_at([device_id], "sanitize")).get(device_id)
    if wiped is not None and as_utc(row["created_at"]) < as_utc(wiped):
        return None
    return row


def _reject_reason(data: ReconditioningIn) -> str:
    reason = gettext(REJECT_REASONS[data.reason or "recycling"])
    return f"{reason}: {data.note.strip()}" if data.note.strip() else reason


async def record(
    data: ReconditioningIn,
    principal: Principal,
    *,
    station_id: int | None = None,
    station_code: str | None = None,
    request_id: str | None = None,
    idempotency_key: str | None = None,
) -> RecordedOut:
    """Record a pass and move the device (`refurbished`, or `rejected` with its reason), all or nothing."""
    if principal.role not in TRANSITIONS[Action.REFURBISH].roles:
        raise Forbidden(N_("A {role} may not record a workshop test."), role=principal.role)
    code = await device_code(data.device, principal)
    device = await devices.device_ref(code, principal)
    ref = parse_code(code).display
    passing = data.outcome == "refurbished"
    done_state = State.REFURBISHED if passing else State.REJECTED
    if device.state is done_state:  # a repeated submission: the pass is on record already
        return await _already(code, principal)
    checks = checklists.all_passed(device.kind, data.checks) if data.all_works else dict(data.checks)
    if passing:
        problems = checklists.judge(
            device.kind,
            checks,
            battery_health=data.battery_health,
            battery_cycles=data.battery_cycles,
            grade=data.grade,
            os_image=data.os_image,
        )
        if problems:
            raise _refuse(problems, ref)
    elif data.reason is None:
        raise BadInput(
            N_("Say why {ref} is rejected: kept for parts or to recycling."), code="reason_required", ref=ref
        )
    lists = await choices.active()
    os_image = choices.require(lists, "os_image", data.os_image)
    profile = choices.require(lists, "software_profile", data.software_profile)
    workbench = await media.has_workbench_snapshot(device.id)
    cpu, ram, storage = (data.cpu or "").strip(), (data.ram or "").strip(), (data.storage or "").strip()
    if workbench or None in (data.cpu, data.ram, data.storage):
        current = await devices.get(code, principal)
        if workbench:  # the tool measured them: the form does not override it
            cpu, ram, storage = current.cpu, current.ram, current.storage
        else:
            cpu = cpu if data.cpu is not None else current.cpu
            ram = ram if data.ram is not None else current.ram
            storage = storage if data.storage is not None else current.storage
    now = utcnow()
    row: dict[str, Any] = {
        "kind": device.kind.value,
        "technician_name": principal.name[:80],
        "checks": checks,
        "battery_health": data.battery_health,
        "battery_cycles": data.battery_cycles,
        "cpu": cpu,
        "ram": ram,
        "storage": storage,
        "specs_source": "workbench" if workbench else "form",
        "os_image": os_image,
        "software_profile": profile,
        "grade": data.grade if passing else None,
        "minutes": data.minutes,
        "outcome": "passed" if passing else "failed",
        "reason": None if passing else data.reason,
        "note": data.note.strip(),
        "parts_cost_cents": sum((_cents(p.cost) for p in data.parts), 0),
        "created_at": now,
    }
    parts = [
        {
            "kind": part.kind,
            "description": part.description.strip(),
            "cost_cents": _cents(part.cost),
            "serial": part.serial.strip() if part.serial else None,
        }
        for part in data.parts
    ]
    async with write_transaction():
        # two stations submitting the same device queue here; the second finds it done
        if (await devices.device_ref(code, principal, lock=True)).state is done_state:
            return await _already(code, principal)
        inserted = await Reconditioning.insert(
            Reconditioning(
                **row,
                device=device.id,
                technician=principal.user_id,
                organisation=principal.organisation_id,
                station=station_id,
                updated_at=now,
            )
        )
        pass_id = row["id"] = inserted[0]["id"]
        if parts:
            await Part.insert(*(Part(**part, reconditioning=pass_id, device=device.id) for part in parts))
        for part in data.parts:
            if part.kind in checklists.DISK_PARTS:
                await media.add_new_medium(
                    device.id,
                    part.kind,
                    serial=part.serial,
                    capacity_bytes=part.capacity_gb * 10**9 if part.capacity_gb else None,
                    model=part.description,
                )
        if passing:
            await devices.set_facts(
                device.id, grade=data.grade, os=os_image, cpu=cpu, ram=ram, storage=storage
            )
            action, payload = Action.REFURBISH, {"reconditioning": pass_id, "grade": data.grade}
        else:
            action, payload = Action.REJECT, {"reason": _reject_reason(data), "reconditioning": pass_id}
        result = await devices.transition(
            code,
            action.value,
            payload,
            principal,
            station_id=station_id,
            station_code=station_code,
            request_id=request_id,
            idempotency_key=idempotency_key,
        )
    return RecordedOut(result=result.outcome, reconditioning=_out(row, parts, code), device=result.device)


async def _already(code: str, principal: Principal) -> RecordedOut:
    return RecordedOut(
        result="already_recorded",
        reconditioning=(await history(code, principal) or [None])[0],
        device=await devices.get(code, principal),
    )


async def _tests_recorded(context: CheckContext) -> None:
    """The lifecycle check of `refurbish`: a passing pass since the device was last wiped."""
    row = await _current_pass(context.device.id)
    if row is None or row["outcome"] != "passed" or not row["grade"]:
        raise GuardRefused(
            N_(
                "Test every function of {ref} at a workshop station and give it a grade "
                "before it is marked refurbished."
            ),
            code="tests_not_recorded",
            ref=parse_code(context.device.code).display,
        )


def register() -> None:
    """The workshop answers the `tests_recorded` check and shows its records on the device page."""
    from refurb.workshop import device_section  # reads this area's tables only; kept out of import time

    register_check(Check.TESTS_RECORDED, _tests_recorded)
    device_section.register()
